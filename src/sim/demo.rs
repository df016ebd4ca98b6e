//! `watchfloor demo`: start a fleet (built-in or from a fleet file), write its kubeconfig, play
//! its fault scenario, serve until told to stop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::fleet::{self, FleetOptions, RunningFleet, StartError};
use super::fleetfile::{self, CALM, FleetFile, FleetFileError, Scenario};
use super::timeline;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Every problem of the file, one per line, each with file, line and field.
    #[error("{0}")]
    Fleet(#[from] FleetFileError),
    #[error("fleet {fleet} has no scenario {name:?}; it has: {known}")]
    NoScenario {
        fleet: String,
        name: String,
        known: String,
    },
    #[error("could not start the simulated fleet: {0}")]
    Start(#[from] StartError),
    #[error("could not write the kubeconfig to {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write the fleet's rule file {path}: {source}")]
    Rules {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not listen for Ctrl-C/SIGTERM: {0}")]
    Signals(#[source] std::io::Error),
}

/// Where the kubeconfig goes when `--kubeconfig-out` is not given.
pub fn default_kubeconfig_path() -> PathBuf {
    std::env::temp_dir()
        .join(format!("watchfloor-demo-{}", std::process::id()))
        .join("kubeconfig")
}

pub fn write_kubeconfig(fleet: &RunningFleet, path: &Path) -> Result<(), DemoError> {
    let err = |source| DemoError::Kubeconfig {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    // Write then rename, so a reader polling for the file never sees half of it.
    // It holds bearer tokens: readable by its owner only, as kubectl writes its own.
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(err)?;
        file.write_all(fleet.kubeconfig().as_bytes()).map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)
}

/// Writes the fleet's alerting and recording rules (the seed fleet has some, see
/// [`fleetfile::rules`]) into `rules/` under `dir`, the kubeconfig's directory, where
/// [`console_config`] points and where a Prometheus scraping the fleet can load them too.
/// Returns the files written (none for a fleet without rules).
pub fn write_rules(file: &FleetFile, dir: &Path) -> Result<Vec<PathBuf>, DemoError> {
    let rules = fleetfile::rules::for_fleet(&file.name);
    let mut written = Vec::with_capacity(rules.len());
    if rules.is_empty() {
        return Ok(written);
    }
    let target = dir.join(fleetfile::rules::RULES_DIR);
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Rules { path, source }
    };
    std::fs::create_dir_all(&target).map_err(err(&target))?;
    for (name, text) in rules {
        let path = target.join(name);
        std::fs::write(&path, text).map_err(err(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// What `watchfloor demo` runs: which fleet, which scenario.
#[derive(Clone, Debug)]
pub struct DemoSpec {
    /// A built-in fleet's name or a fleet file's path.
    pub fleet: String,
    /// The scenario to play; None: the fleet's default.
    pub scenario: Option<String>,
    pub options: FleetOptions,
    pub kubeconfig_out: Option<PathBuf>,
}

/// Reads the fleet and picks the scenario, before anything starts.
pub fn prepare(spec: &DemoSpec) -> Result<(FleetFile, Scenario), DemoError> {
    let fleet = fleetfile::resolve(&spec.fleet)?;
    let scenario = match &spec.scenario {
        None => fleet.default_scenario().clone(),
        Some(name) => fleet
            .scenario(name)
            .cloned()
            .ok_or_else(|| DemoError::NoScenario {
                fleet: fleet.origin.clone(),
                name: name.clone(),
                known: fleet
                    .scenarios
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?,
    };
    Ok((fleet, scenario))
}

/// Serves the fleet and plays its scenario (both from [`prepare`]) until SIGINT or SIGTERM.
pub async fn run_headless(
    spec: DemoSpec,
    file: FleetFile,
    scenario: Scenario,
) -> Result<(), DemoError> {
    let signals = StopSignals::install().map_err(DemoError::Signals)?;
    let fleet = Arc::new(fleet::start(&file, &spec.options).await?);
    let chosen = spec.kubeconfig_out.is_none();
    let path = spec
        .kubeconfig_out
        .clone()
        .unwrap_or_else(default_kubeconfig_path);
    write_kubeconfig(&fleet, &path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let rules = write_rules(&file, dir)?;
    let names: Vec<&str> = fleet.clusters.iter().map(|c| c.def.name.as_str()).collect();
    let plays = if scenario.name == CALM {
        "no scenario (calm)".to_string()
    } else {
        format!(
            "scenario {} ({} steps)",
            scenario.name,
            scenario.steps.len()
        )
    };
    // Lines go to stdout while a caller may have stopped reading it: never die of a closed pipe.
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    say(format!(
        "watchfloor demo: fleet {}, {} simulated clusters ({}) serving, {plays}; kubeconfig: {}",
        file.name,
        names.len(),
        names.join(", "),
        path.display()
    ));
    if !rules.is_empty() {
        say(format!(
            "watchfloor demo: {} rule files in {}",
            rules.len(),
            dir.join(fleetfile::rules::RULES_DIR).display()
        ));
    }
    let player = tokio::spawn(timeline::play(
        Arc::clone(&fleet),
        scenario,
        move |step, outcomes| {
            for o in outcomes {
                // A step on several clusters reports each; on one, the step names it already.
                let on = if step.clusters.len() > 1 {
                    format!(" [{}]", o.cluster)
                } else {
                    String::new()
                };
                match &o.result {
                    Ok(what) => say(format!("timeline {step}{on}: {what}")),
                    Err(why) => say(format!("timeline {step}{on}: FAILED: {why}")),
                }
            }
        },
    ));
    signals.wait().await;
    player.abort();
    let _ = player.await;
    drop(fleet);
    // A kubeconfig the user asked for stays; our own temporary one (tokens inside) goes.
    if chosen && let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

/// SIGTERM and SIGINT listeners. Installed before the start-up line is printed, so a caller that
/// signals as soon as it reads the line gets a clean stop, not the default kill.
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

/// The console configuration for a demo fleet: one environment per fleet environment, in the
/// order clusters are listed, each with its clusters' admin contexts; production (`prod*`) is
/// protected. Written next to the kubeconfig so the user can read and copy it. A fleet with rule
/// files gets a `[rules]` section naming them where [`write_rules`] puts them (relative paths are
/// taken from the configuration's directory), evaluated every 15 s as Prometheus's default.
pub fn console_config(file: &FleetFile) -> String {
    let mut envs: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in &file.clusters {
        match envs.iter_mut().find(|(e, _)| *e == c.environment) {
            Some((_, contexts)) => contexts.push(&c.name),
            None => envs.push((&c.environment, vec![&c.name])),
        }
    }
    let mut out = format!(
        "# watchfloor console configuration for the demo fleet {:?}.\n",
        file.name
    );
    for (env, contexts) in envs {
        let protected = env.starts_with("prod");
        let contexts: Vec<String> = contexts.iter().map(|c| format!("{c:?}")).collect();
        out.push_str(&format!(
            "\n[[environments]]\nname = {env:?}\ncolor = {env:?}\nprotected = {protected}\ncontexts = [{}]\n",
            contexts.join(", ")
        ));
    }
    let rules = fleetfile::rules::for_fleet(&file.name);
    if !rules.is_empty() {
        let files: Vec<String> = rules
            .iter()
            .map(|(name, _)| format!("{:?}", format!("{}/{name}", fleetfile::rules::RULES_DIR)))
            .collect();
        out.push_str(&format!(
            "\n[rules]\nfiles = [{}]\nevaluation_interval = \"15s\"\n",
            files.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod console_config_tests {
    #[test]
    fn the_seed_fleet_gets_dev_staging_and_a_protected_prod_with_both_regions() {
        let file = super::fleetfile::resolve("seeds").unwrap();
        let text = super::console_config(&file);
        assert!(text.contains(
            "[[environments]]\nname = \"prod\"\ncolor = \"prod\"\nprotected = true\ncontexts = [\"prod-eastus\", \"prod-westus\"]\n"
        ), "{text}");
        assert!(
            text.contains(
                "name = \"dev\"\ncolor = \"dev\"\nprotected = false\ncontexts = [\"dev\"]"
            )
        );
    }

    #[test]
    fn the_seed_fleet_config_loads_the_rule_files_the_demo_writes() {
        let file = super::fleetfile::resolve("seeds").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let written = super::write_rules(&file, dir.path()).unwrap();
        assert_eq!(written.len(), 4);
        let text = super::console_config(&file);
        assert!(text.contains("\n[rules]\nfiles = [\"rules/arq.rules.yml\", \"rules/arxos.rules.yml\", \"rules/platform.rules.yml\", \"rules/slo.rules.yml\"]\nevaluation_interval = \"15s\"\n"), "{text}");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, &text).unwrap();
        let loaded = crate::config::load(Some(&config)).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config.rules.files.len(), 4);
        for f in &loaded.config.rules.files {
            let body = std::fs::read_to_string(f).unwrap();
            assert!(body.contains("groups:"), "{f}");
        }
    }

    #[test]
    fn a_fleet_without_rules_writes_none_and_has_no_rules_section() {
        let file = super::fleetfile::resolve("small").unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert!(super::write_rules(&file, dir.path()).unwrap().is_empty());
        assert!(!dir.path().join("rules").exists());
        assert!(!super::console_config(&file).contains("[rules]"));
    }
}
