//! A Job with Kubernetes' defaults applied, and the completed-index interval strings of
//! Indexed Jobs ("0-2,5").

use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeSet;

pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
pub const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
pub const JOB_NAME: &str = "batch.kubernetes.io/job-name";
pub const LEGACY_CONTROLLER_UID: &str = "controller-uid";
pub const LEGACY_JOB_NAME: &str = "job-name";
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";

#[derive(Clone, Debug)]
pub struct View {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub deleting: bool,
    pub parallelism: i32,
    /// None: a work queue, done when any pod succeeds.
    pub completions: Option<i32>,
    pub indexed: bool,
    pub backoff_limit: i32,
    pub active_deadline_seconds: Option<i64>,
    pub ttl_seconds_after_finished: Option<i32>,
    pub suspend: bool,
    /// podReplacementPolicy Failed: terminating pods are not replaced until they finish.
    pub only_replace_failed: bool,
    pub selector: LabelSelector,
    pub template: PodTemplateSpec,
    pub status: JobStatus,
}

impl View {
    /// Defaults as Kubernetes': neither completions nor parallelism means one of each; the
    /// selector, when the API server has not generated one, is the Job's UID label.
    pub fn of(job: &Job) -> View {
        let spec = job.spec.clone().unwrap_or_default();
        let uid = job.metadata.uid.clone().unwrap_or_default();
        let completions = match (spec.completions, spec.parallelism) {
            (None, None) => Some(1),
            (c, _) => c,
        };
        let selector = spec.selector.unwrap_or_else(|| LabelSelector {
            match_labels: Some([(CONTROLLER_UID.to_string(), uid.clone())].into()),
            ..Default::default()
        });
        View {
            name: job.metadata.name.clone().unwrap_or_default(),
            namespace: job.metadata.namespace.clone().unwrap_or_default(),
            uid,
            deleting: job.metadata.deletion_timestamp.is_some(),
            parallelism: spec.parallelism.unwrap_or(1).max(0),
            completions,
            indexed: spec.completion_mode.as_deref() == Some("Indexed"),
            backoff_limit: spec.backoff_limit.unwrap_or(6),
            active_deadline_seconds: spec.active_deadline_seconds,
            ttl_seconds_after_finished: spec.ttl_seconds_after_finished,
            suspend: spec.suspend.unwrap_or(false),
            only_replace_failed: spec.pod_replacement_policy.as_deref() == Some("Failed")
                || (spec.pod_replacement_policy.is_none() && spec.pod_failure_policy.is_some()),
            selector,
            template: spec.template,
            status: job.status.clone().unwrap_or_default(),
        }
    }

    /// The condition of this type with status True, if any.
    pub fn condition(&self, type_: &str) -> Option<&k8s_openapi::api::batch::v1::JobCondition> {
        self.status.conditions.iter().flatten().find(|c| c.type_ == type_ && c.status == "True")
    }

    /// Kubernetes' IsJobFinished: Complete or Failed is True.
    pub fn finished(&self) -> bool {
        self.condition("Complete").is_some() || self.condition("Failed").is_some()
    }
}

/// Parses "0-2,5" into a set of indexes (invalid parts are skipped).
pub fn parse_indexes(s: &str) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
            out.extend(a..=b);
        }
    }
    out
}

/// Formats indexes as Kubernetes' compressed intervals.
pub fn format_indexes(set: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_indexes_round_trip_as_intervals() {
        let s: BTreeSet<i32> = [0, 1, 2, 5, 7, 8].into();
        assert_eq!(format_indexes(&s), "0-2,5,7-8");
        assert_eq!(parse_indexes("0-2,5,7-8"), s);
    }
}
