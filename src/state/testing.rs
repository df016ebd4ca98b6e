//! Test fixtures: a four-cluster fleet in three environments with rows shaped like the seed
//! systems, and helpers to drive `update` with keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;

use super::{EnvState, Msg, State, update};
use crate::action::Action;
use crate::config::keymap::{KeyChord, Keymap};
use crate::kube::rows::*;
use crate::kube::{Change, ConnState, KubeMsg, ObjKey};

pub fn t0() -> Timestamp {
    "2026-11-22T14:00:00Z".parse().unwrap()
}

pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(t0().as_second() + secs).unwrap()
}

/// A keymap close to the shipped default, written out so state tests do not depend on files.
pub fn keymap() -> Keymap {
    let k = |s: &str| s.parse::<KeyChord>().unwrap();
    Keymap::from_bindings([
        (Action::Up, vec![k("k"), k("up")]),
        (Action::Down, vec![k("j"), k("down")]),
        (Action::PageUp, vec![k("pgup")]),
        (Action::PageDown, vec![k("pgdn")]),
        (Action::Top, vec![k("g")]),
        (Action::Bottom, vec![k("G")]),
        (Action::Left, vec![k("h"), k("left")]),
        (Action::Right, vec![k("right")]),
        (Action::Open, vec![k("enter")]),
        (Action::Back, vec![k("esc")]),
        (Action::Command, vec![k(":")]),
        (Action::Filter, vec![k("/")]),
        (Action::Help, vec![k("?")]),
        (Action::Quit, vec![k("q")]),
        (Action::Detail, vec![k("d")]),
        (Action::ViewFleet, vec![k("1")]),
        (Action::ViewMetrics, vec![k("6")]),
        (Action::ViewAlerts, vec![k("7")]),
        (Action::AlertRules, vec![k("E")]),
        (Action::AlertPods, vec![k("P")]),
        (Action::MetricsWindow, vec![k("M")]),
        (Action::MetricsSignal, vec![k("C")]),
        (Action::ViewWorkloads, vec![k("2")]),
        (Action::ViewPods, vec![k("3")]),
        (Action::ViewEvents, vec![k("4")]),
        (Action::ViewClusters, vec![k("5")]),
        (Action::SortNext, vec![k("o")]),
        (Action::SortReverse, vec![k("O")]),
        (Action::FaultsOnly, vec![k("f")]),
        (Action::Logs, vec![k("l")]),
        (Action::Scale, vec![k("s")]),
        (Action::Restart, vec![k("r")]),
        (Action::Rollback, vec![k("u")]),
        (Action::LogFollow, vec![k("space")]),
        (Action::LogTimestamps, vec![k("t")]),
        (Action::LogWrap, vec![k("w")]),
        (Action::LogPrevious, vec![k("p")]),
        (Action::LogSince, vec![k("m")]),
        (Action::LogTail, vec![k("n")]),
        (Action::LogJson, vec![k("J")]),
        (Action::LogContainer, vec![k("c")]),
        (Action::LogClusters, vec![k("a")]),
        (Action::LogSave, vec![k("W")]),
    ])
}

pub fn empty_state() -> State {
    let env = |name: &str, protected| EnvState {
        name: name.into(),
        color: None,
        protected,
        readonly: false,
    };
    State::new(
        vec![env("dev", false), env("staging", false), env("prod", true)],
        vec![
            ("dev".into(), 0, "dev".into()),
            ("staging".into(), 1, "staging".into()),
            ("prod-eastus".into(), 2, "eastus".into()),
            ("prod-westus".into(), 2, "westus".into()),
        ],
        keymap(),
        t0(),
    )
}

pub fn workload(ns: &str, name: &str, desired: u32, ready: u32) -> WorkloadRow {
    WorkloadRow {
        key: ObjKey::new(ns, name),
        desired,
        ready,
        updated: desired,
        available: ready,
        revision: Some(3),
        images: vec![format!("registry.example/{name}:2.4.1")],
        strategy: "RollingUpdate 25%/25%".into(),
        selector: BTreeMap::from([("app".into(), name.into())]),
        paused: false,
        rolling_out: false,
        stalled: None,
        rollout: RolloutStatus::Complete,
        created: Some(at(-86400 * 2)),
    }
}

fn http(path: &str) -> Option<ProbeSpec> {
    Some(ProbeSpec {
        handler: format!("HTTP GET :8080{path}"),
        period_seconds: 10,
        failure_threshold: 3,
        initial_delay_seconds: 0,
        timeout_seconds: 1,
    })
}

pub fn pod(ns: &str, workload: &str, suffix: &str, status: &str) -> PodRow {
    let (health, ready, state, message) = match status {
        "Running" => (Health::Ok, true, "Running", None),
        "Unready" => (Health::Warning, false, "Running", None),
        "CrashLoopBackOff" => (
            Health::Critical,
            false,
            "Waiting: CrashLoopBackOff",
            Some("back-off 40s restarting failed container=app pod=x".to_string()),
        ),
        other => (Health::Progressing, false, other, None),
    };
    let crashed = status == "CrashLoopBackOff";
    PodRow {
        key: ObjKey::new(ns, format!("{workload}-7f9c4-{suffix}")),
        workload: Some(workload.into()),
        replicaset: Some(format!("{workload}-7f9c4")),
        labels: BTreeMap::from([("app".into(), workload.into())]),
        ready: (u16::from(ready), 1),
        status: if status == "Unready" {
            "Running".into()
        } else {
            status.into()
        },
        health,
        restarts: if crashed { 4 } else { 0 },
        last_restart: crashed.then(|| at(-40)),
        node: "node-1".into(),
        created: Some(at(-600)),
        deleting: false,
        containers: vec![ContainerRow {
            name: "app".into(),
            image: format!("registry.example/{workload}:2.4.1"),
            ready,
            started: Some(ready || status == "Unready"),
            restarts: if crashed { 4 } else { 0 },
            state: state.into(),
            state_message: message,
            last_termination: crashed.then(|| Termination {
                reason: "Error".into(),
                exit_code: 1,
                finished: Some(at(-40)),
            }),
            liveness: http("/healthz"),
            readiness: http("/readyz"),
            startup: None,
        }],
        scrape: Default::default(),
    }
}

pub fn unhealthy(ns: &str, pod: &str, which: &str, count: u32) -> EventRow {
    EventRow {
        key: ObjKey::new(ns, format!("{pod}.17a{which}")),
        warning: true,
        reason: "Unhealthy".into(),
        message: format!("{which} probe failed: HTTP probe failed with statuscode: 503"),
        object_kind: "Pod".into(),
        object_name: pod.into(),
        count,
        first: Some(at(-180)),
        last: Some(at(-5)),
        source: "kubelet".into(),
    }
}

/// Sends a full listing of `rows` for every kind to `cluster`, and marks it synced.
pub fn sync(state: &mut State, cluster: usize, rows: Vec<Row>) {
    let mut changes: Vec<Change> = Kind::ALL.iter().map(|k| Change::Relisting(*k)).collect();
    changes.extend(rows.into_iter().map(Change::Apply));
    changes.extend(Kind::ALL.iter().map(|k| Change::Listed(*k)));
    update(
        state,
        Msg::Kube(KubeMsg::Changes { cluster, changes }),
        t0(),
    );
    let conn = Msg::Kube(KubeMsg::Conn {
        cluster,
        state: ConnState::Synced,
        at: t0(),
    });
    update(state, conn, t0());
    // Changes within a second are folded by the tick.
    update(state, Msg::Tick, t0());
}

/// The seed-shaped fleet: healthy everywhere except export-service crash-looping in staging and
/// arq-backend failing readiness in prod-eastus.
pub fn fleet_state() -> State {
    let mut s = empty_state();
    for c in 0..4 {
        let mut rows = vec![
            Row::Deployment(Arc::new(workload("arq", "arq-backend", 2, 2))),
            Row::Deployment(Arc::new(workload("arxos", "export-service", 2, 2))),
            Row::Pod(Arc::new(pod("arq", "arq-backend", "a1b2c", "Running"))),
            Row::Pod(Arc::new(pod("arq", "arq-backend", "d3f4g", "Running"))),
            Row::Pod(Arc::new(pod("arxos", "export-service", "h5j6k", "Running"))),
        ];
        let export_second = if c == 1 {
            "CrashLoopBackOff"
        } else {
            "Running"
        };
        rows.push(Row::Pod(Arc::new(pod(
            "arxos",
            "export-service",
            "m7n8p",
            export_second,
        ))));
        if c == 1 {
            rows[1] = Row::Deployment(Arc::new(workload("arxos", "export-service", 2, 1)));
        }
        if c == 2 {
            rows[0] = Row::Deployment(Arc::new(workload("arq", "arq-backend", 2, 1)));
            rows[3] = Row::Pod(Arc::new(pod("arq", "arq-backend", "d3f4g", "Unready")));
            rows.push(Row::Event(Arc::new(unhealthy(
                "arq",
                "arq-backend-7f9c4-d3f4g",
                "Readiness",
                12,
            ))));
            rows.push(Row::Hpa(Arc::new(HpaRow {
                key: ObjKey::new("arq", "arq-backend"),
                target_kind: "Deployment".into(),
                target_name: "arq-backend".into(),
                min: 2,
                max: 10,
                current: 2,
                desired: 2,
            })));
        }
        sync(&mut s, c, rows);
    }
    s
}

pub fn key(s: &mut State, text: &str) -> Vec<super::Effect> {
    let code = match text {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "backspace" => KeyCode::Backspace,
        "right" => KeyCode::Right,
        "left" => KeyCode::Left,
        "down" => KeyCode::Down,
        "up" => KeyCode::Up,
        one => KeyCode::Char(one.chars().next().unwrap()),
    };
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)), t0())
}

/// Types each character of `text` as a key.
pub fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        update(
            s,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            t0(),
        );
    }
}
