//! Remembers this controller's own slice writes until the watch cache shows them, so that no
//! reconcile plans from a cache missing a slice it just made (Kubernetes' EndpointSliceTracker).

use k8s_openapi::api::discovery::v1::EndpointSlice;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An expectation left unmet this long is dropped: the slice was changed by someone else.
const EXPIRY: Duration = Duration::from_secs(10);

/// A Service, as namespace and name.
pub type ServiceKey = (String, String);

/// What the cache must show of one slice this controller wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The slice at this generation or later.
    AtLeast(i64),
    /// No such slice.
    Gone,
}

/// A Service's slices, each with what the cache must show and since when.
type Pending = HashMap<String, (Expect, Instant)>;

#[derive(Default)]
pub struct Tracker {
    expected: Mutex<HashMap<ServiceKey, Pending>>,
}

impl Tracker {
    /// Records a write: the cache should come to show `expect` for the named slice.
    pub fn expect(&self, svc: &ServiceKey, slice: &str, expect: Expect) {
        if let Ok(mut map) = self.expected.lock() {
            map.entry(svc.clone()).or_default().insert(slice.to_string(), (expect, Instant::now()));
        }
    }

    /// Whether the cached slices show every write made for the Service; met (or expired)
    /// expectations are forgotten.
    pub fn caught_up(&self, svc: &ServiceKey, cached: &[&EndpointSlice]) -> bool {
        let Ok(mut map) = self.expected.lock() else { return true };
        let Some(slices) = map.get_mut(svc) else { return true };
        slices.retain(|name, (expect, since)| {
            let current = cached.iter().find(|s| s.metadata.name.as_deref() == Some(name.as_str()));
            !met(*expect, current.copied()) && since.elapsed() < EXPIRY
        });
        let done = slices.is_empty();
        if done {
            map.remove(svc);
        }
        done
    }

    /// Forgets a deleted Service.
    pub fn forget(&self, svc: &ServiceKey) {
        if let Ok(mut map) = self.expected.lock() {
            map.remove(svc);
        }
    }
}

/// Whether a cached slice (or its absence) meets an expectation.
pub fn met(expect: Expect, cached: Option<&EndpointSlice>) -> bool {
    match (expect, cached) {
        (Expect::Gone, None) => true,
        (Expect::Gone, Some(_)) | (Expect::AtLeast(_), None) => false,
        (Expect::AtLeast(g), Some(s)) => s.metadata.generation.unwrap_or(0) >= g,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(name: &str, generation: i64) -> EndpointSlice {
        let mut s = EndpointSlice { address_type: "IPv4".into(), ..Default::default() };
        s.metadata.name = Some(name.into());
        s.metadata.generation = Some(generation);
        s
    }

    fn key() -> ServiceKey {
        ("default".into(), "web".into())
    }

    #[test]
    fn a_created_slice_missing_from_the_cache_means_the_cache_is_stale() {
        let t = Tracker::default();
        t.expect(&key(), "web-abcde", Expect::AtLeast(1));
        assert!(!t.caught_up(&key(), &[]));
    }

    #[test]
    fn the_cache_catches_up_once_it_shows_the_written_generation() {
        let t = Tracker::default();
        t.expect(&key(), "web-abcde", Expect::AtLeast(2));
        assert!(!t.caught_up(&key(), &[&slice("web-abcde", 1)]));
        assert!(t.caught_up(&key(), &[&slice("web-abcde", 2)]));
    }

    #[test]
    fn a_deleted_slice_still_cached_means_the_cache_is_stale() {
        let t = Tracker::default();
        t.expect(&key(), "web-abcde", Expect::Gone);
        assert!(!t.caught_up(&key(), &[&slice("web-abcde", 1)]));
        assert!(t.caught_up(&key(), &[]));
    }

    #[test]
    fn a_service_without_writes_is_always_caught_up() {
        assert!(Tracker::default().caught_up(&key(), &[]));
    }
}
