//! `watchfloor rules test`: promtool's rule unit tests (`promtool test rules`), with the same
//! file format, the same evaluation order and timing, the same report text (stdout and stderr
//! split as promtool splits them) and the same exit codes (0 all passed, 1 otherwise).
//!
//! How promtool runs one test group, reproduced in [`group`]: every group of every rule file is
//! evaluated at each `evaluation_interval` tick from 0 up to the largest `eval_time` of the
//! group's tests; input samples become visible tick by tick (so an expression test at a time
//! between two ticks sees no sample after the last tick); an alert test at `eval_time` is
//! checked against the alerts of the last tick at or before it; expression tests run at the
//! end, over everything the rules wrote too (`ALERTS`, recording results).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::alerts::promql::Compat;

pub mod gofmt;
mod group;
pub mod input;
#[cfg(test)]
mod tests;

/// Runs the test files and writes promtool's report: "Unit Testing:" lines and `SUCCESS` to
/// `out`, failures to `err`. Returns the exit code: 0 when every file passed, 1 otherwise.
pub fn run(paths: &[PathBuf], compat: Compat, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (mut out, mut err) = (Lenient(out), Lenient(err));
    // Lenient writers fail only on errors other than a closed pipe.
    run_io(paths, compat, &mut out, &mut err).unwrap_or(1)
}

/// A writer for which a reader that went away (`| head`) is not an error: the tests still run
/// and the exit code still tells the verdict.
struct Lenient<'a>(&'a mut dyn Write);

impl Write for Lenient<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

fn run_io(
    paths: &[PathBuf],
    compat: Compat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<i32> {
    // promtool's command line refuses a missing file before running anything.
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        writeln!(
            err,
            "error: path '{}' does not exist, try --help",
            missing.display()
        )?;
        return Ok(1);
    }
    let mut failed = false;
    for path in paths {
        writeln!(out, "Unit Testing:  {}", path.display())?;
        let errors = test_file(path, compat, err)?;
        if errors.is_empty() {
            writeln!(out, "  SUCCESS")?;
        } else {
            writeln!(err, "  FAILED:")?;
            for e in &errors {
                writeln!(err, "{e}")?;
                writeln!(out)?;
            }
            failed = true;
        }
        writeln!(out)?;
    }
    Ok(i32::from(failed))
}

/// One test file: its failures, each as promtool prints it (empty when it passed). Warnings
/// (a `rule_files` pattern matching nothing) go to `err` as they happen.
fn test_file(path: &Path, compat: Compat, err: &mut dyn Write) -> io::Result<Vec<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Ok(vec![format!("read {}: {}", path.display(), io_words(&e))]),
    };
    let file = match input::parse(&text) {
        Ok(f) => f,
        Err(e) => return Ok(vec![e]),
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let mut rule_files = Vec::new();
    for pattern in file.rule_files.iter().flatten() {
        let joined = if pattern.is_empty() || Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            clean_join(base, pattern)
        };
        let matched = glob(&joined);
        if matched.is_empty() {
            writeln!(err, "  WARNING: no file match pattern {joined}")?;
        }
        rule_files.extend(matched);
    }
    let eval_interval_ms = match file
        .evaluation_interval
        .as_ref()
        .map(|t| gofmt::parse_model_duration(t.as_str()))
    {
        None => 60_000,
        Some(Ok(0)) => 60_000,
        Some(Ok(ms)) => ms,
        Some(Err(e)) => return Ok(vec![format!("yaml: {e}")]),
    };
    let mut order: Vec<&str> = Vec::new();
    for name in file.group_eval_order.iter().flatten() {
        if order.contains(&name.as_str()) {
            return Ok(vec![format!(
                "group name repeated in evaluation order: {name}"
            )]);
        }
        order.push(name);
    }
    let mut errors = Vec::new();
    for tg in file.tests.iter().flatten() {
        let setup = group::Setup {
            eval_interval_ms,
            group_order: &order,
            rule_files: &rule_files,
            compat,
        };
        errors.extend(group::run(tg, &setup));
    }
    Ok(errors)
}

/// Go's `filepath.Join(dir, name)`: joined and cleaned (`./r.yml` → `r.yml`, `a/../b` → `b`).
fn clean_join(dir: &Path, name: &str) -> String {
    let joined = if dir.as_os_str().is_empty() {
        name.to_owned()
    } else {
        format!("{}/{}", dir.display(), name)
    };
    clean(&joined)
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

/// Go's `filepath.Glob` for what rule files use: `*`, `?` and `[...]`-free patterns in the last
/// path element; a pattern without them names the file if it exists. Sorted, as Go returns.
fn glob(pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains(['*', '?']) {
        return if std::fs::symlink_metadata(path).is_ok() {
            vec![path.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let Ok(entries) = std::fs::read_dir(dir.unwrap_or(Path::new("."))) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| wildcard(name.as_bytes(), n.as_bytes()))
        .map(|n| dir.map_or_else(|| PathBuf::from(&n), |d| d.join(&n)))
        .collect();
    found.sort();
    found
}

/// `*` (any run, not `/`) and `?` (one byte) matching, iteratively (no recursion on input).
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// An I/O error in Go's words (`no such file or directory`, `is a directory`).
fn io_words(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}
