//! One `tests:` entry, run as promtool's `testGroup.test` runs it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::gofmt::{self, float_e, go_duration, indent_lines, model_duration, quote};
use super::input::{TestGroup, Text};
use crate::alerts::notation::{self, Slot};
use crate::alerts::promql::{self, Compat, Engine, Labels, MemStore};
use crate::alerts::rulefile;
use crate::alerts::rules::{self, GroupState, State};
use crate::metrics::store::STALE_NAN_BITS;

/// What the file gives every test group.
pub struct Setup<'a> {
    pub eval_interval_ms: i64,
    pub group_order: &'a [&'a str],
    pub rule_files: &'a [PathBuf],
    pub compat: Compat,
}

/// An alert as promtool compares them: labels and annotations, both sorted.
type LabelsAndAnnotations = (Labels, Labels);

fn text_map(m: Option<&BTreeMap<String, Text>>) -> Labels {
    m.into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect()
}

fn duration_of(t: Option<&Text>) -> Result<i64, String> {
    match t {
        None => Ok(0),
        Some(t) => gofmt::parse_model_duration(t.as_str()).map_err(|e| format!("yaml: {e}")),
    }
}

/// Runs one test group; its failures as promtool prints them.
pub fn run(tg: &TestGroup, setup: &Setup) -> Vec<String> {
    match run_inner(tg, setup) {
        Ok(errs) | Err(errs) => errs,
    }
}

fn run_inner(tg: &TestGroup, setup: &Setup) -> Result<Vec<String>, Vec<String>> {
    let one = |e: String| vec![e];
    let interval_ms = duration_of(tg.interval.as_ref()).map_err(one)?;
    // The input series, in promtool's load order: sample i of a series at i × interval.
    let mut input: Vec<(i64, Labels, f64)> = Vec::new();
    let mut seen: BTreeSet<(Labels, i64)> = BTreeSet::new();
    for s in tg.input_series.iter().flatten() {
        let desc = s.series.as_ref().map_or("", Text::as_str);
        let labels = notation::parse_series(desc).map_err(one)?;
        let slots = notation::expand(s.values.as_ref().map_or("", Text::as_str)).map_err(one)?;
        for (i, slot) in slots.into_iter().enumerate() {
            let t = (i as i64).saturating_mul(interval_ms);
            let v = match slot {
                Slot::Value(v) => v,
                Slot::Stale => f64::from_bits(STALE_NAN_BITS),
                Slot::Missing => continue,
            };
            // A second sample at a time the series already has is dropped, as Prometheus's
            // storage drops it (all samples share time 0 when `interval` is left out).
            if seen.insert((labels.clone(), t)) {
                input.push((t, labels.clone(), v));
            }
        }
    }
    // Stable: samples at one time keep their file order.
    input.sort_by_key(|(t, _, _)| *t);

    let external_labels = text_map(tg.external_labels.as_ref());
    let external_url = tg.external_url.as_ref().map_or("", Text::as_str);
    let mut groups = load_groups(setup, interval_ms, external_url)?;

    // The alert tests by eval_time, and the alert names asked for at each.
    let mut alert_tests: BTreeMap<i64, Vec<(String, Vec<LabelsAndAnnotations>)>> = BTreeMap::new();
    let mut max_ms = 0i64;
    for at in tg.alert_rule_test.iter().flatten() {
        let eval_ms = duration_of(at.eval_time.as_ref()).map_err(one)?;
        let name = at.alertname.as_ref().map_or("", Text::as_str);
        if name.is_empty() {
            let in_group = match tg.name.as_ref().map(Text::as_str) {
                Some(n) if !n.is_empty() => format!(" (in TestGroup {n})"),
                _ => String::new(),
            };
            return Err(vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                model_duration(eval_ms)
            )]);
        }
        let exp = at
            .exp_alerts
            .iter()
            .flatten()
            .map(|a| {
                let mut labels = text_map(a.exp_labels.as_ref());
                labels.retain(|(k, _)| k != "alertname");
                labels.push(("alertname".into(), name.to_owned()));
                labels.sort();
                (labels, text_map(a.exp_annotations.as_ref()))
            })
            .collect();
        max_ms = max_ms.max(eval_ms);
        alert_tests
            .entry(eval_ms)
            .or_default()
            .push((name.to_owned(), exp));
    }
    let mut expr_tests = Vec::new();
    for pt in tg.promql_expr_test.iter().flatten() {
        let eval_ms = duration_of(pt.eval_time.as_ref()).map_err(one)?;
        max_ms = max_ms.max(eval_ms);
        expr_tests.push((pt, eval_ms));
    }

    let engine = Engine {
        compat: setup.compat,
        ..Engine::default()
    };
    let test_name = match tg.name.as_ref().map(Text::as_str) {
        Some(n) if !n.is_empty() => format!("    name: {n},\n"),
        _ => String::new(),
    };
    let mut store = MemStore::new();
    let mut errs = Vec::new();
    let mut loaded = 0usize;
    let step = setup.eval_interval_ms.max(1);
    let mut pending_checks = alert_tests.iter().peekable();
    let mut ts = 0i64;
    while ts <= max_ms {
        while let Some((t, labels, v)) = input.get(loaded) {
            if *t > ts {
                break;
            }
            store.add(labels, *t, *v);
            loaded += 1;
        }
        let mut eval_errs = Vec::new();
        for g in &mut groups {
            let report = g.eval(&engine, &mut store, ts, &external_labels);
            for (rule, e) in report.errors {
                eval_errs.push(format!(
                    "    rule: {rule}, time: {}, err: {e}",
                    go_duration(ts)
                ));
            }
        }
        if !eval_errs.is_empty() {
            errs.extend(eval_errs);
            return Err(errs);
        }
        // Alert tests with ts <= eval_time < ts + interval are checked against this tick.
        while let Some(&(t, cases)) = pending_checks.peek() {
            let t = *t;
            if !(ts <= t && t < ts.saturating_add(step)) {
                break;
            }
            for (name, exp) in cases.iter() {
                let mut got: Vec<LabelsAndAnnotations> = firing(&groups, name);
                let mut exp = exp.clone();
                got.sort();
                exp.sort();
                if got != exp {
                    errs.push(format!(
                        "{test_name}    alertname: {name}, time: {}, \n        exp:{}, \n        got:{}",
                        model_duration(t),
                        indent_lines(&alerts_string(&exp), "            "),
                        indent_lines(&alerts_string(&got), "            "),
                    ));
                }
            }
            pending_checks.next();
        }
        ts = ts.saturating_add(step);
    }

    for (pt, eval_ms) in expr_tests {
        let expr = pt.expr.as_ref().map_or("", Text::as_str);
        let head = format!(
            "    expr: {}, time: {}",
            quote(expr),
            model_duration(eval_ms)
        );
        let got = promql::parse(expr)
            .map_err(|e| e.to_string())
            .and_then(|parsed| rules::query_vector(&engine, &store, &parsed, eval_ms, None));
        let mut got = match got {
            Ok(v) => v,
            Err(e) => {
                errs.push(format!("{head}, err: {e}"));
                continue;
            }
        };
        let mut exp = Vec::new();
        let mut bad = None;
        for s in pt.exp_samples.iter().flatten() {
            let text = s.labels.as_ref().map_or("", Text::as_str);
            // promtool's ParseMetric reads an empty text, and `{}`, as no labels.
            let bare = text.trim();
            let no_labels = bare.is_empty()
                || bare
                    .strip_prefix('{')
                    .and_then(|r| r.strip_suffix('}'))
                    .is_some_and(|inner| inner.trim().is_empty());
            let parsed = if no_labels {
                Ok(Vec::new())
            } else {
                notation::parse_series(text)
            };
            match parsed {
                Ok(labels) => exp.push((labels, s.value.unwrap_or(0.0))),
                Err(e) => {
                    bad = Some(format!("{head}, err: labels {}: {e}", quote(text)));
                    break;
                }
            }
        }
        if let Some(b) = bad {
            errs.push(b);
            continue;
        }
        for (l, _) in &mut got {
            l.sort();
        }
        exp.sort_by(|a, b| a.0.cmp(&b.0));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        // Go's reflect.DeepEqual: NaN equals nothing, not even NaN.
        let same =
            exp.len() == got.len() && exp.iter().zip(&got).all(|(e, g)| e.0 == g.0 && e.1 == g.1);
        if !same {
            errs.push(format!(
                "{head},\n        exp: {}\n        got: {}",
                samples_string(&exp),
                samples_string(&got)
            ));
        }
    }
    Ok(errs)
}

/// The rule files' groups, in `group_eval_order` (unnamed groups first, in file order; promtool
/// leaves their order to chance).
fn load_groups(
    setup: &Setup,
    interval_ms: i64,
    external_url: &str,
) -> Result<Vec<GroupState>, Vec<String>> {
    let mut groups = Vec::new();
    for path in setup.rule_files {
        let file = rulefile::load(path)
            .map_err(|es| es.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        let shown = path.display().to_string();
        let default = Duration::from_millis(u64::try_from(interval_ms).unwrap_or(0));
        for g in &file.groups {
            let mut state = GroupState::new(&shown, g, default);
            state.set_external_url(external_url);
            groups.push(state);
        }
    }
    let rank = |name: &str| {
        setup
            .group_order
            .iter()
            .position(|n| *n == name)
            .unwrap_or(0)
    };
    groups.sort_by_key(|g| rank(g.name()));
    Ok(groups)
}

/// The firing alerts named `name`, from every group.
fn firing(groups: &[GroupState], name: &str) -> Vec<LabelsAndAnnotations> {
    let mut out = Vec::new();
    for g in groups {
        for (rule, set) in g.alert_sets() {
            if rule != name {
                continue;
            }
            out.extend(
                set.alerts()
                    .filter(|a| a.state == State::Firing)
                    .map(|a| (a.labels.clone(), a.annotations.clone())),
            );
        }
    }
    out
}

/// promtool's `labelsAndAnnotations.String()`.
fn alerts_string(list: &[LabelsAndAnnotations]) -> String {
    if list.is_empty() {
        return "[]".into();
    }
    let one = |(l, a): &LabelsAndAnnotations| {
        format!(
            "\nLabels:{}\nAnnotations:{}",
            gofmt::labels(l),
            gofmt::labels(a)
        )
    };
    let mut s = String::from("[");
    for (i, item) in list.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("\n{i}:{}", indent_lines(&one(item), "  ")));
    }
    s.push_str("\n]");
    s
}

/// promtool's `parsedSamplesString`.
fn samples_string(list: &[(Labels, f64)]) -> String {
    if list.is_empty() {
        return "nil".into();
    }
    let parts: Vec<String> = list
        .iter()
        .map(|(l, v)| format!("{} {}", gofmt::labels(l), float_e(*v)))
        .collect();
    parts.join(", ")
}
