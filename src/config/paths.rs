//! Where watchfloor keeps its files on this machine, as the platform's conventions say
//! (`~/.config/watchfloor`, `~/.local/state/watchfloor`, `~/.local/share/watchfloor` on Linux).

use std::path::PathBuf;

use directories::ProjectDirs;

/// The directories of this user's watchfloor files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// `config.toml`, read when `--config` is not given.
    pub config_file: PathBuf,
    /// Per-machine state that should survive restarts: the audit log of actions taken.
    pub state_dir: PathBuf,
    /// Saved logs and other files the user asked to keep.
    pub data_dir: PathBuf,
}

impl Paths {
    /// From the platform's conventions; `None` without a home directory.
    pub fn discover() -> Option<Self> {
        let dirs = ProjectDirs::from("", "", "watchfloor")?;
        Some(Self {
            config_file: dirs.config_dir().join("config.toml"),
            // macOS and Windows have no state directory; the local data directory is the
            // closest (it is not synced between machines).
            state_dir: dirs
                .state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
        })
    }

    /// The audit log: one line per action sent to a cluster.
    pub fn audit_log(&self) -> PathBuf {
        self.state_dir.join("audit.log")
    }
}
