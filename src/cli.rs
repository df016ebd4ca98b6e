//! The whole command-line surface, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A terminal console for on-call engineers: several Kubernetes clusters on one screen.
#[derive(Debug, Parser)]
#[command(name = "watchfloor", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the built-in simulated fleet: Kubernetes API servers on 127.0.0.1 with a kubeconfig.
    Demo(DemoArgs),
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
        assert!(Cli::try_parse_from(["watchfloor", "demo", "--speed", "fast"]).is_err());
    }
}
