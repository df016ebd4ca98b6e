//! The test file as promtool reads it (`yaml.UnmarshalStrict`: an unknown field is an error).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    #[serde(default)]
    pub rule_files: Option<Vec<String>>,
    #[serde(default)]
    pub evaluation_interval: Option<Text>,
    #[serde(default)]
    pub group_eval_order: Option<Vec<String>>,
    #[serde(default)]
    pub tests: Option<Vec<TestGroup>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestGroup {
    #[serde(default)]
    pub interval: Option<Text>,
    #[serde(default)]
    pub input_series: Option<Vec<Series>>,
    #[serde(default)]
    pub alert_rule_test: Option<Vec<AlertTestCase>>,
    #[serde(default)]
    pub promql_expr_test: Option<Vec<PromqlTestCase>>,
    #[serde(default)]
    pub external_labels: Option<BTreeMap<String, Text>>,
    #[serde(default)]
    pub external_url: Option<Text>,
    #[serde(default)]
    pub name: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    #[serde(default)]
    pub series: Option<Text>,
    #[serde(default)]
    pub values: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTestCase {
    #[serde(default)]
    pub eval_time: Option<Text>,
    #[serde(default)]
    pub alertname: Option<Text>,
    #[serde(default)]
    pub exp_alerts: Option<Vec<ExpAlert>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpAlert {
    #[serde(default)]
    pub exp_labels: Option<BTreeMap<String, Text>>,
    #[serde(default)]
    pub exp_annotations: Option<BTreeMap<String, Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromqlTestCase {
    #[serde(default)]
    pub expr: Option<Text>,
    #[serde(default)]
    pub eval_time: Option<Text>,
    #[serde(default)]
    pub exp_samples: Option<Vec<ExpSample>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpSample {
    #[serde(default)]
    pub labels: Option<Text>,
    #[serde(default)]
    pub value: Option<f64>,
}

/// A string field that, as in Go's yaml.v2, also takes a number or boolean scalar as its text
/// (`values: 1`, `code: 500`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Reads a test file's text.
pub fn parse(text: &str) -> Result<TestFile, String> {
    if text.trim().is_empty() {
        return Ok(TestFile::default());
    }
    serde_saphyr::from_str::<Option<TestFile>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| format!("yaml: {}", e.to_string().lines().next().unwrap_or("")))
}
