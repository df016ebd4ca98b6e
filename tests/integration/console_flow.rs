//! The whole console against the in-process seed fleet: real watchers feed the pure state, keys
//! drive it through the shipped keymap, effects run for real, frames are drawn on a test backend.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use watchfloor::app::console::{self, Console, KubeRunner};
use watchfloor::app::event_loop::Runner;
use watchfloor::config::commands::{Options, load_settings};
use watchfloor::config::theme::ColorDepth;
use watchfloor::kube::rows::Health;
use watchfloor::kube::watch::{Clock, ClusterHandle};
use watchfloor::kube::{ConnState, KubeMsg, ObjKey};
use watchfloor::sim::fleet::FleetOptions;
use watchfloor::sim::fleetfile;
use watchfloor::sim::timeline;
use watchfloor::state::{DetailLoad, Msg, State, ViewKind, update};
use watchfloor::view::{self, Styles};

use crate::support::TestFleet;

const WAIT: Duration = Duration::from_secs(120);

/// The console's pieces without a terminal.
struct App {
    state: State,
    styles: Styles,
    rx: mpsc::Receiver<KubeMsg>,
    runner: KubeRunner,
    _handles: Vec<Option<ClusterHandle>>,
    clock: Clock,
}

impl App {
    async fn start(fleet: &TestFleet) -> Self {
        let config = fleet.dir.path().join("config.toml");
        let file = fleetfile::builtin();
        std::fs::write(&config, watchfloor::sim::demo::console_config(&file)).unwrap();
        let opts = Options {
            config: Some(&config),
            kubeconfig: Some(&fleet.kubeconfig),
            ..Options::default()
        };
        let settings = load_settings(&opts, ColorDepth::TrueColor).expect("settings");
        let kubeconfig = watchfloor::config::kubeconfig::load(Some(&fleet.kubeconfig)).unwrap();
        let layout = watchfloor::config::fleet::resolve(
            &settings.loaded.config,
            &kubeconfig,
            &opts.selection,
        )
        .expect("layout");
        let console = Console {
            settings,
            layout,
            kubeconfig,
        };
        let clock: Clock = Arc::new(Timestamp::now);
        let mut state = console::initial_state(&console, clock());
        state.tz = jiff::tz::TimeZone::UTC;
        update(&mut state, Msg::Resize(140, 40), clock());
        let (tx, rx) = mpsc::channel(256);
        let handles = console::connect(&console, &tx, Arc::clone(&clock)).await;
        let runner = KubeRunner {
            clients: handles
                .iter()
                .map(|h| h.as_ref().map(|h| h.client().clone()))
                .collect(),
            tx,
            logs: Default::default(),
        };
        Self {
            styles: Styles::new(&console.settings.palette),
            state,
            rx,
            runner,
            _handles: handles,
            clock,
        }
    }

    /// Feeds cluster messages until `done` holds; panics with the screen after `WAIT`.
    async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(&self.state) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{}",
                self.screen()
            );
            // The app's ticker, every 250 ms here: it folds changes that arrived in a burst.
            match tokio::time::timeout(Duration::from_millis(250), self.rx.recv()).await {
                Ok(Some(msg)) => {
                    update(&mut self.state, Msg::Kube(msg), (self.clock)());
                }
                Ok(None) => panic!("the cluster channel closed"),
                Err(_) => {
                    update(&mut self.state, Msg::Tick, (self.clock)());
                }
            }
        }
    }

    fn press(&mut self, code: KeyCode) {
        let effects = update(
            &mut self.state,
            Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
            (self.clock)(),
        );
        for e in effects {
            self.runner.run(e);
        }
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    fn screen(&self) -> String {
        let mut t = Terminal::new(TestBackend::new(140, 40)).unwrap();
        t.draw(|f| view::draw(f, &self.state, &self.styles, (self.clock)()))
            .unwrap();
        t.backend().to_string()
    }
}

fn staging_export_crashloops(s: &State) -> bool {
    let Some(id) = s.clusters.iter().position(|c| c.context == "staging") else {
        return false;
    };
    let c = &s.clusters[id];
    c.pods.values().any(|p| {
        p.workload.as_deref() == Some("export-service")
            && p.status == "CrashLoopBackOff"
            && !c.unhealthy_events(&p.key).is_empty()
    })
}

#[test]
fn find_the_crash_looping_pod_in_staging_from_the_fleet_and_read_why_in_its_detail() {
    let fleet = TestFleet::start_with(
        &fleetfile::builtin(),
        FleetOptions {
            speed: 20.0,
            ..Default::default()
        },
    );
    let rt = &fleet.runtime;
    rt.block_on(async {
        let mut app = App::start(&fleet).await;
        app.until("every cluster to sync", |s| {
            s.clusters.iter().all(|c| c.loaded())
        })
        .await;
        // The incident's bad release, on staging only.
        let scenario = fleetfile::builtin().scenario("incident").cloned().unwrap();
        let step = scenario
            .steps
            .iter()
            .find(|s| s.action.key() == "set-image" && s.clusters.iter().any(|c| c == "staging"))
            .cloned()
            .unwrap();
        for o in timeline::apply(&fleet.fleet, &step) {
            o.result.expect("the release is set");
        }
        app.until(
            "export-service to crash-loop in staging",
            staging_export_crashloops,
        )
        .await;

        // Fleet: the row, then the staging column.
        assert_eq!(app.state.screen().kind, ViewKind::Fleet);
        app.press(KeyCode::Char('/'));
        app.type_text("export-service");
        app.press(KeyCode::Enter);
        let staging = app
            .state
            .columns()
            .iter()
            .position(|&c| app.state.clusters[c].context == "staging")
            .unwrap();
        for _ in 0..staging {
            app.press(KeyCode::Right);
        }
        let cell = app
            .state
            .cell(
                app.state.columns()[staging],
                &ObjKey::new("arxos", "export-service"),
            )
            .unwrap();
        assert_eq!(cell.health, Health::Critical, "{}", app.screen());
        let fleet_screen = app.screen();
        assert!(fleet_screen.contains("crashloop"), "{fleet_screen}");

        // Enter: the workload in staging; Enter: its pods; the crash-looping one.
        app.press(KeyCode::Enter);
        assert_eq!(app.state.screen().kind, ViewKind::Workloads);
        app.press(KeyCode::Enter);
        assert_eq!(app.state.screen().kind, ViewKind::Pods);
        app.press(KeyCode::Char('/'));
        app.type_text("crashloop");
        app.press(KeyCode::Enter);
        let pods_screen = app.screen();
        assert!(pods_screen.contains("CrashLoopBackOff"), "{pods_screen}");
        app.press(KeyCode::Char('d'));
        assert_eq!(app.state.screen().kind, ViewKind::Detail);
        app.until("the detail fetch", |s| {
            matches!(s.detail, Some(DetailLoad::Ready(_)))
        })
        .await;
        let detail = app.screen();
        assert!(detail.contains("Waiting: CrashLoopBackOff"), "{detail}");
        assert!(
            detail.contains("back-off"),
            "the back-off reason is shown:\n{detail}"
        );
        assert!(
            detail.contains("Unhealthy"),
            "the Unhealthy event is shown:\n{detail}"
        );
        assert!(
            detail.contains("owner: Deployment export-service → ReplicaSet"),
            "{detail}"
        );
        assert!(
            detail.contains("Ready") && detail.contains("ContainersNotReady"),
            "conditions fetched:\n{detail}"
        );
    });
}

#[test]
fn a_cluster_killed_mid_session_goes_stale_while_the_others_stay_live_then_recovers() {
    let fleet = TestFleet::start_with(
        &fleetfile::builtin(),
        FleetOptions {
            speed: 20.0,
            ..Default::default()
        },
    );
    let rt = &fleet.runtime;
    rt.block_on(async {
        let mut app = App::start(&fleet).await;
        app.until("every cluster to sync", |s| {
            s.clusters.iter().all(|c| c.loaded())
        })
        .await;
        let west = app
            .state
            .clusters
            .iter()
            .position(|c| c.context == "prod-westus")
            .unwrap();
        let pods_before = app.state.clusters[west].pods.len();
        let running = fleet
            .fleet
            .clusters
            .iter()
            .find(|c| c.def.name == "prod-westus")
            .unwrap();
        running.server.stop();
        app.until("prod-westus to be unreachable", |s| {
            matches!(s.clusters[west].conn, ConnState::Unreachable { .. })
        })
        .await;
        let screen = app.screen();
        assert!(screen.contains("PROD westus ✗ down"), "{screen}");
        assert!(screen.contains("PROD westus (stale)"), "{screen}");
        assert_eq!(
            app.state.clusters[west].pods.len(),
            pods_before,
            "its last data stays on screen"
        );
        // The others stay live: a scale in dev shows up while prod-westus is down.
        let dev = fleet
            .fleet
            .clusters
            .iter()
            .find(|c| c.def.name == "dev")
            .unwrap();
        dev.cluster.write(|store, _| {
            store
                .mutate::<k8s_openapi::api::apps::v1::Deployment>("arq", "arq-frontend", |d| {
                    d.spec.as_mut().unwrap().replicas = Some(3);
                })
                .unwrap();
        });
        let dev_id = app
            .state
            .clusters
            .iter()
            .position(|c| c.context == "dev")
            .unwrap();
        let key = ObjKey::new("arq", "arq-frontend");
        app.until("dev's scale to show", |s| {
            s.cell(dev_id, &key).is_some_and(|c| c.desired == 3)
        })
        .await;
        assert!(matches!(
            app.state.clusters[west].conn,
            ConnState::Unreachable { .. }
        ));
        running.come_back().await.expect("prod-westus back");
        app.until("prod-westus to sync again", |s| {
            s.clusters[west].conn == ConnState::Synced
        })
        .await;
        assert_eq!(app.state.clusters[west].stale_since(), None);
        let screen = app.screen();
        assert!(screen.contains("PROD westus ●"), "{screen}");
    });
}

fn log_rows(s: &State) -> usize {
    s.logs.as_ref().map_or(0, |v| v.buffer.rows())
}

#[test]
fn tail_a_workloads_json_logs_from_the_fleet_widen_to_every_cluster_and_close() {
    let fleet = TestFleet::start_with(
        &fleetfile::builtin(),
        FleetOptions {
            speed: 20.0,
            ..Default::default()
        },
    );
    fleet.runtime.block_on(async {
        let mut app = App::start(&fleet).await;
        app.until("every cluster to sync", |s| {
            s.clusters.iter().all(|c| c.loaded())
        })
        .await;
        app.press(KeyCode::Char('/'));
        app.type_text("export-service");
        app.press(KeyCode::Enter);
        app.press(KeyCode::Char('l'));
        assert_eq!(app.state.screen().kind, ViewKind::Logs, "{}", app.screen());
        app.until("log lines", |s| log_rows(s) >= 5).await;
        let screen = app.screen();
        assert!(
            screen.contains("logs ▸ arxos/export-service ▸ dev"),
            "{screen}"
        );
        // export-service writes JSON lines: shown as fields, with the message first.
        assert!(screen.contains(" logger="), "{screen}");
        assert!(!screen.contains("{\"ts\""), "{screen}");
        app.press(KeyCode::Char('J'));
        assert!(app.screen().contains("{\"ts\""), "raw JSON on request");

        app.press(KeyCode::Char('a'));
        let clusters = app.state.logs.as_ref().unwrap().clusters.len();
        assert!(clusters > 1, "{}", app.screen());
        app.until("lines from every cluster running it", |s| {
            let v = s.logs.as_ref().unwrap();
            let mut seen: Vec<usize> = v
                .buffer
                .entries()
                .filter_map(|e| match e {
                    watchfloor::logs::Entry::Line(l) => {
                        v.sources.get(l.source).map(|s| s.key.cluster)
                    }
                    _ => None,
                })
                .collect();
            seen.sort_unstable();
            seen.dedup();
            seen.len() == clusters
        })
        .await;
        assert!(
            app.runner.logs.running() == 1,
            "the narrow tail was stopped"
        );

        app.press(KeyCode::Esc);
        app.press(KeyCode::Esc);
        assert_ne!(app.state.screen().kind, ViewKind::Logs);
        assert!(app.state.logs.is_none());
        assert_eq!(
            app.runner.logs.running(),
            0,
            "closing the view stops its streams"
        );
    });
}
