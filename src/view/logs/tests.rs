//! Snapshots of the log view: prefixes per source, markers, the paused title, filter highlight,
//! wrapping, JSON lines, and the prefix words that stand without colour.

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use crate::kube::KubeMsg;
use crate::kube::logs::{LogEvent, LogEventKind, SourceKey};
use crate::state::testing::*;
use crate::state::{Msg, State, update};
use crate::view::testing::{colour, mono};
use crate::view::{Styles, draw};

fn render(s: &mut State, styles: &Styles, w: u16, h: u16) -> Terminal<TestBackend> {
    update(s, Msg::Resize(w, h), t0());
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, s, styles, t0())).unwrap();
    t
}

fn src(pod: &str) -> SourceKey {
    SourceKey {
        cluster: 2,
        namespace: "arq".into(),
        pod: pod.into(),
        container: "app".into(),
    }
}

fn report(s: &mut State, kind: LogEventKind) {
    let session = s.logs.as_ref().unwrap().session;
    update(
        s,
        Msg::Kube(KubeMsg::Logs(LogEvent { session, kind })),
        t0(),
    );
}

fn lines(s: &mut State, pod: &str, texts: &[(i64, &str)]) {
    report(
        s,
        LogEventKind::Lines {
            source: src(pod),
            lines: texts
                .iter()
                .map(|(t, x)| (Some(at(*t)), x.to_string()))
                .collect(),
            dropped: 0,
        },
    );
}

/// A tail of arq-backend in prod-eastus with two pods, a rollout's third, and its markers.
fn tail() -> State {
    let mut s = fleet_state();
    for k in ["right", "right", "enter", "l"] {
        key(&mut s, k);
    }
    for (pod, initial) in [
        ("arq-backend-7f9c4-x2kqd", true),
        ("arq-backend-7f9c4-8hd7s", true),
    ] {
        report(
            &mut s,
            LogEventKind::Added {
                source: src(pod),
                containers: 1,
                initial,
            },
        );
    }
    lines(
        &mut s,
        "arq-backend-7f9c4-x2kqd",
        &[(131, "ERROR db pool exhausted (waited 5001ms)")],
    );
    lines(
        &mut s,
        "arq-backend-7f9c4-8hd7s",
        &[(131, "WARN  retrying upstream attempt=3")],
    );
    report(
        &mut s,
        LogEventKind::Gap {
            source: src("arq-backend-7f9c4-8hd7s"),
            after: Duration::from_secs(4),
        },
    );
    report(
        &mut s,
        LogEventKind::Lines {
            source: src("arq-backend-7f9c4-8hd7s"),
            lines: vec![(Some(at(136)), "GET /api/v1/health 200 3ms".into())],
            dropped: 3,
        },
    );
    report(
        &mut s,
        LogEventKind::Added {
            source: src("arq-backend-6b8d2-pq4zz"),
            containers: 1,
            initial: false,
        },
    );
    lines(
        &mut s,
        "arq-backend-6b8d2-pq4zz",
        &[(
            137,
            r#"{"ts":"2026-11-22T14:02:17Z","level":"info","msg":"started","port":8080}"#,
        )],
    );
    report(
        &mut s,
        LogEventKind::Gone {
            source: src("arq-backend-7f9c4-x2kqd"),
        },
    );
    s
}

#[test]
fn a_workload_tail_with_its_markers() {
    let mut s = tail();
    let t = render(&mut s, &colour(), 110, 14);
    let screen = t.backend().to_string();
    assert!(
        screen.contains("logs ▸ arq/arq-backend ▸ PROD eastus (2 pods, following)"),
        "{screen}"
    );
    assert!(screen.contains("3 dropped"));
    assert!(screen.contains("── gap: 8hd7s stream reconnected after 4s ──"));
    assert!(screen.contains("pq4zz │ INFO  started  ts=2026-11-22T14:02:17Z port=8080"));
    insta::assert_snapshot!(screen);
}

#[test]
fn paused_filtered_with_timestamps_and_wrapping_in_mono() {
    let mut s = tail();
    for k in [" ", "t", "w", "/", "e", "r", "r", "enter"] {
        key(&mut s, k);
    }
    lines(
        &mut s,
        "arq-backend-6b8d2-pq4zz",
        &[
            (
                140,
                "ERROR one more, and a long explanation of why, which wraps",
            ),
            (141, "fine"),
        ],
    );
    let t = render(&mut s, &mono(), 60, 14);
    let screen = t.backend().to_string();
    assert!(screen.contains("⏸ paused · 2 new"), "{screen}");
    // The matches are highlighted (reversed in mono, as selection is).
    let buf = t.backend().buffer();
    let row = (0..buf.area.height)
        .find(|&y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains("ERROR db")
        })
        .expect("the error line is shown");
    let line: String = (0..buf.area.width)
        .map(|x| buf[(x, row)].symbol())
        .collect();
    let x = line
        .find("ERROR")
        .map(|b| line[..b].chars().count())
        .unwrap() as u16;
    assert!(
        buf[(x, row)]
            .style()
            .add_modifier
            .contains(Modifier::REVERSED)
    );
    insta::assert_snapshot!(screen);
    // Following again: the new lines, the long one wrapped under its prefix.
    key(&mut s, " ");
    let t = render(&mut s, &mono(), 60, 14);
    let screen = t.backend().to_string();
    assert!(
        screen.contains("pq4zz │ 14:02:20 ERROR one more, and a long explanation"),
        "{screen}"
    );
    assert!(screen.contains("       │ why, which wraps"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_full_buffer_draws_only_what_shows() {
    let mut s = tail();
    s.logs.as_mut().unwrap().buffer = crate::logs::LogBuffer::new(100_000);
    let many: Vec<(i64, String)> = (0..120_000).map(|n| (n, format!("line {n}"))).collect();
    let texts: Vec<(i64, &str)> = many.iter().map(|(t, x)| (*t, x.as_str())).collect();
    lines(&mut s, "arq-backend-7f9c4-x2kqd", &texts);
    let start = Instant::now();
    let t = render(&mut s, &colour(), 120, 40);
    let took = start.elapsed();
    let screen = t.backend().to_string();
    assert!(screen.contains("line 119999"));
    assert!(screen.contains("20,001 dropped"), "{screen}");
    // Generous: drawing 40 rows of a 100,000-line buffer takes well under a millisecond in
    // release; this only catches a draw that walks the whole buffer in a debug build.
    assert!(took < std::time::Duration::from_millis(500), "{took:?}");
}
