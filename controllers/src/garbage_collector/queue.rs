//! The collector's work queue: each item at most once, failed items retried with back-off.

use super::graph::Work;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct WorkQueue {
    ready: VecDeque<Work>,
    queued: HashSet<Work>,
    /// Failures so far, and when the item is due again (None once it is back in the queue).
    retries: HashMap<Work, (u32, Option<Instant>)>,
}

impl WorkQueue {
    /// Queues an item unless it is queued already (a pending retry is brought forward).
    pub fn push(&mut self, w: Work) {
        if self.queued.insert(w.clone()) {
            self.ready.push_back(w);
        }
    }

    pub fn pop(&mut self) -> Option<Work> {
        let w = self.ready.pop_front()?;
        self.queued.remove(&w);
        Some(w)
    }

    /// The item failed: it comes back after a delay doubling with each failure.
    pub fn retry_later(&mut self, w: Work, now: Instant) {
        let attempts = self.retries.get(&w).map_or(0, |(n, _)| *n);
        let delay = FIRST_RETRY.saturating_mul(2u32.saturating_pow(attempts)).min(MAX_RETRY);
        self.retries.insert(w, (attempts + 1, Some(now + delay)));
    }

    /// The item succeeded: its failure count is forgotten.
    pub fn done(&mut self, w: &Work) {
        self.retries.remove(w);
    }

    /// Moves retries whose time has come back into the queue.
    pub fn promote_due(&mut self, now: Instant) {
        let mut due = Vec::new();
        for (w, (_, at)) in self.retries.iter_mut() {
            if at.is_some_and(|t| t <= now) {
                *at = None;
                due.push(w.clone());
            }
        }
        for w in due {
            self.push(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(uid: &str) -> Work {
        Work::AttemptDelete(uid.into())
    }

    #[test]
    fn an_item_queued_twice_is_worked_once() {
        let mut q = WorkQueue::default();
        q.push(w("a"));
        q.push(w("a"));
        assert_eq!(q.pop(), Some(w("a")));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn a_failed_item_comes_back_only_after_its_delay() {
        let mut q = WorkQueue::default();
        let now = Instant::now();
        q.retry_later(w("a"), now);
        q.promote_due(now);
        assert_eq!(q.pop(), None);
        q.promote_due(now + Duration::from_secs(1));
        assert_eq!(q.pop(), Some(w("a")));
    }

    #[test]
    fn each_failure_doubles_the_delay() {
        let mut q = WorkQueue::default();
        let now = Instant::now();
        q.retry_later(w("a"), now);
        q.retry_later(w("a"), now);
        q.promote_due(now + Duration::from_millis(300));
        assert_eq!(q.pop(), None);
        q.promote_due(now + Duration::from_millis(600));
        assert_eq!(q.pop(), Some(w("a")));
    }
}
