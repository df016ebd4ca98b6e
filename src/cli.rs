//! The whole command-line surface, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A terminal console for on-call engineers: several Kubernetes clusters on one screen.
#[derive(Debug, Parser)]
#[command(name = "watchfloor", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags that apply to the console and to every subcommand that reads configuration.
#[derive(Clone, Debug, Default, Args)]
pub struct GlobalArgs {
    /// Read this kubeconfig only (instead of $KUBECONFIG's files or ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Watch this context (repeat for several). Default: the config file's environments, or
    /// the kubeconfig's current context when there are none.
    #[arg(long = "context", global = true, value_name = "NAME")]
    pub contexts: Vec<String>,
    /// Watch every context in the kubeconfig.
    #[arg(long, global = true, conflicts_with = "contexts")]
    pub all_contexts: bool,
    /// Read this config file instead of the default one (see `watchfloor config paths`).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only these environments (repeat for several).
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub envs: Vec<String>,
    /// Refuse every change to a cluster (scale, restart, rollback) this session.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// No colours (as does a non-empty NO_COLOR variable): the mono theme.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Theme: default, light, high-contrast, mono, or a theme file.
    #[arg(long, global = true, value_name = "NAME|FILE")]
    pub theme: Option<String>,
    /// Keymap: default, emacs, or a keymap file that changes some keys of the default.
    #[arg(long, global = true, value_name = "NAME|FILE")]
    pub keymap: Option<String>,
}

impl GlobalArgs {
    /// The clusters asked for.
    pub fn selection(&self) -> crate::config::fleet::Selection {
        crate::config::fleet::Selection {
            contexts: self.contexts.clone(),
            all_contexts: self.all_contexts,
            environments: self.envs.clone(),
            readonly: self.readonly,
        }
    }

    /// What configuration loading needs from the flags (and `NO_COLOR`).
    pub fn config_options(&self) -> crate::config::commands::Options<'_> {
        crate::config::commands::Options {
            config: self.config.as_deref(),
            theme: self.theme.as_deref(),
            keymap: self.keymap.as_deref(),
            no_color: self.no_color || crate::config::theme::no_color_from_env(),
            kubeconfig: self.kubeconfig.as_deref(),
            selection: self.selection(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the built-in simulated fleet: Kubernetes API servers on 127.0.0.1 with a kubeconfig.
    Demo(DemoArgs),
    /// Check the config, keymap and theme files, or show where they are.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the fleet's health once and exit: 0 healthy, 1 degraded, 2 a cluster unreachable or
    /// bad input. Waits for every cluster's first sync, or the timeout.
    Status(StatusArgs),
    /// Fetch one /metrics page and print what the parser reads in it: TARGET is a URL or a pod
    /// as NAMESPACE/POD[:PORT] (through the API server of --context). Exit 0 when every line
    /// parsed, 1 when the page could not be fetched or lines were skipped, 2 for a bad target.
    Scrape(ScrapeArgs),
    /// Alert rule files: validate them, or run their unit tests (promtool's formats).
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Run rule unit tests written for `promtool test rules`, reporting as promtool does: exit
    /// 0 when every file passed, 1 otherwise.
    Test(RulesTestArgs),
    /// Validate rule files as `promtool check rules` does: exit 0 when all are valid, 1
    /// otherwise.
    Check(RulesCheckArgs),
}

#[derive(Debug, Args)]
pub struct RulesTestArgs {
    /// Evaluate with Prometheus 2's semantics (2) or Prometheus 3's (3); 2 matches Debian's
    /// promtool 2.42.
    #[arg(long, value_name = "2|3", default_value = "3", value_parser = parse_compat)]
    pub prometheus_compat: crate::config::endpoints::PrometheusCompat,
    /// Test files (YAML).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    /// Rule files (YAML).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

fn parse_compat(s: &str) -> Result<crate::config::endpoints::PrometheusCompat, String> {
    use crate::config::endpoints::PrometheusCompat;
    match s {
        "2" => Ok(PrometheusCompat::V2),
        "3" => Ok(PrometheusCompat::V3),
        _ => Err(format!(
            "{s:?} is not a Prometheus major version watchfloor knows; write 2 or 3"
        )),
    }
}

#[derive(Debug, Args)]
pub struct ScrapeArgs {
    /// `http://host:port/metrics`, or NAMESPACE/POD[:PORT].
    pub target: String,
    /// `text`: one sample per line (name{labels} value [timestamp]); `json`: families, samples
    /// (values as strings, as the Prometheus API writes them) and skipped lines.
    #[arg(long, value_enum, default_value = "text")]
    pub output: ScrapeOutput,
    /// The path on a pod (default: its prometheus.io/path annotation, else /metrics).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 10, value_name = "S")]
    pub timeout: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScrapeOutput {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// `table` for people, `json` for scripts (schema in the README).
    #[arg(long, value_enum, default_value = "table")]
    pub output: StatusOutput,
    /// Seconds to wait for the clusters' first sync; clusters not synced by then count as
    /// unreachable.
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub timeout: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusOutput {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read the config file, keymap and theme (and the kubeconfig) and report every problem:
    /// exit status 0 when watchfloor can start with them, 2 when something must be fixed.
    Check,
    /// Show the config file, state (audit log) and data directories, and the kubeconfig files.
    Paths,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The fleet to simulate: a built-in fleet's name (`seeds`, the default, or `small`) or a
    /// fleet file (YAML) describing clusters, apps and fault scenarios.
    #[arg(long, value_name = "NAME|FILE", default_value = "seeds")]
    pub fleet: String,
    /// Which of the fleet's fault scenarios to play (default: the fleet's own default; `calm`
    /// plays none).
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Seed for every random choice in the simulation; the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated seconds per real second (e.g. 10 to watch a crash-loop back-off quickly).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Add this many extra pods, spread over the clusters (for benchmarks).
    #[arg(long, default_value_t = 0)]
    pub pods: usize,
    /// Only serve the clusters (for kubectl, Prometheus and tests); do not open the console.
    #[arg(long)]
    pub headless: bool,
    /// Where to write the kubeconfig naming the simulated clusters.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number; try --speed 10"))?;
    if v.is_finite() && v > 0.0 && v <= 10_000.0 {
        Ok(v)
    } else {
        Err(format!("speed must be above 0 and at most 10000, got {s}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "watchfloor",
            "demo",
            "--headless",
            "--speed",
            "5",
            "--kubeconfig-out",
            "/tmp/k",
        ])
        .unwrap();
        let Some(Command::Demo(d)) = cli.command else {
            panic!("demo expected")
        };
        assert!(d.headless);
        assert_eq!(d.speed, 5.0);
        assert_eq!(d.fleet, "seeds");
        assert_eq!(d.scenario, None);
        assert!(Cli::try_parse_from(["watchfloor", "demo", "--speed", "0"]).is_err());

        let cli = Cli::try_parse_from([
            "watchfloor",
            "config",
            "check",
            "--context",
            "prod-eastus",
            "--context=prod-westus",
            "--env",
            "prod",
            "--readonly",
            "--no-color",
            "--theme",
            "light",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Config(ConfigCommand::Check))
        ));
        let sel = cli.global.selection();
        assert_eq!(sel.contexts, ["prod-eastus", "prod-westus"]);
        assert_eq!(sel.environments, ["prod"]);
        assert!(sel.readonly && !sel.all_contexts);
        assert!(cli.global.no_color);
        assert_eq!(cli.global.theme.as_deref(), Some("light"));
        // Global flags go before the subcommand too.
        let cli =
            Cli::try_parse_from(["watchfloor", "--config", "/c.toml", "config", "paths"]).unwrap();
        assert_eq!(
            cli.global.config.as_deref(),
            Some(std::path::Path::new("/c.toml"))
        );
        assert!(
            Cli::try_parse_from(["watchfloor", "--context", "a", "--all-contexts"]).is_err(),
            "--context and --all-contexts contradict each other"
        );
        assert!(Cli::try_parse_from(["watchfloor", "demo", "--speed", "fast"]).is_err());

        let cli = Cli::try_parse_from([
            "watchfloor",
            "rules",
            "test",
            "--prometheus-compat",
            "2",
            "a.yml",
            "b.yml",
        ])
        .unwrap();
        let Some(Command::Rules(RulesCommand::Test(t))) = cli.command else {
            panic!("rules test expected")
        };
        assert_eq!(
            t.prometheus_compat,
            crate::config::endpoints::PrometheusCompat::V2
        );
        assert_eq!(t.files.len(), 2);
        let cli = Cli::try_parse_from(["watchfloor", "rules", "test", "a.yml"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Rules(RulesCommand::Test(RulesTestArgs {
                prometheus_compat: crate::config::endpoints::PrometheusCompat::V3,
                ..
            })))
        ));
        assert!(Cli::try_parse_from(["watchfloor", "rules", "test"]).is_err());
        assert!(
            Cli::try_parse_from([
                "watchfloor",
                "rules",
                "test",
                "--prometheus-compat",
                "4",
                "a"
            ])
            .is_err()
        );
        assert!(matches!(
            Cli::try_parse_from(["watchfloor", "rules", "check", "r.yml"])
                .unwrap()
                .command,
            Some(Command::Rules(RulesCommand::Check(_)))
        ));
    }
}
