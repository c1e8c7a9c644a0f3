//! What the Job controller waits to see in its caches: its pod creations and deletions,
//! its finalizer removals, and its own status writes (so a stale Job is never counted
//! from, which could count a pod twice or start one too many).

use super::pods::has_finalizer;
use crate::controller_ref::controller_of;
use crate::expectations::ChildObserver;
use crate::informer::Observer;
use k8s_openapi::api::core::v1::Pod;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Pod UIDs per Job key whose finalizer removal is sent but unseen.
#[derive(Default)]
pub struct Finalizers(Mutex<HashMap<String, HashSet<String>>>);

impl Finalizers {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, HashSet<String>>) -> T) -> T {
        let mut g = match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut g)
    }

    pub fn expect(&self, job: &str, uid: &str) {
        self.with(|m| m.entry(job.into()).or_default().insert(uid.into()));
    }

    pub fn observed(&self, job: &str, uid: &str) {
        self.with(|m| {
            if let Some(s) = m.get_mut(job) {
                s.remove(uid);
                if s.is_empty() {
                    m.remove(job);
                }
            }
        });
    }

    pub fn pending(&self, job: &str) -> HashSet<String> {
        self.with(|m| m.get(job).cloned().unwrap_or_default())
    }
}

/// Feeds pod events into the creation/deletion and finalizer expectations.
pub struct PodObserver {
    pub children: ChildObserver,
    pub finalizers: Arc<Finalizers>,
}

impl PodObserver {
    fn finalizer_gone(&self, pod: &Pod, gone: bool) {
        let Some(r) = controller_of(&pod.metadata).filter(|r| r.kind == "Job") else { return };
        if gone || !has_finalizer(pod) {
            let key = format!("{}/{}", pod.metadata.namespace.as_deref().unwrap_or_default(), r.name);
            self.finalizers.observed(&key, pod.metadata.uid.as_deref().unwrap_or_default());
        }
    }
}

impl Observer<Pod> for PodObserver {
    fn added(&mut self, pod: &Pod) {
        Observer::<Pod>::added(&mut self.children, pod);
        self.finalizer_gone(pod, false);
    }
    fn updated(&mut self, old: &Pod, new: &Pod) {
        Observer::<Pod>::updated(&mut self.children, old, new);
        self.finalizer_gone(new, false);
    }
    fn deleted(&mut self, pod: &Pod) {
        Observer::<Pod>::deleted(&mut self.children, pod);
        self.finalizer_gone(pod, true);
    }
}
