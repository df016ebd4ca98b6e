//! The `/` filter: a regex over a row's text (`!` in front inverts it), or `-l` and a label
//! selector (`app=web,tier!=db,canary,!legacy,env in (prod,staging)`).

use std::collections::BTreeMap;

use regex::Regex;

#[derive(Clone, Debug)]
pub enum Filter {
    Text { regex: Regex, invert: bool },
    Labels(Vec<Requirement>),
}

/// One term of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Filter {
    /// Parses what was typed after `/`. The error is shown to the user as typed.
    pub fn parse(input: &str) -> Result<Option<Filter>, String> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(None);
        }
        if let Some(sel) = input.strip_prefix("-l") {
            return parse_selector(sel.trim()).map(|r| Some(Filter::Labels(r)));
        }
        let (invert, pattern) = match input.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        // Case-insensitive, as k9s does: a tired engineer types `crash`, not `Crash`.
        let regex = regex::RegexBuilder::new(pattern)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| match e {
                regex::Error::Syntax(s) => format!(
                    "not a valid regex: {}",
                    s.lines().last().unwrap_or_default().trim()
                ),
                other => format!("not a valid regex: {other}"),
            })?;
        Ok(Some(Filter::Text { regex, invert }))
    }

    /// Whether a row with this text and these labels passes.
    pub fn matches(&self, text: &str, labels: Option<&BTreeMap<String, String>>) -> bool {
        match self {
            Filter::Text { regex, invert } => regex.is_match(text) != *invert,
            Filter::Labels(reqs) => {
                let empty = BTreeMap::new();
                let labels = labels.unwrap_or(&empty);
                reqs.iter().all(|r| r.matches(labels))
            }
        }
    }
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
        }
    }
}

fn parse_selector(input: &str) -> Result<Vec<Requirement>, String> {
    if input.is_empty() {
        return Err("-l needs a label selector, e.g. -l app=web".into());
    }
    let mut out = Vec::new();
    for term in split_terms(input) {
        let term = term.trim();
        let bad = || {
            format!(
                "{term:?} is not a label requirement (try app=web, app!=web, app, !app, app in (a,b))"
            )
        };
        let req = if let Some((k, rest)) = term.split_once(" notin ") {
            Requirement::NotIn(k.trim().into(), set(rest).ok_or_else(bad)?)
        } else if let Some((k, rest)) = term.split_once(" in ") {
            Requirement::In(k.trim().into(), set(rest).ok_or_else(bad)?)
        } else if let Some((k, v)) = term.split_once("!=") {
            Requirement::NotEquals(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            Requirement::Equals(k.trim().into(), v.trim().into())
        } else if let Some(k) = term.strip_prefix('!') {
            Requirement::NotExists(k.trim().into())
        } else {
            Requirement::Exists(term.into())
        };
        let key = match &req {
            Requirement::Equals(k, _)
            | Requirement::NotEquals(k, _)
            | Requirement::Exists(k)
            | Requirement::NotExists(k)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _) => k,
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(bad());
        }
        out.push(req);
    }
    Ok(out)
}

/// Splits on commas outside parentheses.
fn split_terms(input: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&input[start..]);
    terms
}

fn set(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn regex_is_case_insensitive_and_bang_inverts() {
        let f = Filter::parse("crash").unwrap().unwrap();
        assert!(f.matches("staging CrashLoopBackOff", None));
        assert!(!f.matches("Running", None));
        let f = Filter::parse("!Running").unwrap().unwrap();
        assert!(f.matches("CrashLoopBackOff", None));
        assert!(!f.matches("Running", None));
        assert!(Filter::parse("   ").unwrap().is_none());
    }

    #[test]
    fn a_bad_regex_is_an_error_in_words() {
        let err = Filter::parse("api(").unwrap_err();
        assert!(err.starts_with("not a valid regex:"), "{err}");
    }

    #[test]
    fn label_selectors() {
        let l = labels(&[("app", "web"), ("env", "prod")]);
        let yes = [
            "-l app=web",
            "-l app==web,env",
            "-l env in (prod, staging)",
            "-l !canary",
            "-l app!=db",
            "-l env notin (dev)",
        ];
        for s in yes {
            assert!(
                Filter::parse(s).unwrap().unwrap().matches("", Some(&l)),
                "{s}"
            );
        }
        let no = [
            "-l app=db",
            "-l canary",
            "-l env in (dev)",
            "-l !app",
            "-l env notin (prod)",
        ];
        for s in no {
            assert!(
                !Filter::parse(s).unwrap().unwrap().matches("", Some(&l)),
                "{s}"
            );
        }
        assert!(Filter::parse("-l").is_err());
        assert!(Filter::parse("-l a b").is_err());
    }
}
