//! The log view: a title line (what is tailed, where, following or paused, new and dropped
//! counts, the options), then the lines with a prefix per source (its words readable without
//! colour), filter matches highlighted, and markers for drops, gaps and pods that came and went.
//! Rows are built from the bottom of the screen up, so a 100,000-line buffer draws as fast as a
//! 50-line one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthChar;

use super::Styles;
use crate::logs::line::readable;
use crate::logs::{Entry, Marker};
use crate::state::State;
use crate::state::logs::{LogView, Tailed, thousands};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, styles: &Styles) {
    let Some(view) = state.logs.as_deref() else {
        frame.render_widget(
            Paragraph::new(" no log tail is open").style(styles.muted),
            area,
        );
        return;
    };
    let (head, status) = title(state, view, styles);
    // The counts must stay in sight: on a narrow screen they get a line of their own.
    let title: Vec<Line> = if head.width() + status.width() <= usize::from(area.width) {
        let mut one = head;
        one.spans.extend(status.spans);
        vec![one]
    } else {
        vec![head, status]
    };
    let [top, body] =
        Layout::vertical([Constraint::Length(title.len() as u16), Constraint::Min(1)]).areas(area);
    frame.render_widget(Paragraph::new(title).style(styles.base), top);
    let rows = visible_rows(state, view, styles, body.width, body.height);
    frame.render_widget(Paragraph::new(rows).style(styles.base), body);
}

/// What is tailed and where; then the counts and options.
fn title(state: &State, view: &LogView, styles: &Styles) -> (Line<'static>, Line<'static>) {
    let mut spans = vec![Span::styled(" logs", styles.title)];
    let mut what = format!("{}/{}", view.namespace, view.name());
    if let Some(c) = &view.container {
        what.push_str(&format!(" ({c})"));
    }
    spans.push(Span::styled(" ▸ ", styles.muted));
    spans.push(Span::styled(what, styles.base));
    spans.push(Span::styled(" ▸ ", styles.muted));
    let names: Vec<String> = view
        .clusters
        .iter()
        .map(|&c| state.cluster_name(c))
        .collect();
    spans.push(Span::styled(names.join(", "), styles.accent));
    let pods = view.sources.live_pods();
    let noun = match (&view.tailed, pods) {
        (Tailed::Pod { .. }, _) | (_, 1) => "pod",
        _ => "pods",
    };
    let paused = view.buffer.paused();
    let mode = match (view.previous, paused) {
        (true, _) => "previous instances",
        (false, true) => "paused",
        (false, false) => "following",
    };
    spans.push(Span::raw(format!(" ({pods} {noun}, {mode})")));
    let filter = &state.screen().filter_text;
    if !filter.is_empty() {
        spans.push(Span::styled(format!("  /{filter}/"), styles.accent));
    }
    let head = Line::from(std::mem::take(&mut spans));
    spans.push(Span::raw("  "));
    if paused {
        let new = thousands(view.buffer.new_lines);
        spans.push(Span::styled(
            format!("⏸ paused · {new} new · "),
            styles.warn,
        ));
    }
    let dropped = view.buffer.dropped();
    let dropped_style = if dropped > 0 {
        styles.warn
    } else {
        styles.muted
    };
    spans.push(Span::styled(
        format!("{} dropped", thousands(dropped)),
        dropped_style,
    ));
    let mut opts = vec![view.since_text()];
    if view.timestamps {
        opts.push("timestamps".into());
    }
    if view.wrap {
        opts.push("wrap".into());
    }
    if view.raw {
        opts.push("raw json".into());
    }
    spans.push(Span::styled(
        format!("   {}", opts.join(" · ")),
        styles.muted,
    ));
    (head, Line::from(spans))
}

/// The rows that fit, ending with the bottom row (the newest when following).
fn visible_rows(
    state: &State,
    view: &LogView,
    styles: &Styles,
    width: u16,
    height: u16,
) -> Vec<Line<'static>> {
    let (width, height) = (usize::from(width).max(1), usize::from(height));
    let Some(bottom) = view.buffer.bottom() else {
        let text = if view.sources.iter().next().is_none() {
            " waiting for the first lines…"
        } else {
            " no lines yet"
        };
        return vec![Line::styled(text, styles.muted)];
    };
    let label_w = view.sources.label_width();
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut i = bottom + 1;
    while i > 0 && out.len() < height {
        i -= 1;
        let Some(entry) = view.buffer.row(i) else {
            break;
        };
        let mut rows = entry_rows(state, view, styles, entry, label_w, width);
        // Newest last: this entry's rows go above those already built.
        rows.reverse();
        out.extend(rows);
    }
    out.truncate(height);
    out.reverse();
    out
}

/// One entry as screen rows (several when wrapping).
fn entry_rows(
    state: &State,
    view: &LogView,
    styles: &Styles,
    entry: &Entry,
    label_w: usize,
    width: usize,
) -> Vec<Line<'static>> {
    let line = match entry {
        Entry::Marker(m) => {
            let style = match m {
                Marker::Added(_) => styles.ok,
                Marker::Note { .. } => styles.muted,
                _ => styles.warn,
            };
            let spans = vec![Span::styled(format!(" {}", view.marker_text(m)), style)];
            return if view.wrap {
                split_rows(spans, width)
                    .into_iter()
                    .map(Line::from)
                    .collect()
            } else {
                vec![Line::from(spans)]
            };
        }
        Entry::Line(l) => l,
    };
    let label = view
        .sources
        .get(line.source)
        .map_or("?", |s| s.label.as_str());
    let prefix = vec![
        Span::styled(format!(" {label:<label_w$}"), styles.source(line.source)),
        Span::styled(" │ ", styles.muted),
    ];
    let prefix_w = label_w + 4;
    let mut body = Vec::new();
    if view.timestamps {
        let ts = line.ts.map_or_else(
            || "--:--:--".to_string(),
            |t| {
                t.to_zoned(state.tz.clone())
                    .strftime("%H:%M:%S")
                    .to_string()
            },
        );
        body.push(Span::styled(format!("{ts} "), styles.muted));
    }
    let text = if view.raw {
        line.text.clone()
    } else {
        readable(&line.text).unwrap_or_else(|| line.text.clone())
    };
    body.extend(highlight(view, &text, styles));
    if !view.wrap || width <= prefix_w + 1 {
        let mut spans = prefix;
        spans.extend(body);
        return vec![Line::from(spans)];
    }
    let indent = Span::styled(format!(" {:label_w$} │ ", ""), styles.muted);
    split_rows(body, width - prefix_w)
        .into_iter()
        .enumerate()
        .map(|(n, row)| {
            let mut spans = if n == 0 {
                prefix.clone()
            } else {
                vec![indent.clone()]
            };
            spans.extend(row);
            Line::from(spans)
        })
        .collect()
}

/// The text with the filter's matches in the selection style.
fn highlight(view: &LogView, text: &str, styles: &Styles) -> Vec<Span<'static>> {
    let ranges = view
        .buffer
        .filter()
        .map(|f| f.ranges(text))
        .unwrap_or_default();
    let mut spans = Vec::new();
    let mut at = 0;
    for r in ranges {
        if r.start > at {
            spans.push(Span::styled(text[at..r.start].to_string(), styles.base));
        }
        spans.push(Span::styled(text[r.clone()].to_string(), styles.selected));
        at = r.end;
    }
    if at < text.len() || spans.is_empty() {
        spans.push(Span::styled(text[at..].to_string(), styles.base));
    }
    spans
}

/// Cuts styled text into rows of at most `width` columns, by character.
fn split_rows(spans: Vec<Span<'static>>, width: usize) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let mut rows = vec![Vec::new()];
    let mut used = 0;
    for span in spans {
        let style: Style = span.style;
        let mut piece = String::new();
        for c in span.content.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width && used > 0 {
                if !piece.is_empty()
                    && let Some(r) = rows.last_mut()
                {
                    r.push(Span::styled(std::mem::take(&mut piece), style));
                }
                rows.push(Vec::new());
                used = 0;
            }
            piece.push(c);
            used += cw;
        }
        if !piece.is_empty()
            && let Some(r) = rows.last_mut()
        {
            r.push(Span::styled(piece, style));
        }
    }
    rows
}

#[cfg(test)]
mod tests;
