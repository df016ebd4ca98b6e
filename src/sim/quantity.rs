//! Kubernetes resource quantities (`100m`, `0.5`, `128Mi`, `1e3`, `1E`) as plain numbers, for the
//! controllers, the kubelet and fleet files alike.

/// The value of a quantity in base units, with the API server's grammar: a decimal number, an
/// optional exponent, and an optional SI or binary suffix.
pub fn value(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, mut suffix) = body.split_at(num_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let mut exponent = 0i32;
    if let Some(e) = suffix.strip_prefix(['e', 'E'])
        && !e.is_empty()
        && e.trim_start_matches(['+', '-'])
            .chars()
            .all(|c| c.is_ascii_digit())
        && !e.trim_start_matches(['+', '-']).is_empty()
    {
        exponent = e.parse().ok()?;
        suffix = "";
    }
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    let n: f64 = number.parse().ok()?;
    let sign = if s.starts_with('-') { -1.0 } else { 1.0 };
    Some(sign * n * factor * 10f64.powi(exponent))
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn the_api_servers_grammar() {
        assert_eq!(value("100m"), Some(0.1));
        assert_eq!(value("2"), Some(2.0));
        assert_eq!(value("128Mi"), Some(134_217_728.0));
        assert_eq!(value("1e3"), Some(1000.0));
        assert_eq!(value("1E"), Some(1e18));
        assert_eq!(value("-1.5k"), Some(-1500.0));
        assert_eq!(value("1..2"), None);
        assert_eq!(value("abc"), None);
    }
}
