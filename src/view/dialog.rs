//! The scale, rollback and confirmation dialogs, drawn over the screen. Every line says where
//! (the environment's label, in capitals when protected) and what exactly will change.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{Styles, age, fit};
use crate::state::State;
use crate::state::dialog::{
    ConfirmDialog, Dialog, HistoryLoad, RollbackDialog, ScaleDialog, hpa_warning,
};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let Some(dialog) = &state.dialog else {
        return;
    };
    let (title, lines) = match dialog {
        Dialog::Scale(d) => scale(d, state, styles),
        Dialog::Rollback(d) => rollback(d, state, styles, now),
        Dialog::Confirm(d) => confirm(d, styles),
    };
    let width = area.width.saturating_sub(4).min(100);
    // Long lines wrap: count the rows they take so the keys at the bottom stay in the box.
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let height = (rows as u16 + 2).min(area.height.saturating_sub(2));
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.accent)
        .title(Span::styled(format!(" {title} "), styles.title));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(styles.base)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn place<'a>(state: &State, cluster: usize, styles: &Styles) -> Span<'a> {
    let env = &state.envs[state.clusters[cluster].env];
    Span::styled(state.cluster_name(cluster), styles.env(env))
}

fn keys<'a>(text: &str, styles: &Styles) -> Line<'a> {
    Line::styled(format!(" {text}"), styles.key)
}

fn scale<'a>(d: &ScaleDialog, state: &State, styles: &Styles) -> (String, Vec<Line<'a>>) {
    let first = &d.targets[0];
    let mut lines = vec![Line::from(vec![
        Span::raw(" replicas   "),
        Span::raw(format!("{}  →  ", first.current)),
        Span::styled(
            format!("[ {} ]", d.replicas),
            if d.focus == 0 {
                styles.selected
            } else {
                styles.accent
            },
        ),
        Span::styled("      (+/- or type a number)", styles.muted),
    ])];
    for t in d.targets.iter().filter(|t| t.chosen) {
        let Some(h) = &t.hpa else { continue };
        let mut spans = vec![
            Span::raw(" HPA        "),
            place(state, t.cluster, styles),
            Span::raw(format!(
                ": {} min {} · max {} · current {}  ",
                h.name, h.min, h.max, h.current
            )),
        ];
        let warning = hpa_warning(&d.key, h, d.replicas);
        spans.push(match warning {
            Some(_) => Span::styled("⚠ outside its bounds", styles.warn),
            None => Span::styled("✓ within bounds", styles.ok),
        });
        lines.push(Line::from(spans));
        if let Some(w) = warning {
            lines.push(Line::styled(format!("   {w}"), styles.warn));
        }
    }
    if d.targets.len() > 1 {
        lines.push(Line::raw(" Also:"));
        for (i, t) in d.targets.iter().enumerate().skip(1) {
            let mark = if t.chosen { "[x]" } else { "[ ]" };
            let change = if t.chosen {
                format!("  ({} → {})", t.current, d.replicas)
            } else {
                format!("  ({} now)", t.current)
            };
            let cursor = if d.focus == i { "▶ " } else { "  " };
            let style = if d.focus == i {
                styles.selected
            } else {
                styles.base
            };
            lines.push(Line::from(vec![
                Span::styled(format!("  {cursor}{mark} "), style),
                place(state, t.cluster, styles),
                Span::styled(change, style),
            ]));
        }
    }
    lines.push(Line::default());
    let mut hint = "⏎ next   +/- or digits: replicas   ".to_string();
    if d.targets.len() > 1 {
        hint.push_str("↑↓ choose   space: also scale there   ");
    }
    hint.push_str("esc cancel");
    lines.push(keys(&hint, styles));
    let title = format!("Scale {} in {}", d.key, state.cluster_name(first.cluster));
    (title, lines)
}

fn rollback<'a>(
    d: &RollbackDialog,
    state: &State,
    styles: &Styles,
    now: Timestamp,
) -> (String, Vec<Line<'a>>) {
    let title = format!("Roll back {} in {}", d.key, state.cluster_name(d.cluster));
    let mut lines = Vec::new();
    match &d.history {
        HistoryLoad::Loading => lines.push(Line::styled(" reading revisions…", styles.muted)),
        HistoryLoad::Failed(e) => lines.push(Line::styled(format!(" {e}"), styles.crit)),
        HistoryLoad::Ready(h) => {
            if h.paused {
                lines.push(Line::styled(
                    " ⚠ paused: the cluster refuses a rollback until the rollout is resumed",
                    styles.warn,
                ));
            }
            lines.push(Line::styled(
                format!(
                    "   {:>4}  {:<6} {:<34} {:<22} {}",
                    "REV", "AGE", "IMAGE", "CHANGE-CAUSE", "PODS"
                ),
                styles.column_title,
            ));
            for (i, r) in h.revisions.iter().enumerate() {
                let pods = if r.desired > 0 || r.ready > 0 {
                    format!("{}/{} ready", r.ready, r.desired)
                } else {
                    "–".to_string()
                };
                let now_mark = if r.current { " ◀ now" } else { "" };
                let text = format!(
                    "{} {:>4}  {:<6} {:<34} {:<22} {pods}{now_mark}",
                    if i == d.selected { "▶" } else { " " },
                    r.revision,
                    age(r.created, now),
                    fit(&r.images.join(","), 34),
                    fit(r.change_cause.as_deref().unwrap_or("–"), 22),
                );
                let style = if i == d.selected {
                    styles.selected
                } else {
                    styles.base
                };
                lines.push(Line::styled(format!(" {text}"), style));
            }
            if let Some(r) = h.revisions.get(d.selected) {
                lines.push(Line::styled(
                    format!(" ─ diff now → rev {} ─", r.revision),
                    styles.muted,
                ));
                if r.current {
                    lines.push(Line::raw("   (this is what runs now)"));
                } else if r.diff.is_empty() {
                    lines.push(Line::raw("   (same pod template)"));
                }
                for l in &r.diff {
                    let style = diff_style(l.change.sign(), styles);
                    lines.push(Line::styled(
                        format!(" {} {}", l.change.sign(), l.text),
                        style,
                    ));
                }
            }
        }
    }
    lines.push(Line::default());
    lines.push(keys("⏎ next   ↑↓ choose a revision   esc cancel", styles));
    (title, lines)
}

fn confirm<'a>(d: &ConfirmDialog, styles: &Styles) -> (String, Vec<Line<'a>>) {
    let mut lines = vec![Line::raw(" This will:")];
    for l in &d.lines {
        lines.push(Line::raw(format!("   {l}")));
    }
    for w in &d.warnings {
        lines.push(Line::styled(format!(" ⚠ {w}"), styles.warn));
    }
    if !d.details.is_empty() {
        lines.push(Line::styled(" ─ pod template changes ─", styles.muted));
        for l in &d.details {
            let style = diff_style(l.chars().next().unwrap_or(' '), styles);
            lines.push(Line::styled(format!("   {l}"), style));
        }
    }
    lines.push(Line::default());
    match &d.protected_name {
        Some(name) => {
            lines.push(Line::from(vec![
                Span::styled(" PROTECTED", styles.protected),
                Span::raw(format!(": type {name} to confirm:  ")),
                Span::styled(format!("{}▌", d.typed), styles.accent),
            ]));
            if let Some(why) = &d.refusal {
                lines.push(Line::styled(format!(" {why}"), styles.crit));
            }
            lines.push(keys("⏎ apply   esc cancel", styles));
        }
        None => lines.push(keys("y or ⏎ apply   n or esc cancel", styles)),
    }
    (format!("{} — confirm", d.title), lines)
}

/// Removed red, added green, otherwise changed amber; the sign says it without colour.
fn diff_style(sign: char, styles: &Styles) -> ratatui::style::Style {
    match sign {
        '-' => styles.crit,
        '+' => styles.ok,
        _ => styles.warn,
    }
}
