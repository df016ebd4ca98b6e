//! The series explorer (`:metrics`): metric names with their series counts, then one name's
//! series with their values now, and a chart of the series picked with Enter. Also the
//! sparkline lines of the detail screen's metrics panel.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Cell as TableCell, Chart, Dataset, GraphType, Row};

use super::table::{self, TableSpec};
use super::{Styles, fit};
use crate::metrics::signals::{bytes_text, cpu_text, ratio_text, seconds_text};
use crate::state::metrics::{Panel, PanelRow, Unit, series_text, window_text};
use crate::state::{Item, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let m = &state.metrics;
    let chart = m
        .chart
        .as_ref()
        .filter(|c| state.screen().scope.metric.as_deref() == Some(c.name.as_str()));
    let (list_area, chart_area) = match chart {
        Some(_) if area.height >= 16 => {
            let [a, b] =
                Layout::vertical([Constraint::Min(6), Constraint::Percentage(50)]).areas(area);
            (a, Some(b))
        }
        _ => (area, None),
    };
    let screen = state.screen();
    let width = usize::from(list_area.width.saturating_sub(4));
    match &screen.scope.metric {
        None => {
            let spec = TableSpec {
                title: format!(
                    "{} metric names · {}",
                    screen.items.len(),
                    store_words(state)
                ),
                headers: vec!["NAME", "SERIES"],
                widths: vec![
                    Constraint::Length(width.saturating_sub(9).max(10) as u16),
                    Constraint::Length(8),
                ],
            };
            table::draw(frame, list_area, state, styles, spec, |i| {
                let Some(Item::Metric(name)) = screen.items.get(i) else {
                    return Row::default();
                };
                let n = m
                    .names
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, c)| *c);
                Row::new(vec![
                    TableCell::from(fit(name, width.saturating_sub(9))),
                    TableCell::from(n.to_string()),
                ])
            });
        }
        Some(name) => {
            let list = m.series.as_ref().filter(|l| &l.name == name);
            let more = list.map_or(0, |l| l.more);
            let mut title = format!("{name}: {} series", screen.items.len());
            if more > 0 {
                title.push_str(&format!(" (and {more} more not listed)"));
            }
            let spec = TableSpec {
                title,
                headers: vec!["SERIES", "VALUE"],
                widths: vec![
                    Constraint::Length(width.saturating_sub(13).max(10) as u16),
                    Constraint::Length(12),
                ],
            };
            table::draw(frame, list_area, state, styles, spec, |i| {
                let Some(Item::Series(idx)) = screen.items.get(i) else {
                    return Row::default();
                };
                let Some(entry) = list.and_then(|l| l.list.get(*idx)) else {
                    return Row::default();
                };
                let value = entry.last.map_or("stale".to_string(), number);
                Row::new(vec![
                    TableCell::from(fit(
                        &series_text(name, &entry.labels),
                        width.saturating_sub(13),
                    )),
                    TableCell::from(value),
                ])
            });
        }
    }
    if let (Some(area), Some(chart)) = (chart_area, chart) {
        draw_chart(frame, area, chart, styles, now);
    }
}

/// `12,345 series · 8.1 MiB of 64 MiB` (and evictions, when the cap made some).
pub fn store_words(state: &State) -> String {
    let s = &state.metrics.snapshot.store;
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    let mut words = format!(
        "{} series · {:.1} of {:.0} MiB",
        s.series,
        mib(s.bytes),
        mib(s.cap_bytes)
    );
    if s.evicted_samples > 0 {
        words.push_str(&format!(
            " · cap reached: {} oldest samples dropped",
            s.evicted_samples
        ));
    }
    words
}

fn draw_chart(
    frame: &mut Frame,
    area: Rect,
    chart: &crate::state::metrics::Chart,
    styles: &Styles,
    now: Timestamp,
) {
    let now_ms = now.as_millisecond();
    let points: Vec<(f64, f64)> = chart
        .points
        .iter()
        .map(|&(t, v)| (((t - now_ms) as f64) / 1000.0, v))
        .collect();
    let title = format!(
        "{} · last {}",
        fit(
            &series_text(&chart.name, &chart.labels),
            usize::from(area.width / 2)
        ),
        window_text(chart.window_secs),
    );
    plot(
        frame,
        area,
        &title,
        &points,
        chart.window_secs,
        number,
        styles,
    );
}

/// A line chart of `points` (seconds before now, value) over the last `window_secs`, the value
/// axis labelled by `label`.
fn plot(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    points: &[(f64, f64)],
    window_secs: u64,
    label: impl Fn(f64) -> String,
    styles: &Styles,
) {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .collect();
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        // From zero, as the sparklines, unless the values go below it.
        let lo = lo.min(0.0);
        if lo == hi { (lo, hi + 1.0) } else { (lo, hi) }
    } else {
        (0.0, 1.0)
    };
    let title = format!(" {title} · {} points ", points.len());
    let data = Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(styles.accent)
        .data(&points);
    let x_labels = vec![
        Span::raw(format!("-{}", window_text(window_secs))),
        Span::raw("now"),
    ];
    let y_labels = vec![Span::raw(label(lo)), Span::raw(label(hi))];
    let widget = Chart::new(vec![data])
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(styles.border)
                .title(Span::styled(title, styles.title)),
        )
        .x_axis(
            Axis::default()
                .bounds([-(window_secs as f64), 0.0])
                .labels(x_labels)
                .style(styles.muted),
        )
        .y_axis(
            Axis::default()
                .bounds([lo, hi])
                .labels(y_labels)
                .style(styles.muted),
        )
        .style(styles.base);
    frame.render_widget(widget, area);
}

/// The detail's chart: the panel's selected signal over its window (`S` picks the next).
pub fn draw_panel_chart(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    panel: &Panel,
    styles: &Styles,
) {
    let Some(row) = panel
        .rows
        .get(state.metrics.signal % panel.rows.len().max(1))
    else {
        return;
    };
    let n = row.points.len().max(1) as f64;
    let window = panel.window_secs as f64;
    let points: Vec<(f64, f64)> = row
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|v| (-window + (i as f64 + 1.0) * window / n, v)))
        .collect();
    let key = |a| state.keymap.hint(a).unwrap_or_default();
    let title = format!(
        "{} · last {} ({} next signal, {} window)",
        row.label,
        window_text(panel.window_secs),
        key(crate::action::Action::MetricsSignal),
        key(crate::action::Action::MetricsWindow),
    );
    let unit = row.unit;
    plot(
        frame,
        area,
        &title,
        &points,
        panel.window_secs,
        |v| unit_text(unit, v),
        styles,
    );
}

/// A sample value as the explorer shows it: integers whole, others with 4 significant digits.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4e}");
        let plain = format!("{v:.4}");
        if v.abs() >= 1e-3 && v.abs() < 1e9 {
            plain
        } else {
            s
        }
    }
}

/// A value in a panel row's unit.
pub fn unit_text(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Rps => crate::metrics::signals::rate_text(v),
        Unit::Ratio => ratio_text(v),
        Unit::Seconds => seconds_text(v),
        Unit::Cores => cpu_text(v),
        Unit::Bytes => bytes_text(v),
        Unit::Count => number(v),
    }
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Points as a row of block characters scaled from zero (or the minimum, when below zero) to the
/// maximum, so a steady 200 ms does not look like a spike; a gap is a space.
pub fn sparkline(points: &[Option<f64>], width: usize) -> String {
    if width == 0 || points.is_empty() {
        return String::new();
    }
    // Resample to the width (last point of each bucket), so the newest value is always shown.
    let n = points.len();
    let sampled: Vec<Option<f64>> = (0..width.min(n.max(1)))
        .map(|i| {
            let end = ((i + 1) * n).div_ceil(width.min(n.max(1)));
            let start = (i * n) / width.min(n.max(1));
            points[start.min(n)..end.min(n)]
                .iter()
                .rev()
                .find_map(|p| p.filter(|v| v.is_finite()))
        })
        .collect();
    let (lo, hi) = sampled
        .iter()
        .flatten()
        .fold((0.0_f64, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    sampled
        .iter()
        .map(|p| match p {
            None => ' ',
            Some(v) if hi > lo => {
                let i = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                BARS[i.min(7)]
            }
            Some(_) => BARS[0],
        })
        .collect()
}

/// The detail screen's metrics section: one line per signal with its sparkline and its value now.
pub fn panel_lines(
    panel: Option<&Panel>,
    state: &State,
    styles: &Styles,
    width: u16,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let window = window_text(state.metrics.window_secs());
    let key = state
        .keymap
        .hint(crate::action::Action::MetricsWindow)
        .unwrap_or_default();
    out.push(Line::from(vec![
        Span::styled(format!("Metrics, last {window}"), styles.title),
        Span::styled(format!("  ({key} changes the window)"), styles.muted),
    ]));
    let Some(panel) = panel else {
        out.push(Line::styled("  loading…", styles.muted));
        return out;
    };
    if let Some(reason) = &panel.empty_reason {
        out.push(Line::styled(format!("  {reason}"), styles.muted));
    }
    let spark_width = usize::from(width).saturating_sub(32).clamp(8, 120);
    for row in &panel.rows {
        out.push(panel_row(row, spark_width, styles));
    }
    out
}

fn panel_row(row: &PanelRow, width: usize, styles: &Styles) -> Line<'static> {
    let now = row
        .last()
        .map_or("–".to_string(), |v| unit_text(row.unit, v));
    let style: Style = styles.accent;
    Line::from(vec![
        Span::raw(format!("  {:<12}", row.label)),
        Span::styled(sparkline(&row.points, width), style),
        Span::raw(format!("  {now}")),
    ])
}

/// Puts metric columns into a table at `at`, each `width` wide.
pub fn insert_columns(spec: &mut TableSpec<'_>, at: usize, names: &[&'static str], width: u16) {
    for (i, name) in names.iter().enumerate() {
        let at = (at + i).min(spec.headers.len());
        spec.headers.insert(at, name);
        spec.widths.insert(at, Constraint::Length(width));
    }
}

/// RPS, 5XX and P95 of a workload (`–` when it has none); `▲` and the warning style mark the
/// environment's worst.
pub fn golden_cells(
    state: &State,
    styles: &Styles,
    cluster: usize,
    key: &crate::kube::ObjKey,
) -> [TableCell<'static>; 3] {
    use crate::metrics::signals::rate_text;
    let g = state.metrics.snapshot.golden(cluster, key);
    let (worst_err, worst_p95) = state.metrics.worst_in_env(cluster, key);
    let cell = |text: Option<String>, worst: bool| match text {
        Some(t) if worst => TableCell::from(Span::styled(format!("▲{t}"), styles.warn)),
        Some(t) => TableCell::from(t),
        None => TableCell::from(Span::styled("–", styles.muted)),
    };
    [
        cell(
            g.and_then(|g| g.rate)
                .map(|r| rate_text(r).trim_end_matches(" rps").to_string()),
            false,
        ),
        cell(g.and_then(|g| g.error_ratio).map(ratio_text), worst_err),
        cell(g.and_then(|g| g.p95).map(seconds_text), worst_p95),
    ]
}

/// A cluster's scrapes: `12/14 up`, `throttled` while its API server answers 429; and the first
/// failing target with why, for the last-error column.
pub fn scrape_cell(state: &State, styles: &Styles, cluster: usize) -> (TableCell<'static>, String) {
    match state.metrics.snapshot.remote.get(cluster) {
        Some(Some(Ok(()))) => {
            return (
                TableCell::from(Span::styled("prometheus", styles.ok)),
                String::new(),
            );
        }
        Some(Some(Err(e))) => {
            let why = format!("prometheus: {e} (scraped metrics shown)");
            return (TableCell::from(Span::styled("scraped", styles.warn)), why);
        }
        _ => {}
    }
    let Some(h) = state.metrics.snapshot.clusters.get(cluster) else {
        return (
            TableCell::from(Span::styled("–", styles.muted)),
            String::new(),
        );
    };
    let mut text = format!("{}/{} up", h.up, h.targets);
    if h.throttled {
        text.push_str(" 429");
    }
    let style = if h.throttled || h.up < h.targets {
        styles.warn
    } else {
        styles.base
    };
    let why = h
        .failing
        .first()
        .map(|(target, e)| format!("scrape {target}: {e}"))
        .or_else(|| {
            (h.bad_lines > 0).then(|| format!("{} bad lines in /metrics pages", h.bad_lines))
        })
        .unwrap_or_default();
    (TableCell::from(Span::styled(text, style)), why)
}

/// CPU and MEM of a pod, as `kubectl top pod` writes them.
pub fn usage_cells(
    state: &State,
    cluster: usize,
    key: &crate::kube::ObjKey,
) -> [TableCell<'static>; 2] {
    let u = state.metrics.snapshot.usage(cluster, key);
    [
        TableCell::from(u.and_then(|u| u.cpu).map_or("–".into(), cpu_text)),
        TableCell::from(u.and_then(|u| u.memory).map_or("–".into(), bytes_text)),
    ]
}

#[cfg(test)]
mod tests;
