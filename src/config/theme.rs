//! Themes: a small semantic palette read from `themes/*.toml`; the view derives every widget's
//! style from it, so no view code picks a colour.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::Color;
use serde::Deserialize;

pub use super::color::{ColorDepth, parse_color};
use super::error::{ConfigError, SourceDoc};
use super::units::FromStrVisitor;

/// The themes compiled into the binary, by the name `[ui] theme` and `--theme` use.
pub const SHIPPED: &[&str] = &["default", "light", "high-contrast", "mono"];

fn shipped(name: &str) -> Option<&'static str> {
    Some(match name {
        "default" => include_str!("../../themes/default.toml"),
        "light" => include_str!("../../themes/light.toml"),
        "high-contrast" => include_str!("../../themes/high-contrast.toml"),
        "mono" => include_str!("../../themes/mono.toml"),
        _ => return None,
    })
}

/// The semantic colours of a theme. `None` means the terminal's default. A mono palette has no
/// colours at all and `mono` set: states are then told apart by bold, reverse and underline (and,
/// as always, by their symbols and words).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Palette {
    pub name: String,
    pub mono: bool,
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub muted: Option<Color>,
    pub accent: Option<Color>,
    pub selection_fg: Option<Color>,
    pub selection_bg: Option<Color>,
    pub ok: Option<Color>,
    pub warn: Option<Color>,
    pub crit: Option<Color>,
    pub unknown: Option<Color>,
    pub progressing: Option<Color>,
    /// Colour of the label that marks a protected environment.
    pub protected: Option<Color>,
    /// Named colours environments may use (`color = "prod"` or a colour name in the config).
    pub env: BTreeMap<String, Color>,
}

impl Palette {
    /// The colour of an environment: its configured `color` (a name from this theme's `[env]`
    /// table, or a colour), else the `[env]` entry named like the environment, else none.
    pub fn env_color(&self, env_name: &str, configured: Option<&str>) -> Option<Color> {
        if self.mono {
            return None;
        }
        if let Some(spec) = configured {
            return self
                .env
                .get(spec)
                .copied()
                .or_else(|| parse_color(spec).ok().flatten());
        }
        self.env.get(env_name).copied()
    }

    /// Every colour as a terminal of `depth` can show it.
    pub fn adapt(mut self, depth: ColorDepth) -> Self {
        for c in [
            &mut self.fg,
            &mut self.bg,
            &mut self.muted,
            &mut self.accent,
            &mut self.selection_fg,
            &mut self.selection_bg,
            &mut self.ok,
            &mut self.warn,
            &mut self.crit,
            &mut self.unknown,
            &mut self.progressing,
            &mut self.protected,
        ] {
            *c = c.map(|c| depth.adapt(c));
        }
        for c in self.env.values_mut() {
            *c = depth.adapt(*c);
        }
        self
    }
}

/// Whether a config file's environment `color` can mean something: a colour, or a name a theme's
/// `[env]` table may define (checked against the theme in use by `config check`).
pub fn is_color_or_name(s: &str) -> bool {
    parse_color(s).is_ok()
        || (!s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
}

/// Loads a theme: a shipped name or a file path (`None`: `default`). A file overlays the theme
/// it `extends` (default: `default`), so it need only name what it changes. `no_color` (the
/// `NO_COLOR` variable or `--no-color`) still checks the file, then uses `mono`. Warnings are for
/// the UI; errors name file, line and column.
pub fn load(
    spec: Option<&str>,
    no_color: bool,
    depth: ColorDepth,
) -> Result<(Palette, Vec<String>), ConfigError> {
    let (palette, warnings) = read(spec.unwrap_or("default"))?;
    let palette = if no_color { mono() } else { palette };
    Ok((palette.adapt(depth), warnings))
}

/// `NO_COLOR` set to anything but the empty string (see no-color.org).
pub fn no_color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn mono() -> Palette {
    read("mono").map(|(p, _)| p).unwrap_or_else(|_| Palette {
        name: "mono".to_string(),
        mono: true,
        ..Palette::default()
    })
}

fn read(spec: &str) -> Result<(Palette, Vec<String>), ConfigError> {
    if let Some(text) = shipped(spec) {
        let file = Path::new("themes").join(format!("{spec}.toml"));
        return overlay(&file, text, spec, Palette::default());
    }
    if !super::is_path_spec(spec) {
        return Err(ConfigError::Invalid(format!(
            "no shipped theme is named {spec:?} (shipped: {}); give a theme file by its path, such as ./my-theme.toml",
            SHIPPED.join(", ")
        )));
    }
    let path = super::expand_home(spec);
    let text = super::read_text(&path)?;
    let name = path
        .file_stem()
        .map_or_else(|| spec.to_string(), |s| s.to_string_lossy().into_owned());
    let doc = SourceDoc::parse(&path, &text)?;
    let base_name = doc
        .deserialize::<ThemeFile>()?
        .extends
        .unwrap_or_else(|| "default".to_string());
    if shipped(&base_name).is_none() {
        let at = doc.at(
            super::file::keys!["extends"],
            &format!(
                "a theme extends a shipped theme ({}), not {base_name:?}",
                SHIPPED.join(", ")
            ),
        );
        return Err(ConfigError::At(vec![at]));
    }
    let (base, _) = read(&base_name)?;
    overlay(&path, &text, &name, base)
}

/// A colour value in a theme file; `default` is the terminal's own colour.
#[derive(Clone, Copy)]
struct ColorValue(Option<Color>);

impl FromStr for ColorValue {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_color(s).map(ColorValue)
    }
}

impl<'de> Deserialize<'de> for ColorValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FromStrVisitor::<ColorValue>::new(
            "a colour such as \"#ff8800\" or \"red\"",
            "is not a colour; write colours as strings, such as \"#ff8800\", \"red\" or \"208\"",
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    extends: Option<String>,
    mono: Option<bool>,
    fg: Option<ColorValue>,
    bg: Option<ColorValue>,
    muted: Option<ColorValue>,
    accent: Option<ColorValue>,
    selection_fg: Option<ColorValue>,
    selection_bg: Option<ColorValue>,
    ok: Option<ColorValue>,
    warn: Option<ColorValue>,
    crit: Option<ColorValue>,
    unknown: Option<ColorValue>,
    progressing: Option<ColorValue>,
    protected: Option<ColorValue>,
    #[serde(default)]
    env: BTreeMap<String, ColorValue>,
}

impl ThemeFile {
    /// The colour keys, by name, for overlaying and for the completeness test.
    fn colors(&self) -> [(&'static str, Option<ColorValue>); 12] {
        [
            ("fg", self.fg),
            ("bg", self.bg),
            ("muted", self.muted),
            ("accent", self.accent),
            ("selection_fg", self.selection_fg),
            ("selection_bg", self.selection_bg),
            ("ok", self.ok),
            ("warn", self.warn),
            ("crit", self.crit),
            ("unknown", self.unknown),
            ("progressing", self.progressing),
            ("protected", self.protected),
        ]
    }
}

fn overlay(
    path: &Path,
    text: &str,
    name: &str,
    mut palette: Palette,
) -> Result<(Palette, Vec<String>), ConfigError> {
    let doc = SourceDoc::parse(path, text)?;
    let file: ThemeFile = doc.deserialize()?;
    palette.name = name.to_string();
    if let Some(mono) = file.mono {
        palette.mono = mono;
    }
    let mut warnings = Vec::new();
    if palette.mono {
        // Mono means no colour at all; a colour here would be a surprise either way, so say so.
        for (key, value) in file.colors() {
            if value.is_some() {
                let at = doc.at(
                    super::file::keys![key],
                    "a mono theme shows no colours; this one is ignored",
                );
                warnings.push(at.to_string());
            }
        }
        if !file.env.is_empty() {
            let at = doc.at(
                super::file::keys!["env"],
                "a mono theme shows no colours; [env] is ignored",
            );
            warnings.push(at.to_string());
        }
        return Ok((
            Palette {
                name: palette.name,
                mono: true,
                ..Palette::default()
            },
            warnings,
        ));
    }
    let slots = [
        &mut palette.fg,
        &mut palette.bg,
        &mut palette.muted,
        &mut palette.accent,
        &mut palette.selection_fg,
        &mut palette.selection_bg,
        &mut palette.ok,
        &mut palette.warn,
        &mut palette.crit,
        &mut palette.unknown,
        &mut palette.progressing,
        &mut palette.protected,
    ];
    for (slot, (_, value)) in slots.into_iter().zip(file.colors()) {
        if let Some(ColorValue(c)) = value {
            *slot = c;
        }
    }
    for (env, ColorValue(c)) in file.env {
        match c {
            Some(c) => palette.env.insert(env, c),
            None => palette.env.remove(&env),
        };
    }
    Ok((palette, warnings))
}

#[cfg(test)]
mod tests;
