//! The vocabulary of the keymap: every key press becomes one `Action`, and the help page, hint bar
//! and dialogs describe actions with the `///` line written beside each variant here.

use serde::{Deserialize, Serialize};

/// Declares the enum together with its list of variants and their help text, taken from the doc
/// comment, so the help page can never drift from the actions that exist.
macro_rules! actions {
    ($( $(#[doc = $doc:literal])+ $name:ident ),+ $(,)?) => {
        /// Something the user asks for. Names in keymap files are the snake_case variant names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Action {
            $( $(#[doc = $doc])+ $name, )+
        }

        impl Action {
            /// Every action, in the order the help page lists them.
            pub const ALL: &[Action] = &[$(Action::$name),+];

            /// One line of help: the variant's doc comment.
            pub fn help(self) -> &'static str {
                match self {
                    $( Action::$name => actions!(@first $($doc)+), )+
                }
            }
        }
    };
    (@first $first:literal $($rest:literal)*) => { $first.trim_ascii() };
}

actions! {
    /// Move the selection up
    Up,
    /// Move the selection down
    Down,
    /// Move one page up
    PageUp,
    /// Move one page down
    PageDown,
    /// Jump to the first row
    Top,
    /// Jump to the last row
    Bottom,
    /// Move to the column on the left
    Left,
    /// Move to the column on the right
    Right,
    /// Open the selection (drill down)
    Open,
    /// Go back to the previous view (or cancel)
    Back,
    /// Type a command (:pods, :deploy @prod-eastus, env:prod, ...)
    Command,
    /// Filter rows (regex; ! inverts; -l for a label selector)
    Filter,
    /// Show or hide this help
    Help,
    /// Quit watchfloor
    Quit,
    /// Show the detail of the selection
    Detail,
    /// Fleet: one row per workload, one column per cluster
    ViewFleet,
    /// Workloads (deployments) of every cluster
    ViewWorkloads,
    /// Pods of every cluster
    ViewPods,
    /// Events, warnings first
    ViewEvents,
    /// Clusters and their connection state
    ViewClusters,
    /// Metrics: every scraped series by name; pick one to chart it
    ViewMetrics,
    /// Alerts: firing, pending and resolved, from every source
    ViewAlerts,
    /// Alerts: the rules and their evaluation errors, or back to the alerts
    AlertRules,
    /// Alerts: the pods of the workload the alert's labels name
    AlertPods,
    /// Metrics: the window of the panel and chart (5m, 15m, 1h, 3h)
    MetricsWindow,
    /// Metrics: chart the panel's next signal
    MetricsSignal,
    /// Sort by the next column
    SortNext,
    /// Reverse the sort order
    SortReverse,
    /// Show only rows with a problem
    FaultsOnly,
    /// Tail logs of the selection
    Logs,
    /// Scale the selected workload
    Scale,
    /// Restart the selected workload
    Restart,
    /// Roll back the selected workload
    Rollback,
    /// Logs: pause (keep reading; new lines are counted) or follow again
    LogFollow,
    /// Logs: show or hide each line's timestamp
    LogTimestamps,
    /// Logs: wrap long lines or cut them at the edge
    LogWrap,
    /// Logs: the previous (crashed) instance of each container, or the current one
    LogPrevious,
    /// Logs: since when (1m, 5m, 15m, 1h, everything, or the last lines)
    LogSince,
    /// Logs: how many of the last lines to start with
    LogTail,
    /// Logs: JSON lines as readable fields, or raw
    LogJson,
    /// Logs: one container of the pod, or all of them
    LogContainer,
    /// Logs: the workload in every cluster running it, or in this one only
    LogClusters,
    /// Logs: save what the buffer holds to a file
    LogSave,
}

impl Action {
    /// The name used in keymap files.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Parses a keymap file's action name.
    pub fn from_name(name: &str) -> Option<Action> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }

    /// Actions that change a cluster. They must go through the dispatcher (read-only mode,
    /// protection, confirmation, audit).
    /// The log view's own actions (they do nothing elsewhere).
    pub fn is_log_view(self) -> bool {
        matches!(
            self,
            Action::LogFollow
                | Action::LogTimestamps
                | Action::LogWrap
                | Action::LogPrevious
                | Action::LogSince
                | Action::LogTail
                | Action::LogJson
                | Action::LogContainer
                | Action::LogClusters
                | Action::LogSave
        )
    }

    /// The alerts views' own actions (listed on one line of the help page).
    pub fn is_alert_view(self) -> bool {
        matches!(self, Action::AlertRules | Action::AlertPods)
    }

    pub fn is_mutating(self) -> bool {
        matches!(self, Action::Scale | Action::Restart | Action::Rollback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_help_is_written() {
        for &a in Action::ALL {
            assert_eq!(Action::from_name(&a.name()), Some(a), "{a:?}");
            assert!(!a.help().is_empty(), "{a:?} has no help");
        }
        assert_eq!(Action::PageDown.name(), "page_down");
        assert_eq!(Action::from_name("no_such_action"), None);
        assert_eq!(Action::Quit.help(), "Quit watchfloor");
    }
}
