//! Cron schedules: five fields or @hourly-style nicknames (crate croner, POSIX day-of-month
//! OR day-of-week), in the CronJob's timeZone, and Kubernetes' mostRecentScheduleTime.

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

/// Why a schedule cannot be used (each is a Warning event in Kubernetes).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScheduleError {
    #[error("unknown time zone {0}")]
    UnknownTimeZone(String),
    #[error("unparseable schedule: {schedule:?} : {reason}")]
    Unparseable { schedule: String, reason: String },
    #[error("time difference between two schedules is less than 1 second")]
    Invalid,
}

pub struct Schedule {
    cron: Cron,
    tz: TimeZone,
    /// The zone scheduled-timestamp annotations are written in: timeZone, else UTC.
    stamp_tz: TimeZone,
}

/// A schedule's `TZ=` or `CRON_TZ=` prefix (robfig/cron's syntax) and the rest.
fn split_tz(schedule: &str) -> (Option<&str>, &str) {
    let s = schedule.trim();
    for prefix in ["CRON_TZ=", "TZ="] {
        if let Some(rest) = s.strip_prefix(prefix) {
            let (tz, expr) = rest.split_once(' ').unwrap_or((rest, ""));
            return (Some(tz), expr.trim());
        }
    }
    (None, s)
}

impl Schedule {
    /// `time_zone` is spec.timeZone; without one the controller's local zone is used, as
    /// kube-controller-manager does.
    pub fn parse(schedule: &str, time_zone: Option<&str>) -> Result<Schedule, ScheduleError> {
        let (prefix_tz, expr) = split_tz(schedule);
        let tz = match time_zone.or(prefix_tz) {
            Some(name) => TimeZone::get(name).map_err(|_| ScheduleError::UnknownTimeZone(name.into()))?,
            None => TimeZone::system(),
        };
        let parser = CronParser::builder().seconds(Seconds::Disallowed).build();
        let cron = parser
            .parse(expr)
            .map_err(|e| ScheduleError::Unparseable { schedule: schedule.into(), reason: e.to_string() })?;
        let stamp_tz = time_zone.map_or(TimeZone::UTC, |_| tz.clone());
        Ok(Schedule { cron, tz, stamp_tz })
    }

    /// The first activation strictly after `t`.
    pub fn next(&self, t: Timestamp) -> Option<Timestamp> {
        let z = t.to_zoned(self.tz.clone());
        self.cron.find_next_occurrence(&z, false).ok().map(|n: Zoned| n.timestamp())
    }

    /// `t` as Go's RFC 3339 in timeZone or UTC ("Z" for a zero offset), as the
    /// scheduled-timestamp annotation is written.
    pub fn format(&self, t: Timestamp) -> String {
        let z = t.to_zoned(self.stamp_tz.clone());
        let s = z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
        match s.strip_suffix("+00:00") {
            Some(base) => format!("{base}Z"),
            None => s,
        }
    }
}

/// How many starts were missed since the last one.
#[derive(Debug, PartialEq)]
pub enum Missed {
    None,
    Few,
    /// More than 100: Kubernetes warns TooManyMissedTimes.
    Many,
}

/// Kubernetes' mostRecentScheduleTime: the latest activation in (earliest, now], counting
/// missed ones approximately. `earliest` is lastScheduleTime or creation, moved up to
/// now - startingDeadlineSeconds when given.
pub fn most_recent(
    s: &Schedule,
    earliest: Timestamp,
    now: Timestamp,
) -> Result<(Option<Timestamp>, Missed), ScheduleError> {
    let Some(t1) = s.next(earliest) else { return Ok((None, Missed::None)) };
    if now < t1 {
        return Ok((None, Missed::None));
    }
    let Some(t2) = s.next(t1) else { return Ok((Some(t1), Missed::None)) };
    if now < t2 {
        return Ok((Some(t1), Missed::None));
    }
    let between = t2.duration_since(t1).as_secs();
    if between < 1 {
        return Err(ScheduleError::Invalid);
    }
    let missed = now.duration_since(t1).as_secs() / between + 1;
    let start = t1 + SignedDuration::from_secs((missed - 2) * between);
    let mut recent = None;
    let mut t = s.next(start);
    while let Some(x) = t.filter(|x| *x <= now) {
        recent = Some(x);
        t = s.next(x);
    }
    let kind = if missed > 100 { Missed::Many } else { Missed::Few };
    Ok((recent, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_five_field_schedule_runs_at_its_minutes() {
        let s = Schedule::parse("*/15 * * * *", Some("UTC")).unwrap();
        assert_eq!(s.next(ts("2025-01-01T10:07:00Z")), Some(ts("2025-01-01T10:15:00Z")));
        assert_eq!(s.next(ts("2025-01-01T10:15:00Z")), Some(ts("2025-01-01T10:30:00Z")));
    }

    #[test]
    fn nicknames_like_hourly_are_understood() {
        let s = Schedule::parse("@hourly", Some("UTC")).unwrap();
        assert_eq!(s.next(ts("2025-01-01T10:07:00Z")), Some(ts("2025-01-01T11:00:00Z")));
        assert!(Schedule::parse("@daily", None).is_ok());
    }

    #[test]
    fn a_time_zone_moves_the_activations() {
        let s = Schedule::parse("0 9 * * *", Some("Asia/Seoul")).unwrap();
        assert_eq!(s.next(ts("2025-01-01T00:30:00Z")), Some(ts("2025-01-02T00:00:00Z")));
        assert_eq!(s.format(ts("2025-01-02T00:00:00Z")), "2025-01-02T09:00:00+09:00");
    }

    #[test]
    fn bad_schedules_and_zones_are_reported() {
        assert!(matches!(Schedule::parse("not a cron", None), Err(ScheduleError::Unparseable { .. })));
        assert!(matches!(Schedule::parse("* * * * * *", None), Err(ScheduleError::Unparseable { .. })));
        assert_eq!(
            Schedule::parse("* * * * *", Some("Mars/Olympus")).err(),
            Some(ScheduleError::UnknownTimeZone("Mars/Olympus".into()))
        );
    }

    #[test]
    fn the_most_recent_missed_activation_is_found() {
        let s = Schedule::parse("* * * * *", Some("UTC")).unwrap();
        let (t, missed) = most_recent(&s, ts("2025-01-01T10:00:00Z"), ts("2025-01-01T10:05:30Z")).unwrap();
        assert_eq!(t, Some(ts("2025-01-01T10:05:00Z")));
        assert_eq!(missed, Missed::Few);
        let (t, _) = most_recent(&s, ts("2025-01-01T10:00:00Z"), ts("2025-01-01T10:00:30Z")).unwrap();
        assert_eq!(t, None);
        let (_, missed) = most_recent(&s, ts("2025-01-01T00:00:00Z"), ts("2025-01-01T10:00:30Z")).unwrap();
        assert_eq!(missed, Missed::Many);
    }
}
