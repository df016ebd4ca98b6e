//! Label matchers with PromQL's semantics: `=`, `!=`, `=~`, `!~`, regexes anchored at both ends,
//! and a missing label seen as the empty string.

use regex::Regex;

/// A matcher's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Re,
    NotRe,
}

/// One label matcher, e.g. `job=~"api|web"`.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    /// The regex, anchored as Prometheus anchors it (`^(?:value)$`), for `Re` and `NotRe`.
    re: Option<Regex>,
}

impl Matcher {
    /// A matcher; for the regex operators, an error in words when `value` does not compile.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let re = match op {
            MatchOp::Re | MatchOp::NotRe => Some(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("bad regex for label {name}: {e}"))?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Matcher {
            name: name.to_owned(),
            op,
            value: value.to_owned(),
            re,
        })
    }

    /// A matcher whose regex `.` also matches a newline, as Prometheus 3.x compiles matchers
    /// (`^(?s:value)$`); [`Matcher::new`] is the 2.x flavour, where `.` stops at a newline.
    pub fn new_dot_all(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let re = match op {
            MatchOp::Re | MatchOp::NotRe => Some(
                Regex::new(&format!("^(?s:{value})$"))
                    .map_err(|e| format!("bad regex for label {name}: {e}"))?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Matcher {
            name: name.to_owned(),
            op,
            value: value.to_owned(),
            re,
        })
    }

    /// Whether a label value (`""` for a missing label) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Re, Some(re)) => re.is_match(v),
            (MatchOp::NotRe, Some(re)) => !re.is_match(v),
            // Unreachable by construction (`new` compiles the regex for these operators).
            (MatchOp::Re | MatchOp::NotRe, None) => false,
        }
    }

    /// Whether the matcher can use the postings of `name=value` directly: an equality on a
    /// non-empty value (an empty one also matches series without the label).
    pub(super) fn postings_value(&self) -> Option<&str> {
        (self.op == MatchOp::Equal && !self.value.is_empty()).then_some(self.value.as_str())
    }
}
