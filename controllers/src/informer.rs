//! A watch-fed cache (kube-runtime reflector) that also tells an observer what was added,
//! updated or deleted, as informer event handlers do; its stream triggers controllers.

use futures::{Stream, TryStreamExt};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt::Debug;

/// Told about each change before the cache applies it.
pub trait Observer<K>: Send + 'static {
    fn added(&mut self, obj: &K);
    fn updated(&mut self, old: &K, new: &K);
    fn deleted(&mut self, obj: &K);
}

/// An observer that does nothing.
pub struct Ignore;

impl<K> Observer<K> for Ignore {
    fn added(&mut self, _: &K) {}
    fn updated(&mut self, _: &K, _: &K) {}
    fn deleted(&mut self, _: &K) {}
}

/// Turns watcher events into observer calls, using the cache's state before each event.
/// A relist (after a lost watch) reports objects missing from it as deleted.
struct Tracker<K: Resource<DynamicType = ()> + 'static, O> {
    reader: Store<K>,
    observer: O,
    relisted: HashSet<ObjectRef<K>>,
}

impl<K, O> Tracker<K, O>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
    O: Observer<K>,
{
    fn observe(&mut self, event: &watcher::Event<K>) {
        match event {
            watcher::Event::Apply(obj) => self.apply(obj),
            watcher::Event::Delete(obj) => self.observer.deleted(obj),
            watcher::Event::Init => self.relisted.clear(),
            watcher::Event::InitApply(obj) => {
                self.relisted.insert(ObjectRef::from_obj(obj));
                self.apply(obj);
            }
            watcher::Event::InitDone => self.finish_relist(),
        }
    }

    fn apply(&mut self, obj: &K) {
        match self.reader.get(&ObjectRef::from_obj(obj)) {
            Some(old) => self.observer.updated(&old, obj),
            None => self.observer.added(obj),
        }
    }

    fn finish_relist(&mut self) {
        for old in self.reader.state() {
            if !self.relisted.contains(&ObjectRef::from_obj(&*old)) {
                self.observer.deleted(&old);
            }
        }
        self.relisted.clear();
    }
}

/// A cache of `api`'s objects and the stream of touched objects that keeps it filled.
/// The stream must be polled (e.g. by a Controller's `owns_stream`) for the cache to fill.
pub fn watch<K, O>(
    api: Api<K>,
    config: watcher::Config,
    observer: O,
) -> (Store<K>, impl Stream<Item = Result<K, watcher::Error>> + Send + 'static)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    O: Observer<K>,
{
    let (reader, writer) = reflector::store();
    let mut tracker = Tracker { reader: reader.clone(), observer, relisted: HashSet::new() };
    let stream = watcher(api, config)
        .default_backoff()
        .map_ok(move |event| {
            tracker.observe(&event);
            event
        })
        .reflect(writer)
        .touched_objects();
    (reader, stream)
}
