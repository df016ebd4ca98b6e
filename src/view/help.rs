//! The help page, generated from the live keymap (so it always shows the keys in force), and the
//! config warnings.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::Styles;
use crate::action::Action;
use crate::state::State;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, styles: &Styles) {
    let mut lines = Vec::new();
    // The log view's keys go on a compact line of their own below: one line each would push the
    // rest of the page off a 40-row terminal.
    let (log_keys, general): (Vec<Action>, Vec<Action>) = Action::ALL
        .iter()
        .filter(|a| !a.is_alert_view())
        .partition(|a| a.is_log_view());
    for a in general {
        let keys: Vec<String> = state
            .keymap
            .keys(a)
            .iter()
            .map(ToString::to_string)
            .collect();
        let keys = if keys.is_empty() {
            "(unbound)".to_string()
        } else {
            keys.join(" ")
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<18}"), styles.key),
            Span::raw(a.help()),
        ]));
    }
    let mut spans = vec![Span::styled("  In the log view: ", styles.muted)];
    for a in log_keys {
        let Some(key) = state.keymap.hint(a) else {
            continue;
        };
        spans.push(Span::styled(key, styles.key));
        spans.push(Span::raw(format!(" {}  ", super::chrome::hint_word(a))));
    }
    lines.push(Line::from(spans));
    lines.push(Line::default());
    lines.push(Line::styled(
        "  Commands: :fleet :deploy :pods :events :clusters :alerts :rules [ns] [@cluster] [env:NAME] :q",
        styles.muted,
    ));
    lines.push(Line::styled(
        "  Filter: / then a regex (case-insensitive), !regex to invert, -l app=web for labels",
        styles.muted,
    ));
    lines.push(Line::styled(
        "  Symbols: ✓ ok  ▲ progressing  ! warning  ✗ critical  ? unknown  ● synced  ◐ stale  ✗ down",
        styles.muted,
    ));
    let mut spans = vec![Span::styled("  In the alerts views: ", styles.muted)];
    for &a in Action::ALL.iter().filter(|a| a.is_alert_view()) {
        let Some(key) = state.keymap.hint(a) else {
            continue;
        };
        spans.push(Span::styled(key, styles.key));
        spans.push(Span::raw(format!(" {}  ", super::chrome::hint_word(a))));
    }
    spans.push(Span::styled(
        format!(
            "enter detail, then enter pods · 2 firing or 2! two alerts firing · +1 one pending · {} silenced or inhibited · {} sources disagree",
            super::alerts::MUTED_MARK,
            super::alerts::DISAGREE_MARK
        ),
        styles.muted,
    ));
    lines.push(Line::from(spans));
    if !state.warnings.is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled("  Config warnings", styles.warn));
        for w in &state.warnings {
            lines.push(Line::from(format!("  ⚠ {w}")));
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.border)
        .title(Span::styled(" help ", styles.title));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
