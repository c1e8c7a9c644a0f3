//! Storage: the contract every backend (sled now, etcd later) keeps.
//!
//! Keys are `/registry/<group>/<resource>/<namespace>/<name>`. Values are the object's JSON
//! without `metadata.resourceVersion`; the revision of the write that produced a value is kept
//! beside it and becomes the object's resourceVersion when it is read (as etcd3's store does).
//! One global revision counts every write.

mod history;
mod sled_store;

pub use history::{History, WatchStream};
pub use sled_store::SledStore;

use bytes::Bytes;

/// A stored value and the revision of the write that produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned {
    pub value: Bytes,
    pub revision: u64,
}

/// What kind of change a watch event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Added,
    Modified,
    Deleted,
}

/// One change, in revision order. For `Deleted`, `value` is the last state before deletion.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: EventKind,
    pub key: String,
    pub revision: u64,
    pub value: Bytes,
    /// The value before this change (for Modified and Deleted), so a watcher can tell whether
    /// an object entered or left its selector.
    pub prev: Option<Bytes>,
}

/// A page of a prefix listing, taken at `revision`.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<(String, Versioned)>,
    pub revision: u64,
    /// The last key of this page when more keys follow it.
    pub more_after: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("key {0} already exists")]
    AlreadyExists(String),
    #[error("key {0} not found")]
    NotFound(String),
    #[error("key {key} is at revision {actual}, not {expected}")]
    Conflict { key: String, expected: u64, actual: u64 },
    #[error("revision {requested} is older than the oldest kept ({oldest})")]
    Compacted { requested: u64, oldest: u64 },
    #[error("storage backend: {0}")]
    Backend(#[from] sled::Error),
    #[error("corrupt record under {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// The operations the API server needs from a store. Writes return only once durable.
#[async_trait::async_trait]
pub trait Storage: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Versioned>>;
    /// Keys under `prefix`, in key order, starting after `start_after`, at most `limit` (0 = all).
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<Page>;
    /// Fails with AlreadyExists if the key is present.
    async fn create(&self, key: &str, value: Bytes) -> Result<u64>;
    /// Replaces the value if the key is at `expected` revision (any revision when None).
    async fn update(&self, key: &str, expected: Option<u64>, value: Bytes) -> Result<u64>;
    /// Removes the key if it is at `expected` revision (any when None); returns the last value.
    async fn delete(&self, key: &str, expected: Option<u64>) -> Result<Versioned>;
    /// Events under `prefix` after `from` (exclusive), then live ones.
    fn watch(&self, prefix: &str, from: u64) -> Result<WatchStream>;
    fn revision(&self) -> u64;
}
