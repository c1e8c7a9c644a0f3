//! watch: initial state (unless resuming), then events, as newline-delimited JSON frames.
//!
//! Selector transitions follow Kubernetes: an object that starts matching is ADDED, one that
//! stops matching is DELETED. Bookmarks are sent when asked; the stream ends at timeoutSeconds.

use super::filter::Filter;
use super::negotiate::{Output, render_one};
use super::{Call, decode_stored, respond_stream};
use crate::registry::Kind;
use crate::status::ApiError;
use crate::storage::{Event, EventKind, WatchStream};
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::{Instant, sleep_until};

/// Kubernetes ends watches after a randomised 30-60 minutes; one fixed bound is enough here.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

/// Everything one watch stream needs after the request is gone.
struct Watcher {
    kind: Kind,
    filter: Filter,
    output: Output,
    bookmarks: bool,
    pending: VecDeque<Bytes>,
    events: Option<WatchStream>,
    deadline: Instant,
    next_bookmark: Instant,
}

pub async fn watch(call: &Call<'_>) -> Result<Response, ApiError> {
    let filter = Filter::from_params(call.kind, &call.params)?;
    let prefix = call.kind.prefix(call.info.namespace.as_deref());
    let rv = call.params.resource_version.as_deref().filter(|v| !v.is_empty() && *v != "0");
    let initial = rv.is_none() || call.params.send_initial_events();
    let mut pending = VecDeque::new();
    let from = if initial {
        initial_events(call, &filter, &prefix, &mut pending).await?
    } else {
        rv.and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::BadRequest(format!("invalid resource version {rv:?}")))?
    };
    let events = match call.api.store.watch(&prefix, from) {
        Ok(s) => Some(s),
        Err(e) => {
            pending.push_back(frame("ERROR", &ApiError::from(e).status()));
            None
        }
    };
    let timeout = call.params.timeout_seconds.map(Duration::from_secs).unwrap_or(DEFAULT_TIMEOUT);
    let now = Instant::now();
    let w = Watcher {
        kind: call.kind.clone(),
        filter,
        output: call.output,
        bookmarks: call.params.bookmarks(),
        pending,
        events,
        deadline: now + timeout,
        next_bookmark: now + BOOKMARK_EVERY,
    };
    let stream = futures::stream::unfold(w, |mut w| async move {
        let frame = w.next_frame().await?;
        Some((Ok::<_, std::convert::Infallible>(frame), w))
    });
    Ok(respond_stream(Body::from_stream(stream)))
}

/// Queues ADDED for what exists now (and the initial-events-end bookmark when asked);
/// returns the revision the live events start after.
async fn initial_events(
    call: &Call<'_>,
    filter: &Filter,
    prefix: &str,
    out: &mut VecDeque<Bytes>,
) -> Result<u64, ApiError> {
    let page = call.api.store.list(prefix, None, 0).await?;
    for (_, v) in &page.items {
        let obj = decode_stored(v)?;
        if filter.matches(&obj) {
            out.push_back(frame("ADDED", &render_one(call.kind, obj, call.output)));
        }
    }
    if call.params.send_initial_events() {
        let mut b = bookmark(call.kind, page.revision);
        b["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        out.push_back(frame("BOOKMARK", &b));
    }
    Ok(page.revision)
}

fn frame(kind: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": kind, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

fn bookmark(kind: &Kind, revision: u64) -> Value {
    json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": {"resourceVersion": revision.to_string()}})
}

impl Watcher {
    /// The next frame to send, or None when the watch is over.
    async fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            if let Some(f) = self.pending.pop_front() {
                return Some(f);
            }
            let events = self.events.as_mut()?;
            let wake = if self.bookmarks { self.next_bookmark.min(self.deadline) } else { self.deadline };
            tokio::select! {
                ev = events.next() => {
                    // None: this watcher fell behind; ending the stream makes the client resume.
                    let ev = ev?;
                    if let Some(f) = self.render(&ev) {
                        return Some(f);
                    }
                }
                _ = sleep_until(wake) => {
                    if Instant::now() >= self.deadline {
                        return None;
                    }
                    self.next_bookmark = Instant::now() + BOOKMARK_EVERY;
                    return Some(frame("BOOKMARK", &bookmark(&self.kind, events.last_revision())));
                }
            }
        }
    }

    fn render(&self, ev: &Event) -> Option<Bytes> {
        let mut obj: Value = serde_json::from_slice(&ev.value).ok()?;
        crate::meta::set_resource_version(&mut obj, ev.revision);
        let now_matches = self.filter.matches(&obj);
        let was_matching = ev
            .prev
            .as_ref()
            .and_then(|p| serde_json::from_slice::<Value>(p).ok())
            .is_some_and(|p| self.filter.matches(&p));
        let kind = match (ev.kind, was_matching, now_matches) {
            (EventKind::Added, _, true) => "ADDED",
            (EventKind::Modified, true, true) => "MODIFIED",
            (EventKind::Modified, false, true) => "ADDED",
            (EventKind::Modified, true, false) => "DELETED",
            (EventKind::Deleted, _, true) => "DELETED",
            _ => return None,
        };
        Some(frame(kind, &render_one(&self.kind, obj, self.output)))
    }
}
