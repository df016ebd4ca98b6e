//! Keymaps: which key triggers which `Action`. The shipped `keymaps/*.toml` are complete; a
//! user's file overlays them, and its mistakes become warnings, never a crash.

use std::collections::{BTreeMap, HashMap};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::action::Action;

mod file;
pub use file::{RESERVED, SHIPPED, load, shipped};

/// One key with its modifiers, as written in keymap files: `j`, `G`, `ctrl-r`, `shift-tab`,
/// `enter`, `esc`, `f5`, `space`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyChord {
    /// The chord a key event stands for. Shift is folded into the character for printable
    /// keys (`G`, `?`), as terminals report them inconsistently.
    pub fn from_event(ev: &KeyEvent) -> Self {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match ev.code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                // Terminals send the same byte for ctrl-g and ctrl-G.
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.insert(KeyModifiers::SHIFT);
                KeyCode::Tab
            }
            other => other,
        };
        Self { code, mods }
    }
}

/// The bindings in force: key to action, and each action's keys in the order they were written.
#[derive(Clone, Debug, Default)]
pub struct Keymap {
    by_key: HashMap<KeyChord, Action>,
    by_action: BTreeMap<Action, Vec<KeyChord>>,
}

impl Keymap {
    /// Builds a keymap from `(action, keys)` pairs; a later pair's key takes the key from an
    /// earlier one.
    pub fn from_bindings(bindings: impl IntoIterator<Item = (Action, Vec<KeyChord>)>) -> Self {
        let mut map = Keymap::default();
        for (action, keys) in bindings {
            for key in keys {
                map.bind(key, action);
            }
        }
        map
    }

    /// Binds `key` to `action`, taking it from whatever had it before.
    pub fn bind(&mut self, key: KeyChord, action: Action) {
        if let Some(old) = self.by_key.insert(key, action)
            && old != action
            && let Some(keys) = self.by_action.get_mut(&old)
        {
            keys.retain(|k| *k != key);
        }
        let keys = self.by_action.entry(action).or_default();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }

    /// Removes every key of `action`.
    pub fn unbind_all(&mut self, action: Action) {
        for key in self.by_action.remove(&action).unwrap_or_default() {
            self.by_key.remove(&key);
        }
    }

    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        self.by_key.get(&KeyChord::from_event(ev)).copied()
    }

    pub fn action_for(&self, key: KeyChord) -> Option<Action> {
        self.by_key.get(&key).copied()
    }

    /// The keys bound to `action`, first the one to show in hints.
    pub fn keys(&self, action: Action) -> &[KeyChord] {
        self.by_action
            .get(&action)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The key to show for `action` in hints, or None when nothing is bound to it.
    pub fn hint(&self, action: Action) -> Option<String> {
        self.keys(action).first().map(ToString::to_string)
    }
}

impl std::fmt::Display for KeyChord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::str::FromStr for KeyChord {
    type Err = String;

    /// Parses `j`, `G`, `?`, `ctrl-r`, `alt-x`, `shift-tab`, `enter`, `esc`, `f5`, `space`,
    /// `pgup`/`pageup`. The error says what was wrong, for the keymap warning.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix, m) = if lower.starts_with("ctrl-") {
                ("ctrl-", KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") {
                ("alt-", KeyModifiers::ALT)
            } else if lower.starts_with("shift-") {
                ("shift-", KeyModifiers::SHIFT)
            } else {
                break;
            };
            if rest.len() == prefix.len() {
                break;
            }
            mods |= m;
            rest = &rest[prefix.len()..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                // Printable keys carry shift in the character (`shift-g` is `G`, `alt-G` is
                // not `alt-g`), except with ctrl, where terminals cannot tell the case apart.
                let shifted = mods.contains(KeyModifiers::SHIFT);
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else if shifted {
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            (None, _) => return Err(format!("{s:?} is not a key (it is empty)")),
            _ => match rest.to_ascii_lowercase().as_str() {
                "space" => KeyCode::Char(' '),
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => {
                    mods |= KeyModifiers::SHIFT;
                    KeyCode::Tab
                }
                "backspace" => KeyCode::Backspace,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pgup" | "pageup" => KeyCode::PageUp,
                "pgdn" | "pagedown" => KeyCode::PageDown,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "{s:?} is not a key; write a character (j, G, ?), a name (enter, esc, tab, up, pgdn, f5, space) with optional ctrl-, alt-, shift-"
                    ));
                }
            },
        };
        Ok(Self { code, mods })
    }
}

#[cfg(test)]
mod tests;
