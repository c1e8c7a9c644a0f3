//! The namespace controller: a namespace being deleted (phase Terminating) is emptied of every
//! namespaced object, then finalized, after which the API server removes it.

mod content;

use crate::resource_discovery::{self, ResourceType};
use content::{Pass, Remaining};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, NamespaceStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The finalizer in spec.finalizers this controller removes once the namespace is empty.
pub const FINALIZER: &str = "kubernetes";
/// A namespace with content left (pods shutting down, finalizers pending) is looked at again
/// after this long.
const RECHECK: Duration = Duration::from_secs(2);

/// What a failed reconcile could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("finalizing namespace {name}")]
    Finalize {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("writing the deletion conditions of namespace {name}")]
    Status {
        name: String,
        #[source]
        source: kube::Error,
    },
}

struct Context {
    client: Client,
}

/// Runs the controller until the namespace watch ends.
pub async fn run(client: Client) {
    let ctx = Arc::new(Context { client: client.clone() });
    Controller::new(Api::<Namespace>::all(client), watcher::Config::default())
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
}

fn spec_finalizers(ns: &Namespace) -> Vec<String> {
    ns.spec.as_ref().and_then(|s| s.finalizers.clone()).unwrap_or_default()
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, Error> {
    if ns.metadata.deletion_timestamp.is_none() || !spec_finalizers(&ns).iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    let name = ns.metadata.name.clone().unwrap_or_default();
    let pass = delete_content(&ctx.client, &name).await;
    if pass.is_empty() {
        finalize(&ctx.client, &ns).await?;
        return Ok(Action::await_change());
    }
    write_conditions(&ctx.client, &ns, &pass).await?;
    Ok(Action::requeue(RECHECK))
}

/// One pass: discover the namespaced types, delete what is not yet being deleted, and see
/// what remains.
async fn delete_content(client: &Client, ns: &str) -> Pass {
    let (types, discovery_error) = match resource_discovery::deletable(client).await {
        Ok(t) => (t.into_iter().filter(|t| t.namespaced).collect(), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let mut errors = Vec::new();
    let observed = observe(client, ns, &types, &mut errors).await;
    let stale = content::to_delete(&observed.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>());
    for i in &stale {
        let t = &types[observed[*i].0];
        if let Err(e) = delete_all(client, ns, t).await {
            errors.push(format!("{}: {e}", t.group_resource()));
        }
    }
    let remaining = if stale.is_empty() { observed } else { observe(client, ns, &types, &mut errors).await };
    Pass { discovery_error, delete_errors: errors, remaining: remaining.into_iter().map(|(_, r)| r).collect() }
}

/// The types with objects in the namespace, each with the index of its type.
async fn observe(
    client: &Client,
    ns: &str,
    types: &[ResourceType],
    errors: &mut Vec<String>,
) -> Vec<(usize, Remaining)> {
    let mut out = Vec::new();
    for (i, t) in types.iter().enumerate() {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &t.api);
        match api.list_metadata(&ListParams::default()).await {
            Ok(list) if list.items.is_empty() => {}
            Ok(list) => out.push((i, remaining(t, list.items.iter().map(|o| &o.metadata)))),
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => errors.push(format!("{}: {e}", t.group_resource())),
        }
    }
    out
}

fn remaining<'a>(t: &ResourceType, items: impl Iterator<Item = &'a kube::core::ObjectMeta>) -> Remaining {
    let mut r = Remaining { resource: t.group_resource(), ..Default::default() };
    for m in items {
        r.count += 1;
        r.undeleted += usize::from(m.deletion_timestamp.is_none());
        for f in m.finalizers.iter().flatten() {
            *r.finalizers.entry(f.clone()).or_default() += 1;
        }
    }
    r
}

/// Deletes every object of the type in the namespace (background propagation, as the
/// namespace deleter asks), by deletecollection when the type has it.
async fn delete_all(client: &Client, ns: &str, t: &ResourceType) -> Result<(), kube::Error> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &t.api);
    let dp = DeleteParams::background();
    if t.delete_collection {
        return api.delete_collection(&dp, &ListParams::default()).await.map(|_| ());
    }
    for obj in api.list_metadata(&ListParams::default()).await?.items {
        let name = obj.metadata.name.unwrap_or_default();
        match api.delete(&name, &dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// PUT namespaces/{name}/finalize without our finalizer: the server then removes the
/// namespace, its deletionTimestamp being set and no finalizer left.
async fn finalize(client: &Client, ns: &Namespace) -> Result<(), Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    let mut body = ns.clone();
    if let Some(spec) = body.spec.as_mut() {
        spec.finalizers = Some(content::finalized(&spec_finalizers(ns)));
    }
    let api: Api<Namespace> = Api::all(client.clone());
    match api.replace_subresource("finalize", &name, &PostParams::default(), &body).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
        Err(source) => Err(Error::Finalize { name, source }),
    }
}

async fn write_conditions(client: &Client, ns: &Namespace, pass: &Pass) -> Result<(), Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    let old = ns.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    let new = content::conditions(pass, &old, Time(jiff::Timestamp::now()));
    if new == old {
        return Ok(());
    }
    let status = NamespaceStatus { conditions: Some(new), phase: Some("Terminating".into()) };
    let api: Api<Namespace> = Api::all(client.clone());
    let patch = Patch::Merge(json!({ "status": status }));
    match api.patch_status(&name, &PatchParams::default(), &patch).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
        Err(source) => Err(Error::Status { name, source }),
    }
}

fn error_policy(_ns: Arc<Namespace>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "namespace: reconcile failed");
    Action::requeue(RECHECK)
}
