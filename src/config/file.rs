//! `config.toml`: environments and UI choices, read and cross-checked. The sections later work
//! fills live beside it: probes, scraping and rules in `sources.rs`, Prometheus and Alertmanager
//! in `endpoints.rs`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::endpoints::{AlertmanagerConfig, AlertmanagerFile, PrometheusConfig, PrometheusFile};
use super::error::{ConfigError, Located, Seg, SourceDoc};
use super::sources::{ProbesConfig, RulesConfig, ScrapingConfig};
use super::{keymap, theme};

/// Everything `config.toml` says, validated. `Config::default()` is what watchfloor runs with
/// when there is no file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// In the order written; the fleet view shows environments in this order.
    pub environments: Vec<EnvironmentConfig>,
    pub ui: UiConfig,
    pub probes: ProbesConfig,
    pub scraping: ScrapingConfig,
    pub prometheus: Vec<PrometheusConfig>,
    pub alertmanager: Vec<AlertmanagerConfig>,
    pub rules: RulesConfig,
}

/// One `[[environments]]` entry: a named group of kubeconfig contexts.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    pub name: String,
    /// A theme's environment colour name (`prod`) or a colour (`red`, `#ff8800`).
    #[serde(default)]
    pub color: Option<String>,
    /// Mutating actions ask for the environment's name to be typed before they run.
    #[serde(default)]
    pub protected: bool,
    /// No mutating action at all.
    #[serde(default)]
    pub readonly: bool,
    pub contexts: Vec<String>,
    /// Only these namespaces (empty: all the user may list).
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// `[ui]`: which theme and keymap. Each is a shipped name or a file path; a relative path in the
/// config file is taken from the config file's directory, as a person reading the file expects.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    #[serde(default)]
    pub theme: Option<String>,
    #[serde(default)]
    pub keymap: Option<String>,
    /// Lines the log view keeps before the oldest go (with a marker saying how many).
    #[serde(default = "default_log_lines")]
    pub log_lines: usize,
}

/// The log buffer's size when `[ui] log_lines` is not given.
pub const DEFAULT_LOG_LINES: usize = 100_000;
/// Bounds of `[ui] log_lines`: a screenful, and about a gigabyte of lines.
pub const LOG_LINES_RANGE: std::ops::RangeInclusive<usize> = 100..=5_000_000;

fn default_log_lines() -> usize {
    DEFAULT_LOG_LINES
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            theme: None,
            keymap: None,
            log_lines: DEFAULT_LOG_LINES,
        }
    }
}

/// The file as written, before cross-checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    environments: Vec<EnvironmentConfig>,
    #[serde(default)]
    ui: UiConfig,
    #[serde(default)]
    probes: ProbesConfig,
    #[serde(default)]
    scraping: ScrapingConfig,
    #[serde(default)]
    prometheus: Vec<PrometheusFile>,
    #[serde(default)]
    alertmanager: Vec<AlertmanagerFile>,
    #[serde(default)]
    rules: RulesConfig,
}

/// Collects the problems of a file at their places: errors stop the load, warnings are shown.
pub(crate) struct Checker<'d> {
    pub doc: &'d SourceDoc<'d>,
    pub errors: Vec<Located>,
    pub warnings: Vec<Located>,
}

impl Checker<'_> {
    pub fn error(&mut self, path: &[Seg], message: impl AsRef<str>) {
        let at = self.doc.at(path, message.as_ref());
        self.errors.push(at);
    }

    pub fn warn(&mut self, path: &[Seg], message: impl AsRef<str>) {
        let at = self.doc.at(path, message.as_ref());
        self.warnings.push(at);
    }

    /// Where `path` is, as `line 4`, to point from one problem to the entry it clashes with.
    pub fn line_of(&self, path: &[Seg]) -> usize {
        self.doc.at(path, "").line
    }
}

/// Builds a key path from keys and indices: `keys!["environments", i, "name"]`.
macro_rules! keys {
    ($($seg:expr),* $(,)?) => { &[$($crate::config::error::Seg::from($seg)),*][..] };
}
pub(crate) use keys;

/// Parses and checks a config file; `base` is its directory, for relative paths in it.
pub(crate) fn parse(
    doc: &SourceDoc<'_>,
    base: &Path,
) -> Result<(Config, Vec<String>), ConfigError> {
    let file: ConfigFile = doc.deserialize()?;
    let mut check = Checker {
        doc,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    check_environments(&mut check, &file.environments);
    let ui = UiConfig {
        theme: check_spec(&mut check, base, "theme", file.ui.theme, theme::SHIPPED),
        keymap: check_spec(&mut check, base, "keymap", file.ui.keymap, keymap::SHIPPED),
        log_lines: file.ui.log_lines,
    };
    if !LOG_LINES_RANGE.contains(&ui.log_lines) {
        check.error(
            keys!["ui", "log_lines"],
            format!(
                "log_lines = {} is out of range: give {} to {} (lines the log view keeps)",
                ui.log_lines,
                LOG_LINES_RANGE.start(),
                LOG_LINES_RANGE.end()
            ),
        );
    }
    file.probes.check(&mut check);
    file.scraping.check(&mut check);
    let env_names: Vec<&str> = file.environments.iter().map(|e| e.name.as_str()).collect();
    let prometheus =
        super::endpoints::check_prometheus(&mut check, file.prometheus, &env_names, base);
    let alertmanager =
        super::endpoints::check_alertmanager(&mut check, file.alertmanager, &env_names, base);
    let rules = file.rules.check(&mut check, base);

    let Checker {
        mut errors,
        mut warnings,
        ..
    } = check;
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        return Err(ConfigError::At(errors));
    }
    warnings.sort_by_key(|w| (w.line, w.column));
    let config = Config {
        environments: file.environments,
        ui,
        probes: file.probes,
        scraping: file.scraping,
        prometheus,
        alertmanager,
        rules,
    };
    Ok((config, warnings.iter().map(ToString::to_string).collect()))
}

fn check_environments(check: &mut Checker<'_>, envs: &[EnvironmentConfig]) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut homes: HashMap<&str, usize> = HashMap::new();
    for (i, env) in envs.iter().enumerate() {
        if env.name.trim().is_empty() {
            check.error(keys!["environments", i, "name"], "the name is empty");
        } else if let Some(&first) = names.get(env.name.as_str()) {
            let line = check.line_of(keys!["environments", first, "name"]);
            check.error(
                keys!["environments", i, "name"],
                format!(
                    "environment {:?} is already defined at line {line}; names must be unique",
                    env.name
                ),
            );
        } else {
            names.insert(&env.name, i);
        }
        if env.contexts.is_empty() {
            check.error(
                keys!["environments", i, "contexts"],
                "list at least one kubeconfig context (contexts = [\"prod-eastus\"])",
            );
        }
        for (j, context) in env.contexts.iter().enumerate() {
            if context.is_empty() {
                check.error(
                    keys!["environments", i, "contexts", j],
                    "the context is empty",
                );
                continue;
            }
            match homes.get(context.as_str()) {
                Some(&other) if other == i => check.error(
                    keys!["environments", i, "contexts", j],
                    format!("context {context:?} is listed twice"),
                ),
                Some(&other) => check.error(
                    keys!["environments", i, "contexts", j],
                    format!(
                        "context {context:?} is already in environment {:?}; a context belongs to at most one environment",
                        envs[other].name
                    ),
                ),
                None => {
                    homes.insert(context, i);
                }
            }
        }
        for (j, ns) in env.namespaces.iter().enumerate() {
            if !is_dns_label(ns) {
                check.error(
                    keys!["environments", i, "namespaces", j],
                    format!(
                        "{ns:?} is not a namespace name (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)"
                    ),
                );
            }
        }
        if let Some(color) = &env.color
            && !theme::is_color_or_name(color)
        {
            check.error(
                keys!["environments", i, "color"],
                format!(
                    "{color:?} is not a colour: write a theme's environment colour name (prod, staging, dev, ...), a colour name (red, lightblue, ...) or \"#rrggbb\""
                ),
            );
        }
    }
}

/// A theme or keymap given in `[ui]`: a shipped name stays a name, a path is made absolute from
/// the config file's directory; anything else is reported here, where the person wrote it.
fn check_spec(
    check: &mut Checker<'_>,
    base: &Path,
    key: &str,
    spec: Option<String>,
    shipped: &[&str],
) -> Option<String> {
    let spec = spec?;
    if shipped.contains(&spec.as_str()) {
        return Some(spec);
    }
    if !super::is_path_spec(&spec) {
        check.error(
            keys!["ui", key],
            format!(
                "no shipped {key} is named {spec:?} (shipped: {}); give a file by its path, such as \"./my-{key}.toml\"",
                shipped.join(", ")
            ),
        );
        return None;
    }
    Some(
        base.join(super::expand_home(&spec))
            .to_string_lossy()
            .into_owned(),
    )
}

/// Kubernetes's DNS-1123 label: what namespace names must be.
pub(crate) fn is_dns_label(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(ok_char)
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl Config {
    /// The environment a context belongs to, by index, if the file puts it in one.
    pub fn environment_of(&self, context: &str) -> Option<usize> {
        self.environments
            .iter()
            .position(|e| e.contexts.iter().any(|c| c == context))
    }
}
