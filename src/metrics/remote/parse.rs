//! Prometheus's HTTP API answers (`/api/v1/query`, `/api/v1/query_range`), parsed into plain
//! series. Pure: bytes in, series or a problem out.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Label pairs sorted by name, `__name__` included when the series has one.
pub type Labels = Vec<(String, String)>;

/// Each series of an instant query with its one (ms, value) sample.
pub type InstantSeries = Vec<(Labels, (i64, f64))>;

/// Each series of a range query with its (ms, value) samples.
pub type RangeSeries = Vec<(Labels, Vec<(i64, f64)>)>;

/// What went wrong in an answer, before the client adds who answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// `"status": "error"`: Prometheus's own `errorType` and `error`.
    Api { error_type: String, error: String },
    /// Not the JSON the API documents.
    Malformed(String),
    /// A result type the caller cannot take (a range vector from an instant query, a string).
    Unexpected(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct VectorItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// Absent for native-histogram samples (`histogram`), which are skipped.
    #[serde(default)]
    value: Option<(f64, String)>,
}

#[derive(Deserialize)]
struct MatrixItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// An API answer's data, or its error; plus its warnings.
fn envelope(body: &[u8]) -> Result<(Data, Vec<String>), Problem> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| Problem::Malformed(format!("not a Prometheus API answer ({e})")))?;
    if env.status != "success" {
        return Err(Problem::Api {
            error_type: env.error_type.unwrap_or_else(|| "unknown".into()),
            error: env
                .error
                .unwrap_or_else(|| format!("status {:?}", env.status)),
        });
    }
    let data = env
        .data
        .ok_or_else(|| Problem::Malformed("a success without data".into()))?;
    Ok((data, env.warnings))
}

/// If `body` is an API error answer (Prometheus sends them with 4xx/5xx codes), that error.
pub(crate) fn api_error(body: &[u8]) -> Option<Problem> {
    match envelope(body) {
        Err(p @ Problem::Api { .. }) => Some(p),
        _ => None,
    }
}

/// An instant query's answer: a vector, or a scalar (one series without labels).
pub(crate) fn instant(body: &[u8]) -> Result<(InstantSeries, Vec<String>), Problem> {
    let (data, warnings) = envelope(body)?;
    let out = match data.result_type.as_str() {
        "vector" => {
            let items: Vec<VectorItem> = serde_json::from_value(data.result)
                .map_err(|e| Problem::Malformed(format!("a vector result: {e}")))?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let Some((t, v)) = item.value else { continue };
                out.push((labels(item.metric), (millis(t), value(&v)?)));
            }
            out
        }
        "scalar" => {
            let (t, v): (f64, String) = serde_json::from_value(data.result)
                .map_err(|e| Problem::Malformed(format!("a scalar result: {e}")))?;
            vec![(Vec::new(), (millis(t), value(&v)?))]
        }
        "matrix" => {
            return Err(Problem::Unexpected(
                "the query gives a range vector; run it as a range query, or drop the [range]"
                    .into(),
            ));
        }
        other => {
            return Err(Problem::Unexpected(format!(
                "the query gives a {other}, not numbers"
            )));
        }
    };
    Ok((out, warnings))
}

/// A range query's answer: a matrix.
pub(crate) fn range(body: &[u8]) -> Result<(RangeSeries, Vec<String>), Problem> {
    let (data, warnings) = envelope(body)?;
    if data.result_type != "matrix" {
        return Err(Problem::Unexpected(format!(
            "a range query gave a {}, not a matrix",
            data.result_type
        )));
    }
    let items: Vec<MatrixItem> = serde_json::from_value(data.result)
        .map_err(|e| Problem::Malformed(format!("a matrix result: {e}")))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut points = Vec::with_capacity(item.values.len());
        for (t, v) in item.values {
            points.push((millis(t), value(&v)?));
        }
        out.push((labels(item.metric), points));
    }
    Ok((out, warnings))
}

fn labels(metric: BTreeMap<String, String>) -> Labels {
    metric.into_iter().collect()
}

/// Seconds (with millisecond decimals) to milliseconds.
fn millis(t: f64) -> i64 {
    // `as` saturates on overflow and maps NaN to 0: no panic on a wild timestamp.
    (t * 1000.0).round() as i64
}

/// A sample value: Prometheus sends them as strings so NaN and ±Inf survive JSON.
pub(crate) fn value(s: &str) -> Result<f64, Problem> {
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s
            .parse::<f64>()
            .map_err(|_| Problem::Malformed(format!("{s:?} is not a sample value"))),
    }
}
