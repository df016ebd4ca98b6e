//! The API server's human-readable durations: `HumanDuration` and `ShortHumanDuration` of
//! `k8s.io/apimachinery/pkg/util/duration`, digit for digit.
//!
//! Both take a [`SignedDuration`] (what `now.duration_since(then)` returns), because the Go
//! functions take a signed `time.Duration` and treat a slightly negative age (clock skew between
//! the writer of a timestamp and the printer) differently from a badly negative one.

use jiff::SignedDuration;

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;

/// The whole seconds Go's `int(d.Seconds())` yields: truncated toward zero.
fn whole_seconds(d: SignedDuration) -> i64 {
    d.as_secs()
}

/// `duration.HumanDuration`: about two or three significant figures, as in the AGE column.
///
/// Up to 2s in the past is "0s" (tolerated skew); anything further back is `<invalid>`.
pub fn human_duration(d: SignedDuration) -> String {
    let seconds = whole_seconds(d);
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 2 * MINUTE {
        return format!("{seconds}s");
    }
    let minutes = seconds / MINUTE;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / HOUR;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// `duration.ShortHumanDuration`: a single unit ("45s", "3m", "5h", "12d", "2y").
pub fn short_human_duration(d: SignedDuration) -> String {
    let seconds = whole_seconds(d);
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < MINUTE {
        return format!("{seconds}s");
    }
    let minutes = seconds / MINUTE;
    if minutes < 60 {
        return format!("{minutes}m");
    }
    let hours = seconds / HOUR;
    if hours < 24 {
        return format!("{hours}h");
    }
    if hours < 24 * 365 {
        return format!("{}d", hours / 24);
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i64) -> SignedDuration {
        SignedDuration::from_secs(s)
    }

    const DAY: i64 = 24 * HOUR;
    const YEAR: i64 = 365 * DAY;

    #[test]
    fn human_duration_matches_apimachinery() {
        // Cases from apimachinery's duration_test.go plus the boundaries of every branch.
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (5, "5s"),
            (59, "59s"),
            (119, "119s"),
            (2 * MINUTE, "2m"),
            (3 * MINUTE + 20, "3m20s"),
            (9 * MINUTE + 59, "9m59s"),
            (10 * MINUTE + 30, "10m"),
            (179 * MINUTE + 59, "179m"),
            (3 * HOUR, "3h"),
            (3 * HOUR + 5 * MINUTE, "3h5m"),
            (7 * HOUR + 59 * MINUTE, "7h59m"),
            (8 * HOUR + 30 * MINUTE, "8h"),
            (47 * HOUR + 59 * MINUTE, "47h"),
            (48 * HOUR, "2d"),
            (2 * DAY + 3 * HOUR, "2d3h"),
            (7 * DAY + 23 * HOUR, "7d23h"),
            (8 * DAY, "8d"),
            (45 * DAY + 7 * HOUR, "45d"),
            (2 * YEAR - 1, "729d"),
            (2 * YEAR, "2y"),
            (3 * YEAR + 12 * DAY, "3y12d"),
            (8 * YEAR - DAY, "7y364d"),
            (8 * YEAR, "8y"),
            (20 * YEAR + 100 * DAY, "20y"),
        ];
        for &(s, want) in cases {
            assert_eq!(human_duration(secs(s)), want, "{s}s");
        }
    }

    #[test]
    fn small_negative_ages_are_skew_not_errors() {
        assert_eq!(human_duration(SignedDuration::from_millis(-500)), "0s");
        assert_eq!(human_duration(SignedDuration::from_millis(-1999)), "0s");
        assert_eq!(human_duration(secs(-2)), "<invalid>");
        assert_eq!(
            short_human_duration(SignedDuration::from_millis(-1500)),
            "0s"
        );
        assert_eq!(short_human_duration(secs(-3)), "<invalid>");
    }

    #[test]
    fn fractions_of_a_second_truncate() {
        assert_eq!(human_duration(SignedDuration::from_millis(5999)), "5s");
        assert_eq!(
            human_duration(SignedDuration::from_millis((3 * MINUTE + 20) * 1000 + 999)),
            "3m20s"
        );
    }

    #[test]
    fn short_human_duration_matches_apimachinery() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (59, "59s"),
            (MINUTE, "1m"),
            (59 * MINUTE + 59, "59m"),
            (HOUR, "1h"),
            (23 * HOUR, "23h"),
            (DAY, "1d"),
            (364 * DAY, "364d"),
            (YEAR, "1y"),
            (3 * YEAR + 12 * DAY, "3y"),
        ];
        for &(s, want) in cases {
            assert_eq!(short_human_duration(secs(s)), want, "{s}s");
        }
    }
}
