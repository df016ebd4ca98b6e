//! Keys as written and as pressed, the shipped keymaps, and a user's overlay with its warnings.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

fn key(s: &str) -> KeyChord {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, mods)
}

#[test]
fn chords_parse_print_and_round_trip() {
    for s in [
        "j",
        "G",
        "?",
        ":",
        "ctrl-r",
        "alt-x",
        "alt-G",
        "alt-<",
        "shift-tab",
        "enter",
        "esc",
        "f5",
        "space",
        "pgup",
        "pgdn",
        "ctrl-space",
        "shift-up",
        "ctrl-alt-d",
        "-",
        "ctrl--",
    ] {
        assert_eq!(key(s).to_string(), s, "{s}");
    }
    assert_eq!(key("shift-g"), key("G"));
    assert_eq!(key("ctrl-G"), key("ctrl-g"));
    assert_ne!(key("alt-G"), key("alt-g"));
    assert_eq!(key("pageup"), key("pgup"));
    assert_eq!(key("backtab"), key("shift-tab"));
    assert_eq!(key("Return"), key("enter"));
    assert_eq!(key("F12").code, KeyCode::F(12));
    for bad in ["", "ctrl-", "f25", "pgupp", "hyper-x", "ctrl-enterr"] {
        assert!(bad.parse::<KeyChord>().is_err(), "{bad:?}");
    }
}

#[test]
fn pressed_keys_match_written_keys() {
    let map = shipped("default").unwrap();
    let press = |code, mods| map.action(&ev(code, mods));
    assert_eq!(
        press(KeyCode::Char('j'), KeyModifiers::NONE),
        Some(Action::Down)
    );
    // Terminals differ on whether shift comes with `G`; either way it is bottom.
    assert_eq!(
        press(KeyCode::Char('G'), KeyModifiers::SHIFT),
        Some(Action::Bottom)
    );
    assert_eq!(
        press(KeyCode::Char('G'), KeyModifiers::NONE),
        Some(Action::Bottom)
    );
    assert_eq!(
        press(KeyCode::Char('?'), KeyModifiers::SHIFT),
        Some(Action::Help)
    );
    assert_eq!(
        press(KeyCode::Char('d'), KeyModifiers::CONTROL),
        Some(Action::PageDown)
    );
    assert_eq!(
        press(KeyCode::Char('D'), KeyModifiers::CONTROL),
        Some(Action::PageDown)
    );
    assert_eq!(
        press(KeyCode::Char('c'), KeyModifiers::CONTROL),
        Some(Action::Quit)
    );
    assert_eq!(
        press(KeyCode::Char('o'), KeyModifiers::NONE),
        Some(Action::SortNext)
    );
    assert_eq!(
        press(KeyCode::Char('O'), KeyModifiers::SHIFT),
        Some(Action::SortReverse)
    );
    assert_eq!(press(KeyCode::Char('a'), KeyModifiers::CONTROL), None);
    let emacs = shipped("emacs").unwrap();
    let alt_gt = ev(KeyCode::Char('>'), KeyModifiers::ALT | KeyModifiers::SHIFT);
    assert_eq!(emacs.action(&alt_gt), Some(Action::Bottom));
    assert_eq!(
        emacs.action(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
        None,
        "shift-tab is free"
    );
    assert_eq!(
        Keymap::from_bindings([(Action::Back, vec![key("shift-tab")])])
            .action(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
        Some(Action::Back)
    );
}

#[test]
fn shipped_keymaps_are_complete_clean_and_leave_tmux_alone() {
    for &name in SHIPPED {
        let (map, warnings) = file::parse_shipped(name).expect("shipped keymap parses");
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        let mut seen = std::collections::HashMap::new();
        for &action in Action::ALL {
            let keys = map.keys(action);
            assert!(!keys.is_empty(), "{name}: {} has no key", action.name());
            for k in keys {
                assert!(
                    !RESERVED.contains(&k.to_string().as_str()),
                    "{name}: {k} is tmux's or screen's prefix"
                );
                if let Some(other) = seen.insert(*k, action) {
                    panic!("{name}: {k} is bound to {other:?} and {action:?}");
                }
            }
        }
        assert!(map.hint(Action::Help).is_some());
    }
    assert_eq!(
        shipped("default")
            .unwrap()
            .hint(Action::PageDown)
            .as_deref(),
        Some("pgdn")
    );
    assert!(shipped("vim").is_none());
}

/// Loads a user keymap written to a temp file; warnings with the directory taken out.
fn user(text: &str) -> (Keymap, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.toml");
    std::fs::write(&path, text).unwrap();
    let (map, warnings) = load(Some(path.to_str().unwrap())).unwrap();
    let prefix = format!("{}/", dir.path().display());
    (
        map,
        warnings.iter().map(|w| w.replace(&prefix, "")).collect(),
    )
}

#[test]
fn a_user_file_changes_only_what_it_names() {
    let (map, warnings) = user("[keys]\nscale = [\"S\"]\nrestart = \"R\"\n");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(map.keys(Action::Scale), [key("S")]);
    assert_eq!(map.keys(Action::Restart), [key("R")]);
    assert_eq!(map.action_for(key("s")), None, "the old key is gone");
    assert_eq!(map.keys(Action::Down), [key("j"), key("down")]);
    let (map, warnings) = user("extends = \"emacs\"\n[keys]\nrollback = []\n");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(map.keys(Action::Rollback).is_empty());
    assert_eq!(map.hint(Action::Up).as_deref(), Some("ctrl-p"));
}

#[test]
fn mistakes_in_a_user_file_are_warnings_at_their_place() {
    let text = r#"
[keys]
scael = ["S"]
logs = ["ctrl-a", "L", "hyper-l", 3]
detail = ["x"]
faults_only = ["x"]
help = ["r"]
up = 5
[colors]
"#;
    let (map, warnings) = user(text);
    assert_eq!(
        warnings,
        [
            "keys.toml:3:1: keys: unknown action `scael` (did you mean `scale`?)",
            "keys.toml:4:9: keys.logs[0]: ctrl-a is left to tmux and screen (their prefix key); not bound to logs",
            "keys.toml:4:24: keys.logs[2]: \"hyper-l\" is not a key; write a character (j, G, ?), a name (enter, esc, tab, up, pgdn, f5, space) with optional ctrl-, alt-, shift-",
            "keys.toml:4:35: keys.logs[3]: expected a key such as \"j\", not an integer",
            "keys.toml:6:16: keys.faults_only[0]: x is bound to both detail (line 5) and faults_only; the later line wins",
            "keys.toml:7:9: keys.help[0]: r now does help, which leaves restart with no key; give it one in this file",
            "keys.toml:8:6: keys.up: expected a list of keys such as [\"j\", \"down\"], not an integer",
            "keys.toml:9:2: unknown key `colors`; a keymap file has a [keys] table (and may say extends = \"emacs\")",
        ]
    );
    // What could be applied was.
    assert_eq!(map.keys(Action::Logs), [key("L")]);
    assert_eq!(map.action_for(key("x")), Some(Action::FaultsOnly));
    assert_eq!(map.action_for(key("r")), Some(Action::Help));
    assert_eq!(
        map.action_for(key("d")),
        None,
        "detail's d went with its line"
    );
    assert_eq!(
        map.keys(Action::Up),
        [key("k"), key("up")],
        "a bad entry leaves the default"
    );
    assert_eq!(map.action_for(key("ctrl-a")), None);
    let (map, _) = user("[keys]\nrestart = [\"hyper-r\", \"ctrl-a\"]\n");
    assert_eq!(
        map.keys(Action::Restart),
        [key("r")],
        "no usable key: the old ones stay"
    );
}

#[test]
fn a_user_file_that_is_not_toml_or_not_there_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.toml");
    std::fs::write(&path, "[keys]\nscale = [\"S\"\n").unwrap();
    let e = load(Some(path.to_str().unwrap())).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("{}:2:13: unclosed array, expected `]`", path.display())
    );
    let missing = dir.path().join("missing.toml");
    let e = load(Some(missing.to_str().unwrap()))
        .unwrap_err()
        .to_string();
    assert_eq!(e, format!("{}: no such file", missing.display()));
    let e = load(Some("vim")).unwrap_err().to_string();
    assert_eq!(
        e,
        "no shipped keymap is named \"vim\" (shipped: default, emacs); give a keymap file by its path, such as ./my-keys.toml"
    );
}

#[test]
fn extending_something_unknown_falls_back_to_default() {
    let (map, warnings) = user("extends = \"vim\"\n");
    assert_eq!(
        warnings,
        [
            "keys.toml:1:11: extends: \"vim\" is not a shipped keymap (default, emacs); extending default"
        ]
    );
    assert_eq!(map.hint(Action::Up).as_deref(), Some("k"));
}
