//! Colours as written in theme and config files, and how many colours the terminal shows: a
//! theme written in `#rrggbb` is brought down to the xterm 256-colour or 16-colour set when the
//! terminal (or the SSH session to the jump host) cannot show more.

use ratatui::style::Color;

/// Parses a colour: `#rrggbb`, a name (`red`, `lightblue`, `darkgray`), an xterm index (`208`),
/// or `default`/`reset` for the terminal's own colour (`None`).
pub fn parse_color(s: &str) -> Result<Option<Color>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "default" | "reset" | "none" => return Ok(None),
        _ => {}
    }
    s.trim().parse::<Color>().map(Some).map_err(|_| {
        format!(
            "{s:?} is not a colour: write \"#rrggbb\", a name (black, red, green, yellow, blue, magenta, cyan, gray, darkgray, lightred, ..., white), an xterm colour number 0-255, or \"default\""
        )
    })
}

/// How many colours the terminal can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
}

impl ColorDepth {
    /// From the environment: `COLORTERM=truecolor|24bit` (or a `*-direct` TERM) means 24-bit,
    /// a TERM with `256color` means 256, anything else gets the 16 colours every terminal has.
    pub fn detect() -> Self {
        let colorterm = std::env::var("COLORTERM").ok();
        let term = std::env::var("TERM").ok();
        Self::from_env(colorterm.as_deref(), term.as_deref())
    }

    pub fn from_env(colorterm: Option<&str>, term: Option<&str>) -> Self {
        let colorterm = colorterm.unwrap_or("").to_ascii_lowercase();
        let term = term.unwrap_or("").to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" || term.ends_with("-direct") {
            ColorDepth::TrueColor
        } else if term.contains("256color") {
            ColorDepth::Ansi256
        } else {
            ColorDepth::Ansi16
        }
    }

    /// The colour to send to a terminal of this depth.
    pub fn adapt(self, color: Color) -> Color {
        match (self, color) {
            (ColorDepth::TrueColor, c) => c,
            (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Color::Indexed(nearest_256(r, g, b)),
            (ColorDepth::Ansi256, c) => c,
            (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => nearest_16(r, g, b),
            (ColorDepth::Ansi16, Color::Indexed(i)) => {
                let (r, g, b) = indexed_rgb(i);
                nearest_16(r, g, b)
            }
            (ColorDepth::Ansi16, c) => c,
        }
    }
}

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn distance((r1, g1, b1): (u8, u8, u8), (r2, g2, b2): (u8, u8, u8)) -> u32 {
    let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).unsigned_abs().pow(2);
    d(r1, r2) + d(g1, g2) + d(b1, b2)
}

/// The nearest xterm-256 colour, from the 6x6x6 cube (16-231) or the grey ramp (232-255); the
/// same choice tmux makes, so colours look alike inside and outside it.
pub fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    let level = |v: u8| -> usize {
        match v {
            0..48 => 0,
            48..115 => 1,
            _ => usize::from((v - 35) / 40),
        }
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = (CUBE[ri], CUBE[gi], CUBE[bi]);
    let cube_index = 16 + 36 * ri + 6 * gi + bi;
    if cube == (r, g, b) {
        return cube_index as u8;
    }
    let average = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let grey_index = if average > 238 {
        23
    } else {
        average.saturating_sub(3) / 10
    };
    let grey = (8 + 10 * grey_index) as u8;
    if distance((grey, grey, grey), (r, g, b)) < distance(cube, (r, g, b)) {
        (232 + grey_index) as u8
    } else {
        cube_index as u8
    }
}

/// The 16 ANSI colours with xterm's default values, in index order.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// The nearest of the 16 ANSI colours. A colourful input keeps a colourful answer: by plain
/// distance a mid green (`#3fb950`) lands on dark grey, and "ok" must not turn grey.
pub fn nearest_16(r: u8, g: u8, b: u8) -> Color {
    let chroma = r.max(g).max(b) - r.min(g).min(b);
    let greys = [0usize, 7, 8, 15];
    ANSI16
        .iter()
        .enumerate()
        .filter(|(i, _)| greys.contains(i) == (chroma < 48))
        .min_by_key(|(_, (_, rgb))| distance(*rgb, (r, g, b)))
        .map_or(Color::Reset, |(_, (c, _))| *c)
}

/// The RGB value of an xterm colour index.
fn indexed_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        0..16 => ANSI16[usize::from(i)].1,
        16..232 => {
            let i = usize::from(i - 16);
            (CUBE[i / 36], CUBE[(i / 6) % 6], CUBE[i % 6])
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_from_hex_names_numbers_and_default() {
        assert_eq!(parse_color("#ff8800"), Ok(Some(Color::Rgb(255, 136, 0))));
        assert_eq!(parse_color("red"), Ok(Some(Color::Red)));
        assert_eq!(parse_color("lightblue"), Ok(Some(Color::LightBlue)));
        assert_eq!(parse_color("208"), Ok(Some(Color::Indexed(208))));
        assert_eq!(parse_color("default"), Ok(None));
        assert_eq!(parse_color("Reset"), Ok(None));
        assert!(parse_color("#ff88").is_err());
        assert!(
            parse_color("redish")
                .unwrap_err()
                .starts_with("\"redish\" is not a colour")
        );
    }

    #[test]
    fn depth_comes_from_colorterm_and_term() {
        use ColorDepth::*;
        assert_eq!(
            ColorDepth::from_env(Some("truecolor"), Some("xterm")),
            TrueColor
        );
        assert_eq!(ColorDepth::from_env(Some("24bit"), None), TrueColor);
        assert_eq!(ColorDepth::from_env(None, Some("xterm-direct")), TrueColor);
        assert_eq!(ColorDepth::from_env(None, Some("tmux-256color")), Ansi256);
        assert_eq!(
            ColorDepth::from_env(Some(""), Some("xterm-256color")),
            Ansi256
        );
        assert_eq!(ColorDepth::from_env(None, Some("xterm")), Ansi16);
        assert_eq!(ColorDepth::from_env(None, Some("linux")), Ansi16);
        assert_eq!(ColorDepth::from_env(None, None), Ansi16);
    }

    #[test]
    fn rgb_goes_to_the_nearest_xterm_256() {
        assert_eq!(nearest_256(255, 0, 0), 196);
        assert_eq!(nearest_256(0, 0, 0), 16);
        assert_eq!(nearest_256(255, 255, 255), 231);
        assert_eq!(nearest_256(128, 128, 128), 244);
        assert_eq!(nearest_256(255, 136, 0), 208);
        // A near-grey picks the grey ramp over the coarse cube.
        assert_eq!(nearest_256(0x30, 0x30, 0x32), 236);
        for i in 16..=255u8 {
            let (r, g, b) = indexed_rgb(i);
            assert_eq!(indexed_rgb(nearest_256(r, g, b)), (r, g, b), "index {i}");
        }
    }

    #[test]
    fn rgb_goes_to_the_nearest_of_16_keeping_hue() {
        assert_eq!(nearest_16(0x3f, 0xb9, 0x50), Color::Green);
        assert_eq!(nearest_16(0xf8, 0x51, 0x49), Color::LightRed);
        assert_eq!(nearest_16(0xd2, 0x99, 0x22), Color::Yellow);
        assert_eq!(nearest_16(0x58, 0xa6, 0xff), Color::LightBlue);
        assert_eq!(nearest_16(0x8b, 0x94, 0x9e), Color::DarkGray);
        assert_eq!(nearest_16(0xf0, 0xf0, 0xf0), Color::Gray);
        assert_eq!(nearest_16(0xff, 0xff, 0xff), Color::White);
        assert_eq!(nearest_16(0x10, 0x10, 0x10), Color::Black);
        assert_eq!(
            ColorDepth::Ansi16.adapt(Color::Indexed(196)),
            Color::LightRed
        );
        assert_eq!(ColorDepth::Ansi16.adapt(Color::Indexed(3)), Color::Yellow);
        assert_eq!(ColorDepth::Ansi16.adapt(Color::Cyan), Color::Cyan);
        assert_eq!(
            ColorDepth::Ansi256.adapt(Color::Rgb(255, 0, 0)),
            Color::Indexed(196)
        );
        assert_eq!(
            ColorDepth::TrueColor.adapt(Color::Rgb(1, 2, 3)),
            Color::Rgb(1, 2, 3)
        );
    }
}
