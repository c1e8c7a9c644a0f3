//! Back-off for replacing failed daemon pods, per DaemonSet and node (Kubernetes'
//! failedPodsBackoff: 1 s doubling to 15 min), so a kubelet rejecting pods is not hammered.

use jiff::SignedDuration;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const INITIAL: Duration = Duration::from_secs(1);
const MAX: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct Backoff {
    entries: Mutex<HashMap<(String, String), (Duration, Instant)>>,
}

impl Backoff {
    /// Nodes of this DaemonSet still backing off, with the time left.
    pub fn remaining(&self, ds: &str) -> HashMap<String, SignedDuration> {
        let Ok(map) = self.entries.lock() else {
            return HashMap::new();
        };
        map.iter()
            .filter(|((d, _), _)| d == ds)
            .filter_map(|((_, node), (delay, at))| {
                let left = delay.checked_sub(at.elapsed())?;
                Some((node.clone(), SignedDuration::try_from(left).ok()?))
            })
            .collect()
    }

    /// Records a replacement: the next one on this node waits twice as long.
    pub fn next(&self, ds: &str, node: &str) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        let key = (ds.to_string(), node.to_string());
        let delay = match map.get(&key) {
            Some((d, at)) if at.elapsed() < 2 * MAX => (*d * 2).min(MAX),
            _ => INITIAL,
        };
        map.insert(key, (delay, Instant::now()));
    }
}
