//! The functions a template may call: Go's built-ins and Prometheus's (humanize family, match,
//! reReplaceAll, title...), with the results and error texts Prometheus 2.42 gives. Functions that
//! need a query engine or return Go-only types (query, first, toTime...) are refused with a clear
//! error rather than a guess.

use regex::Regex;

use super::TemplateData;
use super::exec::{Val, print};
use super::gofmt::fmt_g;
use super::printf::sprintf;

type F = Result<Val, String>;

fn arity(name: &str, args: &[Val], want: usize) -> Result<(), String> {
    if args.len() == want {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        ))
    }
}

fn string_arg(v: &Val) -> Result<&str, String> {
    match v {
        Val::Str(s) => Ok(s),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.go_type()
        )),
    }
}

/// Prometheus's `convertToFloat`: numbers as they are, strings parsed as Go's ParseFloat would.
fn to_float(name: &str, v: &Val) -> Result<f64, String> {
    match v {
        Val::Float(x) => Ok(*x),
        Val::Int(i) => Ok(*i as f64),
        Val::Str(s) => parse_go_float(s).ok_or_else(|| {
            format!(
                "error calling {name}: strconv.ParseFloat: parsing {}: invalid syntax",
                crate::alerts::rulefile::go_quote(s)
            )
        }),
        other => Err(format!(
            "error calling {name}: can't convert {} to float",
            other.go_type()
        )),
    }
}

fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    match body {
        "inf" | "infinity" => Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        "nan" => Some(f64::NAN),
        _ if body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-')) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

fn g4(v: f64) -> String {
    fmt_g(v, Some(4), false)
}

fn scaled(mut v: f64, up: &[&str], down: &[&str], base: f64) -> String {
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in up {
            if v.abs() < base {
                break;
            }
            prefix = p;
            v /= base;
        }
    } else {
        for p in down {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= base;
        }
    }
    format!("{}{prefix}", g4(v))
}

const SMALL: [&str; 8] = ["m", "u", "n", "p", "f", "a", "z", "y"];

fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return g4(v);
    }
    scaled(v, &["k", "M", "G", "T", "P", "E", "Z", "Y"], &SMALL, 1000.0)
}

fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return g4(v);
    }
    scaled(
        v,
        &["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"],
        &[],
        1024.0,
    )
}

fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return g4(v);
    }
    if v == 0.0 {
        return format!("{}s", g4(v));
    }
    if v.abs() >= 1.0 {
        let (sign, v) = if v < 0.0 { ("-", -v) } else { ("", v) };
        // Go's float-to-int conversion on amd64 yields MinInt64 when out of range.
        let d = if v < i64::MAX as f64 {
            v as i64
        } else {
            i64::MIN
        };
        let (s, m, h, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        return if days != 0 {
            format!("{sign}{days}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", g4(v))
        };
    }
    format!("{}s", scaled(v, &[], &SMALL, 1000.0))
}

/// Go's `time.Time.String()` in UTC of a Unix time in seconds, at Prometheus's millisecond
/// precision.
fn humanize_timestamp(v: f64) -> String {
    if !v.is_finite() {
        return g4(v);
    }
    let ms = ((v * 1e9) as i64).div_euclid(1_000_000);
    let Ok(t) = jiff::Timestamp::from_millisecond(ms) else {
        return g4(v);
    };
    let mut s = t.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let frac = ms.rem_euclid(1000);
    if frac != 0 {
        let f = format!("{frac:03}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Go's deprecated `strings.Title`: upper-cases the first letter of every word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    out
}

fn regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        format!(
            "regexp: Compile({}): {}",
            crate::alerts::rulefile::go_quote(pattern),
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid pattern")
                .trim()
        )
    })
}

/// Go's basic comparison: `(less, equal)`; mixing kinds (an int with a float) is an error, as
/// in Go, and NaN is neither less nor equal.
fn compare(name: &str, a: &Val, b: &Val) -> Result<(bool, bool), String> {
    let bad = || format!("error calling {name}: incompatible types for comparison");
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Ok((x < y, x == y)),
        (Val::Float(x), Val::Float(y)) => Ok((x < y, x == y)),
        (Val::Str(x), Val::Str(y)) => Ok((x < y, x == y)),
        (Val::Bool(x), Val::Bool(y)) if matches!(name, "eq" | "ne") => Ok((false, x == y)),
        (
            Val::Int(_) | Val::Float(_) | Val::Str(_) | Val::Bool(_),
            Val::Int(_) | Val::Float(_) | Val::Str(_) | Val::Bool(_),
        ) => Err(bad()),
        _ => Err(format!("error calling {name}: invalid type for comparison")),
    }
}

fn print_all(args: &[Val], always_space: bool) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = |v: &Val| matches!(v, Val::Str(_));
        if i > 0 && (always_space || !(is_str(a) || is_str(&args[i - 1]))) {
            out.push(' ');
        }
        out.push_str(&print(a));
    }
    out
}

/// Calls `name` with evaluated `args` (a piped value last).
pub fn call(name: &str, args: &[Val], data: &TemplateData) -> F {
    let humanizer = |f: fn(f64) -> String| -> F {
        arity(name, args, 1)?;
        Ok(Val::Str(f(to_float(name, &args[0])?)))
    };
    match name {
        "humanize" => humanizer(humanize),
        "humanize1024" => humanizer(humanize1024),
        "humanizeDuration" => humanizer(humanize_duration),
        "humanizePercentage" => humanizer(|v| format!("{}%", g4(v * 100.0))),
        "humanizeTimestamp" => {
            arity(name, args, 1)?;
            let v = to_float(name, &args[0])?;
            if v.is_finite() && (v * 1e9).abs() >= i64::MAX as f64 {
                return Err(format!(
                    "error calling humanizeTimestamp: {} cannot be represented as a nanoseconds timestamp since it overflows int64",
                    super::gofmt::fmt_v(v)
                ));
            }
            Ok(Val::Str(humanize_timestamp(v)))
        }
        "printf" => match args.split_first() {
            Some((Val::Str(f), rest)) => Ok(Val::Str(sprintf(f, rest))),
            Some((other, _)) => Err(format!(
                "wrong type for value; expected string; got {}",
                other.go_type()
            )),
            None => Err("wrong number of args for printf: want at least 1 got 0".into()),
        },
        "print" => Ok(Val::Str(print_all(args, false))),
        "println" => Ok(Val::Str(print_all(args, true) + "\n")),
        "title" | "toUpper" | "toLower" | "safeHtml" => {
            arity(name, args, 1)?;
            let s = string_arg(&args[0])?;
            Ok(Val::Str(match name {
                "title" => title(s),
                "toUpper" => s.to_uppercase(),
                "toLower" => s.to_lowercase(),
                _ => s.to_owned(),
            }))
        }
        "match" => {
            arity(name, args, 2)?;
            let re =
                regex(string_arg(&args[0])?).map_err(|e| format!("error calling match: {e}"))?;
            Ok(Val::Bool(re.is_match(string_arg(&args[1])?)))
        }
        "reReplaceAll" => {
            arity(name, args, 3)?;
            let re = regex(string_arg(&args[0])?)?;
            let (repl, text) = (string_arg(&args[1])?, string_arg(&args[2])?);
            Ok(Val::Str(re.replace_all(text, repl).into_owned()))
        }
        "stripPort" => {
            arity(name, args, 1)?;
            let s = string_arg(&args[0])?;
            let host = match s.rsplit_once(':') {
                Some((h, p)) if !p.contains(']') => {
                    let h = h
                        .strip_prefix('[')
                        .and_then(|h| h.strip_suffix(']'))
                        .unwrap_or(h);
                    if h.contains(':') && !s.starts_with('[') {
                        s
                    } else {
                        h
                    }
                }
                _ => s,
            };
            Ok(Val::Str(host.to_owned()))
        }
        "parseDuration" => {
            arity(name, args, 1)?;
            let d = crate::alerts::rulefile::duration::parse(string_arg(&args[0])?)
                .map_err(|e| format!("error calling parseDuration: {e}"))?;
            Ok(Val::Float(d.as_secs_f64()))
        }
        "externalURL" => Ok(Val::Str(data.external_url.to_owned())),
        "pathPrefix" => {
            let after_scheme = data.external_url.split_once("://").map_or("", |(_, r)| r);
            Ok(Val::Str(
                after_scheme
                    .find('/')
                    .map_or("", |i| &after_scheme[i..])
                    .to_owned(),
            ))
        }
        "and" | "or" => {
            let want_truth = name == "or";
            for a in args {
                if a.truth() == want_truth {
                    return Ok(a.clone());
                }
            }
            args.last()
                .cloned()
                .ok_or_else(|| format!("wrong number of args for {name}: want at least 1 got 0"))
        }
        "not" => {
            arity(name, args, 1)?;
            Ok(Val::Bool(!args[0].truth()))
        }
        "len" => match args {
            [Val::Str(s)] => Ok(Val::Int(s.len() as i64)),
            [Val::Map(m)] => Ok(Val::Int(m.len() as i64)),
            [other] => Err(format!(
                "error calling len: len of type {}",
                other.go_type()
            )),
            _ => arity(name, args, 1).map(|_| Val::Nil),
        },
        "index" => match args {
            [Val::Map(m), Val::Str(k)] => Ok(Val::Str(
                m.iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            )),
            [only] => Ok(only.clone()),
            [Val::Map(_), other] => Err(format!(
                "error calling index: value has type {}; should be string",
                other.go_type()
            )),
            [other, ..] => Err(format!(
                "error calling index: can't index item of type {}",
                other.go_type()
            )),
            [] => Err("wrong number of args for index: want at least 1 got 0".into()),
        },
        "eq" | "ne" => {
            let (first, rest) = args
                .split_first()
                .ok_or_else(|| format!("wrong number of args for {name}: want at least 1 got 0"))?;
            if rest.is_empty() {
                return Err(format!(
                    "error calling {name}: missing argument for comparison"
                ));
            }
            let mut equal = false;
            for b in rest {
                if compare(name, first, b)?.1 {
                    equal = true;
                }
            }
            Ok(Val::Bool(if name == "eq" { equal } else { !equal }))
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(name, args, 2)?;
            // Go defines gt as !le and ge as !lt, which matters for NaN.
            let (lt, eq) = compare(name, &args[0], &args[1])?;
            Ok(Val::Bool(match name {
                "lt" => lt,
                "le" => lt || eq,
                "gt" => !(lt || eq),
                _ => !lt,
            }))
        }
        other => Err(format!(
            "error calling {other}: not supported by watchfloor's template engine"
        )),
    }
}
