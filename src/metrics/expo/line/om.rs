//! The OpenMetrics-only lines: descriptors and `# EOF`, what may follow a value (timestamp,
//! exemplar), and which family the samples are in.

use super::super::lex::{self, snippet};
use super::Parser;

impl<'a> Parser<'a> {
    /// `# HELP`, `# TYPE`, `# UNIT` (single spaces) or `# EOF`; OpenMetrics has no other comments.
    pub(super) fn om_comment(&mut self, text: &'a str) -> Result<(), String> {
        if text == "# EOF" {
            self.out.eof = true;
            return Ok(());
        }
        let bad = || {
            format!(
                "{:?}: a line starting with '#' must be \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\" in OpenMetrics",
                snippet(text, 30)
            )
        };
        let rest = text.strip_prefix("# ").ok_or_else(bad)?;
        let (kw, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        if !matches!(kw, "HELP" | "TYPE" | "UNIT") {
            return Err(bad());
        }
        let (name, arg) = tail.split_once(' ').unwrap_or((tail, ""));
        if !lex::is_metric_name(name) {
            return Err(format!(
                "{kw} line: {:?} is not a metric name",
                snippet(name, 40)
            ));
        }
        match kw {
            "HELP" => self.set_help(name, arg),
            "TYPE" => self.set_type(name, arg),
            _ => self.set_unit(name, arg),
        }
    }

    /// What may follow an OpenMetrics value: ` timestamp`, ` # exemplar`, or both in that order.
    pub(super) fn om_tail(&mut self, name: &str, rest: &'a str) -> Result<Option<i64>, String> {
        let Some(rest) = rest.strip_prefix(' ') else {
            return Ok(None);
        };
        if let Some(ex) = rest.strip_prefix("# ") {
            self.exemplar(ex)
                .map_err(|e| format!("{name}: exemplar: {e}"))?;
            return Ok(None);
        }
        if rest.is_empty() {
            return Err(format!("{name}: trailing space (OpenMetrics allows none)"));
        }
        let (ttok, after) = rest
            .split_once(' ')
            .map_or((rest, None), |(t, a)| (t, Some(a)));
        let ts = lex::om_timestamp(ttok).ok_or_else(|| {
            format!(
                "{name}: timestamp {:?} is not a number of seconds",
                snippet(ttok, 30)
            )
        })?;
        match after {
            None => Ok(Some(ts)),
            Some(a) => match a.strip_prefix("# ") {
                Some(ex) => {
                    self.exemplar(ex)
                        .map_err(|e| format!("{name}: exemplar: {e}"))?;
                    Ok(Some(ts))
                }
                None => Err(format!(
                    "{name}: unexpected {:?} after the timestamp",
                    snippet(a, 20)
                )),
            },
        }
    }

    /// `{labels} value [timestamp]`: checked so a bad one cannot pass for a sample, then dropped.
    fn exemplar(&mut self, text: &'a str) -> Result<(), String> {
        if !text.starts_with('{') {
            return Err("must start with a label set".into());
        }
        self.exemplar.clear();
        let p = lex::labels(text, 0, true, &mut self.exemplar)?;
        let chars: usize = self
            .exemplar
            .iter()
            .map(|(k, v)| k.chars().count() + v.chars().count())
            .sum();
        if chars > 128 {
            return Err(format!("its labels have {chars} characters (at most 128)"));
        }
        let rest = text.get(p..).unwrap_or("");
        let rest = rest.strip_prefix(' ').ok_or("no value after the labels")?;
        let (vtok, ts) = rest
            .split_once(' ')
            .map_or((rest, None), |(v, t)| (v, Some(t)));
        lex::om_float(vtok)
            .ok_or_else(|| format!("value {:?} is not a number", snippet(vtok, 30)))?;
        if let Some(ts) = ts {
            if let Some((_, extra)) = ts.split_once(' ') {
                return Err(format!(
                    "unexpected {:?} after its timestamp",
                    snippet(extra, 20)
                ));
            }
            lex::om_timestamp(ts).ok_or_else(|| {
                format!("timestamp {:?} is not a number of seconds", snippet(ts, 30))
            })?;
        }
        Ok(())
    }

    /// Tracks which family the OpenMetrics samples are in, so late metadata is caught.
    pub(super) fn note_sample(&mut self, name: &str) {
        if let Some(i) = self.current
            && let Some(f) = self.out.families.get(i)
        {
            let ours = name == f.name
                || name
                    .strip_prefix(f.name)
                    .is_some_and(|suffix| f.kind.has_suffix(suffix));
            if ours {
                if let Some(s) = self.seen.get_mut(i) {
                    s.samples = true;
                }
                return;
            }
        }
        self.current = None;
    }
}
