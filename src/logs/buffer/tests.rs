use super::*;

fn line(n: u64) -> LogLine {
    LogLine {
        source: 0,
        ts: None,
        text: format!("line {n}"),
    }
}

fn texts(b: &LogBuffer) -> Vec<String> {
    (0..b.rows())
        .map(|i| match b.row(i).unwrap() {
            Entry::Line(l) => l.text.clone(),
            Entry::Marker(m) => format!("{m:?}"),
        })
        .collect()
}

#[test]
fn wrapping_puts_one_marker_in_front_with_the_exact_count() {
    let mut b = LogBuffer::new(5);
    for n in 0..5 {
        b.push_line(line(n));
    }
    assert_eq!(b.dropped(), 0);
    b.push_line(line(5));
    // Room for the marker and the new line: lines 0 and 1 went.
    assert_eq!(
        texts(&b),
        ["Wrapped(2)", "line 2", "line 3", "line 4", "line 5"]
    );
    for n in 6..10 {
        b.push_line(line(n));
    }
    assert_eq!(
        texts(&b),
        ["Wrapped(6)", "line 6", "line 7", "line 8", "line 9"]
    );
    assert_eq!(b.len(), 5, "never more than the capacity");
    assert_eq!(b.dropped(), 6);
}

#[test]
fn lines_a_stream_lost_are_marked_and_counted() {
    let mut b = LogBuffer::new(100);
    b.push_line(line(0));
    b.push_marker(Marker::Behind {
        source: Some(0),
        lines: 37,
    });
    b.push_line(line(1));
    assert_eq!(b.dropped(), 37);
    assert_eq!(texts(&b)[1], "Behind { source: Some(0), lines: 37 }");
}

#[test]
fn paused_keeps_the_view_and_counts_new_lines() {
    let mut b = LogBuffer::new(1000);
    for n in 0..10 {
        b.push_line(line(n));
    }
    assert_eq!(b.bottom(), Some(9));
    b.set_paused(true);
    for n in 10..15 {
        b.push_line(line(n));
    }
    assert_eq!(b.new_lines, 5);
    assert_eq!(b.bottom(), Some(9), "the screen stays where it was");
    b.scroll(-3);
    assert_eq!(b.bottom(), Some(6));
    b.scroll(100);
    assert_eq!(b.bottom(), Some(14));
    assert!(b.paused());
    b.set_paused(false);
    assert_eq!(b.new_lines, 0);
    b.push_line(line(15));
    assert_eq!(b.bottom(), Some(15), "following shows the newest");
}

#[test]
fn scrolling_back_pauses_and_the_anchor_survives_wrapping() {
    let mut b = LogBuffer::new(10);
    for n in 0..10 {
        b.push_line(line(n));
    }
    b.scroll(-1);
    assert!(b.paused());
    for n in 10..30 {
        b.push_line(line(n));
    }
    // What was on screen wrapped away: the view holds at the oldest row left.
    assert_eq!(b.bottom(), Some(0));
    assert_eq!(b.new_lines, 20);
}

#[test]
fn the_filter_keeps_markers_and_follows_new_lines() {
    let mut b = LogBuffer::new(6);
    for n in 0..4 {
        b.push_line(line(n));
    }
    b.set_filter(LogFilter::parse("line [13579]").unwrap());
    assert_eq!(texts(&b), ["line 1", "line 3"]);
    for n in 4..8 {
        b.push_line(line(n));
    }
    assert_eq!(texts(&b), ["Wrapped(3)", "line 3", "line 5", "line 7"]);
    b.set_filter(LogFilter::parse("!line [13579]").unwrap());
    assert_eq!(texts(&b), ["Wrapped(3)", "line 4", "line 6"]);
    b.set_filter(None);
    assert_eq!(b.rows(), 6);
}

fn at(source: u32, secs: i64, text: &str) -> LogLine {
    LogLine {
        source,
        ts: Some(jiff::Timestamp::from_second(1_800_000_000 + secs).unwrap()),
        text: text.into(),
    }
}

#[test]
fn batches_from_several_sources_interleave_by_time() {
    let mut b = LogBuffer::new(100);
    b.push_lines(vec![at(0, 1, "a1"), at(0, 3, "a3"), at(0, 5, "a5")]);
    b.push_lines(vec![at(1, 2, "b2"), at(1, 4, "b4"), at(1, 6, "b6")]);
    assert_eq!(texts(&b), ["a1", "b2", "a3", "b4", "a5", "b6"]);
    // Markers stay where they were: nothing moves across one.
    b.push_marker(Marker::Gone(0));
    b.push_lines(vec![at(1, 5, "late")]);
    assert_eq!(texts(&b)[6..], ["Gone(0)".to_string(), "late".to_string()]);
    // The filter's rows follow the reordering.
    b.set_filter(LogFilter::parse("b|late").unwrap());
    b.push_lines(vec![at(2, 0, "zero")]);
    b.push_lines(vec![at(2, 7, "b7")]);
    assert_eq!(texts(&b), ["b2", "b4", "b6", "Gone(0)", "late", "b7"]);
}

#[test]
fn nothing_moves_while_paused() {
    let mut b = LogBuffer::new(100);
    b.push_lines(vec![at(0, 5, "a5")]);
    b.set_paused(true);
    b.push_lines(vec![at(1, 1, "b1")]);
    assert_eq!(texts(&b), ["a5", "b1"]);
    assert_eq!(b.new_lines, 1);
}
