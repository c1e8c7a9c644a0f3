//! Kubernetes' human-readable durations (k8s.io/apimachinery/pkg/util/duration) and the AGE cell.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// `duration.HumanDuration`: about two significant figures ("90s", "3m20s", "5h", "2d3h", "3y").
pub fn human_duration(d: std::time::Duration) -> String {
    human_signed_duration(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
}

/// `HumanDuration` for a duration that may be negative: a clock skew of up to two seconds
/// prints "0s", anything further in the future prints "<invalid>".
pub fn human_signed_duration(d: SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % 60, "s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    human_days(hours)
}

/// The part of `HumanDuration` from eight hours on, where minutes stop mattering.
fn human_days(hours: i64) -> String {
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return with_remainder(days, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    if hours < 24 * 365 * 8 {
        return with_remainder(days / 365, "y", days % 365, "d");
    }
    format!("{}y", days / 365)
}

/// "3m" when the smaller unit is zero, "3m20s" otherwise.
fn with_remainder(big: i64, big_unit: &str, small: i64, small_unit: &str) -> String {
    if small == 0 { format!("{big}{big_unit}") } else { format!("{big}{big_unit}{small}{small_unit}") }
}

/// `duration.ShortHumanDuration`: one unit only ("5s", "3m", "7h", "12d", "2y").
pub fn short_human_duration(d: SignedDuration) -> String {
    let seconds = d.as_secs();
    match seconds {
        ..-1 => "<invalid>".to_owned(),
        -1 => "0s".to_owned(),
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86400 => format!("{}h", seconds / 3600),
        _ if seconds < 86400 * 365 => format!("{}d", seconds / 86400),
        _ => format!("{}y", seconds / (86400 * 365)),
    }
}

/// Parses a metav1.Time / MicroTime JSON value; absent or malformed means Go's zero time.
pub(crate) fn parse_time(value: &Value) -> Option<Timestamp> {
    value.as_str()?.parse().ok()
}

/// `translateTimestampSince`: the elapsed time since a timestamp, "<unknown>" when unset.
pub(crate) fn since(value: &Value, now: Timestamp) -> String {
    parse_time(value).map_or_else(|| "<unknown>".to_owned(), |t| elapsed(t, now))
}

/// `HumanDuration(now - then)`.
pub(crate) fn elapsed(then: Timestamp, now: Timestamp) -> String {
    human_signed_duration(now.duration_since(then))
}

/// The AGE cell every printer ends its default columns with.
pub(crate) fn age(obj: &Value, now: Timestamp) -> Value {
    Value::from(since(&obj["metadata"]["creationTimestamp"], now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i64) -> String {
        human_signed_duration(SignedDuration::from_secs(s))
    }

    #[test]
    fn durations_under_two_minutes_print_in_seconds() {
        assert_eq!(secs(0), "0s");
        assert_eq!(secs(5), "5s");
        assert_eq!(secs(119), "119s");
    }

    #[test]
    fn durations_under_ten_minutes_keep_their_seconds() {
        assert_eq!(secs(120), "2m");
        assert_eq!(secs(200), "3m20s");
    }

    #[test]
    fn longer_durations_round_down_to_coarser_units() {
        assert_eq!(secs(30 * 60), "30m");
        assert_eq!(secs(3 * 3600 + 25 * 60), "3h25m");
        assert_eq!(secs(5 * 3600), "5h");
        assert_eq!(secs(20 * 3600 + 59 * 60), "20h");
        assert_eq!(secs(51 * 3600), "2d3h");
        assert_eq!(secs(3 * 86400), "3d");
        assert_eq!(secs(100 * 86400), "100d");
        assert_eq!(secs((365 * 3 + 10) * 86400), "3y10d");
        assert_eq!(secs(365 * 9 * 86400), "9y");
    }

    #[test]
    fn a_small_clock_skew_is_zero_but_the_future_is_invalid() {
        assert_eq!(human_signed_duration(SignedDuration::from_millis(-1500)), "0s");
        assert_eq!(secs(-5), "<invalid>");
    }

    #[test]
    fn std_durations_use_the_same_rules() {
        assert_eq!(human_duration(std::time::Duration::from_secs(300)), "5m");
    }

    #[test]
    fn short_human_duration_uses_a_single_unit() {
        let short = |s| short_human_duration(SignedDuration::from_secs(s));
        assert_eq!(short(59), "59s");
        assert_eq!(short(200), "3m");
        assert_eq!(short(7 * 3600), "7h");
        assert_eq!(short(51 * 3600), "2d");
        assert_eq!(short(800 * 86400), "2y");
        assert_eq!(short(-3), "<invalid>");
    }

    #[test]
    fn a_missing_timestamp_is_unknown() {
        assert_eq!(since(&Value::Null, Timestamp::UNIX_EPOCH), "<unknown>");
    }
}
