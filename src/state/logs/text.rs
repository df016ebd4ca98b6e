//! The log view in words: markers as the screen and the saved file show them, and the saved file.

use super::LogView;
use crate::logs::{Entry, Marker};

impl LogView {
    fn source_label(&self, id: crate::logs::SourceId) -> String {
        self.sources
            .get(id)
            .map_or_else(|| "?".into(), |s| s.label.clone())
    }

    /// A marker in words, for the screen and the saved file.
    pub fn marker_text(&self, m: &Marker) -> String {
        let body = match m {
            Marker::Wrapped(n) => {
                format!(
                    "{} lines dropped (the buffer is full; the oldest went)",
                    thousands(*n)
                )
            }
            Marker::Behind { source, lines } => {
                let who =
                    source.map_or_else(String::new, |s| format!("{}: ", self.source_label(s)));
                format!(
                    "{who}{} lines dropped (the console fell behind)",
                    thousands(*lines)
                )
            }
            Marker::Gap { source, after_secs } => format!(
                "gap: {} stream reconnected after {after_secs}s",
                self.source_label(*source)
            ),
            Marker::Added(s) => format!("+ {} started", self.source_label(*s)),
            Marker::Gone(s) => format!("✗ {} gone", self.source_label(*s)),
            Marker::Note { source, text } => match source {
                Some(s) => format!("{}: {text}", self.source_label(*s)),
                None => text.clone(),
            },
        };
        format!("── {body} ──")
    }

    /// The buffer as a file: every entry (filter or not), with its timestamp and source, and
    /// the markers where they are.
    pub fn saved_text(&self) -> String {
        let width = self.sources.label_width();
        let mut out = String::new();
        for e in self.buffer.entries() {
            match e {
                Entry::Line(l) => {
                    if let Some(ts) = l.ts {
                        out.push_str(&ts.to_string());
                        out.push(' ');
                    }
                    let label = self.source_label(l.source);
                    out.push_str(&format!("{label:<width$} | {}\n", l.text));
                }
                Entry::Marker(m) => {
                    out.push_str(&self.marker_text(m));
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// `1204` → `1,204`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
