//! The EndpointSlice and Endpoints controllers: for every Service with a selector, the slices
//! and the legacy Endpoints object listing the pods it selects, kept as the pods change.

mod endpoints;
mod layout;
mod mirroring;
mod mirroring_controller;
mod pods;
mod slices;
mod tracker;

pub use slices::{CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL};

use endpoints::EndpointsAction;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{DeleteParams, PostParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use slices::SliceAction;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tracker::{Expect, ServiceKey, Tracker};

/// Every Service is looked at again this often, even with nothing changing.
const RESYNC: Duration = Duration::from_secs(300);
/// Node label holding the node's zone.
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// What a failed reconcile could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing EndpointSlice {name} of Service {namespace}/{service}")]
    WriteSlice {
        namespace: String,
        service: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("writing Endpoints {namespace}/{name}")]
    WriteEndpoints {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

impl Error {
    /// A write lost a race with another writer or with the cache: retrying soon fixes it.
    fn is_race(&self) -> bool {
        let (Error::WriteSlice { source, .. } | Error::WriteEndpoints { source, .. }) = self;
        matches!(source, kube::Error::Api(s) if s.is_conflict() || s.is_already_exists())
    }
}

struct Context {
    client: Client,
    pods: Store<Pod>,
    nodes: Store<Node>,
    slices: Store<EndpointSlice>,
    endpoints: Store<Endpoints>,
    tracker: Tracker,
}

/// Runs the EndpointSlice, Endpoints and mirroring controllers until their watches end.
pub async fn run(client: Client) {
    futures::join!(run_services(client.clone()), mirroring_controller::run(client));
}

async fn run_services(client: Client) {
    let cfg = watcher::Config::default();
    let (services, svc_w) = reflector::store::<Service>();
    let (pod_store, pod_w) = reflector::store::<Pod>();
    let (node_store, node_w) = reflector::store::<Node>();
    let (slice_store, slice_w) = reflector::store::<EndpointSlice>();
    let (ep_store, ep_w) = reflector::store::<Endpoints>();
    let slice_cfg = cfg.clone().labels(&format!("{MANAGED_BY_LABEL}={CONTROLLER_NAME}"));
    let svc_events = reflector::reflector(svc_w, watcher(Api::all(client.clone()), cfg.clone()));
    let pod_events = reflector::reflector(pod_w, watcher(Api::all(client.clone()), cfg.clone()));
    let node_events = reflector::reflector(node_w, watcher(Api::<Node>::all(client.clone()), cfg.clone()));
    let slice_events = reflector::reflector(slice_w, watcher(Api::all(client.clone()), slice_cfg));
    let ep_events = reflector::reflector(ep_w, watcher(Api::all(client.clone()), cfg));
    let ctx = Arc::new(Context {
        client: client.clone(),
        pods: pod_store,
        nodes: node_store,
        slices: slice_store.clone(),
        endpoints: ep_store,
        tracker: Tracker::default(),
    });
    let for_pod = pod_mapper(services.clone(), slice_store);
    let for_endpoints = endpoints_mapper(services.clone());
    let controller = Controller::for_stream(svc_events.default_backoff().touched_objects(), services)
        .owns_stream(slice_events.default_backoff().touched_objects())
        .watches_stream(pod_events.default_backoff().touched_objects(), for_pod)
        .watches_stream(ep_events.default_backoff().touched_objects(), for_endpoints)
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|r| finished(r, ctx.clone()));
    let nodes = node_events.default_backoff().for_each(|_| futures::future::ready(()));
    futures::join!(controller, nodes);
}

/// A pod event concerns the Services selecting the pod now and those whose slices list it.
fn pod_mapper(
    services: Store<Service>,
    slices: Store<EndpointSlice>,
) -> impl Fn(Pod) -> Vec<ObjectRef<Service>> + Send + Sync + 'static {
    move |pod| services_for_pod(&services.state(), &slices.state(), &pod)
}

fn services_for_pod(services: &[Arc<Service>], slices: &[Arc<EndpointSlice>], pod: &Pod) -> Vec<ObjectRef<Service>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let selecting = services
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()) && pods::is_managed(s))
        .filter(|s| pods::selector(s).is_some_and(|sel| pods::selects(sel, pod)))
        .filter_map(|s| s.metadata.name.clone());
    let listing = slices
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()) && lists_pod(s, pod))
        .filter_map(|s| s.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL).cloned());
    let names: BTreeSet<String> = selecting.chain(listing).collect();
    names.into_iter().map(|n| ObjectRef::new(&n).within(&ns)).collect()
}

fn lists_pod(slice: &EndpointSlice, pod: &Pod) -> bool {
    let uid = pod.metadata.uid.as_deref();
    slice.endpoints.iter().any(|e| e.target_ref.as_ref().is_some_and(|r| r.uid.as_deref() == uid))
}

/// An Endpoints event concerns the Service of the same name, if there is one: Endpoints of
/// no Service are someone else's and are left alone.
fn endpoints_mapper(services: Store<Service>) -> impl Fn(Endpoints) -> Option<ObjectRef<Service>> + Send + Sync {
    move |ep| {
        let r = ObjectRef::new(ep.metadata.name.as_deref()?).within(ep.metadata.namespace.as_deref()?);
        services.get(&r).map(|_| r)
    }
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Context>) -> Result<Action, Error> {
    if !pods::is_managed(&svc) {
        return Ok(Action::await_change());
    }
    let key: ServiceKey =
        (svc.metadata.namespace.clone().unwrap_or_default(), svc.metadata.name.clone().unwrap_or_default());
    let cached = slices_of(&ctx.slices, &key);
    let cached: Vec<&EndpointSlice> = cached.iter().map(|s| s.as_ref()).collect();
    if !ctx.tracker.caught_up(&key, &cached) {
        return Ok(Action::requeue(Duration::from_millis(300)));
    }
    let all_pods = ctx.pods.state();
    let selected = pods::selected(&svc, all_pods.iter().map(|p| p.as_ref()));
    let zone_of = |node: &str| zone(&ctx.nodes, node);
    for action in slices::plan(&svc, &selected, &zone_of, &cached) {
        apply_slice(&ctx.client, &ctx.tracker, &key, action).await?;
    }
    let existing = ctx.endpoints.get(&ObjectRef::new(&key.1).within(&key.0));
    if let Some(action) = endpoints::plan(&svc, &selected, existing.as_deref()) {
        apply_endpoints(&ctx, &key, action).await?;
    }
    Ok(Action::requeue(RESYNC))
}

/// The cached slices labelled for the Service (or mirrored Endpoints) `key`.
fn slices_of(store: &Store<EndpointSlice>, key: &ServiceKey) -> Vec<Arc<EndpointSlice>> {
    store
        .state()
        .into_iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(key.0.as_str()))
        .filter(|s| s.metadata.labels.as_ref().and_then(|l| l.get(SERVICE_NAME_LABEL)) == Some(&key.1))
        .collect()
}

fn zone(nodes: &Store<Node>, node: &str) -> Option<String> {
    nodes.get(&ObjectRef::new(node))?.metadata.labels.as_ref()?.get(ZONE_LABEL).cloned()
}

/// Makes one slice write and records what the cache should come to show.
async fn apply_slice(client: &Client, tracker: &Tracker, key: &ServiceKey, action: SliceAction) -> Result<(), Error> {
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), &key.0);
    let fail = |name: &str, source| Error::WriteSlice {
        namespace: key.0.clone(),
        service: key.1.clone(),
        name: name.to_string(),
        source,
    };
    match action {
        SliceAction::Create(s) => {
            let made = api.create(&PostParams::default(), &s).await.map_err(|e| fail("(new)", e))?;
            expect_written(tracker, key, &made);
        }
        SliceAction::Update(s) => {
            let name = s.metadata.name.clone().unwrap_or_default();
            let made = api.replace(&name, &PostParams::default(), &s).await.map_err(|e| fail(&name, e))?;
            expect_written(tracker, key, &made);
        }
        SliceAction::Delete(name) => match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => tracker.expect(key, &name, Expect::Gone),
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => return Err(fail(&name, e)),
        },
    }
    Ok(())
}

fn expect_written(tracker: &Tracker, key: &ServiceKey, made: &EndpointSlice) {
    if let (Some(name), Some(generation)) = (&made.metadata.name, made.metadata.generation) {
        tracker.expect(key, name, Expect::AtLeast(generation));
    }
}

async fn apply_endpoints(ctx: &Context, key: &ServiceKey, action: EndpointsAction) -> Result<(), Error> {
    let api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), &key.0);
    let fail = |source| Error::WriteEndpoints { namespace: key.0.clone(), name: key.1.clone(), source };
    match action {
        EndpointsAction::Create(ep) => api.create(&PostParams::default(), &ep).await.map_err(fail)?,
        EndpointsAction::Update(ep) => api.replace(&key.1, &PostParams::default(), &ep).await.map_err(fail)?,
    };
    Ok(())
}

fn error_policy(_svc: Arc<Service>, err: &Error, _ctx: Arc<Context>) -> Action {
    if err.is_race() {
        tracing::debug!(error = %err, "endpoints: retrying after a write race");
        return Action::requeue(Duration::from_millis(500));
    }
    tracing::warn!(error = %err, "endpoints: reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

type Outcome = Result<(ObjectRef<Service>, Action), controller::Error<Error, watcher::Error>>;

/// A deleted Service takes its Endpoints object along (its slices go by garbage collection).
async fn finished(result: Outcome, ctx: Arc<Context>) {
    let Err(controller::Error::ObjectNotFound(gone)) = result else { return };
    let (Some(ns), name) = (gone.namespace.clone(), gone.name.clone()) else { return };
    ctx.tracker.forget(&(ns.clone(), name.clone()));
    if ctx.endpoints.get(&ObjectRef::new(&name).within(&ns)).is_none() {
        return;
    }
    let api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), &ns);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.is_not_found() => {}
        Err(e) => tracing::warn!(error = %e, "endpoints: deleting Endpoints {ns}/{name} of a deleted Service"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pods::testing::*;

    #[test]
    fn a_pod_event_concerns_the_services_selecting_it() {
        let web = Arc::new(service("web", &[("app", "web")], vec![]));
        let db = Arc::new(service("db", &[("app", "db")], vec![]));
        let refs = services_for_pod(&[web, db], &[], &pod("a", "10.0.0.1", true));
        assert_eq!(refs, vec![ObjectRef::new("web").within("default")]);
    }

    #[test]
    fn a_pod_event_concerns_the_services_whose_slices_still_list_it() {
        let old = Arc::new(service("old", &[("app", "old")], vec![]));
        let a = pod("a", "10.0.0.1", true);
        let actions = slices::plan(&service("old", &[("app", "web")], vec![]), &[&a], &|_| None, &[]);
        let SliceAction::Create(mut s) = actions[0].clone() else { panic!("expected a create") };
        s.metadata.name = Some("old-abcde".into());
        let refs = services_for_pod(&[old], &[Arc::new(s)], &a);
        assert_eq!(refs, vec![ObjectRef::new("old").within("default")]);
    }
}
