//! Job conditions as Kubernetes' job controller writes them.

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub fn new_condition(type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()).filter(|r: &String| !r.is_empty()),
        message: Some(message.into()).filter(|m: &String| !m.is_empty()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// The condition of this type with status True.
pub fn find<'a>(s: &'a JobStatus, type_: &str) -> Option<&'a JobCondition> {
    s.conditions.iter().flatten().find(|c| c.type_ == type_ && c.status == "True")
}

/// Kubernetes' ensureJobConditionStatus: replace a differing condition of the type, add a
/// missing one unless it would be False. Returns whether anything changed.
pub fn ensure(s: &mut JobStatus, type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> bool {
    let new = new_condition(type_, status, reason, message, now);
    let conds = s.conditions.get_or_insert_default();
    if let Some(c) = conds.iter_mut().find(|c| c.type_ == type_) {
        if c.status != new.status || c.reason != new.reason || c.message != new.message {
            *c = new;
            return true;
        }
        return false;
    }
    if status == "False" {
        if conds.is_empty() {
            s.conditions = None;
        }
        return false;
    }
    conds.push(new);
    true
}
