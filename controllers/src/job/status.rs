//! Job status keys and comparison.

use k8s_openapi::api::batch::v1::JobStatus;

/// Status keys a write must carry (a missing one is nulled).
pub const KEYS: &[&str] = &[
    "active",
    "ready",
    "terminating",
    "succeeded",
    "failed",
    "startTime",
    "completionTime",
    "conditions",
    "uncountedTerminatedPods",
    "completedIndexes",
    "failedIndexes",
];

/// Whether two statuses say the same (zero counters and empty lists being unset).
pub fn same(a: &JobStatus, b: &JobStatus) -> bool {
    let norm = |s: &JobStatus| {
        let mut s = s.clone();
        for f in [&mut s.active, &mut s.ready, &mut s.succeeded, &mut s.failed] {
            if *f == Some(0) {
                *f = None;
            }
        }
        if let Some(u) = &s.uncounted_terminated_pods {
            let empty = u.succeeded.as_ref().is_none_or(Vec::is_empty) && u.failed.as_ref().is_none_or(Vec::is_empty);
            if empty {
                s.uncounted_terminated_pods = None;
            }
        }
        s
    };
    norm(a) == norm(b)
}
