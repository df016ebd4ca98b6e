//! `watchfloor scrape TARGET`: fetch one /metrics page, as the console's scrapers do, and print
//! what the parser made of it: one line per sample (or JSON), bad lines on stderr with their
//! line numbers. Handy on a jump host, and a hook for comparing parsers.
//!
//! TARGET is a URL (`http://10.0.0.5:9100/metrics`) or a pod, `NAMESPACE/POD[:PORT]`, reached
//! through the API server's proxy of `--context` (or the kubeconfig's current context). The port
//! and path come from the pod's `prometheus.io/*` annotations or its port named `metrics`,
//! unless given (`:PORT`, `--path`).
//!
//! Exit status: 0 every line parsed; 1 the page could not be fetched, or some lines were
//! skipped (the rest is still printed); 2 a bad target or configuration.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use crate::config::sources::ScrapingConfig;
use crate::kube::rows::Scrape;
use crate::metrics::expo::{self, Format, MetricType, Parsed};
use crate::metrics::scrape::{self, Body, How, Target};

/// A parsed TARGET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetArg {
    Url(url::Url),
    Pod {
        namespace: String,
        pod: String,
        port: Option<String>,
    },
}

/// Reads TARGET: a URL, or `NAMESPACE/POD[:PORT]`.
pub fn parse_target(text: &str) -> Result<TargetArg, String> {
    if text.starts_with("http://") || text.starts_with("https://") {
        return url::Url::parse(text)
            .map(TargetArg::Url)
            .map_err(|e| format!("{text}: not a URL: {e}"));
    }
    let Some((namespace, rest)) = text.split_once('/') else {
        return Err(format!(
            "{text}: give a URL (http://host:port/metrics) or a pod as NAMESPACE/POD[:PORT]"
        ));
    };
    let (pod, port) = match rest.split_once(':') {
        Some((pod, port)) => (pod, Some(port.to_string())),
        None => (rest, None),
    };
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    };
    if !name_ok(namespace) || !name_ok(pod) {
        return Err(format!(
            "{text}: {namespace:?}/{pod:?} is not a namespace/pod name (lowercase letters, digits, '-' and '.')"
        ));
    }
    if let Some(p) = &port
        && p.is_empty()
    {
        return Err(format!("{text}: the port after ':' is empty"));
    }
    Ok(TargetArg::Pod {
        namespace: namespace.to_string(),
        pod: pod.to_string(),
        port,
    })
}

/// Where the pod's metrics are: the port given, else its annotations or named port, else the
/// configuration's `pod_port`.
pub fn pod_endpoint(
    pod: &Pod,
    port: Option<String>,
    path: Option<&str>,
    config: &ScrapingConfig,
) -> Result<(String, String, String), String> {
    let row = crate::kube::convert::pod_row(pod, jiff::Timestamp::now());
    let (found_port, found_path, scheme) = match row.scrape {
        Scrape::At(spec) => (
            spec.port,
            spec.path.unwrap_or_else(|| config.pod_path.clone()),
            spec.scheme,
        ),
        Scrape::OptedOut | Scrape::Unsaid => (None, config.pod_path.clone(), "http".to_string()),
    };
    let port = port
        .or(found_port)
        .or_else(|| config.pod_port.map(|p| p.to_string()))
        .ok_or_else(|| {
            format!(
                "pod {}/{} names no metrics port (no prometheus.io/port annotation, no port named metrics): give one as {}/{}:PORT",
                row.key.namespace, row.key.name, row.key.namespace, row.key.name
            )
        })?;
    let path = path.map_or(found_path, |p| {
        if p.starts_with('/') {
            p.to_string()
        } else {
            format!("/{p}")
        }
    });
    Ok((port, path, scheme))
}

#[derive(Serialize)]
struct JsonPage<'a> {
    target: &'a str,
    content_type: Option<&'a str>,
    format: &'static str,
    eof: bool,
    families: Vec<JsonFamily<'a>>,
    samples: Vec<JsonSample<'a>>,
    errors: Vec<JsonError<'a>>,
}

#[derive(Serialize)]
struct JsonFamily<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    help: Option<&'a str>,
    unit: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSample<'a> {
    name: &'a str,
    labels: BTreeMap<&'a str, &'a str>,
    /// As the Prometheus API writes values: a string, so NaN and ±Inf survive JSON.
    value: String,
    timestamp_ms: Option<i64>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    line: u32,
    message: &'a str,
}

fn type_word(t: MetricType) -> &'static str {
    match t {
        MetricType::Counter => "counter",
        MetricType::Gauge => "gauge",
        MetricType::Histogram => "histogram",
        MetricType::GaugeHistogram => "gaugehistogram",
        MetricType::Summary => "summary",
        MetricType::Info => "info",
        MetricType::StateSet => "stateset",
        MetricType::Unknown => "unknown",
    }
}

/// A float as Go's strconv.FormatFloat(v, 'g', -1, 64) prints it, which is how Prometheus writes
/// values: shortest round-trip digits, `+Inf`, `-Inf`, `NaN`, `1e+06`.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // The shortest round-trip digits, and their decimal exponent.
    let sci = format!("{v:e}");
    let (mantissa, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = e.parse().unwrap_or(0);
    // Go's 'g' with the shortest precision switches to an exponent below 1e-4 and from 1e6 on.
    if (-4..6).contains(&exp) {
        format!("{v}")
    } else {
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        format!("{mantissa}e{sign}{digits:0>2}")
    }
}

/// `name{a="b"} value [ts]` per sample, label values escaped as in the text format.
pub fn write_text(out: &mut impl Write, parsed: &Parsed<'_>) -> std::io::Result<()> {
    for s in &parsed.samples {
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|(k, v)| {
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                format!("{k}=\"{v}\"")
            })
            .collect();
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", labels.join(","))
        };
        match s.timestamp_ms {
            Some(t) => writeln!(out, "{}{labels} {} {t}", s.name, go_float(s.value))?,
            None => writeln!(out, "{}{labels} {}", s.name, go_float(s.value))?,
        }
    }
    Ok(())
}

pub fn write_json(
    out: &mut impl Write,
    target: &str,
    body: &Body,
    parsed: &Parsed<'_>,
    format: Format,
) -> std::io::Result<()> {
    let page = JsonPage {
        target,
        content_type: body.content_type.as_deref(),
        format: match format {
            Format::Text => "text",
            Format::OpenMetrics => "openmetrics",
        },
        eof: parsed.eof,
        families: parsed
            .families
            .iter()
            .map(|f| JsonFamily {
                name: f.name,
                kind: type_word(f.kind),
                help: f.help.as_deref(),
                unit: f.unit,
            })
            .collect(),
        samples: parsed
            .samples
            .iter()
            .map(|s| JsonSample {
                name: s.name,
                labels: s.labels.iter().map(|(k, v)| (*k, v.as_ref())).collect(),
                value: go_float(s.value),
                timestamp_ms: s.timestamp_ms,
            })
            .collect(),
        errors: parsed
            .errors
            .iter()
            .map(|e| JsonError {
                line: e.line,
                message: &e.message,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &page)?;
    writeln!(out)
}

/// What `run` needs besides the target.
pub struct ScrapeCmd<'a> {
    pub target: &'a str,
    pub json: bool,
    pub path: Option<&'a str>,
    pub timeout: Duration,
    pub config: &'a ScrapingConfig,
    /// For a pod: the kube client config of the context to go through, or why there is none.
    pub kube: Option<Result<(kube::Config, String), String>>,
}

/// Fetches, parses and prints; returns the exit status.
pub async fn run(
    cmd: ScrapeCmd<'_>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> std::io::Result<i32> {
    let target = match parse_target(cmd.target) {
        Ok(t) => t,
        Err(e) => {
            writeln!(err, "watchfloor scrape: {e}")?;
            return Ok(2);
        }
    };
    let now = jiff::Timestamp::now();
    let fetched = match target {
        TargetArg::Url(url) => {
            let t = Target {
                key: format!("url:{url}"),
                labels: Vec::new(),
                how: How::Url(url),
                interval: cmd.timeout,
                timeout: cmd.timeout,
            };
            match scrape::http_client() {
                Ok(http) => scrape::fetch_url(&http, &t, now).await,
                Err(e) => {
                    writeln!(err, "watchfloor scrape: {e}")?;
                    return Ok(2);
                }
            }
        }
        TargetArg::Pod {
            namespace,
            pod,
            port,
        } => {
            let (config, context) = match cmd.kube {
                Some(Ok(k)) => k,
                Some(Err(e)) => {
                    writeln!(err, "watchfloor scrape: {e}")?;
                    return Ok(2);
                }
                None => {
                    writeln!(
                        err,
                        "watchfloor scrape: no kubeconfig context to reach pod {namespace}/{pod} through"
                    )?;
                    return Ok(2);
                }
            };
            let client = match crate::kube::client::client(config.clone()) {
                Ok(c) => c,
                Err(e) => {
                    writeln!(err, "watchfloor scrape: {context}: {e}")?;
                    return Ok(2);
                }
            };
            let pods: kube::Api<Pod> = kube::Api::namespaced(client, &namespace);
            let found = match tokio::time::timeout(cmd.timeout, pods.get(&pod)).await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => {
                    let what = format!("pod {namespace}/{pod}");
                    let failure = crate::kube::error::from_kube(&what, &e);
                    writeln!(err, "watchfloor scrape: {context}: {}", failure.text)?;
                    return Ok(1);
                }
                Err(_) => {
                    writeln!(
                        err,
                        "watchfloor scrape: {context}: no answer within {:?}",
                        cmd.timeout
                    )?;
                    return Ok(1);
                }
            };
            let (port, path, scheme) = match pod_endpoint(&found, port, cmd.path, cmd.config) {
                Ok(e) => e,
                Err(e) => {
                    writeln!(err, "watchfloor scrape: {e}")?;
                    return Ok(2);
                }
            };
            let t = Target {
                key: format!("{context}/{namespace}/{pod}"),
                labels: Vec::new(),
                how: How::PodProxy {
                    namespace,
                    pod,
                    port,
                    path,
                    scheme,
                },
                interval: cmd.timeout,
                timeout: cmd.timeout,
            };
            match scrape::scrape_client(config) {
                Ok(c) => scrape::fetch_pod(&c, &t, now).await,
                Err(e) => {
                    writeln!(err, "watchfloor scrape: {context}: {e}")?;
                    return Ok(2);
                }
            }
        }
    };
    let body = match fetched {
        Ok(b) => b,
        Err(e) => {
            writeln!(err, "watchfloor scrape: {}: {e}", cmd.target)?;
            return Ok(1);
        }
    };
    let format = Format::from_content_type(body.content_type.as_deref());
    let parsed = expo::parse(&body.text, format);
    if cmd.json {
        write_json(out, cmd.target, &body, &parsed, format)?;
    } else {
        write_text(out, &parsed)?;
    }
    for e in &parsed.errors {
        writeln!(err, "{}: {e}", cmd.target)?;
    }
    writeln!(
        err,
        "{} samples in {} families{}",
        parsed.samples.len(),
        parsed.families.len(),
        parsed
            .skipped_summary()
            .map_or(String::new(), |s| format!(", {s}"))
    )?;
    Ok(if parsed.errors.is_empty() { 0 } else { 1 })
}

#[cfg(test)]
mod tests;
