//! Tokens both formats share: metric and label names, label sets with their escapes, and the
//! sample values and timestamps. Everything works on bytes of one line and slices the `&str` only
//! at ASCII delimiters, so no slice can split a UTF-8 character.

use std::borrow::Cow;

/// Labels of one sample as the parser collects them.
pub(super) type LabelVec<'a> = Vec<(&'a str, Cow<'a, str>)>;

/// Length of the metric name at the start of `b`: `[a-zA-Z_:][a-zA-Z0-9_:]*` (0 when none).
pub(super) fn metric_name_len(b: &[u8]) -> usize {
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b':' => b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b':'))
            .unwrap_or(b.len()),
        _ => 0,
    }
}

/// Length of the label name at the start of `b`: `[a-zA-Z_][a-zA-Z0-9_]*` (0 when none).
pub(super) fn label_name_len(b: &[u8]) -> usize {
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .unwrap_or(b.len()),
        _ => 0,
    }
}

/// Whether all of `s` is one metric name.
pub(super) fn is_metric_name(s: &str) -> bool {
    !s.is_empty() && metric_name_len(s.as_bytes()) == s.len()
}

/// At most `max` characters of `s`, for quoting bad input in an error without flooding it.
pub(super) fn snippet(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or("")),
        None => s.to_string(),
    }
}

fn skip_blanks(b: &[u8], mut p: usize, allowed: bool) -> usize {
    while allowed && matches!(b.get(p), Some(b' ' | b'\t')) {
        p += 1;
    }
    p
}

/// Parses the label set whose `{` is at `pos` into `out`; returns the position after the `}`.
///
/// The text format lets blanks stand around every token and allows a trailing comma (as
/// Prometheus's lexer and client_golang's parser do); OpenMetrics allows neither (its ABNF).
pub(super) fn labels<'a>(
    line: &'a str,
    pos: usize,
    om: bool,
    out: &mut LabelVec<'a>,
) -> Result<usize, String> {
    let b = line.as_bytes();
    let blanks = !om;
    let mut p = skip_blanks(b, pos + 1, blanks);
    loop {
        match b.get(p) {
            Some(b'}') if out.is_empty() || !om => return check_duplicates(out).map(|()| p + 1),
            Some(b'}') => return Err("a comma before '}' (OpenMetrics allows none)".into()),
            None => return Err("the label set is not closed (no '}')".into()),
            _ => {}
        }
        let n = label_name_len(b.get(p..).unwrap_or_default());
        if n == 0 {
            let rest = line.get(p..).unwrap_or("");
            return Err(format!(
                "expected a label name, found {:?}",
                snippet(rest, 20)
            ));
        }
        let name = line.get(p..p + n).unwrap_or("");
        p = skip_blanks(b, p + n, blanks);
        if b.get(p) != Some(&b'=') {
            return Err(format!("label {name:?} has no '=' after its name"));
        }
        p = skip_blanks(b, p + 1, blanks);
        if b.get(p) != Some(&b'"') {
            return Err(format!("label {name:?} has no quoted value"));
        }
        let (value, end) = quoted(line, p + 1).map_err(|e| format!("label {name:?}: {e}"))?;
        out.push((name, value));
        p = skip_blanks(b, end, blanks);
        match b.get(p) {
            Some(b',') => p = skip_blanks(b, p + 1, blanks),
            Some(b'}') => return check_duplicates(out).map(|()| p + 1),
            None => return Err("the label set is not closed (no '}')".into()),
            Some(_) => {
                let rest = line.get(p..).unwrap_or("");
                return Err(format!(
                    "expected ',' or '}}' after label {name:?}, found {:?}",
                    snippet(rest, 20)
                ));
            }
        }
    }
}

/// Reads a label value whose opening quote is just before `start`; returns the unescaped value
/// (borrowed when it has no escape) and the position after the closing quote. Only `\\`, `\"`
/// and `\n` are escapes: Prometheus's text parser keeps any other `\x` literally, but
/// client_golang's parser and the OpenMetrics spec reject it, and we do too, since a stray
/// backslash means the writer escaped wrongly and the value is not what it meant.
fn quoted(line: &str, start: usize) -> Result<(Cow<'_, str>, usize), String> {
    let b = line.as_bytes();
    let mut p = start;
    let mut owned: Option<String> = None;
    let mut run = start;
    loop {
        match b.get(p) {
            None => return Err("value is not closed (no '\"')".into()),
            Some(b'"') => {
                let tail = line.get(run..p).unwrap_or("");
                let value = match owned {
                    Some(mut s) => {
                        s.push_str(tail);
                        Cow::Owned(s)
                    }
                    None => Cow::Borrowed(tail),
                };
                return Ok((value, p + 1));
            }
            Some(b'\\') => {
                let unescaped = match b.get(p + 1) {
                    Some(b'\\') => '\\',
                    Some(b'"') => '"',
                    Some(b'n') => '\n',
                    None => return Err("the line ends inside an escape (a lone '\\')".into()),
                    Some(_) => {
                        let what: String = line.get(p..).unwrap_or("").chars().take(2).collect();
                        return Err(format!(
                            "bad escape {what} (only \\\\, \\\" and \\n are allowed in a value)"
                        ));
                    }
                };
                let s = owned.get_or_insert_with(String::new);
                s.push_str(line.get(run..p).unwrap_or(""));
                s.push(unescaped);
                p += 2;
                run = p;
            }
            Some(_) => p += 1,
        }
    }
}

/// Rejects a label set naming a label twice. Pairwise for the usual handful of labels, sorted
/// beyond that so a hostile line with thousands of labels stays O(n log n).
fn check_duplicates(labels: &LabelVec<'_>) -> Result<(), String> {
    let dup = if labels.len() <= 16 {
        labels
            .iter()
            .enumerate()
            .find(|(i, (a, _))| labels.iter().skip(i + 1).any(|(b, _)| a == b))
            .map(|(_, (a, _))| *a)
    } else {
        let mut names: Vec<&str> = labels.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    };
    match dup {
        Some(name) => Err(format!("label {name:?} appears twice")),
        None => Ok(()),
    }
}

/// HELP text with `\\` and `\n` unescaped (and `\"` in OpenMetrics). Other escapes stay as
/// written, as in Prometheus: help is for people, so a stray backslash is not worth a lost line.
pub(super) fn help_text(s: &str, om: bool) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if om => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Whether the Go literal rules allow the underscores in `s` (between digits, or after a base
/// prefix), as strconv.ParseFloat checks them.
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let b = b
        .strip_prefix(b"+")
        .or_else(|| b.strip_prefix(b"-"))
        .unwrap_or(b);
    let mut i = 0;
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in b.get(i..).unwrap_or_default() {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Whether `s` is `[0-9]+` / `[0-9]+.[0-9]*` / `.[0-9]+`, then an optional `e[+-]?[0-9]+`.
fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize| {
        b.iter()
            .skip(from)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int = digits(0);
    let mut p = int;
    let mut frac = 0;
    if b.get(p) == Some(&b'.') {
        frac = digits(p + 1);
        p += 1 + frac;
    }
    if int + frac == 0 {
        return false;
    }
    if matches!(b.get(p), Some(b'e' | b'E')) {
        p += 1;
        if matches!(b.get(p), Some(b'+' | b'-')) {
            p += 1;
        }
        let exp = digits(p);
        if exp == 0 {
            return false;
        }
        p += exp;
    }
    p == b.len()
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    }
}

fn infinity(neg: bool, rest: &str) -> Option<f64> {
    (rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity")).then_some(if neg {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    })
}

/// A sample value in the text format, read as Go's strconv.ParseFloat reads it (Prometheus
/// uses it): `NaN`, `[+-]Inf(inity)` in any case, decimals with exponents, hexadecimal floats
/// with a `p` exponent, Go-style underscores. Finite input beyond f64's range is an error there
/// (ErrRange), so it is one here.
pub(super) fn go_float(s: &str) -> Option<f64> {
    if s.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    let (neg, rest) = split_sign(s);
    if let Some(inf) = infinity(neg, rest) {
        return Some(inf);
    }
    let stripped;
    let body = if rest.contains('_') {
        if !underscores_ok(s) {
            return None;
        }
        stripped = rest.replace('_', "");
        stripped.as_str()
    } else {
        rest
    };
    let v = match body.get(..2) {
        Some("0x" | "0X") => hex_float(body.get(2..).unwrap_or(""))?,
        _ if is_decimal(body) => body.parse::<f64>().ok()?,
        _ => return None,
    };
    v.is_finite().then_some(if neg { -v } else { v })
}

/// A Go hexadecimal float after its `0x`: hex digits with an optional point, then a mandatory
/// binary exponent. Rounded correctly except in the subnormal range (two roundings there), which
/// no exporter writes in hex.
fn hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let (neg_exp, digits) = split_sign(exp);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let exp: i64 = digits.parse::<i64>().unwrap_or(i64::MAX / 4).min(100_000);
    let mut e2 = if neg_exp { -exp } else { exp };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let (mut m, mut sticky) = (0u64, false);
    for (i, c) in int.chars().chain(frac.chars()).enumerate() {
        let d = u64::from(c.to_digit(16)?);
        let in_frac = i >= int.len();
        if m < 1 << 56 {
            m = m * 16 + d;
            e2 -= if in_frac { 4 } else { 0 };
        } else {
            sticky |= d != 0;
            e2 += if in_frac { 0 } else { 4 };
        }
    }
    let mut v = (m | u64::from(sticky)) as f64;
    while e2 != 0 && v != 0.0 && v.is_finite() {
        let step = e2.clamp(-1000, 1000);
        v *= 2f64.powi(step as i32);
        e2 -= step;
    }
    Some(v)
}

/// A sample value in OpenMetrics: the spec's grammar (decimal with optional exponent, `NaN`,
/// `[+-]Inf(inity)`, case-insensitive), so no hex and no underscores.
pub(super) fn om_float(s: &str) -> Option<f64> {
    if s.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    let (neg, rest) = split_sign(s);
    if let Some(inf) = infinity(neg, rest) {
        return Some(inf);
    }
    if !is_decimal(rest) {
        return None;
    }
    let v = rest.parse::<f64>().ok()?;
    v.is_finite().then_some(if neg { -v } else { v })
}

/// A text-format timestamp: integer milliseconds, as Go's strconv.ParseInt(s, 10, 64) reads them.
pub(super) fn text_timestamp(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

/// An OpenMetrics timestamp (seconds, maybe fractional) in milliseconds, truncated toward zero
/// as Prometheus does. Plain decimals are converted digit by digit, so `1.001` is 1001 ms and not
/// the 1000 that `1.001 * 1000.0` would truncate to.
pub(super) fn om_timestamp(s: &str) -> Option<i64> {
    let (neg, rest) = split_sign(s);
    if !is_decimal(rest) {
        return None;
    }
    let ms = if rest.bytes().any(|c| c == b'e' || c == b'E') {
        let v = rest.parse::<f64>().ok()? * 1000.0;
        if !v.is_finite() || v.abs() >= 9.2e18 {
            return None;
        }
        v.trunc() as i64
    } else {
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let int: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut ms = int.checked_mul(1000)?;
        for (scale, c) in [100, 10, 1].into_iter().zip(frac.bytes()) {
            ms = ms.checked_add(i64::from(c - b'0') * scale)?;
        }
        ms
    };
    Some(if neg { -ms } else { ms })
}
