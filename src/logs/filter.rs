//! The log view's `/` filter: a regex (smart case: case-insensitive unless it has a capital),
//! `!` in front to keep the lines that do not match, and the match ranges to highlight.

use std::ops::Range;

use regex::{Regex, RegexBuilder};

#[derive(Clone, Debug)]
pub struct LogFilter {
    re: Regex,
    pub inverse: bool,
}

impl LogFilter {
    /// None for an empty filter; an error (for the user) for a regex that does not parse.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        let (inverse, pattern) = match text.strip_prefix('!') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, text),
        };
        if pattern.is_empty() {
            return Ok(None);
        }
        let re = RegexBuilder::new(pattern)
            .case_insensitive(!pattern.chars().any(char::is_uppercase))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| match e {
                regex::Error::Syntax(s) => format!(
                    "filter /{pattern}/ is not a regex yet: {}",
                    s.lines().last().unwrap_or("")
                ),
                other => format!("filter /{pattern}/: {other}"),
            })?;
        Ok(Some(Self { re, inverse }))
    }

    pub fn matches(&self, text: &str) -> bool {
        self.re.is_match(text) != self.inverse
    }

    /// Byte ranges of the matches in `text`, to highlight; none for an inverse filter (its
    /// lines are the ones that do not match).
    pub fn ranges(&self, text: &str) -> Vec<Range<usize>> {
        if self.inverse {
            return Vec::new();
        }
        self.re
            .find_iter(text)
            .filter(|m| !m.is_empty())
            .map(|m| m.range())
            .collect()
    }
}
