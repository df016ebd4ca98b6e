//! Arbitrary bytes into the exposition parser, both formats: as `&str` when they are UTF-8, and
//! always through a lossy conversion (what a scraper does with a body that is not). The parser
//! must never panic, and every reported line number must exist in the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfloor::metrics::expo::{Format, parse};

fn check(input: &str) {
    let lines = u32::try_from(input.split('\n').count()).unwrap_or(u32::MAX);
    for format in [Format::Text, Format::OpenMetrics] {
        let parsed = parse(input, format);
        assert!(
            parsed
                .errors
                .iter()
                .all(|e| e.line >= 1 && e.line <= lines.saturating_add(1))
        );
        assert!(
            parsed
                .samples
                .iter()
                .all(|s| s.line >= 1 && s.line <= lines)
        );
        // The hashed index, as the console classifies a page (kind_of scans the families).
        let kinds = parsed.kind_index();
        for s in &parsed.samples {
            let _ = kinds.kind_of(s.name);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        check(s);
    }
    check(&String::from_utf8_lossy(data));
});
