//! Reading kubeconfig the way kubectl does, so watchfloor sees the same contexts: `--kubeconfig`
//! alone when given, else every file of `KUBECONFIG` merged (the first file to name a cluster,
//! user or context wins; `current-context` from the first file that sets it), else
//! `~/.kube/config`.
//!
//! kube-rs's `Kubeconfig::read_from` reads one file as kubectl does (relative paths made absolute,
//! BOMs, several YAML documents), and `merge` applies kubectl's first-wins rule, so both are used.
//! Its `from_env` differs from kubectl in three ways handled here: kubectl skips `KUBECONFIG`
//! files that do not exist, drops repeated file names, and treats `current-context: ""` as unset.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use kube::config::{Kubeconfig, KubeconfigError};

use super::ConfigError;

/// The merged kubeconfig and where it came from.
#[derive(Clone, Debug, Default)]
pub struct LoadedKubeconfig {
    pub kubeconfig: Kubeconfig,
    /// The files that were read, first (winning) first.
    pub files: Vec<PathBuf>,
    /// The files looked for, read or not (for messages when none was there).
    pub searched: Vec<PathBuf>,
    /// `KUBECONFIG` files that do not exist (kubectl skips them silently; we mention them).
    pub warnings: Vec<String>,
}

/// Where the list of kubeconfig files came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `--kubeconfig`: the file must exist.
    Flag,
    /// `KUBECONFIG`: missing files are skipped.
    Env,
    /// `~/.kube/config`: may be missing (then there are no contexts).
    Default,
}

impl LoadedKubeconfig {
    /// The context names, in the order kubectl lists them.
    pub fn context_names(&self) -> Vec<&str> {
        self.kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The files as a person would list them: `~/.kube/config` or `a:b` (for messages).
    pub fn describe_files(&self) -> String {
        if self.files.is_empty() {
            let searched: Vec<String> = self
                .searched
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            return match searched.len() {
                0 => "no kubeconfig file: no home directory and KUBECONFIG is empty".to_string(),
                _ => format!("{} not found", searched.join(", ")),
            };
        }
        self.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Loads the kubeconfig for this process: `explicit` (`--kubeconfig`), else `KUBECONFIG`, else
/// `~/.kube/config`.
pub fn load(explicit: Option<&Path>) -> Result<LoadedKubeconfig, ConfigError> {
    let default = std::env::home_dir().map(|h| h.join(".kube").join("config"));
    load_with(explicit, std::env::var_os("KUBECONFIG"), default)
}

/// The files kubectl would read, in precedence order, and where that list came from.
pub fn candidate_files(
    explicit: Option<&Path>,
    env: Option<OsString>,
    default: Option<PathBuf>,
) -> (Vec<PathBuf>, Origin) {
    if let Some(path) = explicit {
        return (vec![path.to_path_buf()], Origin::Flag);
    }
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(value) = env {
        for path in std::env::split_paths(&value) {
            if !path.as_os_str().is_empty() && !files.contains(&path) {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        files.extend(default);
        return (files, Origin::Default);
    }
    (files, Origin::Env)
}

/// As `load`, with the environment and home directory given (for tests).
pub fn load_with(
    explicit: Option<&Path>,
    env: Option<OsString>,
    default: Option<PathBuf>,
) -> Result<LoadedKubeconfig, ConfigError> {
    let (candidates, origin) = candidate_files(explicit, env, default);
    let mut loaded = LoadedKubeconfig {
        searched: candidates.clone(),
        ..LoadedKubeconfig::default()
    };
    let mut missing = Vec::new();
    for path in candidates {
        if origin != Origin::Flag && !path.exists() {
            missing.push(path);
            continue;
        }
        let mut next = Kubeconfig::read_from(&path).map_err(|e| read_error(&path, e))?;
        if next.current_context.as_deref() == Some("") {
            next.current_context = None;
        }
        // kubectl does not refuse files whose `kind` or `apiVersion` differ; kube-rs would.
        next.kind = None;
        next.api_version = None;
        loaded.kubeconfig = loaded
            .kubeconfig
            .merge(next)
            .map_err(|e| read_error(&path, e))?;
        loaded.files.push(path);
    }
    if origin == Origin::Env && !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
        loaded.warnings.push(format!(
            "kubeconfig {} not found (skipped, as kubectl does)",
            list.join(", ")
        ));
    }
    Ok(loaded)
}

fn read_error(path: &Path, e: KubeconfigError) -> ConfigError {
    match e {
        KubeconfigError::ReadConfig(source, _) => ConfigError::read(path, source),
        KubeconfigError::Parse(e) => ConfigError::Invalid(format!(
            "{}: not a kubeconfig kubectl could read: {e}",
            path.display()
        )),
        other => ConfigError::Invalid(format!("{}: {other}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn kubeconfig(contexts: &[(&str, &str)], current: Option<&str>) -> String {
        let mut s = String::from("apiVersion: v1\nkind: Config\n");
        if let Some(c) = current {
            s.push_str(&format!("current-context: {c:?}\n"));
        }
        s.push_str("clusters:\n");
        for (name, server) in contexts {
            s.push_str(&format!(
                "- name: {name}\n  cluster:\n    server: {server}\n"
            ));
        }
        s.push_str("contexts:\n");
        for (name, _) in contexts {
            s.push_str(&format!(
                "- name: {name}\n  context:\n    cluster: {name}\n    user: u\n"
            ));
        }
        s.push_str("users:\n- name: u\n  user:\n    token: t\n");
        s
    }

    #[test]
    fn kubeconfig_list_merges_first_wins_and_skips_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            dir.path(),
            "a",
            &kubeconfig(
                &[("dev", "https://a:1"), ("shared", "https://a:2")],
                Some(""),
            ),
        );
        let b = write(
            dir.path(),
            "b",
            &kubeconfig(
                &[("shared", "https://b:2"), ("prod", "https://b:3")],
                Some("prod"),
            ),
        );
        let missing = dir.path().join("missing");
        let env = std::env::join_paths([&a, &missing, &b, &a]).unwrap();
        let loaded = load_with(None, Some(env), None).unwrap();
        assert_eq!(loaded.context_names(), ["dev", "shared", "prod"]);
        let shared = loaded
            .kubeconfig
            .clusters
            .iter()
            .find(|c| c.name == "shared")
            .unwrap();
        assert_eq!(
            shared.cluster.as_ref().unwrap().server.as_deref(),
            Some("https://a:2")
        );
        // a's empty current-context is unset, as in kubectl, so b's applies.
        assert_eq!(loaded.kubeconfig.current_context.as_deref(), Some("prod"));
        assert_eq!(loaded.files, [a, b]);
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0].contains("missing not found"));
    }

    #[test]
    fn explicit_file_must_exist_and_default_need_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let e = load_with(Some(&missing), None, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: no such file", missing.display())
        );
        // An empty KUBECONFIG means the default file, as in kubectl.
        let loaded = load_with(None, Some(OsString::new()), Some(missing.clone())).unwrap();
        assert!(loaded.kubeconfig.contexts.is_empty());
        assert!(loaded.files.is_empty());
        assert!(loaded.warnings.is_empty(), "kubectl says nothing either");
        assert_eq!(
            loaded.describe_files(),
            format!("{} not found", missing.display())
        );
        let (files, origin) =
            candidate_files(None, Some(OsString::from("")), Some(missing.clone()));
        assert_eq!((files, origin), (vec![missing], Origin::Default));
    }

    #[test]
    fn explicit_file_wins_over_kubeconfig_variable() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            dir.path(),
            "a",
            &kubeconfig(&[("a", "https://a:1")], Some("a")),
        );
        let b = write(dir.path(), "b", &kubeconfig(&[("b", "https://b:1")], None));
        let loaded = load_with(Some(&b), Some(a.into_os_string()), None).unwrap();
        assert_eq!(loaded.context_names(), ["b"]);
        assert_eq!(loaded.kubeconfig.current_context, None);
    }

    #[test]
    fn unparsable_kubeconfig_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "bad", "contexts: [[[\n");
        let e = load_with(Some(&bad), None, None).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "{}: not a kubeconfig kubectl could read: ",
                bad.display()
            )),
            "{e}"
        );
    }
}
