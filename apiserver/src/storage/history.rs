//! The bounded, in-memory event history behind watch: replay from a revision, then live.
//!
//! Guarantees: a watch started at revision R sees every event with revision > R exactly once and
//! in order, or is told at once that R is older than the history (Compacted, HTTP 410), or is
//! ended when it falls too far behind (the client re-watches from its last revision).

use super::{Event, Result, StorageError};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Kept events, oldest first, and the channel new ones are published on.
pub struct History {
    inner: Mutex<Inner>,
    live: broadcast::Sender<Event>,
    capacity: usize,
}

struct Inner {
    events: VecDeque<Event>,
    /// Every revision <= this one is known to the history (covered or older than its start).
    floor: u64,
}

/// The events a watcher receives: a replayed backlog, then the live channel.
pub struct WatchStream {
    prefix: String,
    backlog: VecDeque<Event>,
    live: broadcast::Receiver<Event>,
    last: u64,
}

impl History {
    /// A history that starts at `revision` (nothing earlier can be replayed).
    pub fn new(revision: u64, capacity: usize) -> Self {
        let (live, _) = broadcast::channel(capacity.max(16));
        let inner = Inner { events: VecDeque::with_capacity(capacity), floor: revision };
        History { inner: Mutex::new(inner), live, capacity }
    }

    /// Records and publishes one event. Callers publish in revision order.
    pub fn publish(&self, event: Event) {
        let mut inner = self.lock();
        if inner.events.len() == self.capacity
            && let Some(old) = inner.events.pop_front()
        {
            inner.floor = old.revision;
        }
        inner.events.push_back(event.clone());
        // No receivers is normal; the history still keeps the event.
        let _ = self.live.send(event);
    }

    /// Everything under `prefix` after `from`, then live events.
    pub fn watch(&self, prefix: &str, from: u64) -> Result<WatchStream> {
        let inner = self.lock();
        if from < inner.floor {
            return Err(StorageError::Compacted { requested: from, oldest: inner.floor + 1 });
        }
        let backlog = inner.events.iter().filter(|e| e.revision > from && e.key.starts_with(prefix)).cloned().collect();
        // Subscribing while holding the lock means no event falls between backlog and live.
        let live = self.live.subscribe();
        Ok(WatchStream { prefix: prefix.to_string(), backlog, live, last: from })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere; the data is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl WatchStream {
    /// The next event, or None when the watcher fell behind the live channel and must re-watch.
    pub async fn next(&mut self) -> Option<Event> {
        if let Some(e) = self.backlog.pop_front() {
            self.last = e.revision;
            return Some(e);
        }
        loop {
            match self.live.recv().await {
                Ok(e) if e.revision > self.last => {
                    // Every revision seen advances `last`, so bookmarks can report it.
                    self.last = e.revision;
                    if e.key.starts_with(&self.prefix) {
                        return Some(e);
                    }
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// The revision of the last event handed out (or the start revision).
    pub fn last_revision(&self) -> u64 {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::EventKind;
    use bytes::Bytes;

    fn event(rev: u64, key: &str) -> Event {
        Event { kind: EventKind::Added, key: key.into(), revision: rev, value: Bytes::new(), prev: None }
    }

    #[tokio::test]
    async fn a_watch_replays_the_backlog_then_goes_live_without_a_gap() {
        let h = History::new(0, 10);
        h.publish(event(1, "/a/1"));
        h.publish(event(2, "/b/1"));
        let mut w = h.watch("/a/", 0).expect("watch");
        h.publish(event(3, "/a/2"));
        assert_eq!(w.next().await.map(|e| e.revision), Some(1));
        assert_eq!(w.next().await.map(|e| e.revision), Some(3));
    }

    #[test]
    fn a_revision_older_than_the_history_is_compacted() {
        let h = History::new(0, 2);
        for r in 1..=4 {
            h.publish(event(r, "/a"));
        }
        assert!(matches!(h.watch("/", 1), Err(StorageError::Compacted { .. })));
        assert!(h.watch("/", 2).is_ok());
    }
}
