//! Watches the kinds the scheduler reads (pods, nodes, namespaces, claims, volumes, classes) and
//! forwards their changes, with each relist delivered whole so vanished objects can be dropped.

use std::fmt::Debug;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::binder::BindError;
use crate::pod_info::PodInfo;
use std::sync::Arc;

/// A change to one kind.
#[derive(Debug)]
pub enum Change<K> {
    /// Added or modified.
    Apply(K),
    /// Deleted.
    Delete(K),
    /// The complete list after a (re)list: anything not in it is gone.
    Resync(Vec<K>),
}

/// Everything the scheduling loop reacts to.
#[derive(Debug)]
pub enum Input {
    /// A pod changed.
    Pod(Change<Box<Pod>>),
    /// A node changed.
    Node(Change<Box<Node>>),
    /// A namespace changed.
    Namespace(Change<Box<Namespace>>),
    /// A claim changed.
    Claim(Change<Box<PersistentVolumeClaim>>),
    /// A volume changed.
    Volume(Change<Box<PersistentVolume>>),
    /// A storage class changed.
    Class(Change<Box<StorageClass>>),
    /// A bind finished.
    Bound {
        /// The pod.
        pod: Arc<PodInfo>,
        /// The node.
        node: String,
        /// How it went.
        result: Result<(), BindError>,
    },
}

/// Starts one watch per kind, all feeding `tx`.
pub fn spawn_all(client: &Client, tx: &mpsc::Sender<Input>) {
    spawn(Api::<Pod>::all(client.clone()), tx.clone(), Input::Pod);
    spawn(Api::<Node>::all(client.clone()), tx.clone(), Input::Node);
    spawn(Api::<Namespace>::all(client.clone()), tx.clone(), Input::Namespace);
    spawn(Api::<PersistentVolumeClaim>::all(client.clone()), tx.clone(), Input::Claim);
    spawn(Api::<PersistentVolume>::all(client.clone()), tx.clone(), Input::Volume);
    spawn(Api::<StorageClass>::all(client.clone()), tx.clone(), Input::Class);
}

fn spawn<K>(api: Api<K>, tx: mpsc::Sender<Input>, wrap: fn(Change<Box<K>>) -> Input)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    tokio::spawn(forward(api, tx, wrap));
}

async fn forward<K>(api: Api<K>, tx: mpsc::Sender<Input>, wrap: fn(Change<Box<K>>) -> Input)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    let kind = K::kind(&K::DynamicType::default()).to_string();
    let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()).default_backoff());
    let mut listed = Vec::new();
    while let Some(event) = stream.next().await {
        let change = match event {
            Ok(Event::Init) => {
                listed.clear();
                continue;
            }
            Ok(Event::InitApply(object)) => {
                listed.push(Box::new(object));
                continue;
            }
            Ok(Event::InitDone) => Change::Resync(std::mem::take(&mut listed)),
            Ok(Event::Apply(object)) => Change::Apply(Box::new(object)),
            Ok(Event::Delete(object)) => Change::Delete(Box::new(object)),
            Err(error) => {
                tracing::warn!(%error, kind, "scheduler: watch failed, retrying");
                continue;
            }
        };
        if tx.send(wrap(change)).await.is_err() {
            return;
        }
    }
}

fn watcher<K>(
    api: Api<K>,
    config: watcher::Config,
) -> impl futures::Stream<Item = Result<Event<K>, watcher::Error>> + Send
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    watcher::watcher(api, config)
}
