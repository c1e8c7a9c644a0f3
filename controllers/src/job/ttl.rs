//! TTL after finished (Kubernetes' ttlafterfinished controller, run here for each Job):
//! a finished Job with ttlSecondsAfterFinished is deleted, with its pods, once it expires.

use super::view::View;
use jiff::{SignedDuration, Timestamp};

/// What the TTL asks of a Job.
#[derive(Debug, PartialEq)]
pub enum Ttl {
    /// Not finished, or no TTL.
    Keep,
    /// Expires after this long.
    After(SignedDuration),
    Delete,
}

/// Expiry counts from the Complete or Failed condition's transition (or completionTime).
pub fn check(v: &View, now: Timestamp) -> Ttl {
    let Some(ttl) = v.ttl_seconds_after_finished else { return Ttl::Keep };
    let finished = v.condition("Complete").or(v.condition("Failed"));
    let Some(at) = finished.and_then(|c| c.last_transition_time.as_ref()).or(v.status.completion_time.as_ref()) else {
        return Ttl::Keep;
    };
    let left = (at.0 + SignedDuration::from_secs(i64::from(ttl))).duration_since(now);
    if left.is_positive() { Ttl::After(left) } else { Ttl::Delete }
}
