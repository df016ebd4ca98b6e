//! The real binary in a real terminal (tmux): the README's demo command opens the console on the
//! simulated fleet, rows of several clusters appear, keys navigate, `q` quits and the terminal is
//! given back.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::have;

struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "wf"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "wf"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Waits until the screen satisfies `ok`, or fails with the last screen.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn the_demo_console_shows_several_clusters_navigates_and_quits_cleanly() {
    if !have("tmux") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux {
        socket: dir.path().join("tmux.sock"),
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_watchfloor"));
    // No user config may leak in: config, state and data go to the temp dir.
    let cmd = format!(
        "env XDG_CONFIG_HOME={cfg} XDG_STATE_HOME={cfg} XDG_DATA_HOME={cfg} TERM=xterm-256color {bin} demo --speed 5; echo \"watchfloor exited $?\"; sleep 120",
        cfg = shell_quote(dir.path()),
        bin = shell_quote(bin),
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "wf",
        "-x",
        "120",
        "-y",
        "32",
        &cmd,
    ]);
    let screen = tmux.wait_for("rows of several clusters", |s| {
        s.contains("arxos/export-service") && s.contains("dev ●") && s.contains("staging ●")
    });
    assert!(
        screen.contains("PROD eastus"),
        "prod is labelled as protected:\n{screen}"
    );
    assert!(screen.contains("WORKLOAD"));
    tmux.keys(&["j"]);
    tmux.wait_for("the selection to move", |s| s.contains(" 2 of "));
    tmux.keys(&[":", "p", "o", "d", "s", "Enter"]);
    tmux.wait_for("the pods view", |s| {
        s.contains("▸ pods") && s.contains("PROBES L/R/S")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the fleet again", |s| {
        s.contains("▸ fleet") && s.contains("WORKLOAD")
    });
    tmux.keys(&["?"]);
    tmux.wait_for("help", |s| s.contains("Quit watchfloor"));
    // Esc alone: an Esc followed at once by q reaches the program as alt-q.
    tmux.keys(&["Escape"]);
    tmux.wait_for("help to close", |s| !s.contains("Quit watchfloor"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the process to exit", |s| s.contains("watchfloor exited"));
    assert!(screen.contains("watchfloor exited 0"), "{screen}");
    let alt = tmux.run(&["display-message", "-p", "-t", "wf", "#{alternate_on}"]);
    assert_eq!(alt.trim(), "0", "the alternate screen was left");
    assert!(
        !screen.contains("WORKLOAD"),
        "the console's screen is gone:\n{screen}"
    );
}
