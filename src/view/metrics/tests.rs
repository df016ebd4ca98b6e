use super::*;

#[test]
fn sparklines_scale_between_min_and_max_and_show_gaps() {
    let pts = [Some(0.0), Some(1.0), None, Some(2.0)];
    assert_eq!(sparkline(&pts, 4), "▁▅ █");
    // Scaled from zero: a steady value near its maximum is a high bar, not noise.
    assert_eq!(sparkline(&[Some(150.0), Some(210.0)], 2), "▆█");
    // Narrower than the points: each cell shows its bucket's newest value.
    let many: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i))).collect();
    let s = sparkline(&many, 10);
    assert_eq!(s.chars().count(), 10);
    assert!(s.ends_with('█'));
    let chars: Vec<char> = s.chars().collect();
    assert!(chars.windows(2).all(|w| w[0] <= w[1]), "{s}");
    assert_eq!(sparkline(&[Some(5.0), Some(5.0)], 2), "██");
    assert_eq!(sparkline(&[Some(0.0), Some(0.0)], 2), "▁▁");
    assert_eq!(sparkline(&[], 5), "");
}

#[test]
fn numbers_are_plain() {
    assert_eq!(number(3.0), "3");
    assert_eq!(number(0.25), "0.2500");
    assert_eq!(number(f64::NAN), "NaN");
    assert_eq!(number(1e-7), "1.0000e-7");
}

mod screens {
    use std::collections::HashMap;
    use std::sync::Arc;

    use jiff::Timestamp;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::kube::{Kind, ObjKey};
    use crate::metrics::signals::{Golden, MetricsSnapshot, ScrapeHealth, Usage};
    use crate::state::metrics::{MetricsMsg, Panel, PanelRow, SeriesEntry, SeriesList, Unit};
    use crate::state::testing::*;
    use crate::state::{Msg, State, update};
    use crate::view::draw;
    use crate::view::testing::mono;

    fn render(state: &mut State, w: u16, h: u16, now: Timestamp) -> String {
        update(state, Msg::Resize(w, h), now);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| draw(f, state, &mono(), now)).unwrap();
        terminal.backend().to_string()
    }

    /// The test fleet with metrics: prod-eastus's arq-backend failing 7.2% of 240 requests/s.
    fn with_metrics() -> State {
        let mut s = fleet_state();
        s.metrics.enabled = true;
        let backend = ObjKey::new("arq", "arq-backend");
        let export = ObjKey::new("arxos", "export-service");
        let g = |rate, err, p95| Golden {
            rate: Some(rate),
            error_ratio: Some(err),
            p95: Some(p95),
        };
        let mut golden = HashMap::new();
        for c in 0..4 {
            golden.insert((c, backend.clone()), g(12.0, 0.0, 0.21));
            golden.insert((c, export.clone()), g(3.5, 0.0, 0.23));
        }
        golden.insert((2, backend.clone()), g(240.0, 0.072, 1.3));
        let usage = HashMap::from([(
            (0, ObjKey::new("arq", "arq-backend-7f9c4-a1b2c")),
            Usage {
                cpu: Some(0.25),
                memory: Some(184.0 * 1024.0 * 1024.0),
            },
        )]);
        let snapshot = MetricsSnapshot {
            window_secs: 60,
            golden,
            usage,
            clusters: vec![
                ScrapeHealth {
                    up: 5,
                    targets: 5,
                    ..Default::default()
                };
                4
            ],
            ..Default::default()
        };
        update(
            &mut s,
            Msg::Metrics(MetricsMsg::Snapshot(Arc::new(snapshot))),
            t0(),
        );
        s
    }

    #[test]
    fn the_fleet_shows_golden_signals_and_marks_the_worst_without_colour() {
        let mut s = with_metrics();
        insta::assert_snapshot!(render(&mut s, 150, 12, t0()));
    }

    #[test]
    fn workloads_and_pods_gain_metric_columns() {
        let mut s = with_metrics();
        key(&mut s, "2");
        let workloads = render(&mut s, 200, 12, t0());
        assert!(
            workloads.contains("RPS") && workloads.contains("▲7.2%"),
            "{workloads}"
        );
        key(&mut s, "3");
        let pods = render(&mut s, 200, 12, t0());
        insta::assert_snapshot!(pods);
    }

    #[test]
    fn the_detail_panel_and_the_explorer() {
        let mut s = with_metrics();
        key(&mut s, "3");
        key(&mut s, "d");
        let target = s.screen().detail.clone().unwrap();
        let points = |f: fn(usize) -> Option<f64>| (0..60).map(f).collect::<Vec<_>>();
        let panel = Panel {
            cluster: target.cluster,
            kind: Kind::Pod,
            key: target.key.clone(),
            window_secs: 300,
            rows: vec![
                PanelRow {
                    label: "requests/s",
                    unit: Unit::Rps,
                    points: points(|i| (i >= 30).then_some(i as f64)),
                },
                PanelRow {
                    label: "restarts",
                    unit: Unit::Count,
                    points: points(|i| Some(if i > 50 { 2.0 } else { 0.0 })),
                },
            ],
            empty_reason: None,
        };
        update(&mut s, Msg::Metrics(MetricsMsg::Panel(panel)), t0());
        let detail = render(&mut s, 100, 34, t0());
        assert!(
            detail.contains("Metrics, last 5m  (M changes the window)"),
            "{detail}"
        );
        assert!(
            detail.contains("59 rps") && detail.contains("restarts"),
            "{detail}"
        );
        // Tall enough: the first signal is charted under the text, S charts the next.
        assert!(
            detail.contains("requests/s · last 5m (C next signal, M window) · 30 points"),
            "{detail}"
        );
        key(&mut s, "C");
        let detail = render(&mut s, 100, 34, t0());
        assert!(detail.contains("restarts · last 5m"), "{detail}");
        // Too short for a chart: the text alone.
        let short = render(&mut s, 100, 20, t0());
        assert!(!short.contains("next signal"), "{short}");
        key(&mut s, "6");
        update(
            &mut s,
            Msg::Metrics(MetricsMsg::Names(vec![("up".into(), 2)])),
            t0(),
        );
        key(&mut s, "enter");
        let list = SeriesList {
            name: "up".into(),
            list: vec![SeriesEntry {
                labels: vec![("pod".into(), "a".into())],
                last: Some(1.0),
            }],
            more: 3,
        };
        update(&mut s, Msg::Metrics(MetricsMsg::Series(list)), t0());
        insta::assert_snapshot!(render(&mut s, 80, 12, t0()));
    }
}
