//! The root CA publisher: a ConfigMap `kube-root-ca.crt` in every namespace holding the
//! cluster CA under `ca.crt`, recreated if deleted and restored if modified.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The ConfigMap's name.
pub const CONFIG_MAP: &str = "kube-root-ca.crt";
/// The key holding the PEM.
pub const KEY: &str = "ca.crt";
const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// What a failed reconcile could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing ConfigMap {namespace}/kube-root-ca.crt")]
    Write {
        namespace: String,
        #[source]
        source: kube::Error,
    },
}

/// The write that brings a namespace's ConfigMap in line.
#[derive(Debug, PartialEq)]
pub enum CaAction {
    Create(ConfigMap),
    Update(ConfigMap),
}

/// The ConfigMap the namespace should have: created when missing, its data and description
/// restored when changed; nothing for a terminating namespace.
pub fn plan(ns: &Namespace, existing: Option<&ConfigMap>, ca: &str) -> Option<CaAction> {
    if ns.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let data: BTreeMap<String, String> = [(KEY.to_string(), ca.to_string())].into();
    let Some(cm) = existing else {
        let meta = ObjectMeta {
            name: Some(CONFIG_MAP.into()),
            namespace: ns.metadata.name.clone(),
            annotations: Some([(DESCRIPTION_ANNOTATION.to_string(), DESCRIPTION.to_string())].into()),
            ..Default::default()
        };
        return Some(CaAction::Create(ConfigMap { metadata: meta, data: Some(data), ..Default::default() }));
    };
    let described =
        cm.metadata.annotations.as_ref().and_then(|a| a.get(DESCRIPTION_ANNOTATION)).is_some_and(|d| !d.is_empty());
    if cm.data.as_ref() == Some(&data) && described {
        return None;
    }
    let mut cm = cm.clone();
    cm.data = Some(data);
    cm.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
    Some(CaAction::Update(cm))
}

struct Context {
    client: Client,
    config_maps: Store<ConfigMap>,
    ca: String,
}

/// Runs the publisher until its watches end; with no CA (empty PEM) it does nothing.
pub async fn run(client: Client, ca: String) {
    if ca.trim().is_empty() {
        tracing::info!("root-ca-publisher: no cluster CA given, ConfigMaps kube-root-ca.crt are not published");
        return;
    }
    let by_name = watcher::Config::default().fields(&format!("metadata.name={CONFIG_MAP}"));
    let (config_maps, writer) = reflector::store();
    let events = reflector::reflector(writer, watcher(Api::<ConfigMap>::all(client.clone()), by_name));
    let ctx = Arc::new(Context { client: client.clone(), config_maps, ca });
    Controller::new(Api::<Namespace>::all(client), watcher::Config::default())
        .watches_stream(events.default_backoff().touched_objects(), namespace_of)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
}

fn namespace_of(cm: ConfigMap) -> Option<ObjectRef<Namespace>> {
    Some(ObjectRef::new(cm.metadata.namespace.as_deref()?))
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    let existing = ctx.config_maps.get(&ObjectRef::new(CONFIG_MAP).within(&name));
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &name);
    let result = match plan(&ns, existing.as_deref(), &ctx.ca) {
        None => return Ok(Action::await_change()),
        Some(CaAction::Create(cm)) => api.create(&PostParams::default(), &cm).await,
        Some(CaAction::Update(cm)) => api.replace(CONFIG_MAP, &PostParams::default(), &cm).await,
    };
    match result {
        Ok(_) => Ok(Action::await_change()),
        // The namespace is gone or terminating: creates would keep failing.
        Err(kube::Error::Api(s)) if s.is_not_found() || s.is_forbidden() => Ok(Action::await_change()),
        Err(source) => Err(Error::Write { namespace: name, source }),
    }
}

fn error_policy(_ns: Arc<Namespace>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "root-ca-publisher: reconcile failed");
    Action::requeue(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn ns() -> Namespace {
        Namespace { metadata: ObjectMeta { name: Some("team".into()), ..Default::default() }, ..Default::default() }
    }

    fn made() -> ConfigMap {
        let Some(CaAction::Create(cm)) = plan(&ns(), None, PEM) else { panic!("expected a create") };
        cm
    }

    #[test]
    fn a_namespace_without_the_config_map_gets_one_with_the_ca() {
        let cm = made();
        assert_eq!(cm.metadata.name.as_deref(), Some("kube-root-ca.crt"));
        assert_eq!(cm.data.unwrap()["ca.crt"], PEM);
    }

    #[test]
    fn an_intact_config_map_is_left_alone() {
        assert_eq!(plan(&ns(), Some(&made()), PEM), None);
    }

    #[test]
    fn a_modified_config_map_is_restored() {
        let mut cm = made();
        cm.data = Some([("ca.crt".to_string(), "junk".to_string())].into());
        let Some(CaAction::Update(cm)) = plan(&ns(), Some(&cm), PEM) else { panic!("expected an update") };
        assert_eq!(cm.data.unwrap()["ca.crt"], PEM);
    }

    #[test]
    fn a_config_map_that_lost_its_description_gets_it_back() {
        let mut cm = made();
        cm.metadata.annotations = None;
        assert!(matches!(plan(&ns(), Some(&cm), PEM), Some(CaAction::Update(_))));
    }
}
