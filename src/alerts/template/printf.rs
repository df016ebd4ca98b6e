//! Go's `fmt.Sprintf` for the verbs alert templates use (%s %d %f %e %g %v %q %x %t %%, with
//! flags, width and precision), including Go's in-band complaints (`%!d(string=abc)`,
//! `%!d(MISSING)`, `%!(EXTRA ...)`) instead of errors, as Go prints them.

use super::exec::{Val, print};
use super::gofmt;

struct Spec {
    minus: bool,
    plus: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

pub fn sprintf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec {
            minus: false,
            plus: false,
            zero: false,
            space: false,
            width: None,
            prec: None,
        };
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                '#' => {}
                _ => break,
            }
            chars.next();
        }
        let num = |chars: &mut std::iter::Peekable<std::str::Chars>| {
            let mut n: Option<usize> = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = Some(
                    n.unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(d as usize)
                        .min(10_000),
                );
                chars.next();
            }
            n
        };
        spec.width = num(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(num(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let (body, numeric) = match one(verb, &spec, arg) {
            Some(s) => s,
            None => {
                out.push_str(&format!("%!{verb}({}={})", arg.go_type(), print(arg)));
                continue;
            }
        };
        out.push_str(&pad(body, &spec, numeric));
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", a.go_type(), print(a)))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

fn pad(body: String, spec: &Spec, numeric: bool) -> String {
    let Some(width) = spec.width else { return body };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), body[1..].to_owned()),
            _ => (String::new(), body.clone()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

/// Go's sign handling for numbers: `+` and space flags, and NaN/Inf never zero-padded.
fn signed(s: String, spec: &Spec) -> (String, bool) {
    let special = s.ends_with("Inf") || s.ends_with("NaN");
    let mut num = if s.starts_with(['-', '+']) {
        s
    } else {
        format!("+{s}")
    };
    if spec.space && num.starts_with('+') && !spec.plus {
        num.replace_range(..1, " ");
    }
    if special {
        if num.ends_with("NaN") && !spec.space && !spec.plus {
            num.remove(0);
        }
        return (num, false);
    }
    if !spec.plus && num.starts_with('+') {
        num.remove(0);
    }
    (num, true)
}

/// One verb applied to one argument; `None` when Go would complain about the type.
fn one(verb: char, spec: &Spec, arg: &Val) -> Option<(String, bool)> {
    let text = |s: String| (s, false);
    Some(match (verb, arg) {
        ('v', Val::Float(x)) => signed(fmt_float('g', *x, spec.prec), spec),
        ('v', Val::Int(i)) | ('d', Val::Int(i)) => signed(i.to_string(), spec),
        ('v', other) => text(print(other)),
        ('s', Val::Str(s)) => text(match spec.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.clone(),
        }),
        ('s', Val::Map(_) | Val::Nil | Val::Bool(_)) => text(print(arg)),
        ('q', Val::Str(s)) => text(crate::alerts::rulefile::go_quote(s)),
        ('x' | 'X', Val::Str(s)) => {
            let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
            text(if verb == 'X' { hex.to_uppercase() } else { hex })
        }
        ('x', Val::Int(i)) => signed(hex_int(*i, false), spec),
        ('X', Val::Int(i)) => signed(hex_int(*i, true), spec),
        ('t', Val::Bool(b)) => text(b.to_string()),
        ('f' | 'F' | 'e' | 'E' | 'g' | 'G', Val::Float(x)) => {
            signed(fmt_float(verb, *x, spec.prec), spec)
        }
        _ => return None,
    })
}

fn fmt_float(verb: char, x: f64, prec: Option<usize>) -> String {
    match verb {
        'f' | 'F' => gofmt::fmt_f(x, prec.unwrap_or(6)),
        'e' | 'E' => gofmt::fmt_e(x, prec.unwrap_or(6), verb == 'E'),
        _ => gofmt::fmt_g(x, prec, verb == 'G'),
    }
}

/// Go prints a negative number in hex with a minus sign, not as two's complement.
fn hex_int(i: i64, upper: bool) -> String {
    let digits = if upper {
        format!("{:X}", i.unsigned_abs())
    } else {
        format!("{:x}", i.unsigned_abs())
    };
    if i < 0 { format!("-{digits}") } else { digits }
}
