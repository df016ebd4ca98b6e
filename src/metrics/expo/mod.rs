//! The Prometheus text (0.0.4) and OpenMetrics 1.0 exposition parser.
//!
//! Why our own: prometheus-parse 0.2.5 (kept only as a benchmark baseline) drops metric names
//! with `:`, drops samples whose label value holds `}`, splits values holding `,` or `=`, and
//! leaves `\"` undecoded. Numbers shown in an incident must be the numbers the target exported.
//!
//! Semantics follow Prometheus's `textparse` (promparse.go, openmetricsparse.go) and the
//! OpenMetrics 1.0 spec. Where we differ, on purpose:
//! - **Bad lines are skipped, not fatal.** Prometheus rejects the whole scrape at the first bad
//!   line. A console is better served by every good line plus a list of the bad ones: each is in
//!   [`Parsed::errors`] with its 1-based line number, so the caller can say "3 lines skipped" and
//!   show why. A caller wanting Prometheus's behaviour treats a non-empty `errors` as failure.
//! - **Missing `# EOF`** in OpenMetrics is reported as an error but the samples are kept (it
//!   usually means a truncated body; the caller decides). Anything after `# EOF` is one error
//!   and is not parsed.
//! - **Label value escapes** other than `\\`, `\"`, `\n` are errors in both formats (as in
//!   client_golang's parser and the OpenMetrics spec); Prometheus's text parser keeps them
//!   literally. HELP text keeps unknown escapes literally, as Prometheus does.
//! - **`\r\n` line endings** are errors in both formats, as in Prometheus (its lexer reads the
//!   `\r` into the value and fails); the message says what happened instead of "bad number".
//! - **A second TYPE or HELP for one family** is an error (client_golang rejects it too);
//!   OpenMetrics metadata after the family's samples is an error (the spec groups families).
//! - Quoted UTF-8 metric names (Prometheus 3's `{"my.metric"}`) are not supported yet: such a
//!   line is reported as an error.
//!
//! Zero-copy: names, label names, help without escapes and label values without escapes borrow
//! the input; a sample allocates only its label vector, sized exactly once.

mod lex;
mod line;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

/// The exposition format of one scrape body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4` (also what an unknown or missing Content-Type means).
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// From a Content-Type header as Prometheus negotiates it: `application/openmetrics-text...`
    /// → OpenMetrics, else Text (Prometheus falls back to the text parser for anything else).
    pub fn from_content_type(ct: Option<&str>) -> Format {
        let media = ct.and_then(|ct| ct.split(';').next()).map(str::trim);
        match media {
            Some(m) if m.eq_ignore_ascii_case("application/openmetrics-text") => {
                Format::OpenMetrics
            }
            _ => Format::Text,
        }
    }
}

/// A family's declared type. The text format's `untyped` is [`MetricType::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl MetricType {
    /// The type named on a `# TYPE` line, among those the format defines.
    fn from_type_word(word: &str, format: Format) -> Option<MetricType> {
        let om = format == Format::OpenMetrics;
        Some(match word {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" if !om => MetricType::Unknown,
            "unknown" if om => MetricType::Unknown,
            "gaugehistogram" if om => MetricType::GaugeHistogram,
            "info" if om => MetricType::Info,
            "stateset" if om => MetricType::StateSet,
            _ => return None,
        })
    }

    /// Whether a sample named family name + `suffix` belongs to a family of this type.
    fn has_suffix(self, suffix: &str) -> bool {
        matches!(
            (self, suffix),
            (MetricType::Counter, "_total" | "_created")
                | (
                    MetricType::Histogram,
                    "_bucket" | "_sum" | "_count" | "_created"
                )
                | (MetricType::GaugeHistogram, "_bucket" | "_gsum" | "_gcount")
                | (MetricType::Summary, "_sum" | "_count" | "_created")
                | (MetricType::Info, "_info")
        )
    }
}

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample<'a> {
    /// Full sample name, e.g. `http_requests_total`, `x_bucket`.
    pub name: &'a str,
    /// In exposition order; values unescaped (borrowed when they hold no escape).
    pub labels: Vec<(&'a str, Cow<'a, str>)>,
    pub value: f64,
    /// Text: integer ms; OpenMetrics: float seconds converted to ms (truncated toward zero).
    pub timestamp_ms: Option<i64>,
    /// 1-based line number.
    pub line: u32,
}

impl Sample<'_> {
    /// The value of label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }
}

/// A family's metadata from its `# TYPE`, `# HELP` and `# UNIT` lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Family<'a> {
    pub name: &'a str,
    pub kind: MetricType,
    pub help: Option<Cow<'a, str>>,
    pub unit: Option<&'a str>,
}

/// One line that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: u32,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LineError {}

/// Everything one body held: the good samples, the declared families, and the skipped lines.
#[derive(Clone, Debug, Default)]
pub struct Parsed<'a> {
    pub samples: Vec<Sample<'a>>,
    pub families: Vec<Family<'a>>,
    pub errors: Vec<LineError>,
    /// OpenMetrics `# EOF` seen.
    pub eof: bool,
}

/// Parses one scrape body. Never panics; bad lines land in [`Parsed::errors`]; linear in the
/// input's length.
pub fn parse(input: &str, format: Format) -> Parsed<'_> {
    line::Parser::new(input, format).run()
}

impl<'a> Parsed<'a> {
    /// The declared type of the family a sample belongs to (x_bucket/x_sum/x_count/x_created/
    /// x_total/x_info → x), Unknown if undeclared.
    ///
    /// Scans the families: fine for one look-up or a page of ordinary size; for every sample of
    /// a large page, build a [`Parsed::kind_index`] once.
    pub fn kind_of(&self, sample_name: &str) -> MetricType {
        family_kind(sample_name, |name| {
            self.families
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.kind)
        })
    }

    /// The family a sample belongs to, if it was declared.
    pub fn family_of(&self, sample_name: &str) -> Option<&Family<'a>> {
        let kind = |name: &str| {
            self.families
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.kind)
        };
        let name = family_name(sample_name, kind)?;
        self.families.iter().find(|f| f.name == name)
    }

    /// A hashed family index answering [`Parsed::kind_of`] in O(1) per sample.
    pub fn kind_index(&self) -> KindIndex<'a> {
        KindIndex(self.families.iter().map(|f| (f.name, f.kind)).collect())
    }

    /// "N lines skipped" for a status line, or None when every line parsed.
    pub fn skipped_summary(&self) -> Option<String> {
        match self.errors.len() {
            0 => None,
            1 => Some("1 line skipped".into()),
            n => Some(format!("{n} lines skipped")),
        }
    }
}

/// Family name → declared type, for classifying every sample of a page.
#[derive(Clone, Debug, Default)]
pub struct KindIndex<'a>(std::collections::HashMap<&'a str, MetricType>);

impl KindIndex<'_> {
    /// As [`Parsed::kind_of`].
    pub fn kind_of(&self, sample_name: &str) -> MetricType {
        family_kind(sample_name, |name| self.0.get(name).copied())
    }
}

/// The declared family name a sample belongs to: the sample's own name when it is declared
/// (the text format declares counters as `x_total`), else the name less a suffix the declared
/// type of the rest owns (`x_bucket` of histogram `x`; not `x_bucket` of gauge `x`).
fn family_name(sample_name: &str, declared: impl Fn(&str) -> Option<MetricType>) -> Option<&str> {
    if declared(sample_name).is_some() {
        return Some(sample_name);
    }
    const SUFFIXES: [&str; 8] = [
        "_bucket", "_sum", "_count", "_created", "_total", "_info", "_gsum", "_gcount",
    ];
    SUFFIXES.iter().find_map(|suffix| {
        let base = sample_name.strip_suffix(suffix)?;
        declared(base)
            .is_some_and(|k| k.has_suffix(suffix))
            .then_some(base)
    })
}

fn family_kind(sample_name: &str, declared: impl Fn(&str) -> Option<MetricType>) -> MetricType {
    family_name(sample_name, &declared)
        .and_then(declared)
        .unwrap_or(MetricType::Unknown)
}
