//! Taint-based eviction (the taint eviction controller): a pod on a node with NoExecute
//! taints it does not tolerate goes at once; one tolerating them all goes when the shortest
//! tolerationSeconds runs out; one tolerating them without a limit stays.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Pod, Taint, Toleration};
use std::time::Duration;

/// When a pod on a tainted node must go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Stay,
    EvictNow,
    EvictIn(Duration),
}

/// Whether a toleration tolerates a taint (v1.Toleration.ToleratesTaint).
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    let effect_ok = t.effect.as_deref().is_none_or(|e| e.is_empty() || e == taint.effect);
    let key_ok = t.key.as_deref().is_none_or(|k| k.is_empty() || k == taint.key);
    let value_ok = match t.operator.as_deref() {
        None | Some("" | "Equal") => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        Some("Exists") => true,
        Some(_) => false,
    };
    effect_ok && key_ok && value_ok
}

/// The pod's fate on a node with these taints, at `now`. The clock of a toleration starts
/// at the later of the taint's timeAdded and the pod's creation.
pub fn verdict(pod: &Pod, taints: &[Taint], now: Timestamp) -> Verdict {
    let no_execute: Vec<&Taint> = taints.iter().filter(|t| t.effect == "NoExecute").collect();
    if no_execute.is_empty() || pod.metadata.deletion_timestamp.is_some() {
        return Verdict::Stay;
    }
    let tolerations = pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default();
    let mut deadline: Option<Timestamp> = None;
    for taint in no_execute {
        let Some(used) = tolerations.iter().find(|t| tolerates(t, taint)) else {
            return Verdict::EvictNow;
        };
        let Some(seconds) = used.toleration_seconds else { continue };
        let since = start(pod, taint, now);
        let ends = since.saturating_add(SignedDuration::from_secs(seconds.max(0))).unwrap_or(since);
        deadline = Some(deadline.map_or(ends, |d| d.min(ends)));
    }
    match deadline {
        None => Verdict::Stay,
        Some(d) if d <= now => Verdict::EvictNow,
        Some(d) => Verdict::EvictIn(Duration::try_from(d.duration_since(now)).unwrap_or_default()),
    }
}

fn start(pod: &Pod, taint: &Taint, now: Timestamp) -> Timestamp {
    let added = taint.time_added.as_ref().map_or(now, |t| t.0);
    let created = pod.metadata.creation_timestamp.as_ref().map_or(added, |t| t.0);
    added.max(created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn unreachable(added: i64) -> Taint {
        Taint {
            key: "node.kubernetes.io/unreachable".into(),
            effect: "NoExecute".into(),
            value: None,
            time_added: Some(Time(at(added))),
        }
    }

    fn pod(tolerations: Vec<Toleration>) -> Pod {
        Pod { spec: Some(PodSpec { tolerations: Some(tolerations), ..Default::default() }), ..Default::default() }
    }

    fn tolerate(key: &str, seconds: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: seconds,
            ..Default::default()
        }
    }

    #[test]
    fn a_pod_without_a_matching_toleration_is_evicted_at_once() {
        assert_eq!(verdict(&pod(vec![]), &[unreachable(0)], at(1)), Verdict::EvictNow);
    }

    #[test]
    fn a_pod_tolerating_for_a_while_is_evicted_after_its_toleration_seconds() {
        let p = pod(vec![tolerate("node.kubernetes.io/unreachable", Some(300))]);
        assert_eq!(verdict(&p, &[unreachable(0)], at(100)), Verdict::EvictIn(Duration::from_secs(200)));
        assert_eq!(verdict(&p, &[unreachable(0)], at(300)), Verdict::EvictNow);
    }

    #[test]
    fn a_pod_tolerating_without_a_limit_stays() {
        let p = pod(vec![tolerate("node.kubernetes.io/unreachable", None)]);
        assert_eq!(verdict(&p, &[unreachable(0)], at(10_000)), Verdict::Stay);
    }

    #[test]
    fn an_empty_key_with_exists_tolerates_every_taint() {
        let t = Toleration { operator: Some("Exists".into()), ..Default::default() };
        assert!(tolerates(&t, &unreachable(0)));
    }

    #[test]
    fn an_equal_toleration_needs_the_same_value() {
        let taint =
            Taint { key: "dedicated".into(), value: Some("gpu".into()), effect: "NoExecute".into(), time_added: None };
        let t = Toleration { key: Some("dedicated".into()), value: Some("cpu".into()), ..Default::default() };
        assert!(!tolerates(&t, &taint));
        let t = Toleration { key: Some("dedicated".into()), value: Some("gpu".into()), ..Default::default() };
        assert!(tolerates(&t, &taint));
    }

    #[test]
    fn no_schedule_taints_evict_nobody() {
        let taint = Taint { key: "x".into(), effect: "NoSchedule".into(), value: None, time_added: None };
        assert_eq!(verdict(&pod(vec![]), &[taint], at(0)), Verdict::Stay);
    }

    #[test]
    fn a_pod_already_being_deleted_is_left_to_finish() {
        let mut p = pod(vec![]);
        p.metadata.deletion_timestamp = Some(Time(at(0)));
        assert_eq!(verdict(&p, &[unreachable(0)], at(1)), Verdict::Stay);
    }
}
