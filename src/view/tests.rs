use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

use super::*;
use crate::kube::{ConnState, Detail, KubeMsg};
use crate::state::testing::*;
use crate::state::{Msg, State, update};
use crate::view::testing::{colour, mono};

fn render(
    state: &mut State,
    styles: &Styles,
    w: u16,
    h: u16,
    now: Timestamp,
) -> Terminal<TestBackend> {
    update(state, Msg::Resize(w, h), now);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, state, styles, now)).unwrap();
    terminal
}

fn text(t: &Terminal<TestBackend>) -> String {
    t.backend().to_string()
}

/// The cell whose text starts with `needle` on the row containing it.
fn style_at(t: &Terminal<TestBackend>, needle: &str) -> ratatui::style::Style {
    let buf = t.backend().buffer();
    let area = buf.area;
    for y in 0..area.height {
        let line: String = (0..area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(pos) = line.find(needle) {
            let x = line[..pos].chars().count() as u16;
            return buf[(x, y)].style();
        }
    }
    panic!("{needle:?} not on screen:\n{}", text(t));
}

#[test]
fn fleet_while_loading() {
    let mut s = empty_state();
    let t = render(&mut s, &colour(), 100, 12, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn fleet_with_a_crash_loop_in_staging_and_a_failing_probe_in_prod() {
    let mut s = fleet_state();
    let t = render(&mut s, &colour(), 120, 14, t0());
    insta::assert_snapshot!(text(&t));
    // Colour carries meaning on top of the symbol: critical is red, the protected label stands out.
    assert_eq!(style_at(&t, "✗ 1/2 crashloop").fg, Some(Color::Red));
    assert_eq!(style_at(&t, "PROD eastus").fg, Some(Color::Magenta));
}

#[test]
fn fleet_at_80_columns_keeps_symbols_and_counts() {
    let mut s = fleet_state();
    let t = render(&mut s, &colour(), 80, 24, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn fleet_in_mono_uses_only_modifiers() {
    let mut s = fleet_state();
    let t = render(&mut s, &mono(), 120, 14, t0());
    insta::assert_snapshot!(text(&t));
    let crit = style_at(&t, "✗ 1/2 crashloop");
    assert!(matches!(crit.fg, None | Some(Color::Reset)));
    assert!(
        crit.add_modifier
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert!(
            cell.fg == Color::Reset && cell.bg == Color::Reset,
            "mono must not colour: {cell:?}"
        );
    }
}

#[test]
fn fleet_with_a_cluster_unreachable() {
    let mut s = fleet_state();
    let down = ConnState::Unreachable {
        since: at(-75),
        error: "connect: connection refused".into(),
        retry_at: at(8),
    };
    update(
        &mut s,
        Msg::Kube(KubeMsg::Conn {
            cluster: 3,
            state: down,
            at: at(-75),
        }),
        t0(),
    );
    let t = render(&mut s, &colour(), 120, 14, t0());
    insta::assert_snapshot!(text(&t));
    key(&mut s, "5");
    let t = render(&mut s, &colour(), 120, 14, t0());
    insta::assert_snapshot!("clusters_with_one_unreachable", text(&t));
}

#[test]
fn pods_with_a_failing_readiness_probe() {
    let mut s = fleet_state();
    key(&mut s, ":");
    typed(&mut s, "pods @prod-eastus");
    key(&mut s, "enter");
    key(&mut s, "j");
    let t = render(&mut s, &colour(), 140, 12, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn detail_of_a_crash_looping_pod() {
    let mut s = fleet_state();
    key(&mut s, ":");
    typed(&mut s, "pods @staging");
    key(&mut s, "enter");
    key(&mut s, "/");
    typed(&mut s, "crash");
    key(&mut s, "enter");
    let effects = key(&mut s, "d");
    let Some(crate::state::Effect::FetchDetail {
        cluster,
        kind,
        key: k,
    }) = effects.first().cloned()
    else {
        panic!("fetch expected")
    };
    let detail = Detail {
        cluster,
        kind,
        key: k,
        conditions: vec![crate::kube::Condition {
            kind: "Ready".into(),
            status: "False".into(),
            reason: Some("ContainersNotReady".into()),
            message: Some("containers with unready status: [app]".into()),
            last_transition: Some(at(-40)),
        }],
        facts: vec![("pod IP".into(), "10.1.0.7".into())],
    };
    update(&mut s, Msg::Kube(KubeMsg::Detail(Ok(detail))), t0());
    let t = render(&mut s, &colour(), 120, 26, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn events_warnings_first() {
    let mut s = fleet_state();
    key(&mut s, "4");
    let t = render(&mut s, &colour(), 140, 14, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn help_lists_the_live_keys() {
    let mut s = fleet_state();
    key(&mut s, "?");
    let t = render(&mut s, &colour(), 100, 40, t0());
    let screen = text(&t);
    assert!(screen.contains("k up"), "{screen}");
    assert!(screen.contains("Quit watchfloor"));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_small_terminal_gets_a_message_and_no_panic() {
    let mut s = fleet_state();
    for (w, h) in [(59, 24), (80, 11), (1, 1), (0, 0)] {
        let t = render(&mut s, &colour(), w, h, t0());
        if w >= 20 && h >= 3 {
            assert!(
                text(&t).contains("watchfloor needs at least 60×12"),
                "{}",
                text(&t)
            );
        }
    }
}

#[test]
fn ages_read_like_kubectl() {
    let cases = [
        (45, "45s"),
        (192, "3m12s"),
        (1020, "17m"),
        (18120, "5h2m"),
        (72000, "20h"),
        (273600, "3d4h"),
        (1036800, "12d"),
    ];
    for (secs, want) in cases {
        assert_eq!(age(Some(at(-secs)), t0()), want);
    }
    assert_eq!(age(None, t0()), "–");
}

#[test]
fn every_view_draws_at_every_size_without_panic() {
    let mut s = fleet_state();
    let sizes = [0, 1, 7, 12, 24, 33, 59, 60, 61, 80, 120, 250];
    for keys in [
        &["1"][..],
        &["3"],
        &["4"],
        &["5"],
        &["2"],
        &["3", "d"],
        &["?"],
        &["1", "right", "right", "s", "9", "9"],
        &["1", "r"],
        &["1", "u"],
    ] {
        for k in keys {
            key(&mut s, k);
        }
        for &w in &sizes {
            for &h in &sizes[..9] {
                let t = render(&mut s, &colour(), w, h, t0());
                if w >= MIN_WIDTH && h >= MIN_HEIGHT {
                    assert!(!text(&t).contains("needs at least"), "{w}×{h}");
                }
            }
        }
        key(&mut s, "esc");
    }
}

#[test]
fn workloads_of_prod() {
    let mut s = fleet_state();
    key(&mut s, ":");
    typed(&mut s, "deploy env:prod");
    key(&mut s, "enter");
    let t = render(&mut s, &colour(), 140, 14, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn every_shipped_theme_draws_and_mono_has_no_colour() {
    use crate::config::theme::{self, ColorDepth};
    for name in theme::SHIPPED {
        for depth in [
            ColorDepth::TrueColor,
            ColorDepth::Ansi256,
            ColorDepth::Ansi16,
        ] {
            let (palette, warnings) = theme::load(Some(name), false, depth).unwrap();
            assert!(warnings.is_empty(), "{name}: {warnings:?}");
            let mut s = fleet_state();
            let t = render(&mut s, &Styles::new(&palette), 120, 14, t0());
            let screen = text(&t);
            assert!(screen.contains("✗ 1/2 crashloop"), "{name}: {screen}");
            if depth != ColorDepth::TrueColor {
                let rgb = t
                    .backend()
                    .buffer()
                    .content()
                    .iter()
                    .any(|c| matches!(c.fg, Color::Rgb(..)) || matches!(c.bg, Color::Rgb(..)));
                assert!(!rgb, "{name} at {depth:?} still uses 24-bit colour");
            }
        }
    }
    let (palette, _) = theme::load(Some("default"), true, ColorDepth::TrueColor).unwrap();
    assert!(palette.mono, "no_color forces mono");
    let mut s = fleet_state();
    let t = render(&mut s, &Styles::new(&palette), 120, 14, t0());
    assert!(
        t.backend()
            .buffer()
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
}

/// The fleet with arq/arq-backend's prod-eastus cell selected.
fn prod_cell() -> State {
    let mut s = fleet_state();
    key(&mut s, "right");
    key(&mut s, "right");
    s
}

#[test]
fn scale_dialog_in_prod_with_the_hpa_and_the_other_region() {
    let mut s = prod_cell();
    key(&mut s, "s");
    typed(&mut s, "12");
    for _ in 0..3 {
        key(&mut s, "down");
    }
    typed(&mut s, " ");
    let t = render(&mut s, &colour(), 110, 24, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn confirmation_in_prod_wants_the_name_typed() {
    let mut s = prod_cell();
    key(&mut s, "s");
    typed(&mut s, "3");
    key(&mut s, "enter");
    typed(&mut s, "arq-back");
    key(&mut s, "enter");
    typed(&mut s, "e");
    let t = render(&mut s, &mono(), 110, 24, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn rollback_dialog_lists_revisions_and_the_diff() {
    use crate::kube::ops::{Change, DiffLine, History, Revision};
    let mut s = prod_cell();
    key(&mut s, "u");
    let rev = |n: u64, image: &str, current: bool, diff: Vec<DiffLine>| Revision {
        revision: n,
        created: Some(at(-86_400 * n as i64)),
        images: vec![image.into()],
        change_cause: (n > 1).then(|| format!("deploy {image}")),
        ready: if current { 1 } else { 0 },
        desired: if current { 2 } else { 0 },
        current,
        diff,
    };
    let line = |change, text: &str| DiffLine {
        change,
        text: text.into(),
    };
    let history = History {
        paused: false,
        current: Some(3),
        revisions: vec![
            rev(3, "arq/backend:2.5.0", true, vec![]),
            rev(
                2,
                "arq/backend:2.4.1",
                false,
                vec![
                    line(Change::Removed, "image app: arq/backend:2.5.0"),
                    line(Change::Added, "image app: arq/backend:2.4.1"),
                    line(Change::Removed, "env app FEATURE_NEW_CHECKOUT=true"),
                ],
            ),
            rev(1, "arq/backend:2.4.0", false, vec![]),
        ],
    };
    update(
        &mut s,
        Msg::Kube(KubeMsg::History {
            cluster: 2,
            key: crate::kube::ObjKey::new("arq", "arq-backend"),
            result: Ok(history),
        }),
        t0(),
    );
    let t = render(&mut s, &colour(), 110, 24, t0());
    insta::assert_snapshot!(text(&t));
}

#[test]
fn a_rollout_under_way_shows_kubectls_words_under_the_workloads_and_the_fleet() {
    use crate::kube::rows::{RolloutStatus, Row};
    let mut s = fleet_state();
    let mut w = workload("arq", "arq-backend", 2, 1);
    let waiting = "Waiting for deployment \"arq-backend\" rollout to finish: 1 of 2 updated replicas are available...";
    w.rollout = RolloutStatus::Progressing(waiting.into());
    let changes = vec![crate::kube::Change::Apply(Row::Deployment(
        std::sync::Arc::new(w),
    ))];
    update(
        &mut s,
        Msg::Kube(KubeMsg::Changes {
            cluster: 0,
            changes,
        }),
        t0(),
    );
    update(&mut s, Msg::Tick, t0());
    let fleet = text(&render(&mut s, &colour(), 250, 20, t0()));
    assert!(fleet.contains(&format!("· {waiting}")), "{fleet}");
    key(&mut s, "2");
    let t = render(&mut s, &colour(), 160, 20, t0());
    assert!(
        text(&t).contains(&format!("dev: {waiting}")),
        "{}",
        text(&t)
    );
}

#[test]
fn the_hint_bar_offers_changes_only_when_they_can_be_made_and_keeps_help_and_quit() {
    let mut s = fleet_state();
    let footer = |t: &Terminal<TestBackend>| text(t).lines().last().unwrap().to_string();
    let wide = footer(&render(&mut s, &colour(), 160, 24, t0()));
    assert!(wide.contains("s scale  r restart  u rollback"), "{wide}");
    let narrow = footer(&render(&mut s, &colour(), 60, 24, t0()));
    assert!(narrow.contains("? help  q quit"), "{narrow}");
    s.readonly = true;
    let ro = footer(&render(&mut s, &colour(), 160, 24, t0()));
    assert!(ro.contains("l logs") && !ro.contains("scale"), "{ro}");
}
