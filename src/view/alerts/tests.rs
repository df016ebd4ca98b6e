use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::*;
use crate::state::alerts::fixture::alerts_state;
use crate::state::testing::{key, t0, typed};
use crate::state::{Msg, ViewKind, update};
use crate::view::draw;
use crate::view::testing::{colour, mono};

fn render(state: &mut State, styles: &Styles, w: u16, h: u16, now: Timestamp) -> String {
    update(state, Msg::Resize(w, h), now);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, state, styles, now)).unwrap();
    terminal.backend().to_string()
}

fn fg_of(state: &mut State, w: u16, h: u16, needle: &str) -> Option<Color> {
    update(state, Msg::Resize(w, h), t0());
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, state, &colour(), t0())).unwrap();
    let buf = terminal.backend().buffer();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        if let Some(pos) = line.find(needle) {
            let x = line[..pos].chars().count() as u16;
            return buf[(x, y)].style().fg;
        }
    }
    panic!("{needle:?} not on screen");
}

fn alerts() -> State {
    let mut s = alerts_state();
    key(&mut s, "7");
    s
}

#[test]
fn alerts_at_100x30() {
    let mut s = alerts();
    insta::assert_snapshot!(render(&mut s, &colour(), 100, 30, t0()));
}

#[test]
fn alerts_at_80x24() {
    let mut s = alerts();
    let text = render(&mut s, &colour(), 80, 24, t0());
    insta::assert_snapshot!(text);
    // Compact, but every row keeps its state word, name and age.
    assert!(text.contains("FIRING ⊘"), "the silenced one is marked");
    assert!(text.contains("FIRING ≠"), "so is the disagreement");
    assert!(text.contains("4m12s"));
}

#[test]
fn the_title_counts_what_is_listed() {
    let mut s = alerts();
    let all = render(&mut s, &colour(), 120, 20, t0());
    assert!(all.contains("5 FIRING (1 silenced) · 1 pending"), "{all}");
    key(&mut s, "/");
    typed(&mut s, "covet");
    let filtered = render(&mut s, &colour(), 120, 20, t0());
    // One pending alert listed: the title must not still say five are firing.
    assert!(
        filtered.contains("1 alerts · 0 FIRING · 1 pending · 0 resolved"),
        "{filtered}"
    );
}

#[test]
fn alerts_at_140_columns_show_the_source() {
    let mut s = alerts();
    let text = render(&mut s, &colour(), 140, 14, t0());
    assert!(text.contains("SOURCE"), "{text}");
    assert!(text.contains("alertmanager"), "{text}");
}

#[test]
fn a_firing_alert_is_red_and_readable_without_colour() {
    let mut s = alerts();
    assert_eq!(fg_of(&mut s, 100, 30, "FIRING     High"), Some(Color::Red));
    assert_eq!(
        fg_of(&mut s, 100, 30, "pending    Slow"),
        Some(Color::Yellow)
    );
    let text = render(&mut s, &mono(), 100, 30, t0());
    for word in ["FIRING", "pending", "resolved"] {
        assert!(text.contains(word), "{word} in mono");
    }
}

#[test]
fn detail_of_a_firing_alert_at_100x30() {
    let mut s = alerts();
    key(&mut s, "enter");
    assert_eq!(s.screen().kind, ViewKind::AlertDetail);
    insta::assert_snapshot!(render(&mut s, &colour(), 100, 30, t0()));
}

#[test]
fn detail_of_a_firing_alert_at_80x24() {
    let mut s = alerts();
    key(&mut s, "enter");
    insta::assert_snapshot!(render(&mut s, &colour(), 80, 24, t0()));
}

#[test]
fn detail_of_an_alert_whose_rule_fails_locally() {
    let mut s = alerts();
    key(&mut s, "/");
    typed(&mut s, "budget");
    key(&mut s, "enter");
    key(&mut s, "enter");
    let text = render(&mut s, &colour(), 100, 30, t0());
    insta::assert_snapshot!(text);
    assert!(text.contains("unsupported: subquery"));
}

#[test]
fn detail_of_a_silenced_alert_with_no_workload_and_a_source_down() {
    let mut s = alerts();
    key(&mut s, ":");
    typed(&mut s, "alerts env:staging");
    key(&mut s, "enter");
    key(&mut s, "enter");
    let text = render(&mut s, &colour(), 100, 30, t0());
    assert!(text.contains("silenced by"), "{text}");
    assert!(
        text.contains("3f1c2a9e-5d7b-4c1e-9a0f-2b6d8e4f1a3c"),
        "{text}"
    );
    assert!(
        text.contains("staging: Prometheus unreachable (connection refused)"),
        "{text}"
    );
    assert!(
        text.contains("arxos/export-service in staging (its pod label)"),
        "{text}"
    );
}

#[test]
fn failing_rules_listed_first() {
    let mut s = alerts();
    key(&mut s, "E");
    let text = render(&mut s, &colour(), 100, 30, t0());
    insta::assert_snapshot!(text);
}

#[test]
fn fleet_shows_firing_counts_per_cell_and_environment() {
    let mut s = alerts_state();
    let wide = render(&mut s, &colour(), 140, 14, t0());
    insta::assert_snapshot!(wide);
    assert!(wide.contains("PROD 3 firing"), "{wide}");
    let narrow = render(&mut s, &colour(), 80, 24, t0());
    insta::assert_snapshot!(narrow);
    assert!(narrow.contains("2!"), "{narrow}");
}

#[test]
fn workloads_have_an_alerts_column() {
    let mut s = alerts_state();
    key(&mut s, ":");
    typed(&mut s, "deploy env:prod");
    key(&mut s, "enter");
    insta::assert_snapshot!(render(&mut s, &colour(), 140, 14, t0()));
}

#[test]
fn values_are_compact() {
    let cases = [
        (Some(0.0723), "0.0723"),
        (Some(1.3), "1.3"),
        (Some(14.4), "14.4"),
        (Some(4.0), "4"),
        (Some(0.0), "0"),
        (Some(123.456), "123"),
        (Some(4321.0), "4321"),
        (Some(12_345.0), "12.3k"),
        (Some(1.93e9), "1.93G"),
        (Some(-2.5e6), "-2.5M"),
        (Some(0.000_012), "1.20e-5"),
        (Some(f64::NAN), "NaN"),
        (Some(f64::INFINITY), "+Inf"),
        (None, "–"),
    ];
    for (v, want) in cases {
        assert_eq!(value_text(v), want, "{v:?}");
    }
}
