//! Screens: which view is shown, over what scope, with which filter and sort, and the rows it
//! lists (recomputed when data changes, so drawing a frame never filters or sorts).

use jiff::Timestamp;

use super::State;
use super::filter::Filter;
use crate::kube::rows::Health;
use crate::kube::{ClusterId, Kind, ObjKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewKind {
    Fleet,
    Workloads,
    Pods,
    Events,
    Clusters,
    Detail,
    Logs,
    /// The series explorer (`:metrics`).
    Metrics,
    /// Alerts of every source (`:alerts`).
    Alerts,
    /// One alert (`Scope::alert`).
    AlertDetail,
    /// Alerting and recording rules, failing first (`:rules`).
    AlertRules,
}

impl ViewKind {
    pub fn title(self) -> &'static str {
        match self {
            ViewKind::Fleet => "fleet",
            ViewKind::Workloads => "workloads",
            ViewKind::Pods => "pods",
            ViewKind::Events => "events",
            ViewKind::Clusters => "clusters",
            ViewKind::Detail => "detail",
            ViewKind::Logs => "logs",
            ViewKind::Metrics => "metrics",
            ViewKind::Alerts => "alerts",
            ViewKind::AlertDetail => "alert",
            ViewKind::AlertRules => "rules",
        }
    }

    /// Sortable columns, the first the default.
    pub fn sort_columns(self) -> &'static [&'static str] {
        match self {
            ViewKind::Fleet => &["WORKLOAD", "HEALTH"],
            ViewKind::Workloads => &["NAME", "CLUSTER", "READY", "AGE"],
            ViewKind::Pods => &["NAME", "CLUSTER", "STATUS", "RESTARTS", "AGE"],
            ViewKind::Events => &["SEVERITY", "LAST SEEN", "COUNT", "CLUSTER"],
            ViewKind::Clusters => &["CLUSTER"],
            ViewKind::Metrics => &["NAME"],
            ViewKind::Alerts => &["STATE", "SINCE", "NAME"],
            ViewKind::AlertRules => &["ERROR"],
            ViewKind::Detail | ViewKind::Logs | ViewKind::AlertDetail => &[],
        }
    }
}

/// What part of the fleet a screen shows. Empty means everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub env: Option<usize>,
    pub cluster: Option<ClusterId>,
    pub namespace: Option<String>,
    /// Pods of this workload only.
    pub workload: Option<String>,
    /// The explorer: the series of this metric name (None: the list of names).
    pub metric: Option<String>,
    /// The alert an alert detail shows.
    pub alert: Option<super::alerts::AlertKey>,
}

impl Scope {
    pub fn allows(&self, state: &State, cluster: ClusterId, namespace: &str) -> bool {
        self.cluster.is_none_or(|c| c == cluster)
            && self.env.is_none_or(|e| state.clusters[cluster].env == e)
            && self.namespace.as_deref().is_none_or(|n| n == namespace)
    }
}

/// A row of a table: what the selection remembers across refreshes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    /// A fleet row: a workload across clusters.
    Workload(ObjKey),
    /// An object in one cluster.
    Obj(ClusterId, ObjKey),
    Cluster(ClusterId),
    /// The explorer: a metric name.
    Metric(String),
    /// The explorer: a series of the listed name (an index into its list).
    Series(usize),
    Alert(super::alerts::AlertKey),
    /// A rule status (an index into the alerts snapshot's rules).
    Rule(usize),
}

/// What the detail screen shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailTarget {
    pub cluster: ClusterId,
    pub kind: Kind,
    pub key: ObjKey,
}

#[derive(Clone, Debug)]
pub struct Screen {
    pub kind: ViewKind,
    pub scope: Scope,
    pub filter: Option<Filter>,
    /// What was typed for the filter, to show it.
    pub filter_text: String,
    pub sort: usize,
    pub reverse: bool,
    /// The rows, filtered and sorted.
    pub items: Vec<Item>,
    pub selected: usize,
    /// The fleet's selected column (an index into `State::columns`).
    pub column: usize,
    /// First visible row.
    pub offset: usize,
    pub detail: Option<DetailTarget>,
    /// Detail: lines scrolled.
    pub scroll: u16,
}

impl Screen {
    pub fn new(kind: ViewKind, scope: Scope) -> Self {
        Self {
            kind,
            scope,
            filter: None,
            filter_text: String::new(),
            sort: 0,
            reverse: false,
            items: Vec::new(),
            selected: 0,
            column: 0,
            offset: 0,
            detail: None,
            scroll: 0,
        }
    }

    pub fn selected_item(&self) -> Option<&Item> {
        self.items.get(self.selected)
    }

    /// Recomputes the rows, keeping the selection on the same item when it is still there and
    /// clamping it when it is not.
    pub fn refresh(&mut self, state: &State, now: Timestamp) {
        let keep = self.selected_item().cloned();
        self.items = items(state, self, now);
        if let Some(i) = keep.and_then(|keep| self.items.iter().position(|i| *i == keep)) {
            self.selected = i;
        }
        self.clamp();
    }

    pub fn clamp(&mut self) {
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
    }

    /// Puts the selection on `item` if it is listed.
    pub fn select(&mut self, item: &Item) {
        if let Some(i) = self.items.iter().position(|i| i == item) {
            self.selected = i;
        }
    }

    /// Scrolls so the selection is visible in a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(self.items.len().saturating_sub(1));
    }
}

/// Whether a row passes the filter. The row's text is only built when a filter needs it: without
/// one, a refresh of 50,000 pods should not format 50,000 strings.
fn keep(
    screen: &Screen,
    text: impl FnOnce() -> String,
    labels: Option<&std::collections::BTreeMap<String, String>>,
) -> bool {
    match &screen.filter {
        None => true,
        Some(f @ Filter::Labels(_)) => f.matches("", labels),
        Some(f) => f.matches(&text(), labels),
    }
}

fn items(state: &State, screen: &Screen, now: Timestamp) -> Vec<Item> {
    let scope = &screen.scope;
    let faults = state.faults_only;
    let mut out: Vec<(Item, SortKey)> = Vec::new();
    match screen.kind {
        ViewKind::Fleet => {
            for row in &state.fleet {
                let visible: Vec<_> = row
                    .cells
                    .iter()
                    .enumerate()
                    .filter(|(c, cell)| {
                        cell.is_some() && scope.allows(state, *c, &row.key.namespace)
                    })
                    .collect();
                if visible.is_empty() || (faults && row.worst() < Health::Unknown) {
                    continue;
                }
                let words: Vec<&str> = visible
                    .iter()
                    .filter_map(|(_, c)| c.as_ref().map(|c| c.word.as_str()))
                    .collect();
                if keep(screen, || format!("{} {}", row.key, words.join(" ")), None) {
                    let key = match screen.sort {
                        1 => SortKey::Num(-(row.worst() as i64)),
                        _ => SortKey::None,
                    };
                    out.push((Item::Workload(row.key.clone()), key));
                }
            }
        }
        ViewKind::Workloads => {
            for (id, c) in state.clusters.iter().enumerate() {
                for w in c.workloads.values() {
                    if !scope.allows(state, id, &w.key.namespace) {
                        continue;
                    }
                    let cell = state.cell(id, &w.key);
                    let health = cell.map(|c| c.health).unwrap_or_default();
                    if faults && health < Health::Unknown {
                        continue;
                    }
                    let text = || {
                        format!(
                            "{} {} {} {}",
                            c.context,
                            state.env_name(id),
                            w.key,
                            w.images.join(" ")
                        )
                    };
                    if !keep(screen, text, Some(&w.selector)) {
                        continue;
                    }
                    let key = match screen.sort {
                        1 => SortKey::Text(c.context.clone()),
                        2 => SortKey::Num(i64::from(w.ready) - i64::from(w.desired)),
                        3 => SortKey::Time(w.created),
                        _ => SortKey::None,
                    };
                    out.push((Item::Obj(id, w.key.clone()), key));
                }
            }
        }
        ViewKind::Pods => {
            for (id, c) in state.clusters.iter().enumerate() {
                for p in c.pods.values() {
                    if !scope.allows(state, id, &p.key.namespace)
                        || scope
                            .workload
                            .as_ref()
                            .is_some_and(|w| p.workload.as_ref() != Some(w))
                    {
                        continue;
                    }
                    if faults && p.health < Health::Unknown && p.restarts == 0 {
                        continue;
                    }
                    let text = || {
                        format!(
                            "{} {} {} {} {}",
                            c.context,
                            state.env_name(id),
                            p.key,
                            p.status,
                            p.node
                        )
                    };
                    if !keep(screen, text, Some(&p.labels)) {
                        continue;
                    }
                    let key = match screen.sort {
                        1 => SortKey::Text(c.context.clone()),
                        2 => SortKey::Num(-(p.health as i64)),
                        3 => SortKey::Num(-i64::from(p.restarts)),
                        4 => SortKey::Time(p.created),
                        _ => SortKey::None,
                    };
                    out.push((Item::Obj(id, p.key.clone()), key));
                }
            }
        }
        ViewKind::Events => {
            for (id, c) in state.clusters.iter().enumerate() {
                for e in c.events.values() {
                    if !scope.allows(state, id, &e.key.namespace) || (faults && !e.warning) {
                        continue;
                    }
                    let text = || {
                        format!(
                            "{} {} {} {} {}/{} {}",
                            c.context,
                            state.env_name(id),
                            if e.warning { "Warning" } else { "Normal" },
                            e.reason,
                            e.object_kind,
                            e.object_name,
                            e.message
                        )
                    };
                    if !keep(screen, text, None) {
                        continue;
                    }
                    let key = match screen.sort {
                        // Warnings first, then the newest.
                        0 => SortKey::Pair(
                            i64::from(!e.warning),
                            -e.last.map_or(0, |t| t.as_second()),
                        ),
                        1 => SortKey::Num(-e.last.map_or(0, |t| t.as_second())),
                        2 => SortKey::Num(-i64::from(e.count)),
                        _ => SortKey::Text(c.context.clone()),
                    };
                    out.push((Item::Obj(id, e.key.clone()), key));
                }
            }
        }
        ViewKind::Clusters => {
            for (id, c) in state.clusters.iter().enumerate() {
                if scope.env.is_none_or(|e| e == c.env) && keep(screen, || c.context.clone(), None)
                {
                    out.push((Item::Cluster(id), SortKey::None));
                }
            }
        }
        ViewKind::Metrics => {
            let items = super::metrics::items(state, screen, |text| {
                keep(screen, || text.to_string(), None)
            });
            out.extend(items.into_iter().map(|i| (i, SortKey::None)));
        }
        ViewKind::Alerts => {
            // Sorted by their own order (state, severity, since); `reverse` still applies.
            let items = super::alerts::items(state, screen);
            out.extend(items.into_iter().map(|i| (i, SortKey::None)));
        }
        ViewKind::AlertRules => {
            let items = super::alerts::rule_items(state, screen);
            out.extend(items.into_iter().map(|i| (i, SortKey::None)));
        }
        ViewKind::Detail | ViewKind::Logs | ViewKind::AlertDetail => {}
    }
    let _ = now;
    // A stable sort keeps the natural order (namespace/name, cluster) among equal keys.
    out.sort_by(|a, b| a.1.cmp(&b.1));
    if screen.reverse {
        out.reverse();
    }
    out.into_iter().map(|(i, _)| i).collect()
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    None,
    Num(i64),
    Pair(i64, i64),
    Text(String),
    Time(Option<Timestamp>),
}
