//! Writing metric families in the Prometheus text format 0.0.4 or OpenMetrics 1.0, chosen from
//! the request's Accept header the way client_golang's promhttp negotiates.

use std::fmt::Write as _;

/// The exposition format of one scrape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text`, with the version the scraper asked for.
    OpenMetrics { v1: bool },
}

impl Format {
    /// The format a scraper's Accept header asks for: OpenMetrics when it is acceptable and not
    /// ranked below the text format (Prometheus asks for it first), else text.
    pub fn negotiate(headers: &http::HeaderMap) -> Self {
        let mut best_om: Option<(f32, bool)> = None;
        let mut text_q: f32 = 0.0;
        for value in headers.get_all(http::header::ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for range in value.split(',') {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next().unwrap_or("").to_ascii_lowercase();
                let (mut q, mut version) = (1.0_f32, None);
                for p in parts {
                    match p.split_once('=') {
                        Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => {
                            q = v.trim().parse().unwrap_or(0.0);
                        }
                        Some((k, v)) if k.trim().eq_ignore_ascii_case("version") => {
                            version = Some(v.trim().to_string());
                        }
                        _ => {}
                    }
                }
                if q.is_nan() || q <= 0.0 {
                    continue;
                }
                match media.as_str() {
                    "application/openmetrics-text" => {
                        let v1 = version.as_deref().is_none_or(|v| v.starts_with('1'));
                        if best_om.is_none_or(|(bq, bv)| q > bq || (q == bq && v1 && !bv)) {
                            best_om = Some((q, v1));
                        }
                    }
                    "text/plain" | "*/*" | "text/*" => text_q = text_q.max(q),
                    _ => {}
                }
            }
        }
        match best_om {
            Some((q, v1)) if q >= text_q => Format::OpenMetrics { v1 },
            _ => Format::Text,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics { v1: true } => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            }
            Format::OpenMetrics { v1: false } => {
                "application/openmetrics-text; version=0.0.1; charset=utf-8"
            }
        }
    }
}

/// Label pairs of one sample.
pub type Labels<'a> = &'a [(&'a str, &'a str)];

/// One histogram series: cumulative bucket counts per upper bound, then count and sum.
pub struct Hist<'a> {
    pub labels: Labels<'a>,
    pub buckets: &'a [(f64, u64)],
    pub count: u64,
    pub sum: f64,
}

/// A metrics page being written.
pub struct Expo {
    format: Format,
    out: String,
}

fn escape_label(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A sample value as both formats spell it (`+Inf`, `NaN`; integers without a fraction).
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl Expo {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            out: String::with_capacity(4096),
        }
    }

    fn header(&mut self, family: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {family} {help}");
        let _ = writeln!(self.out, "# TYPE {family} {kind}");
    }

    fn sample(&mut self, name: &str, labels: Labels<'_>, extra: Option<(&str, &str)>, v: &str) {
        self.out.push_str(name);
        let all = labels.iter().copied().chain(extra);
        let mut first = true;
        for (k, val) in all {
            self.out.push(if first { '{' } else { ',' });
            first = false;
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_label(val, &mut self.out);
            self.out.push('"');
        }
        if !first {
            self.out.push('}');
        }
        self.out.push(' ');
        self.out.push_str(v);
        self.out.push('\n');
    }

    /// A counter family; `name` is without `_total`, which the samples carry.
    pub fn counter(&mut self, name: &str, help: &str, samples: &[(Labels<'_>, f64)]) {
        let family = match self.format {
            Format::Text => format!("{name}_total"),
            Format::OpenMetrics { .. } => name.to_string(),
        };
        self.header(&family, "counter", help);
        let sample = format!("{name}_total");
        for (labels, v) in samples {
            self.sample(&sample, labels, None, &value(v.max(0.0)));
        }
    }

    pub fn gauge(&mut self, name: &str, help: &str, samples: &[(Labels<'_>, f64)]) {
        self.header(name, "gauge", help);
        for (labels, v) in samples {
            self.sample(name, labels, None, &value(*v));
        }
    }

    /// A histogram family; `+Inf` is added from the count.
    pub fn histogram(&mut self, name: &str, help: &str, series: &[Hist<'_>]) {
        self.header(name, "histogram", help);
        let bucket = format!("{name}_bucket");
        for h in series {
            for &(le, n) in h.buckets {
                let le = self.le(le);
                self.sample(&bucket, h.labels, Some(("le", &le)), &n.to_string());
            }
            self.sample(
                &bucket,
                h.labels,
                Some(("le", "+Inf")),
                &h.count.to_string(),
            );
            self.sample(&format!("{name}_sum"), h.labels, None, &value(h.sum));
            self.sample(
                &format!("{name}_count"),
                h.labels,
                None,
                &h.count.to_string(),
            );
        }
    }

    /// A bucket bound: client_golang writes `1` in the text format and the canonical `1.0` in
    /// OpenMetrics.
    fn le(&self, le: f64) -> String {
        match self.format {
            Format::OpenMetrics { .. } if le.fract() == 0.0 => format!("{le:.1}"),
            _ => value(le),
        }
    }

    pub fn finish(mut self) -> String {
        if let Format::OpenMetrics { .. } = self.format {
            self.out.push_str("# EOF\n");
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::ACCEPT, v.parse().unwrap());
        h
    }

    #[test]
    fn negotiates_like_promhttp() {
        // What Prometheus 2.x sends.
        let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(
            Format::negotiate(&accept(prom)),
            Format::OpenMetrics { v1: true }
        );
        let old = "application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5";
        assert_eq!(
            Format::negotiate(&accept(old)),
            Format::OpenMetrics { v1: false }
        );
        assert_eq!(Format::negotiate(&accept("*/*")), Format::Text);
        assert_eq!(
            Format::negotiate(&accept("text/plain,application/openmetrics-text;q=0.3")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(&accept("application/openmetrics-text;q=0")),
            Format::Text
        );
        assert_eq!(Format::negotiate(&http::HeaderMap::new()), Format::Text);
        assert_eq!(Format::negotiate(&accept(";;,=;q=x,")), Format::Text);
    }

    #[test]
    fn writes_both_formats() {
        let mut t = Expo::new(Format::Text);
        t.counter("jobs", "Jobs done.", &[(&[("queue", "a\"b")], 3.0)]);
        t.gauge("temp", "Temperature.", &[(&[], f64::INFINITY)]);
        t.histogram(
            "d_seconds",
            "Durations.",
            &[Hist {
                labels: &[],
                buckets: &[(0.5, 1), (1.0, 2)],
                count: 3,
                sum: 2.5,
            }],
        );
        let text = t.finish();
        assert!(text.contains("# TYPE jobs_total counter\njobs_total{queue=\"a\\\"b\"} 3\n"));
        assert!(text.contains("temp +Inf\n"));
        assert!(text.contains("d_seconds_bucket{le=\"1\"} 2\nd_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(!text.contains("# EOF"));
        let mut o = Expo::new(Format::OpenMetrics { v1: true });
        o.counter("jobs", "Jobs done.", &[(&[], 3.0)]);
        o.histogram(
            "d_seconds",
            "Durations.",
            &[Hist {
                labels: &[("route", "/")],
                buckets: &[(1.0, 2)],
                count: 3,
                sum: 2.5,
            }],
        );
        let om = o.finish();
        assert!(om.contains("# TYPE jobs counter\njobs_total 3\n"));
        assert!(om.contains("d_seconds_bucket{route=\"/\",le=\"1.0\"} 2\n"));
        assert!(om.ends_with("# EOF\n"));
    }
}
