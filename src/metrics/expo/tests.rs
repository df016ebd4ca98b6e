use std::borrow::Cow;

use proptest::prelude::*;

use super::lex::{go_float, om_float, om_timestamp};
use super::*;

fn text(s: &str) -> Parsed<'_> {
    parse(s, Format::Text)
}

fn om(s: &str) -> Parsed<'_> {
    parse(s, Format::OpenMetrics)
}

fn labels<'a>(s: &'a Sample<'a>) -> Vec<(&'a str, &'a str)> {
    s.labels.iter().map(|(k, v)| (*k, v.as_ref())).collect()
}

fn error_lines(p: &Parsed<'_>) -> Vec<u32> {
    p.errors.iter().map(|e| e.line).collect()
}

#[test]
fn content_type_negotiation() {
    let f = Format::from_content_type;
    assert_eq!(
        f(Some(
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        )),
        Format::OpenMetrics
    );
    assert_eq!(
        f(Some("Application/OpenMetrics-Text;version=0.0.1")),
        Format::OpenMetrics
    );
    assert_eq!(
        f(Some("text/plain; version=0.0.4; charset=utf-8")),
        Format::Text
    );
    assert_eq!(f(Some("application/json")), Format::Text);
    assert_eq!(f(None), Format::Text);
}

#[test]
fn text_basics_help_type_and_samples() {
    let p = text(
        "# HELP http_requests_total Requests \\\\ served.\\nSecond line.\n\
         # TYPE http_requests_total counter\n\
         # a plain comment\n\
         \n\
         http_requests_total{method=\"get\",code=\"200\",} 1027 1395066363000\n\
         job:rate5m:sum 3.5e-3\n",
    );
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.families.len(), 1);
    let fam = &p.families[0];
    assert_eq!(fam.kind, MetricType::Counter);
    assert_eq!(
        fam.help.as_deref(),
        Some("Requests \\ served.\nSecond line.")
    );
    assert_eq!(p.samples.len(), 2);
    let s = &p.samples[0];
    assert_eq!(labels(s), [("method", "get"), ("code", "200")]);
    assert_eq!(
        (s.value, s.timestamp_ms, s.line),
        (1027.0, Some(1395066363000), 5)
    );
    assert!(matches!(s.labels[0].1, Cow::Borrowed(_)));
    assert_eq!(p.samples[1].name, "job:rate5m:sum");
    assert_eq!(p.samples[1].value, 3.5e-3);
    assert_eq!(p.kind_of("http_requests_total"), MetricType::Counter);
    assert_eq!(p.kind_of("job:rate5m:sum"), MetricType::Unknown);
}

#[test]
fn label_values_with_every_troublesome_character() {
    let p = text("x{a=\"}\",b=\",=\",c=\"q\\\"uote\\\\ \\n\"} 1\n");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(
        labels(&p.samples[0]),
        [("a", "}"), ("b", ",="), ("c", "q\"uote\\ \n")]
    );
    assert!(matches!(p.samples[0].labels[2].1, Cow::Owned(_)));
}

#[test]
fn text_allows_blanks_inside_label_sets_and_around_tokens() {
    let p = text("  x { a = \"1\" , b=\"2\" }\t7\t 12 \n");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(labels(&p.samples[0]), [("a", "1"), ("b", "2")]);
    assert_eq!(p.samples[0].timestamp_ms, Some(12));
}

#[test]
fn go_float_reads_what_strconv_reads() {
    assert!(go_float("NaN").is_some_and(f64::is_nan));
    assert!(go_float("nan").is_some_and(f64::is_nan));
    assert_eq!(go_float("+Inf"), Some(f64::INFINITY));
    assert_eq!(go_float("-inf"), Some(f64::NEG_INFINITY));
    assert_eq!(go_float("Infinity"), Some(f64::INFINITY));
    assert_eq!(go_float("1e3"), Some(1000.0));
    assert_eq!(go_float("-1.5E-3"), Some(-0.0015));
    assert_eq!(go_float(".5"), Some(0.5));
    assert_eq!(go_float("5."), Some(5.0));
    assert_eq!(go_float("1_000"), Some(1000.0));
    assert_eq!(go_float("0x1p-2"), Some(0.25));
    assert_eq!(go_float("0x1.8p1"), Some(3.0));
    assert_eq!(go_float("-0"), Some(-0.0));
    for bad in [
        "", "+", "-NaN", "1_", "_1", "1__0", "0x1", "1e", "e3", "1.2.3", "abc", "1e400", "0x",
        "--1", "1 ",
    ] {
        assert_eq!(go_float(bad), None, "{bad:?}");
    }
}

#[test]
fn om_float_is_the_spec_grammar() {
    assert_eq!(om_float("1.5e3"), Some(1500.0));
    assert_eq!(om_float("+Inf"), Some(f64::INFINITY));
    assert!(om_float("NaN").is_some_and(f64::is_nan));
    for bad in ["0x1p3", "1_000", "", "e", "1e400"] {
        assert_eq!(om_float(bad), None, "{bad:?}");
    }
}

#[test]
fn om_timestamps_convert_digit_by_digit() {
    assert_eq!(om_timestamp("1.001"), Some(1001));
    assert_eq!(om_timestamp("1520879607.789"), Some(1_520_879_607_789));
    assert_eq!(om_timestamp("1520879607.7899"), Some(1_520_879_607_789));
    assert_eq!(om_timestamp("1.5e3"), Some(1_500_000));
    assert_eq!(om_timestamp("-2.5"), Some(-2500));
    assert_eq!(om_timestamp("NaN"), None);
    assert_eq!(om_timestamp("1e300"), None);
}

#[test]
fn bad_lines_are_reported_with_line_numbers_and_skipped() {
    let input = "ok 1\n\
                 trunc{a=\"b\" 1\n\
                 badval{a=\"b\"} one\n\
                 esc{a=\"\\x\"} 1\n\
                 dup{a=\"1\",a=\"2\"} 1\n\
                 9bad 1\n\
                 novalue{a=\"b\"}\n\
                 # TYPE ok flavour\n\
                 ts 1 12.5\n\
                 crlf 1\r\n\
                 also_ok{x=\"y\"} 2\n";
    let p = text(input);
    assert_eq!(error_lines(&p), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let names: Vec<_> = p.samples.iter().map(|s| (s.name, s.line)).collect();
    assert_eq!(names, [("ok", 1), ("also_ok", 11)]);
    let shown: Vec<String> = p.errors.iter().map(ToString::to_string).collect();
    assert!(shown[0].starts_with("line 2: trunc:"), "{}", shown[0]);
    assert!(shown[1].contains("\"one\" is not a number"), "{}", shown[1]);
    assert!(shown[2].contains("bad escape"), "{}", shown[2]);
    assert!(shown[3].contains("\"a\" appears twice"), "{}", shown[3]);
    assert!(shown[8].contains("Windows"), "{}", shown[8]);
    assert_eq!(p.skipped_summary().as_deref(), Some("9 lines skipped"));
}

#[test]
fn openmetrics_page_with_every_family_type() {
    let input = "# TYPE req counter\n\
                 # HELP req Requests with a \\\"quote\\\".\n\
                 req_total{path=\"/\"} 10 1520879607.789 # {trace_id=\"abc\"} 1.0 1520879607.7\n\
                 req_created{path=\"/\"} 1520870000.123\n\
                 # TYPE lat_seconds histogram\n\
                 # UNIT lat_seconds seconds\n\
                 lat_seconds_bucket{le=\"0.1\"} 3 # {trace_id=\"t\"} 0.05\n\
                 lat_seconds_bucket{le=\"+Inf\"} 5\n\
                 lat_seconds_sum 0.7\n\
                 lat_seconds_count 5\n\
                 # TYPE q gaugehistogram\n\
                 q_bucket{le=\"+Inf\"} 2\n\
                 q_gcount 2\n\
                 q_gsum 4\n\
                 # TYPE build info\n\
                 build_info{version=\"1.2\"} 1\n\
                 # TYPE state stateset\n\
                 state{state=\"a\"} 1\n\
                 state{state=\"b\"} 0\n\
                 # TYPE rpc summary\n\
                 rpc{quantile=\"0.5\"} NaN\n\
                 rpc_sum -Inf\n\
                 rpc_count 0\n\
                 # EOF\n";
    let p = om(input);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert!(p.eof);
    assert_eq!(p.samples.len(), 15);
    assert_eq!(p.samples[0].timestamp_ms, Some(1_520_879_607_789));
    assert_eq!(
        p.families[0].help.as_deref(),
        Some("Requests with a \"quote\".")
    );
    assert_eq!(p.families[1].unit, Some("seconds"));
    let kinds = [
        ("req_total", MetricType::Counter),
        ("req_created", MetricType::Counter),
        ("lat_seconds_bucket", MetricType::Histogram),
        ("lat_seconds_count", MetricType::Histogram),
        ("q_gsum", MetricType::GaugeHistogram),
        ("build_info", MetricType::Info),
        ("state", MetricType::StateSet),
        ("rpc", MetricType::Summary),
        ("rpc_sum", MetricType::Summary),
        ("rpc_bucket", MetricType::Unknown),
        ("nothing", MetricType::Unknown),
    ];
    let index = p.kind_index();
    for (name, kind) in kinds {
        assert_eq!(p.kind_of(name), kind, "{name}");
        assert_eq!(index.kind_of(name), kind, "{name}");
    }
    assert_eq!(
        p.family_of("lat_seconds_sum").map(|f| f.name),
        Some("lat_seconds")
    );
    let rpc = p.samples.iter().find(|s| s.name == "rpc").map(|s| s.value);
    assert!(rpc.is_some_and(f64::is_nan));
}

#[test]
fn openmetrics_errors() {
    // Missing EOF: samples kept, one error after the last line.
    let p = om("a 1\nb 2\n");
    assert_eq!(p.samples.len(), 2);
    assert_eq!(error_lines(&p), [3]);
    assert!(!p.eof);
    // Text after EOF: one error, nothing after it parsed.
    let p = om("a 1\n# EOF\nb 2\nc 3\n");
    assert_eq!((p.samples.len(), error_lines(&p)), (1, vec![3]));
    // Empty input: no EOF on line 1.
    assert_eq!(error_lines(&om("")), [1]);
    let p = om("a{x=\"1\",} 1\n\
                a{x = \"1\"} 1\n\
                a  1\n\
                a 1 \n\
                \n\
                # random comment\n\
                a 1 # {x=\"y\"}\n\
                a 1 # {x=\"y\"} 1 nope\n\
                # UNIT a_bytes seconds\n\
                a 0x10\n\
                a 1 # {x=\"y\"} 1 2 3\n\
                # TYPE b counter\n\
                b_total 1\n\
                # HELP b late\n\
                # TYPE c flavour\n\
                # EOF\n");
    assert_eq!(
        error_lines(&p),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15],
        "{:#?}",
        p.errors
    );
    assert_eq!(p.samples.len(), 1);
    assert!(p.eof);
}

#[test]
fn exemplar_labels_are_limited_to_128_characters() {
    let long = "v".repeat(130);
    let page = format!("a_total 1 # {{id=\"{long}\"}} 1\n# EOF\n");
    let p = om(&page);
    assert_eq!(error_lines(&p), [1]);
    assert!(p.errors[0].message.contains("128"), "{:?}", p.errors);
}

#[test]
fn metadata_twice_is_an_error_and_types_are_per_format() {
    let p =
        text("# TYPE a gauge\n# TYPE a counter\n# HELP a x\n# HELP a y\n# TYPE g gaugehistogram\n");
    assert_eq!(error_lines(&p), [2, 4, 5]);
    assert_eq!(p.kind_of("a"), MetricType::Gauge);
    let p = om("# TYPE u untyped\n# EOF\n");
    assert_eq!(error_lines(&p), [1]);
}

#[test]
fn many_labels_and_a_long_line_stay_linear() {
    let mut line = String::from("x{");
    for i in 0..20_000 {
        line.push_str(&format!("l{i}=\"v\","));
    }
    line.push_str("l0=\"dup\"} 1\n");
    let p = text(&line);
    assert_eq!(error_lines(&p), [1]);
    let big = format!("y{{a=\"{}\"}} 2\n", "z".repeat(1 << 20));
    let p = text(&big);
    assert_eq!(p.samples[0].label("a").map(str::len), Some(1 << 20));
}

/// Renders families the way client libraries do (the escaping rules of both formats).
/// A generated sample: name, labels, value, timestamp.
type GenSample = (String, Vec<(String, String)>, f64, Option<i64>);

fn render(samples: &[GenSample]) -> String {
    let mut out = String::new();
    for (name, labels, value, ts) in samples {
        out.push_str(name);
        if !labels.is_empty() {
            out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                out.push_str(&format!("{k}=\"{v}\""));
            }
            out.push('}');
        }
        out.push_str(&format!(" {value:?}"));
        if let Some(ts) = ts {
            out.push_str(&format!(" {ts}"));
        }
        out.push('\n');
    }
    out
}

fn label_set() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map(
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        "(?s).{0,12}|[}{,=\"\\\\\n ]{0,6}",
        0..5,
    )
    .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn rendered_text_parses_back_losslessly(
        samples in proptest::collection::vec(
            ("[a-zA-Z_:][a-zA-Z0-9_:]{0,16}", label_set(), any::<f64>(), proptest::option::of(any::<i64>())),
            0..20,
        )
    ) {
        let page = render(&samples);
        let p = text(&page);
        prop_assert!(p.errors.is_empty(), "{:?}\n{}", p.errors, page);
        prop_assert_eq!(p.samples.len(), samples.len());
        for (got, (name, labels, value, ts)) in p.samples.iter().zip(&samples) {
            prop_assert_eq!(got.name, name.as_str());
            let got_labels: Vec<(String, String)> =
                got.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            prop_assert_eq!(&got_labels, labels);
            prop_assert!(got.value.to_bits() == value.to_bits() || (got.value.is_nan() && value.is_nan()));
            prop_assert_eq!(got.timestamp_ms, *ts);
        }
    }

    #[test]
    fn arbitrary_input_never_panics(s in "(?s).{0,400}", bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for input in [s.as_str(), &String::from_utf8_lossy(&bytes)] {
            for format in [Format::Text, Format::OpenMetrics] {
                let p = parse(input, format);
                let lines = u32::try_from(input.split('\n').count()).unwrap_or(u32::MAX);
                prop_assert!(p.errors.iter().all(|e| e.line <= lines + 1));
                prop_assert!(p.samples.iter().all(|s| s.line <= lines));
            }
        }
    }

    #[test]
    fn exposition_shaped_noise_never_panics(s in "([a-z_:]{1,4}|[{}=,\"\\\\# \t\n.]|[0-9]|Inf|NaN|EOF|TYPE|HELP|UNIT){0,60}") {
        for format in [Format::Text, Format::OpenMetrics] {
            let _ = parse(&s, format);
        }
    }
}
