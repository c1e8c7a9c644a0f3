//! Go's JSON forms of times and durations: metav1.Time (RFC 3339), metav1.MicroTime (RFC 3339
//! with microseconds) and time.Duration's String().

/// Seconds since the Unix epoch of Go's zero time.Time (0001-01-01T00:00:00Z), which
/// metav1.Time writes as JSON null.
pub(crate) const ZERO_TIME: i64 = -62_135_596_800;

/// `2024-01-02T03:04:05Z`, with `.000000` microseconds when `micros` is given; None when the
/// year is outside 0..=9999, which Go refuses to write.
pub(crate) fn rfc3339(seconds: i64, micros: Option<u32>) -> Option<String> {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    Some(match micros {
        Some(us) => format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{us:06}Z"),
        None => format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z"),
    })
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Go's `time.Duration(ns).String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub(crate) fn duration(ns: i64) -> String {
    let mut u = ns.unsigned_abs();
    let sign = if ns < 0 { "-" } else { "" };
    if u == 0 {
        return "0s".into();
    }
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0..1_000 => (0, "ns"),
            1_000..1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        let (int, frac) = split(u, prec);
        return format!("{sign}{int}{frac}{unit}");
    }
    let (secs, frac) = split(u, 9);
    u = secs;
    let mut out = format!("{}{frac}s", u % 60);
    u /= 60;
    if u > 0 {
        out = format!("{}m{out}", u % 60);
        u /= 60;
        if u > 0 {
            out = format!("{u}h{out}");
        }
    }
    format!("{sign}{out}")
}

/// v / 10^prec, and the fraction as `.123` without trailing zeros (empty when zero).
fn split(v: u64, prec: u32) -> (u64, String) {
    let scale = 10u64.pow(prec);
    let frac = v % scale;
    if frac == 0 {
        return (v / scale, String::new());
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (v / scale, format!(".{}", digits.trim_end_matches('0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_rfc3339_in_utc() {
        assert_eq!(rfc3339(1_704_164_645, None).as_deref(), Some("2024-01-02T03:04:05Z"));
        assert_eq!(rfc3339(0, None).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(rfc3339(951_782_400, Some(123_456)).as_deref(), Some("2000-02-29T00:00:00.123456Z"));
        assert_eq!(rfc3339(ZERO_TIME, None).as_deref(), Some("0001-01-01T00:00:00Z"));
        assert_eq!(rfc3339(-86_400, None).as_deref(), Some("1969-12-31T00:00:00Z"));
        assert_eq!(rfc3339(253_402_300_800, None), None);
    }

    #[test]
    fn durations_format_like_go() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(1), "1ns");
        assert_eq!(duration(1_500), "1.5µs");
        assert_eq!(duration(1_500_000), "1.5ms");
        assert_eq!(duration(1_000_000_000), "1s");
        assert_eq!(duration(90_000_000_000), "1m30s");
        assert_eq!(duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(duration(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(duration(-2_000_000), "-2ms");
        assert_eq!(duration(i64::MIN), "-2562047h47m16.854775808s");
    }
}
