//! The dispatcher's order of checks, with a recording executor in place of the clusters.

use std::sync::Mutex;

use super::*;

/// Records what reached "the cluster" and answers as told.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
    deny: Option<String>,
    fail: Option<String>,
    skip: bool,
}

impl Executor for Recorder {
    fn check<'a>(
        &'a self,
        cluster: ClusterId,
        key: &'a ObjKey,
        op: &'a Op,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("check {cluster} {key} {}", op.verb_words()));
        let deny = self.deny.clone();
        Box::pin(async move { deny.map_or(Ok(()), Err) })
    }

    fn perform<'a>(
        &'a self,
        cluster: ClusterId,
        key: &'a ObjKey,
        op: &'a Op,
        _now: Timestamp,
    ) -> BoxFuture<'a, Result<Performed, String>> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("perform {cluster} {key} {}", op.verb_words()));
        let result = match &self.fail {
            Some(e) => Err(e.clone()),
            None => Ok(Performed {
                text: format!("{} {key}", op.verb_words()),
                skipped: self.skip,
            }),
        };
        Box::pin(async move { result })
    }
}

struct Setup {
    dir: tempfile::TempDir,
    recorder: Arc<Recorder>,
    dispatcher: Dispatcher,
}

fn facts(context: &str, environment: &str, protected: bool, readonly: bool) -> ClusterFacts {
    ClusterFacts {
        context: context.into(),
        user: format!("admin-{context}"),
        environment: environment.into(),
        protected,
        readonly,
    }
}

fn setup(recorder: Recorder) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(recorder);
    let dispatcher = Dispatcher {
        clusters: vec![
            facts("dev", "dev", false, false),
            facts("prod-eastus", "prod", true, false),
            facts("audit-only", "compliance", false, true),
        ],
        readonly: false,
        audit: AuditLog::open(&dir.path().join("audit.log")),
        executor: recorder.clone(),
        clock: Arc::new(|| "2026-11-22T09:00:00Z".parse().unwrap()),
    };
    Setup {
        dir,
        recorder,
        dispatcher,
    }
}

impl Setup {
    fn run(&self, m: Mutation) -> Outcome {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(self.dispatcher.dispatch(m)).outcome
    }

    fn calls(&self) -> Vec<String> {
        self.recorder.calls.lock().unwrap().clone()
    }

    fn audit(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn web() -> ObjKey {
    ObjKey::new("shop", "web")
}

fn scale(cluster: ClusterId, typed: Option<&str>) -> Mutation {
    Mutation::confirmed(cluster, web(), Op::Scale { replicas: 8 }, typed)
}

#[test]
fn a_confirmed_change_is_checked_made_once_and_audited() {
    let s = setup(Recorder::default());
    let outcome = s.run(scale(0, None));
    assert_eq!(outcome, Outcome::Done("scale to 8 shop/web".into()));
    assert_eq!(
        s.calls(),
        [
            "check 0 shop/web scale to 8",
            "perform 0 shop/web scale to 8"
        ]
    );
    let audit = s.audit();
    assert_eq!(audit.len(), 1);
    let line = &audit[0];
    assert_eq!(line["time"], "2026-11-22T09:00:00.000Z");
    assert_eq!(line["user"], "admin-dev");
    assert_eq!(line["context"], "dev");
    assert_eq!(line["environment"], "dev");
    assert_eq!(line["namespace"], "shop");
    assert_eq!(line["kind"], "Deployment");
    assert_eq!(line["name"], "web");
    assert_eq!(line["action"], "scale");
    assert_eq!(line["parameters"], json!({"replicas": 8}));
    assert_eq!(line["result"], "done");
    assert_eq!(line["message"], "scale to 8 shop/web");
}

#[test]
fn read_only_refuses_every_action_before_anything_is_sent() {
    let mut s = setup(Recorder::default());
    s.dispatcher.readonly = true;
    let ops = [
        Op::Scale { replicas: 3 },
        Op::Restart,
        Op::Rollback { to_revision: None },
        Op::Rollback {
            to_revision: Some(1),
        },
    ];
    for op in ops.clone() {
        let outcome = s.run(Mutation::confirmed(0, web(), op, None));
        assert!(
            matches!(&outcome, Outcome::Refused(t) if t.starts_with("read-only: watchfloor runs with --readonly")),
            "{outcome:?}"
        );
    }
    assert!(s.calls().is_empty(), "nothing reached a cluster");
    let audit = s.audit();
    assert_eq!(audit.len(), ops.len(), "one line per attempt");
    assert!(audit.iter().all(|l| l["result"] == "refused"));
    assert_eq!(audit[1]["action"], "restart");
    assert_eq!(audit[3]["parameters"], json!({"to_revision": 1}));
}

#[test]
fn a_readonly_environment_refuses_even_when_the_console_may_write() {
    let s = setup(Recorder::default());
    let outcome = s.run(Mutation::confirmed(2, web(), Op::Restart, None));
    assert_eq!(
        outcome,
        Outcome::Refused("read-only: environment compliance is readonly in the config".into())
    );
    assert!(s.calls().is_empty());
}

#[test]
fn a_protected_environment_needs_the_typed_name() {
    let s = setup(Recorder::default());
    for typed in [None, Some("we"), Some("shop/web"), Some("WEB")] {
        let outcome = s.run(scale(1, typed));
        assert_eq!(
            outcome,
            Outcome::Refused(
                "PROD is protected and the workload's name was not typed to confirm".into()
            ),
            "typed {typed:?}"
        );
    }
    assert!(s.calls().is_empty());
    assert!(matches!(s.run(scale(1, Some("web"))), Outcome::Done(_)));
    assert_eq!(s.calls().len(), 2);
    assert_eq!(s.audit().len(), 5);
}

#[test]
fn rbac_refusal_stops_the_change_before_it_is_sent() {
    let s = setup(Recorder {
        deny: Some("not allowed: you may not patch deployments/scale".into()),
        ..Recorder::default()
    });
    let outcome = s.run(scale(0, None));
    assert_eq!(
        outcome,
        Outcome::Refused("not allowed: you may not patch deployments/scale".into())
    );
    assert_eq!(s.calls(), ["check 0 shop/web scale to 8"], "no perform");
    assert_eq!(s.audit()[0]["result"], "refused");
}

#[test]
fn a_failure_is_reported_once_and_audited() {
    let s = setup(Recorder {
        fail: Some("deployments \"web\": conflict: the object has been modified".into()),
        ..Recorder::default()
    });
    let outcome = s.run(Mutation::confirmed(0, web(), Op::Restart, None));
    assert!(matches!(&outcome, Outcome::Failed(t) if t.contains("conflict")));
    assert_eq!(s.calls().len(), 2, "one check, one try: no silent retry");
    assert_eq!(s.audit()[0]["result"], "failed");
}

#[test]
fn a_skipped_rollback_says_so() {
    let s = setup(Recorder {
        skip: true,
        ..Recorder::default()
    });
    let m = Mutation::confirmed(
        0,
        web(),
        Op::Rollback {
            to_revision: Some(2),
        },
        None,
    );
    assert!(matches!(s.run(m), Outcome::Skipped(_)));
    assert_eq!(s.audit()[0]["result"], "skipped");
}

#[test]
fn without_an_audit_log_nothing_is_changed() {
    let mut s = setup(Recorder::default());
    s.dispatcher.audit = Err("cannot open the audit log /x/audit.log: permission denied".into());
    let outcome = s.run(scale(0, None));
    assert_eq!(
        outcome,
        Outcome::Refused(
            "cannot open the audit log /x/audit.log: permission denied; nothing is changed without a record"
                .into()
        )
    );
    assert!(s.calls().is_empty());
}
