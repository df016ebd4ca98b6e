//! `watchfloor rules check FILE...`: what `promtool check rules` prints and its exit code, so
//! scripts and CI written for promtool work unchanged.

use std::io::Write;
use std::path::PathBuf;

use super::{RuleFile, load};

/// Checks every file in turn. Exit code 0 when all are valid (duplicate rules are only reported,
/// as promtool's default lint does), 1 when any is not or a path does not exist (then nothing is
/// checked, as promtool's argument parser refuses the command line).
pub fn check_command(paths: &[PathBuf], out: &mut dyn Write) -> i32 {
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        let _ = writeln!(
            out,
            "watchfloor: error: path '{}' does not exist",
            missing.display()
        );
        return 1;
    }
    let mut has_errors = false;
    for path in paths {
        let _ = writeln!(out, "Checking {}", path.display());
        match load(path) {
            Ok(file) => {
                let dups = duplicates(&file);
                if dups.is_empty() {
                    let n: usize = file.groups.iter().map(|g| g.rules.len()).sum();
                    let _ = writeln!(out, "  SUCCESS: {n} rules found");
                } else {
                    let _ = writeln!(out, "  FAILED:");
                    let _ = writeln!(out, "lint error {}", duplicates_message(&dups));
                }
            }
            Err(errors) => {
                has_errors = true;
                let _ = writeln!(out, "  FAILED:");
                for e in errors {
                    let _ = writeln!(out, "{e}");
                }
            }
        }
        let _ = writeln!(out);
    }
    i32::from(has_errors)
}

type Key = (String, Vec<(String, String)>);

/// Rules that record or alert under the same name with the same labels, once each, sorted as
/// promtool sorts them (name, then labels).
fn duplicates(file: &RuleFile) -> Vec<Key> {
    let mut keys: Vec<Key> = file
        .groups
        .iter()
        .flat_map(|g| &g.rules)
        .map(|r| {
            let mut labels = r.labels.clone();
            labels.sort();
            (r.name().to_owned(), labels)
        })
        .collect();
    keys.sort();
    let mut dups: Vec<Key> = Vec::new();
    for pair in keys.windows(2) {
        if let [a, b] = pair
            && a == b
            && dups.last() != Some(b)
        {
            dups.push(b.clone());
        }
    }
    dups
}

fn duplicates_message(dups: &[Key]) -> String {
    let mut m = format!("{} duplicate rule(s) found.\n", dups.len());
    for (name, labels) in dups {
        m.push_str(&format!("Metric: {name}\nLabel(s):\n"));
        for (k, v) in labels {
            m.push_str(&format!("\t{k}: {v}\n"));
        }
    }
    m.push_str("Might cause inconsistency while recording expressions");
    m
}
