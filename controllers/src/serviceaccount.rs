//! The ServiceAccount controller: every namespace has a `default` ServiceAccount, recreated
//! when deleted (no token Secrets, as since Kubernetes 1.24). Also runs the root CA publisher.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use std::sync::Arc;
use std::time::Duration;

/// The ServiceAccount every namespace gets.
pub const DEFAULT: &str = "default";

/// What a failed reconcile could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("creating ServiceAccount {namespace}/default")]
    Create {
        namespace: String,
        #[source]
        source: kube::Error,
    },
}

/// The one write the controller makes.
#[derive(Debug, PartialEq)]
pub enum SaAction {
    Create(ServiceAccount),
}

/// The `default` ServiceAccount a namespace lacks; nothing for a namespace being deleted
/// (creates would be refused) or one that has it.
pub fn plan(ns: &Namespace, existing: Option<&ServiceAccount>) -> Option<SaAction> {
    if ns.metadata.deletion_timestamp.is_some() || existing.is_some() {
        return None;
    }
    Some(SaAction::Create(ServiceAccount {
        metadata: ObjectMeta { name: Some(DEFAULT.into()), namespace: ns.metadata.name.clone(), ..Default::default() },
        ..Default::default()
    }))
}

struct Context {
    client: Client,
    accounts: Store<ServiceAccount>,
}

/// Runs the ServiceAccount controller and the root CA publisher until their watches end.
pub async fn run(client: Client, config: crate::Config) {
    futures::join!(run_accounts(client.clone()), crate::root_ca_publisher::run(client, config.root_ca));
}

async fn run_accounts(client: Client) {
    let by_name = watcher::Config::default().fields(&format!("metadata.name={DEFAULT}"));
    let (accounts, writer) = reflector::store();
    let events = reflector::reflector(writer, watcher(Api::<ServiceAccount>::all(client.clone()), by_name));
    let ctx = Arc::new(Context { client: client.clone(), accounts });
    Controller::new(Api::<Namespace>::all(client), watcher::Config::default())
        .watches_stream(events.default_backoff().touched_objects(), namespace_of)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
}

fn namespace_of(sa: ServiceAccount) -> Option<ObjectRef<Namespace>> {
    Some(ObjectRef::new(sa.metadata.namespace.as_deref()?))
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    let existing = ctx.accounts.get(&ObjectRef::new(DEFAULT).within(&name));
    let Some(SaAction::Create(sa)) = plan(&ns, existing.as_deref()) else {
        return Ok(Action::await_change());
    };
    let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &name);
    match api.create(&PostParams::default(), &sa).await {
        Ok(_) => Ok(Action::await_change()),
        // The cache was behind, or the namespace began terminating meanwhile.
        Err(kube::Error::Api(s)) if s.is_already_exists() || s.is_forbidden() || s.is_not_found() => {
            Ok(Action::await_change())
        }
        Err(source) => Err(Error::Create { namespace: name, source }),
    }
}

fn error_policy(_ns: Arc<Namespace>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "serviceaccount: reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ns(name: &str) -> Namespace {
        Namespace { metadata: ObjectMeta { name: Some(name.into()), ..Default::default() }, ..Default::default() }
    }

    #[test]
    fn a_namespace_without_a_default_service_account_gets_one() {
        let Some(SaAction::Create(sa)) = plan(&ns("team"), None) else { panic!("expected a create") };
        assert_eq!(sa.metadata.name.as_deref(), Some("default"));
        assert_eq!(sa.metadata.namespace.as_deref(), Some("team"));
    }

    #[test]
    fn a_namespace_with_its_default_service_account_is_left_alone() {
        assert_eq!(plan(&ns("team"), Some(&ServiceAccount::default())), None);
    }

    #[test]
    fn a_terminating_namespace_gets_no_service_account() {
        let mut n = ns("team");
        n.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        assert_eq!(plan(&n, None), None);
    }
}
