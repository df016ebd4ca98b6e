//! The whole console against the in-process seed fleet: real watchers feed the pure state, keys
//! drive it through the shipped keymap, effects run for real, frames are drawn on a test backend.

use std::path::Path;
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
use watchfloor::config::fleet::Selection;
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
    /// The console as `watchfloor demo` opens it: the seeds' environments, prod protected.
    async fn start(fleet: &TestFleet) -> Self {
        let config = fleet.dir.path().join("config.toml");
        let file = fleetfile::builtin();
        std::fs::write(&config, watchfloor::sim::demo::console_config(&file)).unwrap();
        Self::start_with(fleet, Some(&config), Selection::default()).await
    }

    async fn start_with(fleet: &TestFleet, config: Option<&Path>, selection: Selection) -> Self {
        let opts = Options {
            config,
            kubeconfig: Some(&fleet.kubeconfig),
            selection,
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
            audit_log: Some(fleet.dir.path().join("state/audit.log")),
            prometheus_compat: None,
        };
        let clock: Clock = Arc::new(Timestamp::now);
        let mut state = console::initial_state(&console, clock());
        state.tz = jiff::tz::TimeZone::UTC;
        update(&mut state, Msg::Resize(140, 40), clock());
        let (tx, rx) = mpsc::channel(256);
        let handles = console::connect(&console, &tx, Arc::clone(&clock)).await;
        let runner = KubeRunner::new(&console, &handles, tx, Arc::clone(&clock));
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
        // The app's ticker, every 250 ms here: it folds the changes that arrived since.
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        while !done(&self.state) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{}",
                self.screen()
            );
            tokio::select! {
                msg = self.rx.recv() => match msg {
                    Some(msg) => {
                        update(&mut self.state, Msg::Kube(msg), (self.clock)());
                    }
                    None => panic!("the cluster channel closed"),
                },
                _ = tick.tick() => {
                    update(&mut self.state, Msg::Tick, (self.clock)());
                }
            }
        }
    }

    fn press(&mut self, code: KeyCode) {
        self.press_event(KeyEvent::new(code, KeyModifiers::NONE));
    }

    fn press_event(&mut self, key: KeyEvent) {
        let effects = update(&mut self.state, Msg::Key(key), (self.clock)());
        for e in effects {
            self.runner.run(e);
        }
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    fn audit(&self, fleet: &TestFleet) -> Vec<serde_json::Value> {
        let path = fleet.dir.path().join("state/audit.log");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
            .collect()
    }

    /// Puts the fleet selection on `namespace/name` in the column of `context`.
    fn select_cell(&mut self, context: &str, key: &ObjKey) {
        self.press(KeyCode::Char('/'));
        self.type_text(&key.to_string());
        self.press(KeyCode::Enter);
        assert_eq!(
            self.state.screen().selected_item(),
            Some(&watchfloor::state::Item::Workload(key.clone())),
            "{}",
            self.screen()
        );
        let column = self
            .state
            .columns()
            .iter()
            .position(|&c| self.state.clusters[c].context == context)
            .expect("the context has a column");
        for _ in 0..column {
            self.press(KeyCode::Right);
        }
        assert!(
            self.state.cell(self.state.columns()[column], key).is_some(),
            "{key} runs in {context}:\n{}",
            self.screen()
        );
    }

    fn notice(&self) -> String {
        self.state
            .notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()
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

fn workload_desired(s: &State, context: &str, key: &ObjKey) -> Option<u32> {
    let c = s.clusters.iter().find(|c| c.context == context)?;
    c.workloads.get(key).map(|w| w.desired)
}

fn seeds_fleet() -> TestFleet {
    TestFleet::start_with(
        &fleetfile::builtin(),
        FleetOptions {
            speed: 20.0,
            ..Default::default()
        },
    )
}

#[test]
fn scale_in_both_prod_regions_needs_the_typed_name_then_changes_both_and_audits_each() {
    let fleet = seeds_fleet();
    fleet.runtime.block_on(async {
        let mut app = App::start(&fleet).await;
        app.until("every cluster to sync", |s| {
            s.clusters.iter().all(|c| c.loaded())
        })
        .await;
        // No HPA manages it, so nothing moves the count but us.
        let key = ObjKey::new("arxos-apps", "arxos-cmms");
        let before = workload_desired(&app.state, "prod-eastus", &key).unwrap();
        let target = before + 1;
        app.select_cell("prod-eastus", &key);
        app.press(KeyCode::Char('s'));
        app.type_text(&target.to_string());
        // Also prod-westus: its line in the dialog, then space.
        let west = match &app.state.dialog {
            Some(watchfloor::state::Dialog::Scale(d)) => d
                .targets
                .iter()
                .position(|t| app.state.clusters[t.cluster].context == "prod-westus")
                .expect("prod-westus is offered"),
            other => panic!("the scale dialog, not {other:?}"),
        };
        for _ in 0..west {
            app.press(KeyCode::Down);
        }
        app.press(KeyCode::Char(' '));
        app.press(KeyCode::Enter);
        let confirm = app.screen();
        assert!(
            confirm.contains("PROD eastus: arxos-apps/arxos-cmms replicas"),
            "{confirm}"
        );
        assert!(
            confirm.contains("PROD westus: arxos-apps/arxos-cmms replicas"),
            "{confirm}"
        );
        assert!(confirm.contains("type arxos-cmms to confirm"), "{confirm}");
        // Enter alone is not enough in prod.
        app.press(KeyCode::Enter);
        assert!(app.state.dialog.is_some());
        assert!(app.audit(&fleet).is_empty(), "nothing was attempted");
        app.type_text("arxos-cmms");
        app.press(KeyCode::Enter);
        app.until("both regions to show the new count", |s| {
            workload_desired(s, "prod-eastus", &key) == Some(target)
                && workload_desired(s, "prod-westus", &key) == Some(target)
        })
        .await;
        app.until("the notice", |s| s.pending.is_none()).await;
        let notice = app.notice();
        assert!(
            notice.contains("PROD eastus: scaled arxos-apps/arxos-cmms")
                && notice.contains("PROD westus: scaled arxos-apps/arxos-cmms"),
            "{notice}"
        );
        let audit = app.audit(&fleet);
        assert_eq!(audit.len(), 2, "{audit:?}");
        let mut contexts: Vec<&str> = audit
            .iter()
            .map(|l| l["context"].as_str().unwrap())
            .collect();
        contexts.sort();
        assert_eq!(contexts, ["prod-eastus", "prod-westus"]);
        for line in &audit {
            assert_eq!(line["result"], "done");
            assert_eq!(line["action"], "scale");
            assert_eq!(line["environment"], "prod");
            assert_eq!(line["namespace"], "arxos-apps");
            assert_eq!(line["name"], "arxos-cmms");
            assert_eq!(line["parameters"]["replicas"], target);
            assert!(
                line["user"].as_str().unwrap().starts_with("admin"),
                "{line}"
            );
        }
        assert_no_tokens(&fleet);
    });
}

#[test]
fn the_read_only_user_is_refused_by_rbac_before_any_change_is_sent() {
    let fleet = seeds_fleet();
    fleet.runtime.block_on(async {
        let selection = Selection {
            contexts: vec!["viewer@dev".into()],
            ..Selection::default()
        };
        let mut app = App::start_with(&fleet, None, selection).await;
        app.until("the cluster to sync", |s| {
            s.clusters.iter().all(|c| c.loaded())
        })
        .await;
        let key = ObjKey::new("arq", "arq-frontend");
        let client = crate::kube_client::client(&fleet, "dev").await;
        let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
            kube::Api::namespaced(client, "arq");
        let before = api.get("arq-frontend").await.unwrap();
        app.select_cell("viewer@dev", &key);
        for action in ['s', 'r'] {
            app.press(KeyCode::Char(action));
            if action == 's' {
                app.type_text("7");
                app.press(KeyCode::Enter);
            }
            app.press(KeyCode::Char('y'));
            app.until("the refusal", |s| s.pending.is_none()).await;
            let notice = app.notice();
            assert!(notice.contains("not allowed"), "{notice}");
            assert!(notice.contains("deployments"), "{notice}");
        }
        let after = api.get("arq-frontend").await.unwrap();
        assert_eq!(
            before.metadata.resource_version, after.metadata.resource_version,
            "nothing reached the deployment"
        );
        let audit = app.audit(&fleet);
        assert_eq!(audit.len(), 2);
        assert!(
            audit
                .iter()
                .all(|l| l["result"] == "refused"
                    && l["user"].as_str().unwrap().starts_with("viewer")),
            "{audit:?}"
        );
        assert_no_tokens(&fleet);
    });
}

/// The kubeconfig's tokens appear nowhere in the audit log.
fn assert_no_tokens(fleet: &TestFleet) {
    let kubeconfig = std::fs::read_to_string(&fleet.kubeconfig).unwrap();
    let audit = std::fs::read_to_string(fleet.dir.path().join("state/audit.log")).unwrap();
    let tokens: Vec<&str> = kubeconfig
        .lines()
        .filter_map(|l| l.trim().strip_prefix("token: "))
        .collect();
    assert!(!tokens.is_empty());
    for t in tokens {
        assert!(!audit.contains(t), "a credential in the audit log");
    }
}

#[test]
fn with_readonly_no_key_opens_a_change_and_nothing_is_attempted() {
    let fleet = seeds_fleet();
    fleet.runtime.block_on(async {
        let config = fleet.dir.path().join("config.toml");
        std::fs::write(
            &config,
            watchfloor::sim::demo::console_config(&fleetfile::builtin()),
        )
        .unwrap();
        let selection = Selection {
            readonly: true,
            ..Selection::default()
        };
        let mut app = App::start_with(&fleet, Some(&config), selection).await;
        app.until("every cluster to sync", |s| {
            s.clusters.iter().all(|c| c.loaded())
        })
        .await;
        let key = ObjKey::new("arxos-apps", "arxos-cmms");
        app.select_cell("prod-eastus", &key);
        // Every mutating action, by the keys the shipped keymap gives it.
        let actions: Vec<_> = watchfloor::action::Action::ALL
            .iter()
            .filter(|a| a.is_mutating())
            .collect();
        assert_eq!(actions.len(), 3);
        for action in actions {
            for chord in app.state.keymap.keys(*action).to_vec() {
                app.press_event(KeyEvent::new(chord.code, chord.mods));
                assert!(app.state.dialog.is_none(), "{action:?} opened a dialog");
                assert!(app.notice().starts_with("read-only: "), "{}", app.notice());
                // Whatever follows is not a confirmation.
                app.press(KeyCode::Char('y'));
                app.press(KeyCode::Enter);
            }
        }
        assert!(app.audit(&fleet).is_empty(), "nothing was attempted");
        assert!(app.state.pending.is_none());
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
