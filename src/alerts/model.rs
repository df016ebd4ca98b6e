//! What the console shows of alerts, whichever source they come from: the local evaluator, an
//! environment's Prometheus, or its Alertmanager.

use jiff::Timestamp;

/// Label pairs sorted by name (`alertname` included for alerts).
pub type Labels = Vec<(String, String)>;

/// An alert's state, as Prometheus names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertState {
    /// Firing first: the order tables sort by.
    Firing,
    Pending,
    /// No longer matching; kept 15 minutes after it stopped firing (local and Prometheus).
    Resolved,
}

/// Where an alert (or the verdict on it) came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Local,
    Prometheus,
    Alertmanager,
}

/// One alert instance: one label set of one alerting rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// `alertname`.
    pub name: String,
    pub state: AlertState,
    /// All labels, `alertname` included, sorted.
    pub labels: Labels,
    pub annotations: Labels,
    /// When the rule first matched this label set (Prometheus's ActiveAt).
    pub active_at: Option<Timestamp>,
    /// When it stopped firing; only for `Resolved`.
    pub resolved_at: Option<Timestamp>,
    /// The expression's value at the last evaluation (remote sources send it as text; parsed).
    pub value: Option<f64>,
    /// The rule's expression, when the source says it.
    pub expr: Option<String>,
    /// The rule file and group (local), or the group (Prometheus), when known.
    pub origin: Option<String>,
    pub source: Source,
    /// The console environment this alert belongs to.
    pub environment: String,
    /// Alertmanager's verdict, when it has one for this alert.
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
    /// Set when sources disagree on this alert (remote is the truth; the local verdict differs).
    pub disagreement: Option<String>,
}

impl Alert {
    /// A label's value, if set.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The health of one rule at its last evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleStatus {
    pub environment: String,
    /// File and group.
    pub origin: String,
    /// `alert` or `record` name.
    pub name: String,
    pub expr: String,
    /// None when the last evaluation succeeded. Unsupported features read "unsupported: <what>".
    pub error: Option<String>,
    pub last_eval: Option<Timestamp>,
    pub source: Source,
}

/// Whether a remote source answered, per environment.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceStatus {
    pub environment: String,
    pub source: Source,
    /// `None` when the last poll succeeded; otherwise why it failed, in words.
    pub error: Option<String>,
    pub at: Option<Timestamp>,
}

/// Everything the alerts view shows, rebuilt as sources report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertsSnapshot {
    pub alerts: Vec<Alert>,
    pub rules: Vec<RuleStatus>,
    pub sources: Vec<SourceStatus>,
}
