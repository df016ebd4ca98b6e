//! Go's number formatting, digit for digit: `{{ $value }}` prints a float64 as Go's `%v` does
//! (shortest digits, exponent form from 1e+21 and below 1e-4), and Prometheus's humanize family is
//! built on `%.4g`. Rust's float formatting gives the same correctly rounded digits; only the layout
//! (exponent sign and width, when to switch to exponent form) is Go's and is done here.

/// Decimal digits of `v.abs()` (no trailing zeros) and the position of the decimal point: the
/// value is `0.d1d2d3... × 10^dp`. `sig` rounds to that many significant digits; `None` gives the
/// shortest digits that read back as `v`.
fn digits(v: f64, sig: Option<usize>) -> (String, i32) {
    let text = match sig {
        Some(p) => format!("{:.*e}", p.max(1) - 1, v.abs()),
        None => format!("{:e}", v.abs()),
    };
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while d.len() > 1 && d.ends_with('0') {
        d.pop();
    }
    if d == "0" {
        return (d, 1);
    }
    (d, exp + 1)
}

fn special(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

fn exp_form(neg: bool, d: &str, dp: i32, frac_digits: usize, upper: bool) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let mut chars = d.chars();
    s.push(chars.next().unwrap_or('0'));
    let rest: String = chars.collect();
    let mut rest = rest;
    while rest.len() < frac_digits {
        rest.push('0');
    }
    if frac_digits > 0 {
        s.push('.');
        s.push_str(&rest[..frac_digits.min(rest.len())]);
    }
    let x = if d == "0" { 0 } else { dp - 1 };
    s.push(if upper { 'E' } else { 'e' });
    s.push(if x < 0 { '-' } else { '+' });
    s.push_str(&format!("{:02}", x.abs()));
    s
}

fn plain_form(neg: bool, d: &str, dp: i32) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if dp <= 0 {
        s.push_str("0.");
        s.push_str(&"0".repeat(dp.unsigned_abs() as usize));
        s.push_str(d);
    } else {
        let dp = dp as usize;
        if d.len() <= dp {
            s.push_str(d);
            s.push_str(&"0".repeat(dp - d.len()));
        } else {
            s.push_str(&d[..dp]);
            s.push('.');
            s.push_str(&d[dp..]);
        }
    }
    s
}

/// Go's `%g` with precision `prec` (`None`: shortest, which is also `%v` and `strconv`'s 'g' -1).
pub fn fmt_g(v: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    let neg = v.is_sign_negative();
    let prec = prec.map(|p| p.max(1));
    let (d, dp) = digits(v, prec);
    let nd = d.len() as i32;
    let mut eprec = prec.map_or(6, |p| p as i32);
    if prec.is_some() && eprec > nd && nd >= dp {
        eprec = nd;
    }
    // Go's strconv: "if precision was the shortest possible, use precision 6 for this decision"
    // (so 1e6 prints as 1e+06, while 123456 stays as it is).
    let x = if d == "0" { 0 } else { dp - 1 };
    if x < -4 || x >= eprec {
        exp_form(neg, &d, dp, d.len().saturating_sub(1), upper)
    } else {
        plain_form(neg, &d, dp)
    }
}

/// Go's `%e` with `prec` digits after the point.
pub fn fmt_e(v: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    let (d, dp) = digits(v, Some(prec + 1));
    exp_form(v.is_sign_negative(), &d, dp, prec, upper)
}

/// Go's `%f` with `prec` digits after the point.
pub fn fmt_f(v: f64, prec: usize) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    format!("{v:.prec$}")
}

/// Go's `%v` of a float64.
pub fn fmt_v(v: f64) -> String {
    fmt_g(v, None, false)
}
