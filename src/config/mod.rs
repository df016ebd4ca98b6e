//! Configuration: the config file, keymaps, themes and kubeconfig, read into validated values plus
//! a list of warnings for the UI. Nothing here contacts a cluster.

pub mod color;
pub mod commands;
pub mod endpoints;
pub mod error;
mod file;
pub mod fleet;
pub mod keymap;
pub mod kubeconfig;
pub mod paths;
pub mod sources;
pub mod theme;
pub mod units;

use std::path::{Path, PathBuf};

pub use error::{ConfigError, Located};
pub use file::{Config, DEFAULT_LOG_LINES, EnvironmentConfig, UiConfig};

use error::SourceDoc;

/// A config file as read: the values, where they came from, and what the user should be told.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub config: Config,
    /// `None` when no file exists and the defaults are in use.
    pub source: Option<PathBuf>,
    /// Problems that do not stop watchfloor, each with its file, line and column.
    pub warnings: Vec<String>,
}

/// Reads the config file: `path` (from `--config`; it must exist) or the default location, where
/// a missing file means the defaults.
pub fn load(path: Option<&Path>) -> Result<Loaded, ConfigError> {
    if let Some(path) = path {
        return load_file(path);
    }
    let Some(default) = paths::Paths::discover().map(|p| p.config_file) else {
        return Ok(Loaded {
            warnings: vec![
                "no home directory, so no config file is read; using the defaults".to_string(),
            ],
            ..Loaded::default()
        });
    };
    match std::fs::metadata(&default) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Loaded::default()),
        _ => load_file(&default),
    }
}

fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    let text = read_text(path)?;
    let doc = SourceDoc::parse(path, &text)?;
    let base = path.parent().unwrap_or(Path::new(""));
    let (config, warnings) = file::parse(&doc, base)?;
    Ok(Loaded {
        config,
        source: Some(path.to_path_buf()),
        warnings,
    })
}

/// Reads a whole file as text, or says which file could not be read and why.
pub(crate) fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::read(path, e))
}

/// Whether a `--theme`/`--keymap` value names a file rather than a shipped one.
pub(crate) fn is_path_spec(spec: &str) -> bool {
    spec.contains('/') || spec.ends_with(".toml") || spec.starts_with('~')
}

/// `~/x` as the shell would expand it; config files are often shared with a `~` in them.
pub(crate) fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => directories::BaseDirs::new()
            .map_or_else(|| PathBuf::from(path), |d| d.home_dir().join(rest)),
        None => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests;
