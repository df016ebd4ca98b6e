//! PLACEHOLDER until the ops branch merges: the mutation vocabulary only.

/// What a mutation does to a Deployment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Op {
    Scale { replicas: u32 },
    Restart,
    Rollback { to_revision: Option<u64> },
}

impl Op {
    pub fn verb_words(&self) -> String {
        match self {
            Op::Scale { replicas } => format!("scale to {replicas}"),
            Op::Restart => "restart".into(),
            Op::Rollback {
                to_revision: Some(r),
            } => format!("roll back to revision {r}"),
            Op::Rollback { to_revision: None } => "roll back to the previous revision".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    pub paused: bool,
    pub current: Option<u64>,
    pub revisions: Vec<Revision>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    pub revision: u64,
    pub created: Option<jiff::Timestamp>,
    pub images: Vec<String>,
    pub change_cause: Option<String>,
    pub ready: u32,
    pub desired: u32,
    pub current: bool,
    pub diff: Vec<DiffLine>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    pub change: Change,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Removed,
    Added,
}

pub struct Performed {
    pub text: String,
    pub skipped: bool,
}

pub async fn check_access(
    _client: &kube::Client,
    _namespace: &str,
    _name: &str,
    _op: &Op,
) -> Result<(), String> {
    Err("not merged".into())
}

pub async fn perform(
    _client: &kube::Client,
    _namespace: &str,
    _name: &str,
    _op: &Op,
    _now: jiff::Timestamp,
) -> Result<Performed, String> {
    Err("not merged".into())
}

pub async fn history(
    _client: &kube::Client,
    _namespace: &str,
    _name: &str,
) -> Result<History, String> {
    Err("not merged".into())
}
