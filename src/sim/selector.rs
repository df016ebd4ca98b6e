//! Label and field selectors, parsed, matched and printed the way the Kubernetes API server does it.
//!
//! The grammar and the error wording follow apimachinery's `labels` and `fields` packages, so a
//! malformed `-l` or `--field-selector` given to kubectl fails against the simulator with the message
//! the user would see from a real cluster.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as K8sLabelSelector;

mod field;
mod label_parser;

pub use field::FieldSelector;

/// Why a selector was refused; each message reads like the API server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A label requirement could not be parsed or is invalid (bad key, bad value, missing `(`).
    #[error("unable to parse requirement: {0}")]
    Requirement(String),
    /// The label selector is malformed between requirements (e.g. a stray `=` or a trailing `,`).
    #[error("{0}")]
    Syntax(String),
    /// A `metav1.LabelSelector` is invalid (unknown operator, values where none are allowed, ...).
    #[error("{0}")]
    Invalid(String),
    /// A field selector term has no `=`, `==` or `!=`.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    FieldTerm { selector: String, term: String },
    /// A field selector value has a `\` that escapes nothing the grammar knows.
    #[error("invalid field selector: invalid escape sequence: {0}")]
    FieldEscape(String),
    /// A field selector value has a bare `,` or `=` that should have been escaped.
    #[error("invalid field selector: unescaped character in value: {0}")]
    FieldUnescaped(char),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
    /// Sorted and without duplicates, as apimachinery keeps them (a `sets.String`).
    values: Vec<String>,
}

/// A parsed label selector: a conjunction of requirements, kept sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
    /// `a notin (x,y)`, `a`, `!a`, `a>1`, `a<1`, comma-separated. An empty string selects everything.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut requirements = label_parser::parse(s)?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Self { requirements })
    }

    /// Converts a `metav1.LabelSelector` as `metav1.LabelSelectorAsSelector` does. An empty one
    /// selects everything; whether that is allowed (it is not for a Deployment) is the caller's call.
    pub fn from_k8s(sel: &K8sLabelSelector) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for (key, value) in sel.match_labels.iter().flatten() {
            requirements.push(
                Requirement::new(key, Op::Equals, vec![value.clone()])
                    .map_err(SelectorError::Invalid)?,
            );
        }
        for expr in sel.match_expressions.iter().flatten() {
            let op = match expr.operator.as_str() {
                "In" => Op::In,
                "NotIn" => Op::NotIn,
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                other => {
                    return Err(SelectorError::Invalid(format!(
                        "{other:?} is not a valid label selector operator"
                    )));
                }
            };
            let values = expr.values.clone().unwrap_or_default();
            requirements
                .push(Requirement::new(&expr.key, op, values).map_err(SelectorError::Invalid)?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Self { requirements })
    }

    /// Whether an object with these labels is selected; `None` counts as no labels.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let empty = BTreeMap::new();
        let labels = labels.unwrap_or(&empty);
        self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

/// Prints like apimachinery's `labels.Selector.String()` (e.g. `app=web,tier in (a,b)`); this is
/// what the scale subresource reports as `status.selector`. Empty for a select-everything selector.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl Requirement {
    /// Validates like `labels.NewRequirement`; the error is the bare message, the caller wraps it.
    fn new(key: &str, op: Op, mut values: Vec<String>) -> Result<Self, String> {
        validate_key(key)?;
        let count_ok = match op {
            Op::In | Op::NotIn => !values.is_empty(),
            Op::Equals | Op::DoubleEquals | Op::NotEquals | Op::GreaterThan | Op::LessThan => {
                values.len() == 1
            }
            Op::Exists | Op::DoesNotExist => values.is_empty(),
        };
        if !count_ok {
            let why = match op {
                Op::In | Op::NotIn => "for 'in', 'notin' operators, values set can't be empty",
                Op::Exists | Op::DoesNotExist => {
                    "values set must be empty for exists and does not exist"
                }
                Op::GreaterThan | Op::LessThan => {
                    "for 'Gt', 'Lt' operators, exactly one value is required"
                }
                _ => "exact-match compatibility requires one single value",
            };
            return Err(format!("values: Invalid value: {values:?}: {why}"));
        }
        for (i, v) in values.iter().enumerate() {
            if matches!(op, Op::GreaterThan | Op::LessThan) && v.parse::<i64>().is_err() {
                return Err(format!(
                    "values[{i}]: Invalid value: {v:?}: for 'Gt', 'Lt' operators, the value must be an integer"
                ));
            }
            validate_value(key, i, v)?;
        }
        values.sort();
        values.dedup();
        Ok(Self {
            key: key.to_owned(),
            op,
            values,
        })
    }

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let has = |v: &String| self.values.binary_search(v).is_ok();
        let value = labels.get(&self.key);
        match self.op {
            Op::Equals | Op::DoubleEquals | Op::In => value.is_some_and(has),
            Op::NotEquals | Op::NotIn => value.is_none_or(|v| !has(v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::GreaterThan | Op::LessThan => {
                // A label that is not an integer never satisfies an ordering, as in apimachinery.
                let (Some(Ok(have)), Some(Ok(want))) = (
                    value.map(|v| v.parse::<i64>()),
                    self.values.first().map(|v| v.parse::<i64>()),
                ) else {
                    return false;
                };
                if self.op == Op::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == Op::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let values = self.values.join(",");
        match self.op {
            Op::Exists | Op::DoesNotExist => Ok(()),
            Op::Equals => write!(f, "={values}"),
            Op::DoubleEquals => write!(f, "=={values}"),
            Op::NotEquals => write!(f, "!={values}"),
            Op::GreaterThan => write!(f, ">{values}"),
            Op::LessThan => write!(f, "<{values}"),
            Op::In => write!(f, " in ({values})"),
            Op::NotIn => write!(f, " notin ({values})"),
        }
    }
}

/// `IsQualifiedName`, lightly: an optional DNS-subdomain prefix and a name of at most 63 characters.
fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && prefix.starts_with(|c: char| c.is_ascii_alphanumeric())
            && prefix.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "invalid label key {key:?}: prefix part must be a lowercase RFC 1123 subdomain"
            ));
        }
    }
    if name.len() > 63 || !is_label_name(name) {
        return Err(format!(
            "invalid label key {key:?}: name part must consist of alphanumeric characters, '-', '_' \
             or '.', and must start and end with an alphanumeric character, at most 63 characters"
        ));
    }
    Ok(())
}

fn validate_value(key: &str, index: usize, value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && is_label_name(value)) {
        return Ok(());
    }
    Err(format!(
        "values[{index}][{key}]: Invalid value: {value:?}: a valid label must be an empty string or \
         consist of alphanumeric characters, '-', '_' or '.', and must start and end with an \
         alphanumeric character, at most 63 characters"
    ))
}

fn is_label_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn selects(selector: &str, pairs: &[(&str, &str)]) -> bool {
        LabelSelector::parse(selector)
            .unwrap_or_else(|e| panic!("{selector:?} should parse: {e}"))
            .matches(Some(&labels(pairs)))
    }

    fn parse_error(selector: &str) -> String {
        match LabelSelector::parse(selector) {
            Ok(parsed) => panic!("{selector:?} should not parse, got {parsed:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn equality_operators_compare_the_value() {
        assert!(selects("app=web", &[("app", "web")]));
        assert!(selects("app==web", &[("app", "web")]));
        assert!(!selects("app=web", &[("app", "api")]));
        assert!(!selects("app=web", &[]));
        assert!(selects("app!=web", &[("app", "api")]));
        assert!(!selects("app!=web", &[("app", "web")]));
        assert!(
            selects("app!=web", &[]),
            "a missing label is not equal to anything"
        );
    }

    #[test]
    fn set_operators_accept_any_spacing() {
        for s in [
            "tier in (a,b)",
            "tier in (a, b)",
            " tier  in(a ,b ) ",
            "tier\tin\n(a,b)",
        ] {
            assert!(selects(s, &[("tier", "b")]), "{s:?}");
            assert!(!selects(s, &[("tier", "c")]), "{s:?}");
            assert!(!selects(s, &[]), "{s:?}");
        }
        assert!(selects("tier notin (a, b)", &[("tier", "c")]));
        assert!(!selects("tier notin (a, b)", &[("tier", "a")]));
        assert!(
            selects("tier notin (a,b)", &[]),
            "notin holds for a missing label"
        );
    }

    #[test]
    fn existence_operators() {
        assert!(selects("canary", &[("canary", "")]));
        assert!(!selects("canary", &[("app", "web")]));
        assert!(selects("!canary", &[("app", "web")]));
        assert!(selects(" ! canary ", &[]));
        assert!(!selects("!canary", &[("canary", "true")]));
        let exists = LabelSelector::parse("canary").unwrap();
        assert!(
            !exists.matches(None),
            "no labels at all means the key is missing"
        );
        assert!(LabelSelector::parse("!canary").unwrap().matches(None));
    }

    #[test]
    fn requirements_are_anded() {
        let s = "app=web, tier in (front,back),!canary,env";
        assert!(selects(
            s,
            &[("app", "web"), ("tier", "front"), ("env", "prod")]
        ));
        assert!(
            !selects(s, &[("app", "web"), ("tier", "front")]),
            "env missing"
        );
        assert!(!selects(
            s,
            &[
                ("app", "web"),
                ("tier", "front"),
                ("env", "p"),
                ("canary", "1")
            ]
        ));
        assert!(!selects(
            s,
            &[("app", "api"), ("tier", "front"), ("env", "prod")]
        ));
    }

    #[test]
    fn empty_selector_matches_everything() {
        for s in ["", "  ", "\t\n"] {
            let sel = LabelSelector::parse(s).unwrap();
            assert!(sel.is_empty());
            assert!(sel.matches(None));
            assert!(sel.matches(Some(&labels(&[("a", "b")]))));
            assert_eq!(sel.to_string(), "");
        }
        assert!(!LabelSelector::parse("a").unwrap().is_empty());
    }

    #[test]
    fn ordering_operators_compare_integers() {
        assert!(selects("gen>5", &[("gen", "6")]));
        assert!(!selects("gen>5", &[("gen", "5")]));
        assert!(selects("gen<5", &[("gen", "4")]));
        assert!(
            !selects("gen<5", &[("gen", "x")]),
            "a non-integer label never matches"
        );
        assert!(!selects("gen<5", &[]));
    }

    #[test]
    fn empty_values_and_keywords_as_words() {
        assert!(selects("a=", &[("a", "")]));
        assert!(!selects("a=", &[("a", "x")]));
        assert!(selects("a=,b=c", &[("a", ""), ("b", "c")]));
        assert!(selects("a in ()", &[("a", "")]));
        assert!(selects("a in (,x)", &[("a", "")]));
        assert!(selects("a in (x,)", &[("a", "")]));
        assert!(selects("a in (x,,y)", &[("a", "y")]));
        assert!(selects("in=notin", &[("in", "notin")]));
        assert!(selects("a in (in,notin)", &[("a", "notin")]));
        assert!(selects(
            "example.com/app=web",
            &[("example.com/app", "web")]
        ));
    }

    #[test]
    fn malformed_selectors_fail_with_the_api_servers_words() {
        let cases = [
            (
                "a in (x",
                "unable to parse requirement: found '', expected: ',' or ')'",
            ),
            (
                "a in (x y)",
                "unable to parse requirement: found 'y', expected: ',' or ')'",
            ),
            (
                "a in x",
                "unable to parse requirement: found 'x' expected: '('",
            ),
            (
                "a in (=)",
                "unable to parse requirement: found '=', expected: ',', ')' or identifier",
            ),
            (
                "a in (x,=)",
                "unable to parse requirement: found '=', expected: ',', or identifier",
            ),
            (
                "a b",
                "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
            ),
            (
                "a=(b)",
                "unable to parse requirement: found '(', expected: identifier",
            ),
            (
                "!",
                "unable to parse requirement: found '', expected: identifier",
            ),
            (
                "=b",
                "found '=', expected: !, identifier, or 'end of string'",
            ),
            (
                ",a",
                "found ',', expected: !, identifier, or 'end of string'",
            ),
            ("a=b,", "found '', expected: identifier after ','"),
            ("a=b,,c", "found ',', expected: identifier after ','"),
            (
                "invalid=label=value",
                "found '=', expected: ',' or 'end of string'",
            ),
            ("a=b c", "found 'c', expected: ',' or 'end of string'"),
            ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ];
        for (selector, message) in cases {
            assert_eq!(parse_error(selector), message, "{selector:?}");
        }
    }

    #[test]
    fn invalid_keys_and_values_are_rejected() {
        let bad_key = parse_error("-app=web");
        assert!(
            bad_key
                .starts_with("unable to parse requirement: invalid label key \"-app\": name part"),
            "{bad_key}"
        );
        assert!(parse_error("Example.com/app=web").contains("prefix part"));
        assert!(parse_error("/app").contains("prefix part"));
        assert!(parse_error(&format!("{}=x", "k".repeat(64))).contains("invalid label key"));
        let bad_value = parse_error("app=-web");
        assert!(
            bad_value.starts_with(
                "unable to parse requirement: values[0][app]: Invalid value: \"-web\""
            ),
            "{bad_value}"
        );
        assert!(parse_error("app in (ok,b/c)").contains("Invalid value: \"b/c\""));
        assert!(
            parse_error("gen>x").contains("for 'Gt', 'Lt' operators, the value must be an integer")
        );
        assert!(parse_error("gen<").contains("must be an integer"));
    }

    #[test]
    fn display_sorts_by_key_and_values_and_round_trips() {
        let sel =
            LabelSelector::parse("x,tier in (b,a),env!=prod,!canary, app=web,gen>3,v==1").unwrap();
        let shown = "app=web,!canary,env!=prod,gen>3,tier in (a,b),v==1,x";
        assert_eq!(sel.to_string(), shown);
        assert_eq!(LabelSelector::parse(shown).unwrap(), sel);
        assert_eq!(
            LabelSelector::parse("a notin (z,y,z)").unwrap().to_string(),
            "a notin (y,z)"
        );
        assert_eq!(
            LabelSelector::parse("a in ()").unwrap().to_string(),
            "a in ()"
        );
    }

    fn k8s(
        match_labels: &[(&str, &str)],
        exprs: &[(&str, &str, Option<&[&str]>)],
    ) -> K8sLabelSelector {
        K8sLabelSelector {
            match_labels: (!match_labels.is_empty()).then(|| labels(match_labels)),
            match_expressions: (!exprs.is_empty()).then(|| {
                exprs
                    .iter()
                    .map(|(key, op, values)| LabelSelectorRequirement {
                        key: key.to_string(),
                        operator: op.to_string(),
                        values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
                    })
                    .collect()
            }),
        }
    }

    #[test]
    fn from_k8s_combines_match_labels_and_expressions() {
        let sel = LabelSelector::from_k8s(&k8s(
            &[("app", "web")],
            &[
                ("tier", "In", Some(&["b", "a"])),
                ("env", "NotIn", Some(&["dev"])),
                ("track", "Exists", None),
                ("canary", "DoesNotExist", Some(&[])),
            ],
        ))
        .unwrap();
        assert_eq!(
            sel.to_string(),
            "app=web,!canary,env notin (dev),tier in (a,b),track"
        );
        assert!(sel.matches(Some(&labels(&[
            ("app", "web"),
            ("tier", "a"),
            ("track", "")
        ]))));
        assert!(!sel.matches(Some(&labels(&[("app", "web"), ("tier", "a")]))));
        let dev = labels(&[("app", "web"), ("tier", "a"), ("track", ""), ("env", "dev")]);
        assert!(!sel.matches(Some(&dev)));
        let scale_selector =
            LabelSelector::from_k8s(&k8s(&[("app", "web"), ("pod-template-hash", "5d9f")], &[]));
        assert_eq!(
            scale_selector.unwrap().to_string(),
            "app=web,pod-template-hash=5d9f"
        );
    }

    #[test]
    fn from_k8s_empty_selects_everything() {
        let sel = LabelSelector::from_k8s(&K8sLabelSelector::default()).unwrap();
        assert!(sel.is_empty());
        assert!(sel.matches(Some(&labels(&[("a", "b")]))));
        assert_eq!(sel.to_string(), "");
    }

    #[test]
    fn from_k8s_rejects_what_the_api_server_rejects() {
        let err = |sel| LabelSelector::from_k8s(&sel).unwrap_err().to_string();
        assert_eq!(
            err(k8s(&[], &[("a", "Gt", Some(&["1"]))])),
            "\"Gt\" is not a valid label selector operator"
        );
        assert!(err(k8s(&[], &[("a", "In", None)])).contains("values set can't be empty"));
        assert!(
            err(k8s(&[], &[("a", "Exists", Some(&["x"]))])).contains("values set must be empty")
        );
        assert!(err(k8s(&[("app", "not valid")], &[])).contains("Invalid value: \"not valid\""));
        assert!(err(k8s(&[("bad key", "x")], &[])).contains("invalid label key \"bad key\""));
    }
}
