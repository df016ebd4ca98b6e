//! Per-widget styles derived from a theme's palette, and the symbols that carry each state
//! without colour. Views take every style from here.

use ratatui::style::{Color, Modifier, Style};

use crate::config::theme::Palette;
use crate::kube::rows::Health;
use crate::state::EnvState;

#[derive(Clone, Debug)]
pub struct Styles {
    pub mono: bool,
    pub base: Style,
    pub muted: Style,
    pub accent: Style,
    pub title: Style,
    pub column_title: Style,
    pub selected: Style,
    /// The selected fleet cell inside the selected row.
    pub cursor: Style,
    pub ok: Style,
    pub warn: Style,
    pub crit: Style,
    pub unknown: Style,
    pub progressing: Style,
    pub protected: Style,
    pub border: Style,
    pub key: Style,
    /// Log line prefixes, one per source in turn (none in mono: the prefix text says it).
    pub sources: Vec<Style>,
    env: Vec<(String, Color)>,
}

fn fg(c: Option<Color>) -> Style {
    c.map_or_else(Style::default, |c| Style::default().fg(c))
}

impl Styles {
    pub fn new(p: &Palette) -> Self {
        if p.mono {
            let bold = Style::default().add_modifier(Modifier::BOLD);
            return Self {
                mono: true,
                base: Style::default(),
                muted: Style::default(),
                accent: bold,
                title: bold,
                column_title: Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                selected: Style::default().add_modifier(Modifier::REVERSED),
                cursor: Style::default()
                    .add_modifier(Modifier::REVERSED | Modifier::BOLD | Modifier::UNDERLINED),
                ok: Style::default(),
                warn: bold,
                crit: Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                unknown: Style::default(),
                progressing: Style::default(),
                protected: Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
                border: Style::default(),
                key: bold,
                sources: Vec::new(),
                env: Vec::new(),
            };
        }
        let mut base = fg(p.fg);
        if let Some(bg) = p.bg {
            base = base.bg(bg);
        }
        let mut selected = Style::default().add_modifier(Modifier::BOLD);
        match (p.selection_fg, p.selection_bg) {
            (None, None) => selected = selected.add_modifier(Modifier::REVERSED),
            (f, b) => {
                if let Some(f) = f {
                    selected = selected.fg(f);
                }
                if let Some(b) = b {
                    selected = selected.bg(b);
                }
            }
        }
        Self {
            mono: false,
            base,
            muted: fg(p.muted),
            accent: fg(p.accent).add_modifier(Modifier::BOLD),
            title: fg(p.accent).add_modifier(Modifier::BOLD),
            column_title: fg(p.muted).add_modifier(Modifier::BOLD),
            selected,
            cursor: selected.add_modifier(Modifier::UNDERLINED | Modifier::REVERSED),
            ok: fg(p.ok),
            warn: fg(p.warn).add_modifier(Modifier::BOLD),
            crit: fg(p.crit).add_modifier(Modifier::BOLD),
            unknown: fg(p.unknown),
            progressing: fg(p.progressing),
            protected: fg(p.protected).add_modifier(Modifier::BOLD | Modifier::REVERSED),
            border: fg(p.muted),
            key: fg(p.accent).add_modifier(Modifier::BOLD),
            sources: [
                p.accent,
                p.ok,
                p.progressing,
                p.protected,
                p.unknown,
                p.warn,
            ]
            .into_iter()
            .flatten()
            .map(|c| Style::default().fg(c))
            .collect(),
            env: p.env.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }

    pub fn health(&self, h: Health) -> Style {
        match h {
            Health::Ok => self.ok,
            Health::Progressing => self.progressing,
            Health::Unknown => self.unknown,
            Health::Warning => self.warn,
            Health::Critical => self.crit,
        }
    }

    /// The prefix style of log source `i`.
    pub fn source(&self, i: u32) -> Style {
        match self.sources.len() {
            0 => self.muted,
            n => self.sources[i as usize % n],
        }
    }

    /// An environment's name: its configured colour, and the protected marking.
    pub fn env(&self, env: &EnvState) -> Style {
        if env.protected {
            return self.protected;
        }
        if self.mono {
            return self.title;
        }
        let named = env
            .color
            .as_deref()
            .and_then(|c| self.env.iter().find(|(k, _)| k == c).map(|(_, v)| *v))
            .or_else(|| env.color.as_deref().and_then(|c| c.parse::<Color>().ok()));
        named.map_or(self.title, |c| {
            Style::default().fg(c).add_modifier(Modifier::BOLD)
        })
    }
}

/// The symbol that says a state without colour.
pub fn symbol(h: Health) -> &'static str {
    match h {
        Health::Ok => "✓",
        Health::Progressing => "▲",
        Health::Unknown => "?",
        Health::Warning => "!",
        Health::Critical => "✗",
    }
}
