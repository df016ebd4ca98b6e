//! `watchfloor config check|paths` through the real binary, on the fixtures in
//! `tests/fixtures/config/`: exactly what a person sees for a good file and for each mistake.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config")
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs watchfloor in the fixtures directory (so paths print as written) with a fresh home,
/// the fixture kubeconfig, and none of the caller's colour or config variables.
fn watchfloor(args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_watchfloor"));
    cmd.args(args)
        .current_dir(fixtures())
        .env("HOME", home.path())
        .env("KUBECONFIG", fixtures().join("kubeconfig.yaml"))
        .env_remove("NO_COLOR")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .env_remove("XDG_DATA_HOME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("watchfloor runs");
    let home = format!("{}", home.path().display());
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).replace(&home, "~"),
        stderr: String::from_utf8_lossy(&out.stderr).replace(&home, "~"),
    }
}

fn check(config: &str, extra: &[&str]) -> Run {
    let mut args = vec!["config", "check", "--config", config];
    args.extend(extra);
    watchfloor(&args, &[])
}

/// A file watchfloor refuses: status 2, nothing on stdout, exactly `stderr` on stderr.
fn refused(run: &Run, stderr: &str) {
    assert_eq!(run.stderr, stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.status, 2);
}

#[test]
fn a_valid_config_is_ok_and_shows_its_fleet() {
    let run = check("valid.toml", &[]);
    assert_eq!(
        run.stdout,
        "config OK: valid.toml (3 environments)\n\
         keymap: emacs; theme: theme-purple-accent.toml\n\
         environment prod (protected): prod-eastus, prod-westus\n\
         environment staging: staging\n\
         environment dev: dev\n"
    );
    assert_eq!(run.stderr, "");
    assert_eq!(run.status, 0);

    let run = check(
        "valid.toml",
        &["--env", "prod", "--readonly", "--theme", "mono"],
    );
    assert_eq!(
        run.stdout,
        "config OK: valid.toml (3 environments)\n\
         keymap: emacs; theme: mono\n\
         environment prod (protected, read-only): prod-eastus, prod-westus\n"
    );
    assert_eq!(run.status, 0);
}

#[test]
fn no_config_file_means_defaults_and_the_current_context() {
    let run = watchfloor(&["config", "check"], &[("NO_COLOR", "1")]);
    assert_eq!(
        run.stdout,
        "config OK: no config file at ~/.config/watchfloor/config.toml; using the defaults\n\
         keymap: default; theme: default (mono: no colour requested)\n\
         environment dev: dev\n"
    );
    assert_eq!(run.stderr, "");
    assert_eq!(run.status, 0);
    let run = watchfloor(&["config", "check", "--all-contexts"], &[]);
    assert!(run.stdout.ends_with(
        "environment dev: dev\nenvironment staging: staging\n\
         environment prod-eastus: prod-eastus\nenvironment prod-westus: prod-westus\n"
    ));
}

#[test]
fn unknown_keys_wrong_types_and_syntax_point_at_the_line() {
    refused(
        &check("bad-unknown-key.toml", &[]),
        "error: bad-unknown-key.toml:3:1: environments[0]: unknown field `colour`, expected one of `name`, `color`, `protected`, `readonly`, `contexts`, `namespaces`\n",
    );
    refused(
        &check("bad-type.toml", &[]),
        "error: bad-type.toml:8:13: environments[1].protected: invalid type: string \"yes\", expected a boolean\n",
    );
    refused(
        &check("bad-syntax.toml", &[]),
        "error: bad-syntax.toml:2:9: string values must be quoted, expected literal string\n",
    );
    refused(
        &check("bad-sections.toml", &[]),
        "error: bad-sections.toml:2:12: probes.interval: \"10\" is not a duration; write a number with a unit (ms, s, m, h, d, w, y), largest unit first, as in \"30s\", \"5m\" or \"1h30m\"\n",
    );
}

#[test]
fn every_cross_check_problem_is_listed_in_file_order() {
    refused(
        &check("bad-environments.toml", &[]),
        "error: bad-environments.toml:6:8: environments[1].name: environment \"prod\" is already defined at line 2; names must be unique\n\
         error: bad-environments.toml:7:13: environments[1].contexts[0]: context \"prod-westus\" is already in environment \"prod\"; a context belongs to at most one environment\n\
         error: bad-environments.toml:11:12: environments[2].contexts: list at least one kubeconfig context (contexts = [\"prod-eastus\"])\n",
    );
    refused(
        &check("bad-ui-names.toml", &[]),
        "error: bad-ui-names.toml:2:9: ui.theme: no shipped theme is named \"dracula\" (shipped: default, light, high-contrast, mono); give a file by its path, such as \"./my-theme.toml\"\n\
         error: bad-ui-names.toml:3:10: ui.keymap: no shipped keymap is named \"vim\" (shipped: default, emacs); give a file by its path, such as \"./my-keymap.toml\"\n",
    );
}

#[test]
fn a_missing_config_flag_file_is_an_error() {
    refused(&check("nope.toml", &[]), "error: nope.toml: no such file\n");
}

#[test]
fn keymap_mistakes_are_warnings_and_the_rest_applies() {
    let run = check("with-keymap-mistakes.toml", &[]);
    assert_eq!(
        run.stdout,
        "config OK: with-keymap-mistakes.toml (0 environments)\n\
         keymap: keymap-mistakes.toml; theme: default\n\
         environment dev: dev\n"
    );
    assert_eq!(
        run.stderr,
        "warning: keymap-mistakes.toml:3:1: keys: unknown action `scael` (did you mean `scale`?)\n\
         warning: keymap-mistakes.toml:4:9: keys.logs[0]: ctrl-b is left to tmux and screen (their prefix key); not bound to logs\n\
         warning: keymap-mistakes.toml:6:16: keys.faults_only[0]: x is bound to both detail (line 5) and faults_only; the later line wins\n\
         warning: keymap-mistakes.toml:7:12: keys.restart[0]: \"hyper-r\" is not a key; write a character (j, G, ?), a name (enter, esc, tab, up, pgdn, f5, space) with optional ctrl-, alt-, shift-\n"
    );
    assert_eq!(run.status, 0);
}

#[test]
fn keymap_and_theme_files_that_cannot_be_used_are_errors() {
    refused(
        &check("valid.toml", &["--keymap", "keymap-not-toml.toml"]),
        "error: keymap-not-toml.toml:2:13: unclosed array, expected `]`\n",
    );
    refused(
        &check("valid.toml", &["--theme", "theme-unknown-key.toml"]),
        "error: theme-unknown-key.toml:2:1: unknown field `critical`, expected one of `extends`, `mono`, `fg`, `bg`, `muted`, `accent`, `selection_fg`, `selection_bg`, `ok`, `warn`, `crit`, `unknown`, `progressing`, `protected`, `env`\n",
    );
    refused(
        &check("valid.toml", &["--keymap", "missing-keys.toml"]),
        "error: missing-keys.toml: no such file\n",
    );
}

#[test]
fn kubeconfig_problems_are_warnings_of_the_check() {
    let run = check("valid.toml", &["--context", "qa"]);
    assert_eq!(
        run.stderr,
        format!(
            "warning: fleet: no context named qa in the kubeconfig ({}); it has: dev, staging, prod-eastus, prod-westus\n",
            fixtures().join("kubeconfig.yaml").display()
        )
    );
    assert_eq!(run.status, 0);
    let run = check("valid.toml", &["--kubeconfig", "no-such-kubeconfig"]);
    assert_eq!(
        run.stderr,
        "warning: kubeconfig: no-such-kubeconfig: no such file\n"
    );
}

#[test]
fn paths_lists_where_watchfloor_reads_and_writes() {
    let run = watchfloor(&["config", "paths"], &[]);
    assert_eq!(
        run.stdout,
        format!(
            "config file  ~/.config/watchfloor/config.toml (missing: the defaults are in use)\n\
             state dir    ~/.local/state/watchfloor (missing: created when first needed; audit log: ~/.local/state/watchfloor/audit.log)\n\
             data dir     ~/.local/share/watchfloor (missing: created when first needed)\n\
             kubeconfig   {} (exists)\n",
            fixtures().join("kubeconfig.yaml").display()
        )
    );
    assert_eq!(run.status, 0);
    let run = watchfloor(&["config", "paths", "--config", "valid.toml"], &[]);
    assert!(
        run.stdout
            .starts_with("config file  valid.toml (exists, from --config)\n")
    );
}

#[test]
fn the_demo_subcommand_still_parses() {
    let run = watchfloor(&["demo", "--speed", "0"], &[]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("speed must be above 0"),
        "{}",
        run.stderr
    );
}
