//! `watchfloor demo`: start the built-in fleet, write its kubeconfig, serve until told to stop.

use std::path::{Path, PathBuf};

use super::fleet::{self, FleetOptions, RunningFleet};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not start the simulated API servers on 127.0.0.1: {0}")]
    Start(#[source] std::io::Error),
    #[error("could not write the kubeconfig to {path}: {source}")]
    Kubeconfig {
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

/// Serves the fleet until SIGINT or SIGTERM.
pub async fn run_headless(
    opts: FleetOptions,
    kubeconfig_out: Option<PathBuf>,
) -> Result<(), DemoError> {
    let signals = StopSignals::install().map_err(DemoError::Signals)?;
    let fleet = fleet::start(&fleet::builtin(), &opts)
        .await
        .map_err(DemoError::Start)?;
    let chosen = kubeconfig_out.is_none();
    let path = kubeconfig_out.unwrap_or_else(default_kubeconfig_path);
    write_kubeconfig(&fleet, &path)?;
    let names: Vec<&str> = fleet.clusters.iter().map(|c| c.def.name.as_str()).collect();
    println!(
        "watchfloor demo: {} simulated clusters ({}) serving; kubeconfig: {}",
        names.len(),
        names.join(", "),
        path.display()
    );
    signals.wait().await;
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
