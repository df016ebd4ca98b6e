//! Field selectors (`fieldSelector`), parsed and matched as apimachinery's `fields` package does.

use super::SelectorError;

#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldTerm {
    field: String,
    value: String,
    negated: bool,
}

/// A parsed field selector: a conjunction of `field=value` / `field!=value` terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter as `fields.ParseSelector` does: comma-separated
    /// `f=v`, `f==v`, `f!=v`; in values `\,`, `\=` and `\\` stand for themselves. Whitespace is
    /// not trimmed (it is not by the API server either). An empty string selects everything.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let (field, negated, raw) =
                split_term(part).ok_or_else(|| SelectorError::FieldTerm {
                    selector: s.to_owned(),
                    term: part.to_owned(),
                })?;
            terms.push(FieldTerm {
                field: field.to_owned(),
                value: unescape_value(raw)?,
                negated,
            });
        }
        Ok(Self { terms })
    }

    /// Matches an object whose field values `get` returns; `get` answers `None` for a field the
    /// object's kind does not support, which makes this `Err(field)` (the server's
    /// `field label not supported: <field>`), whatever the other terms say.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> Result<bool, String> {
        let mut all = true;
        for term in &self.terms {
            let value = get(&term.field).ok_or_else(|| term.field.clone())?;
            all &= (value == term.value) != term.negated;
        }
        Ok(all)
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(|t| t.field.as_str())
    }

    /// The value the selector pins `field` to with `=`/`==`, so a list or watch can look it up
    /// directly (as the API server does for `metadata.name=X`).
    pub fn exact(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && !t.negated)
            .map(|t| t.value.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// Splits on commas that are not escaped; escapes stay in place for `unescape_value`.
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => {
                terms.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Splits at the first operator; `!=` and `==` are tried before `=` at each position so that no
/// `=` is left on the value.
fn split_term(term: &str) -> Option<(&str, bool, &str)> {
    term.char_indices().find_map(|(i, _)| {
        let rest = &term[i..];
        if let Some(value) = rest.strip_prefix("!=") {
            Some((&term[..i], true, value))
        } else if let Some(value) = rest.strip_prefix("==") {
            Some((&term[..i], false, value))
        } else {
            rest.strip_prefix('=')
                .map(|value| (&term[..i], false, value))
        }
    })
}

fn unescape_value(raw: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(SelectorError::FieldEscape(format!("\\{e}"))),
                None => return Err(SelectorError::FieldEscape("\\".to_owned())),
            },
            ',' | '=' => return Err(SelectorError::FieldUnescaped(c)),
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(field: &str) -> Option<String> {
        match field {
            "metadata.name" => Some("web-1".into()),
            "metadata.namespace" => Some("shop".into()),
            "spec.nodeName" => Some(String::new()),
            "status.phase" => Some("Running".into()),
            _ => None,
        }
    }

    fn selects(selector: &str) -> bool {
        FieldSelector::parse(selector)
            .unwrap()
            .matches(pod)
            .unwrap()
    }

    #[test]
    fn equality_and_inequality() {
        assert!(selects("metadata.name=web-1"));
        assert!(selects("metadata.name==web-1"));
        assert!(!selects("metadata.name=web-2"));
        assert!(selects("status.phase!=Pending"));
        assert!(!selects("status.phase!=Running"));
        assert!(selects("metadata.name=web-1,status.phase=Running"));
        assert!(!selects("metadata.name=web-1,status.phase=Failed"));
        assert!(
            selects("spec.nodeName="),
            "an unscheduled pod has an empty node name"
        );
        assert!(!selects("spec.nodeName!="));
    }

    #[test]
    fn empty_selector_and_empty_terms() {
        let sel = FieldSelector::parse("").unwrap();
        assert!(sel.is_empty());
        assert_eq!(sel.matches(|_| None), Ok(true));
        assert_eq!(
            FieldSelector::parse("metadata.name=web-1,")
                .unwrap()
                .fields()
                .count(),
            1
        );
    }

    #[test]
    fn unsupported_field_is_an_error_even_when_another_term_fails() {
        let sel = FieldSelector::parse("metadata.name=nope,spec.foo=bar").unwrap();
        assert_eq!(sel.matches(pod), Err("spec.foo".to_owned()));
    }

    #[test]
    fn escaped_values() {
        let sel = FieldSelector::parse(r"metadata.name=a\,b\=c\\d,status.phase=x").unwrap();
        assert_eq!(sel.exact("metadata.name"), Some(r"a,b=c\d"));
        assert_eq!(sel.exact("status.phase"), Some("x"));
        assert_eq!(
            sel.fields().collect::<Vec<_>>(),
            ["metadata.name", "status.phase"]
        );
    }

    #[test]
    fn exact_only_for_equality() {
        let sel = FieldSelector::parse("status.phase!=Running,metadata.name==web-1").unwrap();
        assert_eq!(sel.exact("metadata.name"), Some("web-1"));
        assert_eq!(sel.exact("status.phase"), None);
        assert_eq!(sel.exact("spec.nodeName"), None);
    }

    #[test]
    fn terms_are_sorted_and_not_trimmed() {
        let sel = FieldSelector::parse("status.phase=a,metadata.name = b").unwrap();
        assert_eq!(
            sel.fields().collect::<Vec<_>>(),
            ["metadata.name ", "status.phase"]
        );
        assert_eq!(sel.exact("metadata.name "), Some(" b"));
    }

    #[test]
    fn malformed_selectors() {
        let err = |s: &str| FieldSelector::parse(s).unwrap_err().to_string();
        assert_eq!(
            err("a=b,foo"),
            "invalid selector: 'a=b,foo'; can't understand 'foo'"
        );
        assert_eq!(
            err("a=b=c"),
            "invalid field selector: unescaped character in value: ="
        );
        assert_eq!(
            err(r"a=b\x"),
            r"invalid field selector: invalid escape sequence: \x"
        );
        assert_eq!(
            err(r"a=b\"),
            r"invalid field selector: invalid escape sequence: \"
        );
    }
}
