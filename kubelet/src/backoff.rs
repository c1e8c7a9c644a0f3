//! Restart back-off per container (the kubelet's flowcontrol.Backoff): 10 s, doubling to 5 min,
//! counted from when the container last exited; forgotten after 10 quiet minutes.

use std::collections::HashMap;
use std::time::Duration;

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);

#[derive(Clone, Debug)]
struct Entry {
    delay: Duration,
    since_ns: i64,
}

#[derive(Clone, Debug, Default)]
pub struct BackOff {
    entries: HashMap<String, Entry>,
}

pub fn key(pod_uid: &str, container: &str) -> String {
    format!("{pod_uid}/{container}")
}

fn ns(d: Duration) -> i64 {
    d.as_nanos() as i64
}

impl BackOff {
    /// How long a restart of `key` must still wait, measured from `since_ns` (its exit).
    pub fn remaining(&self, key: &str, since_ns: i64, now_ns: i64) -> Option<Duration> {
        let e = self.entries.get(key)?;
        let waited = now_ns.saturating_sub(since_ns);
        (waited < ns(e.delay)).then(|| Duration::from_nanos((ns(e.delay) - waited) as u64))
    }

    pub fn delay(&self, key: &str) -> Option<Duration> {
        self.entries.get(key).map(|e| e.delay)
    }

    /// Records a restart: the first waits 10 s next time, each further one twice as long.
    pub fn next(&mut self, key: &str, since_ns: i64) {
        let delay = match self.entries.get(key) {
            Some(e) if since_ns.saturating_sub(e.since_ns) <= 2 * ns(MAX) => (e.delay * 2).min(MAX),
            _ => INITIAL,
        };
        self.entries.insert(key.to_string(), Entry { delay, since_ns });
    }
}

/// A duration as Go prints it in the kubelet's messages: 10s, 1m20s, 5m0s.
pub fn go_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 { format!("{s}s") } else { format!("{}m{}s", s / 60, s % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn the_first_restart_is_immediate_and_the_next_waits_ten_seconds() {
        let mut b = BackOff::default();
        assert_eq!(b.remaining("k", 0, S), None);
        b.next("k", 0);
        assert_eq!(b.remaining("k", 100 * S, 103 * S), Some(Duration::from_secs(7)));
        assert_eq!(b.remaining("k", 100 * S, 110 * S), None);
    }

    #[test]
    fn the_back_off_doubles_up_to_five_minutes() {
        let mut b = BackOff::default();
        let mut delays = Vec::new();
        for i in 0..7 {
            b.next("k", i * 10 * S);
            delays.push(go_duration(b.delay("k").unwrap_or_default()));
        }
        assert_eq!(delays, ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s"]);
    }

    #[test]
    fn a_long_quiet_spell_resets_the_back_off() {
        let mut b = BackOff::default();
        b.next("k", 0);
        b.next("k", S);
        b.next("k", 700 * S);
        assert_eq!(b.delay("k"), Some(INITIAL));
    }
}
