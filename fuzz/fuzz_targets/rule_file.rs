//! Arbitrary bytes into the rule-file reader (YAML, both of Prometheus's passes, PromQL and
//! template checks), and every annotation and label of a file that loads through the template
//! expander. Nothing may panic or hang; every reported position must be inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfloor::alerts::rulefile::{RuleKind, parse};
use watchfloor::alerts::template::{TemplateData, expand};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // YAML breaks lines at CR as well as LF (a lone `\r` is a new line to it and to Go's
    // decoder), so positions count both: CRLF counted twice only loosens the bound.
    let lines = text.split(['\n', '\r']).count() + 1;
    match parse("fuzz.yml", &text) {
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(errors.iter().all(|e| e.line <= lines));
        }
        Ok(file) => {
            let labels = vec![("instance".to_string(), "host:9100".to_string())];
            for rule in file.groups.iter().flat_map(|g| &g.rules) {
                if let RuleKind::Alert { name, annotations, .. } = &rule.kind {
                    for (_, text) in annotations.iter().chain(&rule.labels) {
                        for value in [0.0, 1e6, f64::NAN, -1.5] {
                            let data = TemplateData {
                                labels: &labels,
                                external_labels: &[],
                                external_url: "http://prom.example",
                                value,
                            };
                            let _ = expand(name, text, &data);
                        }
                    }
                }
            }
        }
    }
    // Templates on their own: the raw text as one annotation.
    let data = TemplateData {
        labels: &[],
        external_labels: &[],
        external_url: "",
        value: 1.0,
    };
    let _ = expand("F", &text, &data);
});
