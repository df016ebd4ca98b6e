//! Keymap files: `[keys]` tables of `action = ["key", ...]`. The shipped maps are complete; a
//! user's file overlays one of them and each of its mistakes becomes a warning with its place,
//! so a typo costs one binding, never the console.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use toml::Spanned;
use toml::de::DeValue;

use super::{KeyChord, Keymap};
use crate::action::Action;
use crate::config::ConfigError;
use crate::config::error::{Seg, SourceDoc};

/// The keymaps compiled into the binary, by the name `[ui] keymap` and `--keymap` use.
pub const SHIPPED: &[&str] = &["default", "emacs"];

fn shipped_text(name: &str) -> Option<&'static str> {
    Some(match name {
        "default" => include_str!("../../../keymaps/default.toml"),
        "emacs" => include_str!("../../../keymaps/emacs.toml"),
        _ => return None,
    })
}

/// tmux's and screen's prefix keys: a console that took them would be unusable inside either.
pub const RESERVED: &[&str] = &["ctrl-a", "ctrl-b"];

fn is_reserved(key: KeyChord) -> bool {
    RESERVED
        .iter()
        .any(|r| r.parse::<KeyChord>().is_ok_and(|k| k == key))
}

/// A shipped keymap by name.
pub fn shipped(name: &str) -> Option<Keymap> {
    parse_shipped(name).map(|(map, _)| map)
}

/// A shipped keymap with the warnings it would give (none: a test holds each map to that).
pub(crate) fn parse_shipped(name: &str) -> Option<(Keymap, Vec<String>)> {
    let text = shipped_text(name)?;
    let file = PathBuf::from(format!("keymaps/{name}.toml"));
    let doc = SourceDoc::parse(&file, text).ok()?;
    let mut map = Keymap::default();
    let warnings = overlay(&doc, &mut map);
    Some((map, warnings))
}

/// Loads a keymap: a shipped name, or a user file (`None`: `default`). A user file overlays the
/// shipped map it `extends` (default: `default`): each action it names gets exactly the keys it
/// lists (`[]` unbinds). A file that cannot be read or is not TOML is an error; everything else
/// (unknown actions, bad keys, clashes, tmux's prefixes) is a warning and the rest still applies.
pub fn load(spec: Option<&str>) -> Result<(Keymap, Vec<String>), ConfigError> {
    let spec = spec.unwrap_or("default");
    if let Some(map) = shipped(spec) {
        return Ok((map, Vec::new()));
    }
    if !crate::config::is_path_spec(spec) {
        return Err(ConfigError::Invalid(format!(
            "no shipped keymap is named {spec:?} (shipped: {}); give a keymap file by its path, such as ./my-keys.toml",
            SHIPPED.join(", ")
        )));
    }
    let path = crate::config::expand_home(spec);
    let text = crate::config::read_text(&path)?;
    let doc = SourceDoc::parse(&path, &text)?;
    let mut warnings = Vec::new();
    let extends = doc
        .root
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == "extends")
        .map(|(_, v)| v.get_ref());
    let base = match extends {
        None => "default".to_string(),
        Some(DeValue::String(name)) if shipped_text(name).is_some() => name.to_string(),
        Some(other) => {
            warnings.push(
                doc.at(
                    &["extends".into()],
                    &format!(
                        "{} is not a shipped keymap ({}); extending default",
                        describe(other),
                        SHIPPED.join(", ")
                    ),
                )
                .to_string(),
            );
            "default".to_string()
        }
    };
    let mut map = shipped(&base).unwrap_or_default();
    warnings.extend(overlay(&doc, &mut map));
    Ok((map, warnings))
}

/// One binding as written: where, which action, which keys.
struct Written {
    action: Action,
    keys: Vec<(KeyChord, Vec<Seg>)>,
}

/// Applies the `[keys]` of `doc` to `map`, in file order, returning the warnings.
fn overlay(doc: &SourceDoc<'_>, map: &mut Keymap) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut warn = |path: &[Seg], message: String| warnings.push(doc.at(path, &message));
    let mut unknown = Vec::new();
    let mut keys_table = None;
    for (key, value) in in_file_order(doc.root.get_ref().iter()) {
        match (key, value.get_ref()) {
            ("keys", DeValue::Table(t)) => keys_table = Some(t),
            ("extends", _) => {}
            ("keys", other) => warn(
                &["keys".into()],
                format!("`keys` should be a table ([keys]), not {}", describe(other)),
            ),
            (other, _) => unknown.push(doc.at_key(
                &[other.into()],
                &format!(
                    "unknown key `{other}`; a keymap file has a [keys] table (and may say extends = \"emacs\")"
                ),
            )),
        }
    }
    let Some(table) = keys_table else {
        warnings.extend(unknown);
        return in_line_order(warnings);
    };

    let mut written = Vec::new();
    for (name, value) in in_file_order(table.iter()) {
        let at = |rest: &[Seg]| -> Vec<Seg> {
            [Seg::from("keys"), Seg::from(name)]
                .into_iter()
                .chain(rest.iter().cloned())
                .collect()
        };
        let Some(action) = Action::from_name(name) else {
            unknown.push(doc.at_key(
                &at(&[]),
                &format!("unknown action `{name}`{}", suggest(name)),
            ));
            continue;
        };
        let items: Vec<(&DeValue<'_>, Vec<Seg>)> = match value.get_ref() {
            DeValue::String(_) => vec![(value.get_ref(), at(&[]))],
            DeValue::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (v.get_ref(), at(&[i.into()])))
                .collect(),
            other => {
                warn(
                    &at(&[]),
                    format!(
                        "expected a list of keys such as [\"j\", \"down\"], not {}",
                        describe(other)
                    ),
                );
                continue;
            }
        };
        let listed = items.len();
        let mut keys = Vec::new();
        for (item, path) in items {
            let DeValue::String(text) = item else {
                warn(
                    &path,
                    format!("expected a key such as \"j\", not {}", describe(item)),
                );
                continue;
            };
            match text.parse::<KeyChord>() {
                Err(why) => warn(&path, why),
                Ok(key) if is_reserved(key) => warn(
                    &path,
                    format!(
                        "{key} is left to tmux and screen (their prefix key); not bound to {name}"
                    ),
                ),
                Ok(key) => keys.push((key, path)),
            }
        }
        // Only `[]` unbinds: a line whose every key was refused keeps the action's old keys.
        if listed == 0 || !keys.is_empty() {
            written.push(Written { action, keys });
        }
    }

    // Later lines win, as the file reads top to bottom; say which line lost.
    let mut claimed: HashMap<KeyChord, (Action, usize)> = HashMap::new();
    let named: HashSet<Action> = written.iter().map(|w| w.action).collect();
    let mut robbed = Vec::new();
    for w in &written {
        map.unbind_all(w.action);
    }
    for w in &written {
        for (key, path) in &w.keys {
            let line = doc.at(path, "").line;
            if let Some((other, other_line)) = claimed.insert(*key, (w.action, line))
                && other != w.action
            {
                warn(
                    path,
                    format!(
                        "{key} is bound to both {} (line {other_line}) and {}; the later line wins",
                        other.name(),
                        w.action.name()
                    ),
                );
            }
            if let Some(previous) = map.action_for(*key)
                && previous != w.action
                && !named.contains(&previous)
            {
                robbed.push((previous, *key, path.clone(), w.action));
            }
            map.bind(*key, w.action);
        }
    }
    for (previous, key, path, action) in robbed {
        if map.keys(previous).is_empty() {
            warn(
                &path,
                format!(
                    "{key} now does {}, which leaves {} with no key; give it one in this file",
                    action.name(),
                    previous.name()
                ),
            );
        }
    }
    warnings.extend(unknown);
    in_line_order(warnings)
}

fn in_line_order(mut warnings: Vec<crate::config::Located>) -> Vec<String> {
    warnings.sort_by_key(|w| (w.line, w.column));
    warnings.iter().map(ToString::to_string).collect()
}

/// Table entries in the order they are written (the parsed table is sorted by key).
fn in_file_order<'a, 'i: 'a>(
    entries: impl Iterator<
        Item = (
            &'a Spanned<std::borrow::Cow<'i, str>>,
            &'a Spanned<DeValue<'i>>,
        ),
    >,
) -> Vec<(&'a str, &'a Spanned<DeValue<'i>>)> {
    let mut entries: Vec<_> = entries.collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
        .into_iter()
        .map(|(k, v)| (k.get_ref().as_ref(), v))
        .collect()
}

fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("{s:?}"),
        DeValue::Integer(_) => "an integer".to_string(),
        DeValue::Array(_) => "an array".to_string(),
        other => format!("a {}", other.type_str()),
    }
}

/// ` (did you mean `scale`?)` for a near miss, so a typo is fixed in one look.
fn suggest(name: &str) -> String {
    Action::ALL
        .iter()
        .map(|a| (edit_distance(name, &a.name()), a.name()))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map_or_else(
            || "; see `watchfloor config check` or the help page (?) for the actions".to_string(),
            |(_, n)| format!(" (did you mean `{n}`?)"),
        )
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
