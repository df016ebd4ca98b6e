//! `[[prometheus]]` and `[[alertmanager]]`: the monitoring servers of each environment, and how
//! to authenticate to them. Secrets are never written in the config file: it names a file or an
//! environment variable, read when a request is made.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::file::{Checker, keys};
use super::units::HttpUrl;

/// Where a secret is read from when it is needed. Naming the file or variable is not secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

/// A secret's value. Its `Debug` prints no part of it, so it cannot end up in a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl SecretSource {
    /// Reads the secret now: credentials rotate, so callers read at use, not at start-up.
    /// Surrounding whitespace is dropped, as Prometheus does with its token files.
    pub fn read(&self) -> Result<Secret, String> {
        let value = match self {
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| super::ConfigError::read(path, e).to_string())?,
            SecretSource::Env(var) => {
                std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
            }
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(match self {
                SecretSource::File(path) => format!("{} is empty", path.display()),
                SecretSource::Env(var) => format!("environment variable {var} is empty"),
            });
        }
        Ok(Secret(value.to_string()))
    }
}

/// How requests to a monitoring endpoint authenticate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Bearer(SecretSource),
    Basic {
        username: String,
        password: SecretSource,
    },
}

/// The Prometheus major version whose API behaviour to expect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PrometheusCompat {
    V2,
    #[default]
    V3,
}

/// One `[[prometheus]]`: the server holding an environment's metrics and rule state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusConfig {
    pub environment: String,
    pub url: HttpUrl,
    pub auth: Auth,
    pub compat: PrometheusCompat,
}

/// One `[[alertmanager]]`: where an environment's alerts are silenced and grouped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertmanagerConfig {
    pub environment: String,
    pub url: HttpUrl,
    pub auth: Auth,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrometheusFile {
    environment: String,
    url: HttpUrl,
    // Written out rather than `#[serde(flatten)]`: flattening loses the spans errors point to.
    bearer_token_file: Option<PathBuf>,
    bearer_token_env: Option<String>,
    basic_auth: Option<BasicAuthFile>,
    prometheus_compat: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertmanagerFile {
    environment: String,
    url: HttpUrl,
    bearer_token_file: Option<PathBuf>,
    bearer_token_env: Option<String>,
    basic_auth: Option<BasicAuthFile>,
}

/// The authentication keys both sections share.
struct AuthFile {
    bearer_token_file: Option<PathBuf>,
    bearer_token_env: Option<String>,
    basic_auth: Option<BasicAuthFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicAuthFile {
    username: String,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
}

pub(crate) fn check_prometheus(
    c: &mut Checker<'_>,
    files: Vec<PrometheusFile>,
    envs: &[&str],
    base: &Path,
) -> Vec<PrometheusConfig> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for (i, f) in files.into_iter().enumerate() {
        check_endpoint(c, "prometheus", i, &f.environment, &f.url, envs, &mut seen);
        let auth = AuthFile {
            bearer_token_file: f.bearer_token_file,
            bearer_token_env: f.bearer_token_env,
            basic_auth: f.basic_auth,
        };
        let auth = check_auth(c, "prometheus", i, auth, base);
        let compat = match f.prometheus_compat {
            None => PrometheusCompat::default(),
            Some(2) => PrometheusCompat::V2,
            Some(3) => PrometheusCompat::V3,
            Some(other) => {
                c.error(
                    keys!["prometheus", i, "prometheus_compat"],
                    format!(
                        "{other} is not a Prometheus major version watchfloor knows; write 2 or 3"
                    ),
                );
                PrometheusCompat::default()
            }
        };
        out.push(PrometheusConfig {
            environment: f.environment,
            url: f.url,
            auth,
            compat,
        });
    }
    out
}

pub(crate) fn check_alertmanager(
    c: &mut Checker<'_>,
    files: Vec<AlertmanagerFile>,
    envs: &[&str],
    base: &Path,
) -> Vec<AlertmanagerConfig> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for (i, f) in files.into_iter().enumerate() {
        check_endpoint(
            c,
            "alertmanager",
            i,
            &f.environment,
            &f.url,
            envs,
            &mut seen,
        );
        let auth = AuthFile {
            bearer_token_file: f.bearer_token_file,
            bearer_token_env: f.bearer_token_env,
            basic_auth: f.basic_auth,
        };
        let auth = check_auth(c, "alertmanager", i, auth, base);
        out.push(AlertmanagerConfig {
            environment: f.environment,
            url: f.url,
            auth,
        });
    }
    out
}

/// The environment must be one the file defines (when it defines any: without, environments are
/// the kubeconfig's contexts, checked when the fleet is resolved), and no URL listed twice.
fn check_endpoint(
    c: &mut Checker<'_>,
    section: &str,
    i: usize,
    env: &str,
    url: &HttpUrl,
    envs: &[&str],
    seen: &mut HashMap<(String, String), usize>,
) {
    if !envs.is_empty() && !envs.contains(&env) {
        c.error(
            keys![section, i, "environment"],
            format!(
                "no environment is named {env:?} in this file (environments: {})",
                envs.join(", ")
            ),
        );
    }
    let key = (env.to_string(), url.to_string());
    if let Some(&first) = seen.get(&key) {
        let line = c.line_of(keys![section, first]);
        c.error(
            keys![section, i, "url"],
            format!("{url} is already listed for environment {env:?} at line {line}"),
        );
    } else {
        seen.insert(key, i);
    }
}

fn check_auth(c: &mut Checker<'_>, section: &str, i: usize, f: AuthFile, base: &Path) -> Auth {
    let given: Vec<&str> = [
        f.bearer_token_file.as_ref().map(|_| "bearer_token_file"),
        f.bearer_token_env.as_ref().map(|_| "bearer_token_env"),
        f.basic_auth.as_ref().map(|_| "basic_auth"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        c.error(
            keys![section, i, given[1]],
            format!(
                "give one way to authenticate, not {}: bearer_token_file, bearer_token_env or basic_auth",
                given.join(" and ")
            ),
        );
        return Auth::None;
    }
    let source = |c: &mut Checker<'_>, key: &str, file: Option<PathBuf>, env: Option<String>| {
        let at: Vec<_> = [section.into(), i.into()]
            .into_iter()
            .chain(path_of(key))
            .collect();
        let source = match (file, env) {
            (Some(file), None) => {
                SecretSource::File(base.join(super::expand_home(&file.to_string_lossy())))
            }
            (None, Some(var)) => SecretSource::Env(var),
            _ => return None,
        };
        // Checked now so that `config check` says it; read again at each use.
        if let Err(why) = source.read() {
            c.warn(
                &at,
                format!("{why}; requests to this server will fail until that is fixed"),
            );
        }
        Some(source)
    };
    if let Some(file) = f.bearer_token_file {
        return source(c, "bearer_token_file", Some(file), None).map_or(Auth::None, Auth::Bearer);
    }
    if let Some(var) = f.bearer_token_env {
        return source(c, "bearer_token_env", None, Some(var)).map_or(Auth::None, Auth::Bearer);
    }
    let Some(basic) = f.basic_auth else {
        return Auth::None;
    };
    if basic.username.is_empty() {
        c.error(
            keys![section, i, "basic_auth", "username"],
            "the username is empty",
        );
    }
    let key = match (&basic.password_file, &basic.password_env) {
        (Some(_), None) => "basic_auth.password_file",
        (None, Some(_)) => "basic_auth.password_env",
        (None, None) | (Some(_), Some(_)) => {
            c.error(
                keys![section, i, "basic_auth"],
                "basic_auth needs exactly one of password_file or password_env",
            );
            return Auth::None;
        }
    };
    match source(c, key, basic.password_file, basic.password_env) {
        Some(password) => Auth::Basic {
            username: basic.username,
            password,
        },
        None => Auth::None,
    }
}

fn path_of(dotted: &str) -> impl Iterator<Item = super::error::Seg> + '_ {
    dotted.split('.').map(Into::into)
}
