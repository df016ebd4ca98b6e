//! The audit log: one JSON line per attempted change, appended, never rewritten. It names who
//! (the kubeconfig user, never a credential), where (context, environment, namespace), what
//! (kind/name, action, parameters) and how it ended (done, skipped, refused, failed, and why).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;

/// One attempt.
#[derive(Clone, Debug, Serialize)]
pub struct Entry<'a> {
    /// RFC 3339, UTC.
    pub time: String,
    /// The kubeconfig user of the context (`admin`, `oidc-jane`): a name, not a credential.
    pub user: &'a str,
    pub context: &'a str,
    pub environment: &'a str,
    pub namespace: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    /// `scale`, `restart`, `rollback`.
    pub action: &'a str,
    /// `{"replicas": 8}`, `{"to_revision": 6}`, `{}`.
    pub parameters: serde_json::Value,
    /// `done`, `skipped`, `refused`, `failed`.
    pub result: &'a str,
    pub message: &'a str,
}

impl Entry<'_> {
    pub fn stamp(at: Timestamp) -> String {
        at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// An open, append-only audit log.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    /// Opens (creating it and its directory if needed) the log at `path` for appending. Only the
    /// user may read it: it says what was changed where.
    pub fn open(path: &Path) -> Result<Self, String> {
        let fail = |e: std::io::Error| format!("cannot open the audit log {}: {e}", path.display());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(fail)?;
        Ok(Self {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line, in one write so concurrent writers never interleave within a line.
    pub fn record(&self, entry: &Entry<'_>) -> Result<(), String> {
        let mut line = serde_json::to_vec(entry).map_err(|e| e.to_string())?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(&line)
            .and_then(|()| file.flush())
            .map_err(|e| format!("cannot write the audit log {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(result: &str) -> Entry<'_> {
        Entry {
            time: Entry::stamp("2026-11-22T09:00:00Z".parse().unwrap()),
            user: "admin",
            context: "prod-eastus",
            environment: "prod",
            namespace: "shop",
            kind: "Deployment",
            name: "web",
            action: "scale",
            parameters: serde_json::json!({"replicas": 8}),
            result,
            message: "scaled shop/web to 8 (was 2)",
        }
    }

    #[test]
    fn appends_one_json_line_per_record_and_keeps_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/watchfloor/audit.log");
        AuditLog::open(&path)
            .unwrap()
            .record(&entry("done"))
            .unwrap();
        // A second console (or a restart) appends after the first one's lines.
        AuditLog::open(&path)
            .unwrap()
            .record(&entry("refused"))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["result"], "done");
        assert_eq!(lines[1]["result"], "refused");
        assert_eq!(lines[0]["time"], "2026-11-22T09:00:00.000Z");
        assert_eq!(lines[0]["parameters"]["replicas"], 8);
        assert_eq!(lines[0]["context"], "prod-eastus");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the audit log is private");
        }
    }

    #[test]
    fn an_unwritable_place_is_a_readable_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let err = AuditLog::open(&blocker.join("audit.log")).unwrap_err();
        assert!(err.starts_with("cannot open the audit log "), "{err}");
    }
}
