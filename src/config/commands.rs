//! `watchfloor config check` and `watchfloor config paths`, and `Settings`: the config file,
//! keymap and theme loaded together as the console and the check both need them.

use std::io::{self, Write};
use std::path::Path;

use super::fleet::{self, FleetLayout, Selection};
use super::keymap::{self, Keymap};
use super::paths::Paths;
use super::theme::{self, ColorDepth, Palette};
use super::{ConfigError, Loaded, kubeconfig};

/// What the global flags say about configuration (filled from `cli::GlobalArgs`).
#[derive(Clone, Debug, Default)]
pub struct Options<'a> {
    pub config: Option<&'a Path>,
    pub theme: Option<&'a str>,
    pub keymap: Option<&'a str>,
    /// `--no-color` or a non-empty `NO_COLOR`.
    pub no_color: bool,
    pub kubeconfig: Option<&'a Path>,
    pub selection: Selection,
}

/// The config file, keymap and palette in force, and every warning from reading them.
#[derive(Clone, Debug)]
pub struct Settings {
    pub loaded: Loaded,
    pub keymap: Keymap,
    pub palette: Palette,
    /// The keymap and theme chosen, as given (shipped name or path), for messages.
    pub keymap_spec: String,
    pub theme_spec: String,
    /// The config file's, keymap's and theme's warnings, in that order.
    pub warnings: Vec<String>,
}

/// Loads the config file, then the keymap and theme it (or a flag, which wins) names.
pub fn load_settings(opts: &Options<'_>, depth: ColorDepth) -> Result<Settings, ConfigError> {
    let loaded = super::load(opts.config)?;
    let keymap_spec = opts
        .keymap
        .map(str::to_string)
        .or_else(|| loaded.config.ui.keymap.clone())
        .unwrap_or_else(|| "default".to_string());
    let theme_spec = opts
        .theme
        .map(str::to_string)
        .or_else(|| loaded.config.ui.theme.clone())
        .unwrap_or_else(|| "default".to_string());
    let (keymap, keymap_warnings) = keymap::load(Some(&keymap_spec))?;
    let (palette, theme_warnings) = theme::load(Some(&theme_spec), opts.no_color, depth)?;
    let mut warnings = loaded.warnings.clone();
    warnings.extend(keymap_warnings);
    warnings.extend(theme_warnings);
    warnings.extend(env_color_warnings(&loaded, &palette));
    Ok(Settings {
        loaded,
        keymap,
        palette,
        keymap_spec,
        theme_spec,
        warnings,
    })
}

/// An environment `color` that is neither a colour nor one of the theme's `[env]` names.
fn env_color_warnings(loaded: &Loaded, palette: &Palette) -> Vec<String> {
    if palette.mono {
        return Vec::new();
    }
    let file = loaded
        .source
        .as_ref()
        .map_or_else(|| "config".to_string(), |p| p.display().to_string());
    loaded
        .config
        .environments
        .iter()
        .filter_map(|env| {
            let color = env.color.as_deref()?;
            let known = palette.env.contains_key(color) || theme::parse_color(color).is_ok();
            (!known).then(|| {
                let names: Vec<&str> = palette.env.keys().map(String::as_str).collect();
                format!(
                    "{file}: environment {}: color {color:?} is neither a colour nor one of theme {:?}'s environment colours ({}); it is shown without colour",
                    env.name,
                    palette.name,
                    names.join(", ")
                )
            })
        })
        .collect()
}

/// `config check`: loads everything and says whether it is usable. Returns the exit status:
/// 0 when usable (warnings included), 2 when something must be fixed.
pub fn check(opts: &Options<'_>, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<i32> {
    let settings = match load_settings(opts, ColorDepth::TrueColor) {
        Ok(s) => s,
        Err(e) => {
            for line in e.to_string().lines() {
                writeln!(err, "error: {line}")?;
            }
            return Ok(2);
        }
    };
    let config = &settings.loaded.config;
    let envs = config.environments.len();
    let plural = if envs == 1 { "" } else { "s" };
    match &settings.loaded.source {
        Some(path) => writeln!(
            out,
            "config OK: {} ({envs} environment{plural})",
            path.display()
        )?,
        None => {
            let default = Paths::discover().map(|p| p.config_file);
            let at = default.map_or_else(String::new, |p| format!(" at {}", p.display()));
            writeln!(out, "config OK: no config file{at}; using the defaults")?;
        }
    }
    writeln!(
        out,
        "keymap: {}; theme: {}{}",
        settings.keymap_spec,
        settings.theme_spec,
        if opts.no_color {
            " (mono: no colour requested)"
        } else {
            ""
        }
    )?;
    let mut warnings = settings.warnings.clone();
    // The fleet as the console would see it now; a kubeconfig problem is not the config file's.
    match kubeconfig::load(opts.kubeconfig) {
        Ok(kube) => {
            warnings.extend(kube.warnings.iter().cloned());
            match fleet::resolve(config, &kube, &opts.selection) {
                Ok(layout) => {
                    warnings.extend(layout.warnings.iter().cloned());
                    print_fleet(out, &layout)?;
                }
                Err(e) => warnings.push(format!("fleet: {e}")),
            }
        }
        Err(e) => warnings.push(format!("kubeconfig: {e}")),
    }
    for w in &warnings {
        writeln!(err, "warning: {w}")?;
    }
    Ok(0)
}

fn print_fleet(out: &mut dyn Write, layout: &FleetLayout) -> io::Result<()> {
    for (i, env) in layout.environments.iter().enumerate() {
        let clusters: Vec<&str> = layout
            .clusters
            .iter()
            .filter(|c| c.env == i)
            .map(|c| c.context.as_str())
            .collect();
        let mut marks = Vec::new();
        if env.protected {
            marks.push("protected");
        }
        if env.readonly || layout.readonly {
            marks.push("read-only");
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        writeln!(
            out,
            "environment {}{marks}: {}",
            env.name,
            clusters.join(", ")
        )?;
    }
    Ok(())
}

/// `config paths`: where watchfloor reads and writes, and whether each exists.
pub fn paths(opts: &Options<'_>, out: &mut dyn Write) -> io::Result<i32> {
    let found = Paths::discover();
    let status = |path: &Path, missing: &str| {
        if path.exists() {
            "exists".to_string()
        } else {
            format!("missing: {missing}")
        }
    };
    match (opts.config, &found) {
        (Some(path), _) => writeln!(
            out,
            "config file  {} ({}, from --config)",
            path.display(),
            status(path, "watchfloor will refuse to start")
        )?,
        (None, Some(p)) => writeln!(
            out,
            "config file  {} ({})",
            p.config_file.display(),
            status(&p.config_file, "the defaults are in use")
        )?,
        (None, None) => writeln!(out, "config file  none (no home directory)")?,
    }
    if let Some(p) = &found {
        writeln!(
            out,
            "state dir    {} ({}; audit log: {})",
            p.state_dir.display(),
            status(&p.state_dir, "created when first needed"),
            p.audit_log().display()
        )?;
        writeln!(
            out,
            "data dir     {} ({})",
            p.data_dir.display(),
            status(&p.data_dir, "created when first needed")
        )?;
    }
    let default = std::env::home_dir().map(|h| h.join(".kube").join("config"));
    let (files, origin) =
        kubeconfig::candidate_files(opts.kubeconfig, std::env::var_os("KUBECONFIG"), default);
    for file in files {
        let missing = match origin {
            kubeconfig::Origin::Flag => "watchfloor will refuse to start",
            kubeconfig::Origin::Env => "skipped, as kubectl does",
            kubeconfig::Origin::Default => "no contexts",
        };
        writeln!(
            out,
            "kubeconfig   {} ({})",
            file.display(),
            status(&file, missing)
        )?;
    }
    Ok(0)
}
