//! The `/` filter: a regex over a row's text (`!` in front inverts it), or `-l` and a label
//! selector (`app=web,tier!=db,canary,!legacy,env in (prod,staging)`).

use std::collections::BTreeMap;

use regex::Regex;

use crate::sim::selector::LabelSelector;

#[derive(Clone, Debug)]
pub enum Filter {
    Text {
        regex: Regex,
        invert: bool,
    },
    /// Parsed and matched as the API server does (the simulator's selector, written to
    /// apimachinery's rules, serves the console too).
    Labels(LabelSelector),
}

impl Filter {
    /// Parses what was typed after `/`. The error is shown to the user as typed.
    pub fn parse(input: &str) -> Result<Option<Filter>, String> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(None);
        }
        if let Some(sel) = input.strip_prefix("-l") {
            let sel = sel.trim();
            if sel.is_empty() {
                return Err("-l needs a label selector, e.g. -l app=web".into());
            }
            return LabelSelector::parse(sel)
                .map(|s| Some(Filter::Labels(s)))
                .map_err(|e| {
                    format!(
                        "not a label selector (try app=web, app!=web, app, !app, app in (a,b)): {e}"
                    )
                });
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
            Filter::Labels(selector) => selector.matches(labels),
        }
    }
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
