use super::*;

#[test]
fn a_stamped_line_splits_into_time_and_text() {
    let (ts, text) = split_timestamp("2026-11-22T14:02:11.123456789Z GET /api 200 3ms");
    assert_eq!(ts, Some("2026-11-22T14:02:11.123456789Z".parse().unwrap()));
    assert_eq!(text, "GET /api 200 3ms");
    // Without a stamp the whole line stays text.
    assert_eq!(split_timestamp("plain words"), (None, "plain words"));
    assert_eq!(split_timestamp("notatime text"), (None, "notatime text"));
    // A stamped empty line, and a CRLF ending.
    let (ts, text) = split_timestamp("2026-11-22T14:02:11Z");
    assert!(ts.is_some());
    assert_eq!(text, "");
    assert_eq!(split_timestamp("2026-11-22T14:02:11Z x\r").1, "x");
}

#[test]
fn a_json_line_reads_as_level_message_then_fields() {
    let raw = r#"{"ts":"2026-11-22T14:02:11Z","level":"error","logger":"export.worker","msg":"db pool exhausted","waited_ms":5001,"route":"/api/v1/orders"}"#;
    assert_eq!(
        readable(raw).unwrap(),
        "ERROR db pool exhausted  ts=2026-11-22T14:02:11Z logger=export.worker route=/api/v1/orders waited_ms=5001"
    );
    // Values with spaces are quoted; no level or message still renders the fields.
    assert_eq!(
        readable(r#"{"user":"a b","n":1}"#).unwrap(),
        r#"n=1 user="a b""#
    );
    assert_eq!(readable(r#"{"message":"hi"}"#).unwrap(), "hi");
    // Not JSON objects: shown raw.
    assert_eq!(readable("INFO plain text"), None);
    assert_eq!(readable("[1,2]"), None);
    assert_eq!(readable("{not json"), None);
}
