//! Themes: a small semantic palette read from `themes/*.toml`; the view derives every widget's
//! style from it, so no view code picks a colour.

use std::collections::BTreeMap;

use ratatui::style::Color;

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
