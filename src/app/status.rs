//! `watchfloor status`: one look at the fleet for scripts and jump hosts — per environment,
//! cluster and workload — as a table or JSON, with an exit code that says how it went.

use jiff::Timestamp;
use serde::Serialize;

use crate::kube::ConnState;
use crate::kube::rows::Health;
use crate::state::State;

/// Exit codes: all healthy, something degraded, a cluster unreachable (or bad input).
pub const EXIT_HEALTHY: i32 = 0;
pub const EXIT_DEGRADED: i32 = 1;
pub const EXIT_UNREACHABLE: i32 = 2;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    /// RFC 3339.
    pub generated_at: String,
    /// `healthy`, `degraded` or `unreachable`: the worst of everything below.
    pub status: &'static str,
    pub environments: Vec<EnvReport>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct EnvReport {
    pub name: String,
    pub protected: bool,
    pub clusters: Vec<ClusterReport>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ClusterReport {
    pub context: String,
    /// `synced`, `connecting` (never finished listing before the timeout), `degraded`, `unreachable`.
    pub connection: &'static str,
    pub error: Option<String>,
    pub server_version: Option<String>,
    pub workloads: Vec<WorkloadReport>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct WorkloadReport {
    pub namespace: String,
    pub name: String,
    pub ready: u32,
    pub desired: u32,
    /// `ok`, `progressing`, `unknown`, `warning`, `critical`.
    pub health: &'static str,
    /// One word: `ok`, `crashloop`, `unready`, `rollout`, `stalled`, ...
    pub reason: String,
    pub restarts_last_hour: u32,
}

fn health_word(h: Health) -> &'static str {
    match h {
        Health::Ok => "ok",
        Health::Progressing => "progressing",
        Health::Unknown => "unknown",
        Health::Warning => "warning",
        Health::Critical => "critical",
    }
}

/// Builds the report from a state fed until sync (or timeout).
pub fn report(state: &State, now: Timestamp) -> Report {
    let mut worst = EXIT_HEALTHY;
    let mut environments = Vec::new();
    for (e, env) in state.envs.iter().enumerate() {
        let mut clusters = Vec::new();
        for (id, c) in state
            .clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.env == e)
        {
            let (connection, error) = match &c.conn {
                ConnState::Synced => ("synced", None),
                ConnState::Connecting => ("connecting", None),
                ConnState::Degraded { error, .. } => ("degraded", Some(error.clone())),
                ConnState::Unreachable { error, .. } => ("unreachable", Some(error.clone())),
            };
            worst = worst.max(match connection {
                "synced" => EXIT_HEALTHY,
                "degraded" => EXIT_DEGRADED,
                _ => EXIT_UNREACHABLE,
            });
            let mut workloads = Vec::new();
            for row in &state.fleet {
                let Some(Some(cell)) = row.cells.get(id) else {
                    continue;
                };
                if cell.health >= Health::Unknown {
                    worst = worst.max(EXIT_DEGRADED);
                }
                workloads.push(WorkloadReport {
                    namespace: row.key.namespace.clone(),
                    name: row.key.name.clone(),
                    ready: cell.ready,
                    desired: cell.desired,
                    health: health_word(cell.health),
                    reason: cell.word.clone(),
                    restarts_last_hour: cell.restarts_1h,
                });
            }
            clusters.push(ClusterReport {
                context: c.context.clone(),
                connection,
                error,
                server_version: c.server.as_ref().map(|s| s.version.clone()),
                workloads,
            });
        }
        environments.push(EnvReport {
            name: env.name.clone(),
            protected: env.protected,
            clusters,
        });
    }
    Report {
        generated_at: now.to_string(),
        status: match worst {
            EXIT_HEALTHY => "healthy",
            EXIT_DEGRADED => "degraded",
            _ => "unreachable",
        },
        environments,
    }
}

impl Report {
    pub fn exit_code(&self) -> i32 {
        match self.status {
            "healthy" => EXIT_HEALTHY,
            "degraded" => EXIT_DEGRADED,
            _ => EXIT_UNREACHABLE,
        }
    }

    /// The table: one line per cluster, then one per workload with a problem.
    pub fn table(&self) -> String {
        let mut out = format!("fleet: {}\n", self.status);
        out.push_str(&format!(
            "{:<10} {:<20} {:<12} {:>9} {:>8}\n",
            "ENV", "CLUSTER", "CONNECTION", "WORKLOADS", "PROBLEMS"
        ));
        for env in &self.environments {
            let name = if env.protected {
                env.name.to_uppercase()
            } else {
                env.name.clone()
            };
            for c in &env.clusters {
                let problems: Vec<&WorkloadReport> = c
                    .workloads
                    .iter()
                    .filter(|w| matches!(w.health, "unknown" | "warning" | "critical"))
                    .collect();
                out.push_str(&format!(
                    "{:<10} {:<20} {:<12} {:>9} {:>8}\n",
                    name,
                    c.context,
                    c.connection,
                    c.workloads.len(),
                    problems.len()
                ));
                if let Some(e) = &c.error {
                    out.push_str(&format!("    error: {e}\n"));
                }
                for w in problems {
                    let mark = if w.health == "critical" { "✗" } else { "!" };
                    out.push_str(&format!(
                        "    {mark} {}/{} {}/{} {}{}\n",
                        w.namespace,
                        w.name,
                        w.ready,
                        w.desired,
                        w.reason,
                        if w.restarts_last_hour > 0 {
                            format!(", {} restarts in the last hour", w.restarts_last_hour)
                        } else {
                            String::new()
                        }
                    ));
                }
            }
        }
        out
    }
}

/// Connects to every cluster, waits until each has synced or failed (or `timeout`), and
/// reports. Clusters still connecting at the deadline are reported as such (exit code 2).
pub async fn collect(console: &super::console::Console, timeout: std::time::Duration) -> Report {
    let clock: crate::kube::watch::Clock = std::sync::Arc::new(Timestamp::now);
    let mut state = super::console::initial_state(console, clock());
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let handles = super::console::connect(console, &tx, std::sync::Arc::clone(&clock)).await;
    drop(tx);
    let deadline = tokio::time::Instant::now() + timeout;
    let settled = |s: &State| {
        // Synced, with its server version known (the version is asked separately and may
        // answer after the lists), or failed.
        s.clusters.iter().all(|c| match c.conn {
            ConnState::Connecting => false,
            ConnState::Synced => c.server.is_some(),
            _ => true,
        })
    };
    while !settled(&state) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(msg)) => {
                crate::state::update(&mut state, crate::state::Msg::Kube(msg), clock());
            }
            _ => break,
        }
    }
    drop(handles);
    // Fold what arrived since the last fold.
    crate::state::update(&mut state, crate::state::Msg::Tick, clock());
    report(&state, clock())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing::*;
    use crate::state::{Msg, update};

    #[test]
    fn a_crash_loop_makes_the_fleet_degraded_and_is_listed() {
        let s = fleet_state();
        let r = report(&s, t0());
        assert_eq!((r.status, r.exit_code()), ("degraded", 1));
        let table = r.table();
        assert!(
            table.contains("staging    staging              synced               2        1"),
            "{table}"
        );
        assert!(
            table.contains("    ✗ arxos/export-service 1/2 crashloop, 1 restarts in the last hour"),
            "{table}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["environments"][2]["name"], "prod");
        assert_eq!(json["environments"][2]["protected"], true);
        assert_eq!(
            json["environments"][1]["clusters"][0]["workloads"][1]["reason"],
            "crashloop"
        );
    }

    #[test]
    fn an_unreachable_cluster_wins_and_a_healthy_fleet_exits_zero() {
        let mut s = empty_state();
        for c in 0..4 {
            sync(&mut s, c, vec![]);
        }
        assert_eq!(report(&s, t0()).exit_code(), 0);
        let down = ConnState::Unreachable {
            since: t0(),
            error: "connection refused".into(),
            retry_at: t0(),
        };
        update(
            &mut s,
            Msg::Kube(crate::kube::KubeMsg::Conn {
                cluster: 0,
                state: down,
                at: t0(),
            }),
            t0(),
        );
        let r = report(&s, t0());
        assert_eq!((r.status, r.exit_code()), ("unreachable", 2));
        assert!(r.table().contains("    error: connection refused"));
    }
}
