use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::metrics::signals::{Golden, MetricsSnapshot};
use crate::state::testing::*;
use crate::state::{Msg, update};

fn metrics_state() -> State {
    let mut s = fleet_state();
    s.metrics.enabled = true;
    s
}

fn names(s: &State) -> Vec<String> {
    s.screen().items.iter().map(|i| format!("{i:?}")).collect()
}

fn answer(s: &mut State, msg: MetricsMsg) -> Vec<Effect> {
    update(s, Msg::Metrics(msg), t0())
}

#[test]
fn the_explorer_goes_from_names_to_series_to_a_chart() {
    let mut s = metrics_state();
    assert_eq!(key(&mut s, "6"), vec![Effect::Metrics(MetricsQuery::Names)]);
    assert_eq!(s.screen().kind, ViewKind::Metrics);
    answer(
        &mut s,
        MetricsMsg::Names(vec![("http_requests_total".into(), 12), ("up".into(), 4)]),
    );
    assert_eq!(
        names(&s),
        ["Metric(\"http_requests_total\")", "Metric(\"up\")"]
    );
    // The filter narrows names as it does rows elsewhere.
    typed(&mut s, "/^up");
    key(&mut s, "enter");
    assert_eq!(names(&s), ["Metric(\"up\")"]);
    let effects = key(&mut s, "enter");
    assert_eq!(
        effects,
        vec![Effect::Metrics(MetricsQuery::Series { name: "up".into() })]
    );
    assert_eq!(s.screen().scope.metric.as_deref(), Some("up"));
    // An answer for another name (a late one) is not shown.
    let entry = |pod: &str| SeriesEntry {
        labels: vec![("pod".into(), pod.into())],
        last: Some(1.0),
    };
    answer(
        &mut s,
        MetricsMsg::Series(SeriesList {
            name: "http_requests_total".into(),
            list: vec![entry("x")],
            more: 0,
        }),
    );
    assert!(s.screen().items.is_empty());
    answer(
        &mut s,
        MetricsMsg::Series(SeriesList {
            name: "up".into(),
            list: vec![entry("a"), entry("b")],
            more: 0,
        }),
    );
    assert_eq!(names(&s), ["Series(0)", "Series(1)"]);
    key(&mut s, "down");
    let effects = key(&mut s, "enter");
    assert_eq!(
        effects,
        vec![Effect::Metrics(MetricsQuery::Chart {
            labels: vec![("__name__".into(), "up".into()), ("pod".into(), "b".into())],
            window_secs: 300,
        })]
    );
    // The window key re-asks the chart over the longer window, and the list with it.
    answer(
        &mut s,
        MetricsMsg::Chart(Chart {
            name: "up".into(),
            labels: vec![("pod".into(), "b".into())],
            window_secs: 300,
            points: vec![(1, 1.0)],
        }),
    );
    let effects = key(&mut s, "M");
    assert!(effects.contains(&Effect::Metrics(MetricsQuery::Chart {
        labels: vec![("__name__".into(), "up".into()), ("pod".into(), "b".into())],
        window_secs: 900,
    })));
    key(&mut s, "esc");
    assert_eq!(s.screen().scope.metric, None);
}

#[test]
fn a_detail_asks_for_its_panel_and_keeps_only_its_own() {
    let mut s = metrics_state();
    key(&mut s, "3");
    let effects = key(&mut s, "d");
    let Some(Effect::Metrics(MetricsQuery::Panel {
        cluster,
        kind,
        key: k,
        window_secs,
    })) = effects.get(1).cloned()
    else {
        panic!("no panel query in {effects:?}");
    };
    assert_eq!((kind, window_secs), (Kind::Pod, 300));
    let panel = |key: ObjKey| Panel {
        cluster,
        kind,
        key,
        window_secs: 300,
        rows: vec![],
        empty_reason: None,
    };
    answer(&mut s, MetricsMsg::Panel(panel(ObjKey::new("x", "other"))));
    assert!(s.metrics.panel.is_none());
    answer(&mut s, MetricsMsg::Panel(panel(k.clone())));
    assert!(s.metrics.panel.is_some());
    // A new snapshot refreshes the open panel.
    let effects = answer(&mut s, MetricsMsg::Snapshot(Arc::default()));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Metrics(MetricsQuery::Panel { .. })]
    ));
}

#[test]
fn without_scraping_nothing_is_asked_and_the_explorer_says_why() {
    let mut s = fleet_state();
    assert!(key(&mut s, "6").is_empty());
    assert_ne!(s.screen().kind, ViewKind::Metrics);
    assert!(s.notice.as_ref().unwrap().text.contains("metrics are off"));
    key(&mut s, "3");
    assert_eq!(key(&mut s, "d").len(), 1, "only the detail fetch");
}

#[test]
fn each_environment_marks_its_worst_error_ratio_and_latency() {
    let mut s = metrics_state();
    let backend = ObjKey::new("arq", "arq-backend");
    let export = ObjKey::new("arxos", "export-service");
    let g = |err: f64, p95: f64| Golden {
        rate: Some(10.0),
        error_ratio: Some(err),
        p95: Some(p95),
    };
    let golden = HashMap::from([
        // Cluster 2 and 3 are prod (one environment); 0 is dev.
        ((2, backend.clone()), g(0.07, 0.2)),
        ((3, backend.clone()), g(0.01, 1.3)),
        ((2, export.clone()), g(0.0, 0.1)),
        ((0, export.clone()), g(0.0, 0.3)),
    ]);
    let snapshot = MetricsSnapshot {
        golden,
        ..Default::default()
    };
    answer(&mut s, MetricsMsg::Snapshot(Arc::new(snapshot)));
    let env = |c: usize| s.clusters[c].env;
    assert_eq!(
        env(2),
        env(3),
        "the test fleet's prod regions share an environment"
    );
    assert_eq!(s.metrics.worst_in_env(2, &backend), (true, false));
    assert_eq!(s.metrics.worst_in_env(3, &backend), (false, true));
    assert_eq!(s.metrics.worst_in_env(2, &export), (false, false));
    // No errors at all: nothing is marked worst for errors.
    assert_eq!(s.metrics.worst_in_env(0, &export), (false, true));
}

#[test]
fn reaching_the_memory_cap_is_said_once() {
    let mut s = metrics_state();
    let snapshot = |evicted: u64| {
        let mut m = MetricsSnapshot::default();
        m.store.cap_bytes = 64 << 20;
        m.store.evicted_samples = evicted;
        MetricsMsg::Snapshot(Arc::new(m))
    };
    answer(&mut s, snapshot(0));
    assert!(s.notice.is_none());
    answer(&mut s, snapshot(1200));
    let text = s.notice.take().unwrap().text;
    assert!(
        text.contains("64 MiB") && text.contains("oldest samples"),
        "{text}"
    );
    answer(&mut s, snapshot(5000));
    assert!(s.notice.is_none(), "not again while it goes on");
}
