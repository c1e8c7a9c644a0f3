//! Creations and deletions a controller has asked for but not yet seen in its cache
//! (Kubernetes' UIDTrackingControllerExpectations): an owner is synced again only once its
//! cache has caught up with its own writes, so a lagging watch never causes double work.

use crate::controller_ref::controller_of;
use crate::informer::Observer;
use kube::Resource;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Kubernetes' ExpectationsTimeout: after this, expectations are given up as lost.
const TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
struct Entry {
    adds: i64,
    deletes: HashSet<String>,
    since: Instant,
}

/// Outstanding expectations per owner key (`namespace/name`).
#[derive(Debug, Default)]
pub struct Expectations {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Expectations {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        let mut guard = match self.entries.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Whether the owner may be synced: nothing outstanding, or outstanding too long.
    pub fn satisfied(&self, owner: &str) -> bool {
        self.with(|m| m.get(owner).is_none_or(|e| (e.adds <= 0 && e.deletes.is_empty()) || e.since.elapsed() > TIMEOUT))
    }

    /// Records `n` creations about to be issued (before issuing them).
    pub fn expect_creations(&self, owner: &str, n: usize) {
        self.set(owner, i64::try_from(n).unwrap_or(i64::MAX), HashSet::new());
    }

    /// Records deletions of these child keys (`namespace/name`) about to be issued.
    pub fn expect_deletions(&self, owner: &str, children: impl IntoIterator<Item = String>) {
        self.set(owner, 0, children.into_iter().collect());
    }

    fn set(&self, owner: &str, adds: i64, deletes: HashSet<String>) {
        let entry = Entry { adds, deletes, since: Instant::now() };
        self.with(|m| m.insert(owner.to_string(), entry));
    }

    /// One creation was seen, or will never happen (its request failed).
    pub fn creation_observed(&self, owner: &str) {
        self.with(|m| {
            if let Some(e) = m.get_mut(owner) {
                e.adds -= 1;
            }
        });
    }

    /// A deletion was seen, or will never happen.
    pub fn deletion_observed(&self, owner: &str, child: &str) {
        self.with(|m| {
            if let Some(e) = m.get_mut(owner) {
                e.deletes.remove(child);
            }
        });
    }

    /// Drops everything recorded for an owner.
    pub fn forget(&self, owner: &str) {
        self.with(|m| m.remove(owner));
    }
}

/// `namespace/name` of an object.
pub fn key_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    format!("{}/{}", meta.namespace.as_deref().unwrap_or_default(), meta.name.as_deref().unwrap_or_default())
}

/// Feeds a child watch into the expectations of the owners of one kind.
pub struct ChildObserver {
    pub expectations: std::sync::Arc<Expectations>,
    pub owner_kind: String,
}

impl ChildObserver {
    fn owner_key<K: Resource>(&self, child: &K) -> Option<String> {
        let meta = child.meta();
        let r = controller_of(meta).filter(|r| r.kind == self.owner_kind)?;
        Some(format!("{}/{}", meta.namespace.as_deref().unwrap_or_default(), r.name))
    }

    fn deleted_child<K: Resource>(&self, child: &K) {
        if let Some(owner) = self.owner_key(child) {
            self.expectations.deletion_observed(&owner, &key_of(child.meta()));
        }
    }
}

impl<K: Resource> Observer<K> for ChildObserver {
    fn added(&mut self, obj: &K) {
        if obj.meta().deletion_timestamp.is_some() {
            return self.deleted_child(obj);
        }
        if let Some(owner) = self.owner_key(obj) {
            self.expectations.creation_observed(&owner);
        }
    }

    fn updated(&mut self, old: &K, new: &K) {
        if new.meta().deletion_timestamp.is_some() && old.meta().deletion_timestamp.is_none() {
            self.deleted_child(new);
        }
    }

    fn deleted(&mut self, obj: &K) {
        self.deleted_child(obj);
    }
}

/// The resourceVersion of each owner's last status write, so a sync never plans from a
/// cached object older than its own last write.
#[derive(Default)]
pub struct Written(Mutex<HashMap<String, u64>>);

impl Written {
    pub fn record(&self, key: &str, rv: Option<&str>) {
        if let (Some(v), Ok(mut m)) = (rv.and_then(|r| r.parse().ok()), self.0.lock()) {
            m.insert(key.into(), v);
        }
    }

    /// Whether the cached object is older than what we last wrote. Resource versions are the
    /// store's revision numbers here (sled and etcd alike), so they compare as integers.
    pub fn is_stale(&self, key: &str, cached_rv: Option<&str>) -> bool {
        let cached: Option<u64> = cached_rv.and_then(|r| r.parse().ok());
        let written = self.0.lock().ok().and_then(|m| m.get(key).copied());
        matches!((cached, written), (Some(c), Some(w)) if c < w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_waits_until_every_creation_is_seen() {
        let e = Expectations::default();
        assert!(e.satisfied("ns/rs"));
        e.expect_creations("ns/rs", 2);
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs"));
    }

    #[test]
    fn an_owner_waits_until_each_deleted_child_is_seen_gone() {
        let e = Expectations::default();
        e.expect_deletions("ns/rs", ["ns/a".to_string(), "ns/b".to_string()]);
        e.deletion_observed("ns/rs", "ns/a");
        e.deletion_observed("ns/rs", "ns/a");
        assert!(!e.satisfied("ns/rs"));
        e.deletion_observed("ns/rs", "ns/b");
        assert!(e.satisfied("ns/rs"));
    }
}
