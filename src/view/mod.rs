//! Rendering, pure: a frame is drawn from `&State` and the styles, nothing else. Only the visible
//! rows of a table are turned into widgets.

pub mod alerts;
mod chrome;
mod detail;
mod dialog;
mod fleet;
mod help;
mod logs;
pub mod metrics;
pub mod styles;
mod table;
mod tables;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::state::{Mode, State, ViewKind};
pub use styles::Styles;

/// Below this the layout cannot hold a table worth reading.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, state: &State, styles: &Styles, now: Timestamp) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "watchfloor needs at least {MIN_WIDTH}×{MIN_HEIGHT} cells; this terminal is {}×{}. Make it larger, or press q to quit.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text)
                .style(styles.warn)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(frame, header, state, styles, now);
    if state.mode == Mode::Help {
        help::draw(frame, body, state, styles);
    } else {
        body_view(frame, body, status, state, styles, now);
    }
    chrome::footer(frame, footer, state, styles);
    dialog::draw(frame, area, state, styles, now);
}

fn body_view(
    frame: &mut Frame,
    body: Rect,
    status: Rect,
    state: &State,
    styles: &Styles,
    now: Timestamp,
) {
    match state.screen().kind {
        ViewKind::Fleet => fleet::draw(frame, body, status, state, styles, now),
        ViewKind::Workloads => tables::workloads(frame, body, state, styles, now),
        ViewKind::Pods => tables::pods(frame, body, status, state, styles, now),
        ViewKind::Events => tables::events(frame, body, state, styles, now),
        ViewKind::Clusters => tables::clusters(frame, body, state, styles, now),
        ViewKind::Detail => detail::draw(frame, body, state, styles, now),
        ViewKind::Logs => logs::draw(frame, body, state, styles),
        ViewKind::Metrics => metrics::draw(frame, body, state, styles, now),
        ViewKind::Alerts => alerts::draw(frame, body, status, state, styles, now),
        ViewKind::AlertDetail => alerts::detail(frame, body, state, styles, now),
        ViewKind::AlertRules => alerts::rules(frame, body, state, styles, now),
    }
    match state.screen().kind {
        ViewKind::Fleet | ViewKind::Pods | ViewKind::Alerts => {}
        ViewKind::Workloads => frame.render_widget(fleet::workload_status(state, styles), status),
        _ => frame.render_widget(Line::default(), status),
    }
}

/// An age the way kubectl prints it: `45s`, `3m12s`, `17m`, `5h2m`, `20h`, `3d4h`, `12d`.
pub fn age(from: Option<Timestamp>, now: Timestamp) -> String {
    let Some(from) = from else {
        return "–".into();
    };
    let s = (now.as_second() - from.as_second()).max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    // kubectl's HumanDuration: a zero second part is left out (`3m`, not `3m0s`).
    let two = |big: i64, unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big}{unit}")
        } else {
            format!("{big}{unit}{small}{small_unit}")
        }
    };
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 => two(m, "m", s % 60, "s"),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => two(h, "h", m % 60, "m"),
        _ if h < 48 => format!("{h}h"),
        _ if d < 8 => two(d, "d", h % 24, "h"),
        _ => format!("{d}d"),
    }
}

/// Shortens `text` to `width` columns with an ellipsis.
pub fn fit(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in text.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    if width > 0 {
        out.push('…');
    }
    out
}
