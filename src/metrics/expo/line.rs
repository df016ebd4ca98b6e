//! The line-by-line parser: metadata lines, sample lines, exemplars, `# EOF`, and one
//! [`LineError`] per line it had to skip.

use std::collections::HashMap;

use super::lex::{self, LabelVec, snippet};

mod om;
use super::{Family, Format, LineError, MetricType, Parsed, Sample};

/// What a family has had so far, for the duplicate and ordering checks.
#[derive(Default, Clone, Copy)]
struct Seen {
    kind: bool,
    help: bool,
    unit: bool,
    samples: bool,
}

pub(super) struct Parser<'a> {
    input: &'a str,
    format: Format,
    om: bool,
    out: Parsed<'a>,
    /// Labels of the sample being read; drained into an exactly sized vector per sample.
    scratch: LabelVec<'a>,
    /// Labels of an exemplar: checked, then dropped.
    exemplar: LabelVec<'a>,
    index: HashMap<&'a str, usize>,
    seen: Vec<Seen>,
    /// OpenMetrics: the family the latest metadata line or sample belonged to.
    current: Option<usize>,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The token starting at `p`, up to the next separator; and where it ends.
fn token(line: &str, p: usize, om: bool) -> (&str, usize) {
    let rest = line.get(p..).unwrap_or("");
    let len = if om {
        rest.find(' ')
    } else {
        rest.find(is_blank)
    }
    .unwrap_or(rest.len());
    (rest.get(..len).unwrap_or(""), p + len)
}

impl<'a> Parser<'a> {
    pub(super) fn new(input: &'a str, format: Format) -> Self {
        let mut out = Parsed::default();
        // About one sample per 80 bytes on real pages; saves most regrowth on large ones.
        out.samples.reserve(input.len() / 80);
        Parser {
            input,
            format,
            om: format == Format::OpenMetrics,
            out,
            scratch: Vec::with_capacity(16),
            exemplar: Vec::new(),
            index: HashMap::new(),
            seen: Vec::new(),
            current: None,
        }
    }

    pub(super) fn run(mut self) -> Parsed<'a> {
        let mut lines = self.input.split('\n').peekable();
        let mut n: u32 = 0;
        while let Some(text) = lines.next() {
            // The empty remainder after the final newline is not a line.
            if text.is_empty() && lines.peek().is_none() {
                break;
            }
            n = n.saturating_add(1);
            if self.out.eof {
                self.error(
                    n,
                    "text after \"# EOF\" (an OpenMetrics page ends there); the rest is ignored"
                        .into(),
                );
                break;
            }
            if let Err(message) = self.line(text, n) {
                self.error(n, message);
            }
        }
        if self.om && !self.out.eof {
            self.error(
                n.saturating_add(1),
                "the page ends without \"# EOF\" (OpenMetrics requires it; the body may be cut short)"
                    .into(),
            );
        }
        self.out
    }

    fn error(&mut self, line: u32, message: String) {
        self.out.errors.push(LineError { line, message });
    }

    fn line(&mut self, text: &'a str, n: u32) -> Result<(), String> {
        if text.ends_with('\r') {
            return Err("the line ends in \\r\\n (a Windows line ending); the exposition formats allow only \\n".into());
        }
        if self.om {
            if text.is_empty() {
                return Err("blank line (OpenMetrics allows none)".into());
            }
            if text.starts_with('#') {
                return self.om_comment(text);
            }
            return self.sample(text, n);
        }
        let trimmed = text.trim_start_matches(is_blank);
        if trimmed.is_empty() {
            Ok(())
        } else if let Some(comment) = trimmed.strip_prefix('#') {
            self.text_comment(comment)
        } else {
            self.sample(trimmed, n)
        }
    }

    /// `# HELP name text` and `# TYPE name type` (blanks between); any other comment is ignored.
    fn text_comment(&mut self, comment: &'a str) -> Result<(), String> {
        let after = comment.trim_start_matches(is_blank);
        if after.len() == comment.len() {
            return Ok(());
        }
        let (kw, tail) = after.split_once(is_blank).unwrap_or((after, ""));
        if kw != "HELP" && kw != "TYPE" {
            return Ok(());
        }
        let tail = tail.trim_start_matches(is_blank);
        let (name, arg) = tail.split_once(is_blank).unwrap_or((tail, ""));
        if !lex::is_metric_name(name) {
            return Err(format!(
                "{kw} line: {:?} is not a metric name",
                snippet(name, 40)
            ));
        }
        let arg = arg.trim_start_matches(is_blank);
        if kw == "HELP" {
            self.set_help(name, arg)
        } else {
            self.set_type(name, arg.trim_end_matches(is_blank))
        }
    }

    /// The family `name`, created on its first metadata line.
    fn family(&mut self, name: &'a str, what: &str) -> Result<usize, String> {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.out.families.len();
                self.out.families.push(Family {
                    name,
                    kind: MetricType::Unknown,
                    help: None,
                    unit: None,
                });
                self.seen.push(Seen::default());
                self.index.insert(name, i);
                i
            }
        };
        if self.om && self.seen.get(i).is_some_and(|s| s.samples) {
            return Err(format!(
                "{what} for {name} comes after its samples (OpenMetrics puts metadata first)"
            ));
        }
        self.current = Some(i);
        Ok(i)
    }

    fn set_help(&mut self, name: &'a str, text: &'a str) -> Result<(), String> {
        let i = self.family(name, "HELP")?;
        let seen = self.seen.get_mut(i).ok_or("internal: family index")?;
        if std::mem::replace(&mut seen.help, true) {
            return Err(format!("a second HELP line for {name}"));
        }
        if let Some(f) = self.out.families.get_mut(i) {
            f.help = Some(lex::help_text(text, self.om));
        }
        Ok(())
    }

    fn set_type(&mut self, name: &'a str, word: &str) -> Result<(), String> {
        let kind = MetricType::from_type_word(word, self.format).ok_or_else(|| {
            let known = if self.om {
                "counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown"
            } else {
                "counter, gauge, histogram, summary or untyped"
            };
            format!(
                "TYPE of {name} is {:?}; expected {known}",
                snippet(word, 30)
            )
        })?;
        let i = self.family(name, "TYPE")?;
        let seen = self.seen.get_mut(i).ok_or("internal: family index")?;
        if std::mem::replace(&mut seen.kind, true) {
            return Err(format!("a second TYPE line for {name}"));
        }
        if let Some(f) = self.out.families.get_mut(i) {
            f.kind = kind;
        }
        Ok(())
    }

    /// OpenMetrics requires the family name to end in `_` + unit, so a reader can trust it.
    fn set_unit(&mut self, name: &'a str, unit: &'a str) -> Result<(), String> {
        if !unit.is_empty() && !name.strip_suffix(unit).is_some_and(|b| b.ends_with('_')) {
            return Err(format!(
                "UNIT {unit:?} is not the end of the family name {name} (OpenMetrics requires it)"
            ));
        }
        let i = self.family(name, "UNIT")?;
        let seen = self.seen.get_mut(i).ok_or("internal: family index")?;
        if std::mem::replace(&mut seen.unit, true) {
            return Err(format!("a second UNIT line for {name}"));
        }
        if let Some(f) = self.out.families.get_mut(i) {
            f.unit = (!unit.is_empty()).then_some(unit);
        }
        Ok(())
    }

    /// `name[{labels}] value [timestamp]`, and in OpenMetrics an optional ` # exemplar`.
    fn sample(&mut self, text: &'a str, n: u32) -> Result<(), String> {
        let b = text.as_bytes();
        let nlen = lex::metric_name_len(b);
        if nlen == 0 {
            return Err(format!(
                "expected a metric name, found {:?}",
                snippet(text, 30)
            ));
        }
        let name = text.get(..nlen).unwrap_or("");
        if let Some(c) = text.get(nlen..).and_then(|r| r.chars().next())
            && !matches!(c, '{' | ' ' | '\t')
        {
            let word = text.split([' ', '\t', '{']).next().unwrap_or(text);
            return Err(format!(
                "{:?} is not a metric name ({c:?} is not allowed in one)",
                snippet(word, 40)
            ));
        }
        let mut p = nlen;
        if !self.om {
            // The text format allows blanks between the name and its label set.
            let q = p + text
                .get(p..)
                .map_or(0, |r| r.len() - r.trim_start_matches(is_blank).len());
            if b.get(q) == Some(&b'{') {
                p = q;
            }
        }
        self.scratch.clear();
        if b.get(p) == Some(&b'{') {
            p = lex::labels(text, p, self.om, &mut self.scratch)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        let sep = p;
        if self.om {
            p += usize::from(b.get(p) == Some(&b' '));
        } else {
            while matches!(b.get(p), Some(b' ' | b'\t')) {
                p += 1;
            }
        }
        if p == sep || p >= b.len() {
            return Err(match b.get(sep) {
                None | Some(b' ' | b'\t') => format!("{name}: no value"),
                Some(_) => format!(
                    "{name}: expected a space before the value, found {:?}",
                    snippet(text.get(sep..).unwrap_or(""), 20)
                ),
            });
        }
        let (vtok, mut p) = token(text, p, self.om);
        if vtok.is_empty() {
            return Err(format!(
                "{name}: more than one space before the value (OpenMetrics allows one)"
            ));
        }
        let value = if self.om {
            lex::om_float(vtok)
        } else {
            lex::go_float(vtok)
        }
        .ok_or_else(|| format!("{name}: value {:?} is not a number", snippet(vtok, 30)))?;
        let timestamp_ms = if self.om {
            self.om_tail(name, text.get(p..).unwrap_or(""))?
        } else {
            p += text
                .get(p..)
                .map_or(0, |r| r.len() - r.trim_start_matches(is_blank).len());
            if p >= b.len() {
                None
            } else {
                let (ttok, end) = token(text, p, false);
                let ts = lex::text_timestamp(ttok).ok_or_else(|| {
                    format!(
                        "{name}: timestamp {:?} is not integer milliseconds",
                        snippet(ttok, 30)
                    )
                })?;
                let rest = text.get(end..).unwrap_or("").trim_matches(is_blank);
                if !rest.is_empty() {
                    return Err(format!(
                        "{name}: unexpected {:?} after the timestamp",
                        snippet(rest, 20)
                    ));
                }
                Some(ts)
            }
        };
        if self.om {
            self.note_sample(name);
        }
        let labels = if self.scratch.is_empty() {
            Vec::new()
        } else {
            self.scratch.drain(..).collect()
        };
        self.out.samples.push(Sample {
            name,
            labels,
            value,
            timestamp_ms,
            line: n,
        });
        Ok(())
    }
}
