//! The pod lifecycle event generator: containerd 1.6 has no container events over CRI, so the
//! runtime is relisted every second (as the kubelet's generic PLEG does) and each pod whose
//! sandboxes or containers changed state is woken.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::cri::Cri;
use crate::runtime_pod::LABEL_POD_UID;

pub const RELIST_PERIOD: Duration = Duration::from_secs(1);

/// Per pod UID, every sandbox and container ID with its state: what a relist compares.
pub type Snapshot = HashMap<String, BTreeMap<String, i32>>;

/// The pod UIDs whose entries differ between two relists (appeared, vanished or changed).
pub fn changed(old: &Snapshot, new: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = new.iter().filter(|(uid, s)| old.get(*uid) != Some(s)).map(|(u, _)| u.clone()).collect();
    out.extend(old.keys().filter(|u| !new.contains_key(*u)).cloned());
    out.sort();
    out
}

async fn relist(cri: &Cri) -> crate::cri::Result<Snapshot> {
    let mut snap = Snapshot::new();
    for s in cri.list_pod_sandboxes(HashMap::new()).await? {
        if let Some(uid) = s.labels.get(LABEL_POD_UID) {
            snap.entry(uid.clone()).or_default().insert(s.id, 100 + s.state);
        }
    }
    for c in cri.list_containers(HashMap::new()).await? {
        if let Some(uid) = c.labels.get(LABEL_POD_UID) {
            snap.entry(uid.clone()).or_default().insert(c.id, c.state);
        }
    }
    Ok(snap)
}

/// Relists forever, sending the UID of each pod that changed; the first relist wakes every pod
/// the runtime holds (so orphans left by an earlier run are found).
pub async fn run(cri: Cri, wake: mpsc::UnboundedSender<String>) {
    let mut last = Snapshot::new();
    let mut tick = tokio::time::interval(RELIST_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match relist(&cri).await {
            Ok(snap) => {
                for uid in changed(&last, &snap) {
                    let _ = wake.send(uid);
                }
                last = snap;
            }
            Err(e) => tracing::warn!("relisting the runtime: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(entries: &[(&str, &str, i32)]) -> Snapshot {
        let mut s = Snapshot::new();
        for (uid, id, state) in entries {
            s.entry(uid.to_string()).or_default().insert(id.to_string(), *state);
        }
        s
    }

    #[test]
    fn a_container_that_exited_wakes_its_pod() {
        let old = snap(&[("a", "c1", 1), ("b", "c2", 1)]);
        let new = snap(&[("a", "c1", 2), ("b", "c2", 1)]);
        assert_eq!(changed(&old, &new), ["a"]);
    }

    #[test]
    fn a_pod_that_vanished_from_the_runtime_is_woken_too() {
        let old = snap(&[("a", "c1", 1)]);
        assert_eq!(changed(&old, &Snapshot::new()), ["a"]);
    }

    #[test]
    fn nothing_changed_wakes_nobody() {
        let s = snap(&[("a", "c1", 1)]);
        assert!(changed(&s, &s).is_empty());
    }
}
