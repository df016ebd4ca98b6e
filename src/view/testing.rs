//! Styles for the view tests: a small colour palette whose colours the tests can look for, and
//! the mono theme.

use ratatui::style::Color;

use super::Styles;
use crate::config::theme::Palette;

pub fn colour() -> Styles {
    Styles::new(&Palette {
        name: "test".into(),
        ok: Some(Color::Green),
        warn: Some(Color::Yellow),
        crit: Some(Color::Red),
        protected: Some(Color::Magenta),
        muted: Some(Color::DarkGray),
        accent: Some(Color::Cyan),
        ..Palette::default()
    })
}

pub fn mono() -> Styles {
    Styles::new(&Palette {
        name: "mono".into(),
        mono: true,
        ..Palette::default()
    })
}
