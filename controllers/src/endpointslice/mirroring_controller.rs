//! The EndpointSlice mirroring controller's loop: reconciles each Endpoints object, woken by
//! it, by its Service and by its mirrored slices.

use super::mirroring::{self, CONTROLLER_NAME};
use super::tracker::{ServiceKey, Tracker};
use super::{Error, MANAGED_BY_LABEL, apply_slice, slices_of};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use std::sync::Arc;
use std::time::Duration;

struct Context {
    client: Client,
    services: Store<Service>,
    slices: Store<EndpointSlice>,
    tracker: Tracker,
}

/// Runs the mirroring controller until its watches end.
pub async fn run(client: Client) {
    let cfg = watcher::Config::default();
    let (services, svc_w) = reflector::store::<Service>();
    let (slices, slice_w) = reflector::store::<EndpointSlice>();
    let mirrored = cfg.clone().labels(&format!("{MANAGED_BY_LABEL}={CONTROLLER_NAME}"));
    let svc_events = reflector::reflector(svc_w, watcher(Api::all(client.clone()), cfg.clone()));
    let slice_events = reflector::reflector(slice_w, watcher(Api::all(client.clone()), mirrored));
    let ctx = Arc::new(Context { client: client.clone(), services, slices, tracker: Tracker::default() });
    Controller::new(Api::<Endpoints>::all(client), cfg)
        .owns_stream(slice_events.default_backoff().touched_objects())
        .watches_stream(svc_events.default_backoff().touched_objects(), endpoints_of)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
}

/// A Service event concerns the Endpoints of the same name.
fn endpoints_of(svc: Service) -> Option<ObjectRef<Endpoints>> {
    Some(ObjectRef::new(svc.metadata.name.as_deref()?).within(svc.metadata.namespace.as_deref()?))
}

async fn reconcile(ep: Arc<Endpoints>, ctx: Arc<Context>) -> Result<Action, Error> {
    let key: ServiceKey =
        (ep.metadata.namespace.clone().unwrap_or_default(), ep.metadata.name.clone().unwrap_or_default());
    let cached = slices_of(&ctx.slices, &key);
    let cached: Vec<&EndpointSlice> = cached.iter().map(|s| s.as_ref()).collect();
    if !ctx.tracker.caught_up(&key, &cached) {
        return Ok(Action::requeue(Duration::from_millis(300)));
    }
    let svc = ctx.services.get(&ObjectRef::new(&key.1).within(&key.0));
    for action in mirroring::plan(&ep, svc.as_deref(), &cached) {
        apply_slice(&ctx.client, &ctx.tracker, &key, action).await?;
    }
    Ok(Action::await_change())
}

fn error_policy(_ep: Arc<Endpoints>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "endpointslice-mirroring: reconcile failed");
    Action::requeue(Duration::from_secs(1))
}
