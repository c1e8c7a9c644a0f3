//! The embedded store: sled, one tree, each record prefixed with its revision.
//!
//! Writes are serialised by one lock (revision order = publish order), applied as one atomic
//! batch together with the global revision, and acknowledged only after sled has fsynced them,
//! so an acknowledged write survives `kill -9`. sled blocks (on its IO buffers and on fsync),
//! so every write runs on tokio's blocking pool, never on a runtime worker.

use super::{Event, EventKind, History, Page, Result, Storage, StorageError, Versioned, WatchStream};
use bytes::Bytes;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const REVISION_KEY: &[u8] = b"\x00meta/revision";

/// The store; cheap to clone (one shared state).
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    tree: sled::Tree,
    revision: AtomicU64,
    write_lock: Mutex<()>,
    history: History,
}

impl SledStore {
    /// Opens (or creates) the store under `dir`, keeping `history` events for watch replay.
    pub fn open(dir: &Path, history: usize) -> Result<Self> {
        let db = sled::Config::new().path(dir).open()?;
        let tree = db.open_tree("registry")?;
        let revision = match tree.get(REVISION_KEY)? {
            Some(v) => decode_u64(&v).ok_or_else(|| StorageError::Corrupt("revision".into()))?,
            None => 1,
        };
        let history = History::new(revision, history);
        let inner = Inner { db, tree, revision: AtomicU64::new(revision), write_lock: Mutex::new(()), history };
        Ok(SledStore { inner: Arc::new(inner) })
    }

    /// Runs a blocking write (apply + fsync) off the async runtime.
    async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let out = f(&inner)?;
            inner.db.flush()?;
            Ok(out)
        })
        .await
        .map_err(|e| StorageError::Corrupt(format!("write task failed: {e}")))?
    }
}

impl Inner {
    fn read(&self, key: &str) -> Result<Option<Versioned>> {
        self.tree.get(key)?.map(|raw| decode(key, &raw)).transpose()
    }

    /// Runs one write under the lock: `plan` sees the current value and returns the new one
    /// (None deletes) and the event kind; the batch and the event happen atomically in order.
    fn write<F>(&self, key: &str, plan: F) -> Result<(u64, Option<Versioned>)>
    where
        F: FnOnce(Option<&Versioned>) -> Result<(Option<Bytes>, EventKind)>,
    {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.read(key)?;
        let (next, kind) = plan(current.as_ref())?;
        let revision = self.revision.load(Ordering::SeqCst) + 1;
        let mut batch = sled::Batch::default();
        match &next {
            Some(v) => batch.insert(key.as_bytes(), encode(revision, v)),
            None => batch.remove(key.as_bytes()),
        }
        batch.insert(REVISION_KEY, &revision.to_be_bytes());
        self.tree.apply_batch(batch)?;
        self.revision.store(revision, Ordering::SeqCst);
        let prev = current.as_ref().map(|c| c.value.clone());
        let value = next.or_else(|| prev.clone()).unwrap_or_default();
        self.history.publish(Event { kind, key: key.to_string(), revision, value, prev });
        Ok((revision, current))
    }
}

fn check(key: &str, current: &Versioned, expected: Option<u64>) -> Result<()> {
    match expected {
        Some(e) if e != current.revision => {
            Err(StorageError::Conflict { key: key.into(), expected: e, actual: current.revision })
        }
        _ => Ok(()),
    }
}

#[async_trait::async_trait]
impl Storage for SledStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>> {
        self.inner.read(key)
    }

    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<Page> {
        let revision = self.revision();
        let start = start_after.map(|s| format!("{s}\0")).unwrap_or_else(|| prefix.to_string());
        let mut items = Vec::new();
        let mut more_after = None;
        for kv in self.inner.tree.range(start.as_bytes()..) {
            let (k, raw) = kv?;
            let key = String::from_utf8_lossy(&k).into_owned();
            if !key.starts_with(prefix) {
                break;
            }
            if limit > 0 && items.len() == limit {
                more_after = items.last().map(|(k, _): &(String, Versioned)| k.clone());
                break;
            }
            let v = decode(&key, &raw)?;
            items.push((key, v));
        }
        Ok(Page { items, revision, more_after })
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<u64> {
        let key = key.to_string();
        self.blocking(move |s| {
            let (rev, _) = s.write(&key, |cur| match cur {
                Some(_) => Err(StorageError::AlreadyExists(key.clone())),
                None => Ok((Some(value), EventKind::Added)),
            })?;
            Ok(rev)
        })
        .await
    }

    async fn update(&self, key: &str, expected: Option<u64>, value: Bytes) -> Result<u64> {
        let key = key.to_string();
        self.blocking(move |s| {
            let (rev, _) = s.write(&key, |cur| {
                let cur = cur.ok_or_else(|| StorageError::NotFound(key.clone()))?;
                check(&key, cur, expected)?;
                Ok((Some(value), EventKind::Modified))
            })?;
            Ok(rev)
        })
        .await
    }

    async fn delete(&self, key: &str, expected: Option<u64>) -> Result<Versioned> {
        let key = key.to_string();
        self.blocking(move |s| {
            let (rev, prev) = s.write(&key, |cur| {
                let cur = cur.ok_or_else(|| StorageError::NotFound(key.clone()))?;
                check(&key, cur, expected)?;
                Ok((None, EventKind::Deleted))
            })?;
            Ok(Versioned { value: prev.map(|p| p.value).unwrap_or_default(), revision: rev })
        })
        .await
    }

    fn watch(&self, prefix: &str, from: u64) -> Result<WatchStream> {
        self.inner.history.watch(prefix, from)
    }

    fn revision(&self) -> u64 {
        self.inner.revision.load(Ordering::SeqCst)
    }
}

fn encode(revision: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + value.len());
    out.extend_from_slice(&revision.to_be_bytes());
    out.extend_from_slice(value);
    out
}

fn decode(key: &str, raw: &[u8]) -> Result<Versioned> {
    let revision = decode_u64(raw).ok_or_else(|| StorageError::Corrupt(key.into()))?;
    Ok(Versioned { value: Bytes::copy_from_slice(&raw[8..]), revision })
}

fn decode_u64(raw: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(raw.get(..8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SledStore::open(dir.path(), 100).expect("open");
        (dir, s)
    }

    #[tokio::test]
    async fn every_write_bumps_the_one_global_revision() {
        let (_d, s) = store();
        let a = s.create("/registry/a/x", Bytes::from_static(b"1")).await.expect("create");
        let b = s.create("/registry/b/y", Bytes::from_static(b"2")).await.expect("create");
        assert_eq!(b, a + 1);
        assert_eq!(s.get("/registry/a/x").await.expect("get").map(|v| v.revision), Some(a));
    }

    #[tokio::test]
    async fn an_update_at_a_stale_revision_conflicts() {
        let (_d, s) = store();
        let r = s.create("/k", Bytes::from_static(b"1")).await.expect("create");
        s.update("/k", Some(r), Bytes::from_static(b"2")).await.expect("update");
        let stale = s.update("/k", Some(r), Bytes::from_static(b"3")).await;
        assert!(matches!(stale, Err(StorageError::Conflict { .. })));
    }

    #[tokio::test]
    async fn a_listing_pages_in_key_order() {
        let (_d, s) = store();
        for n in ["c", "a", "b"] {
            s.create(&format!("/p/{n}"), Bytes::from_static(b"v")).await.expect("create");
        }
        s.create("/q/z", Bytes::from_static(b"v")).await.expect("create");
        let first = s.list("/p/", None, 2).await.expect("list");
        let keys: Vec<_> = first.items.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["/p/a", "/p/b"]);
        let rest = s.list("/p/", first.more_after.as_deref(), 2).await.expect("list");
        assert_eq!(rest.items.len(), 1);
        assert!(rest.more_after.is_none());
    }

    #[tokio::test]
    async fn the_revision_and_data_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rev = {
            let s = SledStore::open(dir.path(), 10).expect("open");
            s.create("/k", Bytes::from_static(b"v")).await.expect("create")
        };
        let s = SledStore::open(dir.path(), 10).expect("reopen");
        assert_eq!(s.revision(), rev);
        assert!(s.get("/k").await.expect("get").is_some());
    }

    #[tokio::test]
    async fn a_delete_is_watched_with_the_last_value() {
        let (_d, s) = store();
        s.create("/k", Bytes::from_static(b"v")).await.expect("create");
        let mut w = s.watch("/", s.revision()).expect("watch");
        s.delete("/k", None).await.expect("delete");
        let e = w.next().await.expect("event");
        assert_eq!((e.kind, &e.value[..]), (EventKind::Deleted, &b"v"[..]));
    }
}
