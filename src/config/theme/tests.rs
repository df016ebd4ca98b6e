//! Shipped themes, user themes over them, `NO_COLOR`, and colour depth.

use super::*;

fn user(text: &str) -> Result<(Palette, Vec<String>), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, text).unwrap();
    let prefix = format!("{}/", dir.path().display());
    load(Some(path.to_str().unwrap()), false, ColorDepth::TrueColor)
        .map(|(p, w)| (p, w.iter().map(|w| w.replace(&prefix, "")).collect()))
        .map_err(|e| e.to_string().replace(&prefix, ""))
}

#[test]
fn shipped_themes_parse_and_are_complete() {
    for &name in SHIPPED {
        let text = shipped(name).unwrap();
        let file = Path::new("themes").join(format!("{name}.toml"));
        let doc = SourceDoc::parse(&file, text).unwrap();
        let raw: ThemeFile = doc.deserialize().unwrap();
        let (palette, warnings) = load(Some(name), false, ColorDepth::TrueColor).unwrap();
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        assert_eq!(palette.name, name);
        if name == "mono" {
            assert!(palette.mono);
            assert_eq!(
                palette,
                Palette {
                    name: "mono".into(),
                    mono: true,
                    ..Palette::default()
                }
            );
            continue;
        }
        assert!(!palette.mono);
        for (key, value) in raw.colors() {
            assert!(value.is_some(), "{name}: {key} is not set");
        }
        for state in [
            palette.ok,
            palette.warn,
            palette.crit,
            palette.unknown,
            palette.accent,
        ] {
            assert!(state.is_some(), "{name}: states need colours");
        }
        for env in ["prod", "staging", "dev"] {
            assert!(palette.env.contains_key(env), "{name}: no colour for {env}");
        }
    }
}

#[test]
fn no_color_means_mono_whatever_the_theme() {
    let (palette, _) = load(Some("high-contrast"), true, ColorDepth::TrueColor).unwrap();
    assert!(palette.mono);
    assert_eq!(palette.crit, None);
    assert_eq!(palette.env_color("prod", Some("red")), None);
    // A broken theme file is still reported: NO_COLOR does not hide mistakes.
    assert!(load(Some("dracula"), true, ColorDepth::TrueColor).is_err());
}

#[test]
fn depth_brings_every_colour_down() {
    let (p, _) = load(None, false, ColorDepth::Ansi256).unwrap();
    assert_eq!(p.crit, Some(Color::Indexed(203)));
    assert_eq!(p.fg, None, "the terminal's own colour stays");
    assert!(p.env.values().all(|c| matches!(c, Color::Indexed(_))));
    let (p, _) = load(None, false, ColorDepth::Ansi16).unwrap();
    assert_eq!(p.ok, Some(Color::Green));
    assert_eq!(p.crit, Some(Color::LightRed));
    let all = [
        p.muted,
        p.accent,
        p.selection_fg,
        p.selection_bg,
        p.ok,
        p.warn,
        p.crit,
        p.unknown,
        p.progressing,
        p.protected,
    ];
    assert!(
        all.iter()
            .flatten()
            .chain(p.env.values())
            .all(|c| !matches!(c, Color::Rgb(..) | Color::Indexed(_)))
    );
}

#[test]
fn environment_colours_resolve_by_name_then_colour() {
    let (p, _) = load(None, false, ColorDepth::TrueColor).unwrap();
    assert_eq!(p.env_color("prod", None), p.env.get("prod").copied());
    assert_eq!(p.env_color("blue-team", None), None);
    assert_eq!(
        p.env_color("x", Some("staging")),
        p.env.get("staging").copied()
    );
    assert_eq!(p.env_color("x", Some("#010203")), Some(Color::Rgb(1, 2, 3)));
    assert_eq!(p.env_color("x", Some("nonsense")), None);
    assert!(is_color_or_name("prod") && is_color_or_name("#ff8800") && is_color_or_name("red"));
    assert!(!is_color_or_name("Prod Team") && !is_color_or_name(""));
}

#[test]
fn a_user_theme_overlays_the_theme_it_extends() {
    let (p, w) =
        user("crit = \"#ff0000\"\n[env]\nprod = \"magenta\"\nstaging = \"default\"\n").unwrap();
    assert!(w.is_empty());
    assert_eq!(p.name, "mine");
    assert_eq!(p.crit, Some(Color::Rgb(255, 0, 0)));
    let (default, _) = load(None, false, ColorDepth::TrueColor).unwrap();
    assert_eq!(p.ok, default.ok, "unnamed keys come from default");
    assert_eq!(p.env.get("prod"), Some(&Color::Magenta));
    assert_eq!(p.env.get("staging"), None, "default removes an env colour");
    let (p, _) = user("extends = \"light\"\nok = \"green\"\n").unwrap();
    let (light, _) = load(Some("light"), false, ColorDepth::TrueColor).unwrap();
    assert_eq!((p.ok, p.crit), (Some(Color::Green), light.crit));
}

#[test]
fn theme_file_mistakes_are_errors_at_their_place() {
    assert_eq!(
        user("ok = \"green\"\ncritical = \"red\"\n").unwrap_err(),
        "mine.toml:2:1: unknown field `critical`, expected one of `extends`, `mono`, `fg`, `bg`, `muted`, `accent`, `selection_fg`, `selection_bg`, `ok`, `warn`, `crit`, `unknown`, `progressing`, `protected`, `env`"
    );
    assert_eq!(
        user("ok = \"greenish\"\n").unwrap_err(),
        "mine.toml:1:6: ok: \"greenish\" is not a colour: write \"#rrggbb\", a name (black, red, green, yellow, blue, magenta, cyan, gray, darkgray, lightred, ..., white), an xterm colour number 0-255, or \"default\""
    );
    assert_eq!(
        user("[env]\nprod = 5\n").unwrap_err(),
        "mine.toml:2:8: env.prod: 5 is not a colour; write colours as strings, such as \"#ff8800\", \"red\" or \"208\""
    );
    assert_eq!(
        user("extends = \"solarized\"\n").unwrap_err(),
        "mine.toml:1:11: extends: a theme extends a shipped theme (default, light, high-contrast, mono), not \"solarized\""
    );
    let e = load(Some("./nope.toml"), false, ColorDepth::TrueColor).unwrap_err();
    assert_eq!(e.to_string(), "./nope.toml: no such file");
    let e = load(Some("dracula"), false, ColorDepth::TrueColor).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no shipped theme is named \"dracula\" (shipped: default, light, high-contrast, mono); give a theme file by its path, such as ./my-theme.toml"
    );
}

#[test]
fn colours_in_a_mono_theme_are_ignored_with_a_warning() {
    let (p, w) = user("mono = true\nok = \"green\"\n[env]\nprod = \"red\"\n").unwrap();
    assert!(p.mono && p.ok.is_none() && p.env.is_empty());
    assert_eq!(
        w,
        [
            "mine.toml:2:6: ok: a mono theme shows no colours; this one is ignored",
            "mine.toml:3:1: env: a mono theme shows no colours; [env] is ignored",
        ]
    );
}
