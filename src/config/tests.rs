//! The config file: a full valid file, the defaults, and each mistake's message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::endpoints::{Auth, PrometheusCompat, SecretSource};
use super::*;

/// Writes `text` as `config.toml` in a fresh directory and loads it.
fn load_text(text: &str) -> (tempfile::TempDir, Result<Loaded, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let loaded = load(Some(&path));
    (dir, loaded)
}

/// The error text with the temp directory taken out, so it reads `config.toml:3:1: ...`.
fn error(text: &str) -> String {
    let (dir, loaded) = load_text(text);
    let e = loaded.expect_err("the file should be refused").to_string();
    e.replace(&format!("{}/", dir.path().display()), "")
}

fn warnings(text: &str) -> Vec<String> {
    let (dir, loaded) = load_text(text);
    let prefix = format!("{}/", dir.path().display());
    loaded
        .expect("the file should load")
        .warnings
        .iter()
        .map(|w| w.replace(&prefix, ""))
        .collect()
}

const FULL: &str = r##"
[[environments]]
name = "prod"
color = "prod"
protected = true
contexts = ["prod-eastus", "prod-westus"]
namespaces = ["shop", "payments"]

[[environments]]
name = "staging"
color = "#d29922"
readonly = true
contexts = ["staging"]

[ui]
theme = "light"
keymap = "keys/mine.toml"

[probes]
enabled = false
interval = "30s"
timeout = "5s"
concurrency = 8

[scraping]
interval = "15s"
timeout = "10s"
concurrency = 2
retention = "2h"
memory_cap = "128MiB"

[[scraping.targets]]
name = "node-exporter"
url = "http://127.0.0.1:9100/metrics"
interval = "1m"

[[prometheus]]
environment = "prod"
url = "https://prometheus.prod.example:9090"
bearer_token_env = "WATCHFLOOR_TEST_UNSET_TOKEN"
prometheus_compat = 2

[[alertmanager]]
environment = "prod"
url = "https://alertmanager.prod.example"
basic_auth = { username = "oncall", password_file = "secrets/am-password" }

[rules]
files = ["rules/*.yml", "/etc/prometheus/alerts.yml"]
evaluation_interval = "30s"
"##;

#[test]
fn a_full_file_reads_into_values() {
    let (dir, loaded) = load_text(FULL);
    let loaded = loaded.unwrap();
    let c = &loaded.config;
    let base = dir.path();
    assert_eq!(
        loaded.source.as_deref(),
        Some(base.join("config.toml").as_path())
    );
    assert_eq!(c.environments.len(), 2);
    let prod = &c.environments[0];
    assert_eq!(prod.name, "prod");
    assert_eq!(prod.color.as_deref(), Some("prod"));
    assert!(prod.protected && !prod.readonly);
    assert_eq!(prod.contexts, ["prod-eastus", "prod-westus"]);
    assert_eq!(prod.namespaces, ["shop", "payments"]);
    assert!(c.environments[1].readonly);
    assert_eq!(c.environment_of("staging"), Some(1));
    assert_eq!(c.environment_of("dev"), None);

    assert_eq!(c.ui.theme.as_deref(), Some("light"));
    let keymap = base.join("keys/mine.toml");
    assert_eq!(c.ui.keymap.as_deref(), Some(keymap.to_str().unwrap()));

    assert!(!c.probes.enabled);
    assert_eq!(c.probes.interval.get(), Duration::from_secs(30));
    assert_eq!(c.probes.concurrency, 8);
    assert_eq!(c.scraping.retention.get(), Duration::from_secs(7200));
    assert_eq!(c.scraping.memory_cap.0, 128 << 20);
    assert_eq!(c.scraping.targets[0].name, "node-exporter");
    assert_eq!(c.scraping.targets[0].url.0.port(), Some(9100));
    assert_eq!(
        c.scraping.targets[0].interval.map(|d| d.get()),
        Some(Duration::from_secs(60))
    );

    let prom = &c.prometheus[0];
    assert_eq!(prom.compat, PrometheusCompat::V2);
    assert_eq!(
        prom.auth,
        Auth::Bearer(SecretSource::Env("WATCHFLOOR_TEST_UNSET_TOKEN".into()))
    );
    let Auth::Basic { username, password } = &c.alertmanager[0].auth else {
        panic!("basic auth expected")
    };
    assert_eq!(username, "oncall");
    assert_eq!(
        password,
        &SecretSource::File(base.join("secrets/am-password"))
    );

    assert_eq!(
        c.rules.files,
        [
            base.join("rules/*.yml").to_string_lossy().into_owned(),
            "/etc/prometheus/alerts.yml".to_string()
        ]
    );
    assert_eq!(c.rules.evaluation_interval.get(), Duration::from_secs(30));

    // Secrets that cannot be read yet are warnings at their place, not errors.
    let w: Vec<String> = loaded
        .warnings
        .iter()
        .map(|w| w.replace(&format!("{}/", base.display()), ""))
        .collect();
    assert_eq!(
        w,
        [
            "config.toml:40:20: prometheus[0].bearer_token_env: environment variable WATCHFLOOR_TEST_UNSET_TOKEN is not set; requests to this server will fail until that is fixed",
            "config.toml:46:53: alertmanager[0].basic_auth.password_file: secrets/am-password: no such file; requests to this server will fail until that is fixed",
            "config.toml:49:25: rules.files[1]: /etc/prometheus/alerts.yml does not exist (yet)",
        ]
    );
}

#[test]
fn an_empty_file_and_no_file_give_the_defaults() {
    let (_dir, loaded) = load_text("# nothing yet\n");
    let loaded = loaded.unwrap();
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.warnings.is_empty());
    let c = Config::default();
    assert!(c.probes.enabled);
    assert_eq!(c.probes.interval.to_string(), "10s");
    assert_eq!(c.probes.timeout.to_string(), "2s");
    assert_eq!(c.scraping.interval.to_string(), "15s");
    assert_eq!(c.scraping.retention.to_string(), "1h");
    assert_eq!(c.scraping.memory_cap.to_string(), "64MiB");
    assert_eq!(c.rules.evaluation_interval.to_string(), "15s");
}

#[test]
fn a_missing_config_flag_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let e = load(Some(&path)).unwrap_err();
    assert_eq!(e.to_string(), format!("{}: no such file", path.display()));
    let e = load(Some(dir.path())).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: is a directory, not a file", dir.path().display())
    );
}

#[test]
fn type_and_syntax_errors_name_file_line_column_and_key() {
    assert_eq!(
        error(
            "[[environments]]\nname = \"a\"\ncontexts = [\"a\"]\n\n[[environments]]\nname = \"b\"\ncontexts = [\"b\"]\nprotected = \"yes\"\n"
        ),
        "config.toml:8:13: environments[1].protected: invalid type: string \"yes\", expected a boolean"
    );
    assert_eq!(
        error("[[environments]]\nname = \"a\"\ncolour = \"red\"\ncontexts = [\"a\"]\n"),
        "config.toml:3:1: environments[0]: unknown field `colour`, expected one of `name`, `color`, `protected`, `readonly`, `contexts`, `namespaces`"
    );
    assert_eq!(
        error("[probes]\ninterval = \"10 seconds\"\n"),
        "config.toml:2:12: probes.interval: \"10 seconds\" is not a duration; write a number with a unit (ms, s, m, h, d, w, y), largest unit first, as in \"30s\", \"5m\" or \"1h30m\""
    );
    assert_eq!(
        error("[scraping]\nmemory_cap = 64\n"),
        "config.toml:2:14: scraping.memory_cap: 64 has no unit; write sizes as strings with a unit, such as \"64MiB\""
    );
    assert_eq!(
        error("[ui]\ntheme = light\n"),
        "config.toml:2:9: string values must be quoted, expected literal string"
    );
    assert_eq!(
        error("[[environments]]\nname = \"a\"\n"),
        "config.toml:1:1: environments[0]: missing field `contexts`"
    );
    assert_eq!(
        error("[[prometheus]]\nenvironment = \"a\"\nurl = \"prometheus:9090\"\n"),
        "config.toml:3:7: prometheus[0].url: \"prometheus:9090\" is not an http:// or https:// URL with a host"
    );
    assert_eq!(
        error("[[prometheus]]\nenvironment = \"a\"\nurl = \"http://p\"\nbearer_token = \"abc\"\n"),
        "config.toml:4:1: prometheus[0]: unknown field `bearer_token`, expected one of `environment`, `url`, `bearer_token_file`, `bearer_token_env`, `basic_auth`, `prometheus_compat` (secrets are not written in the config file: use bearer_token_file or bearer_token_env)"
    );
    assert_eq!(
        error("[rules]\nfile = [\"a.yml\"]\n"),
        "config.toml:2:1: rules: unknown field `file`, expected `files` or `evaluation_interval`"
    );
}

#[test]
fn environments_are_cross_checked() {
    let text = r#"
[[environments]]
name = "prod"
contexts = ["prod-eastus", "prod-eastus"]
namespaces = ["Shop"]

[[environments]]
name = "prod"
color = "not a colour"
contexts = []

[[environments]]
name = ""
contexts = ["prod-eastus", ""]
"#;
    assert_eq!(
        error(text),
        [
            "config.toml:4:28: environments[0].contexts[1]: context \"prod-eastus\" is listed twice",
            "config.toml:5:15: environments[0].namespaces[0]: \"Shop\" is not a namespace name (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)",
            "config.toml:8:8: environments[1].name: environment \"prod\" is already defined at line 3; names must be unique",
            "config.toml:9:9: environments[1].color: \"not a colour\" is not a colour: write a theme's environment colour name (prod, staging, dev, ...), a colour name (red, lightblue, ...) or \"#rrggbb\"",
            "config.toml:10:12: environments[1].contexts: list at least one kubeconfig context (contexts = [\"prod-eastus\"])",
            "config.toml:13:8: environments[2].name: the name is empty",
            "config.toml:14:13: environments[2].contexts[0]: context \"prod-eastus\" is already in environment \"prod\"; a context belongs to at most one environment",
            "config.toml:14:28: environments[2].contexts[1]: the context is empty",
        ]
        .join("\n")
    );
}

#[test]
fn ui_names_must_be_shipped_or_paths() {
    assert_eq!(
        error("[ui]\ntheme = \"dracula\"\nkeymap = \"vim\"\n"),
        "config.toml:2:9: ui.theme: no shipped theme is named \"dracula\" (shipped: default, light, high-contrast, mono); give a file by its path, such as \"./my-theme.toml\"\n\
         config.toml:3:10: ui.keymap: no shipped keymap is named \"vim\" (shipped: default, emacs); give a file by its path, such as \"./my-keymap.toml\""
    );
    let (_dir, loaded) = load_text("[ui]\ntheme = \"/abs/theme.toml\"\nkeymap = \"emacs\"\n");
    let ui = loaded.unwrap().config.ui;
    assert_eq!(ui.theme.as_deref(), Some("/abs/theme.toml"));
    assert_eq!(ui.keymap.as_deref(), Some("emacs"));
}

#[test]
fn log_lines_has_a_default_and_a_range() {
    let (_dir, loaded) = load_text("[ui]\ntheme = \"light\"\n");
    assert_eq!(loaded.unwrap().config.ui.log_lines, 100_000);
    let (_dir, loaded) = load_text("[ui]\nlog_lines = 2000\n");
    assert_eq!(loaded.unwrap().config.ui.log_lines, 2000);
    assert_eq!(
        error("[ui]\nlog_lines = 10\n"),
        "config.toml:2:13: ui.log_lines: log_lines = 10 is out of range: give 100 to 5000000 (lines the log view keeps)"
    );
}

#[test]
fn periods_and_sources_are_checked() {
    let text = r#"
[probes]
interval = "5s"
timeout = "10s"
concurrency = 0

[scraping]
interval = "1m"
retention = "30s"
memory_cap = "0B"

[[scraping.targets]]
name = "a"
url = "http://a"
interval = "1s"

[[scraping.targets]]
name = "a"
url = "http://b"
timeout = "2m"

[[environments]]
name = "prod"
contexts = ["p"]

[[prometheus]]
environment = "production"
url = "http://p"
bearer_token_env = "X"
basic_auth = { username = "u", password_env = "Y" }
prometheus_compat = 1

[[alertmanager]]
environment = "prod"
url = "http://a"
basic_auth = { username = "", password_env = "A", password_file = "f" }

[[alertmanager]]
environment = "prod"
url = "http://a/"

[rules]
files = [""]
evaluation_interval = "0"
"#;
    assert_eq!(
        error(text),
        [
            "config.toml:4:11: probes.timeout: timeout 10s is longer than the interval 5s",
            "config.toml:5:15: probes.concurrency: must be at least 1",
            "config.toml:9:13: scraping.retention: retention 30s is shorter than the scrape interval 1m: no sample would be kept",
            "config.toml:10:14: scraping.memory_cap: memory_cap must be above 0",
            "config.toml:15:12: scraping.targets[0].interval: interval 1s is shorter than scraping.timeout 5s",
            "config.toml:18:8: scraping.targets[1].name: target \"a\" is already defined at line 13",
            "config.toml:20:11: scraping.targets[1].timeout: timeout 2m is longer than the target's interval 1m",
            "config.toml:27:15: prometheus[0].environment: no environment is named \"production\" in this file (environments: prod)",
            "config.toml:30:14: prometheus[0].basic_auth: give one way to authenticate, not bearer_token_env and basic_auth: bearer_token_file, bearer_token_env or basic_auth",
            "config.toml:31:21: prometheus[0].prometheus_compat: 1 is not a Prometheus major version watchfloor knows; write 2 or 3",
            "config.toml:36:14: alertmanager[0].basic_auth: basic_auth needs exactly one of password_file or password_env",
            "config.toml:36:27: alertmanager[0].basic_auth.username: the username is empty",
            "config.toml:40:7: alertmanager[1].url: http://a/ is already listed for environment \"prod\" at line 33",
            "config.toml:43:10: rules.files[0]: the pattern is empty",
            "config.toml:44:23: rules.evaluation_interval: must be above 0",
        ]
        .join("\n")
    );
}

#[test]
fn endpoints_may_name_kubeconfig_contexts_when_no_environments_are_configured() {
    let text = "[[prometheus]]\nenvironment = \"dev\"\nurl = \"http://p\"\n";
    let (_dir, loaded) = load_text(text);
    assert_eq!(loaded.unwrap().config.prometheus[0].environment, "dev");
}

#[test]
fn secrets_are_read_at_use_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cr3t-value\n").unwrap();
    let text = format!(
        "[[prometheus]]\nenvironment = \"dev\"\nurl = \"http://p\"\nbearer_token_file = {:?}\n",
        token.display().to_string()
    );
    assert!(warnings(&text).is_empty());
    let (_dir, loaded) = load_text(&text);
    let config = loaded.unwrap().config;
    let Auth::Bearer(source) = &config.prometheus[0].auth else {
        panic!("bearer expected")
    };
    let secret = source.read().unwrap();
    assert_eq!(secret.expose(), "s3cr3t-value");
    assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    assert!(!format!("{config:?}").contains("s3cr3t"));
    std::fs::write(&token, "\n").unwrap();
    assert_eq!(
        source.read().unwrap_err(),
        format!("{} is empty", token.display())
    );
}

#[test]
fn paths_follow_the_platform() {
    let Some(p) = paths::Paths::discover() else {
        return;
    };
    assert!(p.config_file.ends_with("watchfloor/config.toml"));
    assert!(p.audit_log().ends_with("audit.log"));
    assert!(is_path_spec("./x.toml") && is_path_spec("~/t") && is_path_spec("x.toml"));
    assert!(!is_path_spec("high-contrast"));
    assert_eq!(expand_home("/a/b"), PathBuf::from("/a/b"));
    assert!(!expand_home("~/a").starts_with("~"));
    assert_eq!(expand_home("a~/b"), Path::new("a~/b"));
}

#[test]
fn the_documented_example_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, include_str!("../../docs/config.example.toml")).unwrap();
    let loaded = load(Some(&path)).unwrap();
    assert_eq!(loaded.config.environments.len(), 3);
    // Only the unset secret variables are mentioned.
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
}
