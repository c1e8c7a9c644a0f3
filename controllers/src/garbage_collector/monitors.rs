//! One metadata-only watch per resource type, merged into a single stream of events tagged
//! with the type they belong to (Kubernetes' GraphBuilder monitors).

use super::graph::TypeId;
use crate::resource_discovery::ResourceType;
use futures::stream::{BoxStream, SelectAll};
use futures::{StreamExt, future};
use kube::api::DynamicObject;
use kube::core::PartialObjectMeta;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

/// An event of one type's watch.
pub type MonitorEvent = (TypeId, Result<watcher::Event<PartialObjectMeta<DynamicObject>>, watcher::Error>);

/// Every monitor's events, as one stream.
pub type Monitors = SelectAll<BoxStream<'static, MonitorEvent>>;

/// Whether the collector watches a type: it must be watchable, and events are left out
/// (they are never owners and come in floods), as Kubernetes' default ignored resources.
pub fn watched(t: &ResourceType) -> bool {
    t.watchable && t.api.plural != "events"
}

/// The metadata watch of one type, retried with back-off when it fails.
pub fn monitor(client: &Client, type_id: TypeId, t: &ResourceType) -> BoxStream<'static, MonitorEvent> {
    let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(client.clone(), &t.api);
    watcher(api, watcher::Config::default()).default_backoff().map(move |e| (type_id, e)).boxed()
}

/// Events already waiting, taken without waiting for more (at most `limit`).
pub fn ready_events(monitors: &mut Monitors, limit: usize) -> Vec<MonitorEvent> {
    let mut out = Vec::new();
    while out.len() < limit {
        match future::FutureExt::now_or_never(monitors.next()) {
            Some(Some(ev)) => out.push(ev),
            _ => break,
        }
    }
    out
}
