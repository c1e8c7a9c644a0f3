//! Pod events as the kubelet records them (Pulling, Pulled, Created, Started, Killing, BackOff,
//! Unhealthy, Failed): core/v1 Events, written in the background so a sync never waits on them.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, PostParams};

#[derive(Clone)]
pub struct Recorder {
    client: kube::Client,
    node: String,
}

pub const NORMAL: &str = "Normal";
pub const WARNING: &str = "Warning";

/// The Event object for one occurrence about a pod (and, if named, one of its containers).
pub fn event(pod: &Pod, container: Option<&str>, kind: &str, reason: &str, message: &str, node: &str) -> Event {
    let now = jiff::Timestamp::now();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let ns = pod.metadata.namespace.clone().unwrap_or_else(|| "default".into());
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{name}.{:x}", now.as_nanosecond())),
            namespace: Some(ns.clone()),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(name),
            namespace: Some(ns),
            uid: pod.metadata.uid.clone(),
            resource_version: pod.metadata.resource_version.clone(),
            field_path: container.map(|c| format!("spec.containers{{{c}}}")),
        },
        reason: Some(reason.into()),
        message: Some(message.into()),
        type_: Some(kind.into()),
        source: Some(EventSource { component: Some("kubelet".into()), host: Some(node.into()) }),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: Some(MicroTime(now)),
        reporting_component: Some("kubelet".into()),
        reporting_instance: Some(node.into()),
        action: Some(reason.into()),
        count: Some(1),
        ..Default::default()
    }
}

impl Recorder {
    pub fn new(client: kube::Client, node: String) -> Recorder {
        Recorder { client, node }
    }

    /// Records an event; failures are logged at debug level only (events are best effort).
    pub fn pod(&self, pod: &Pod, container: Option<&str>, kind: &str, reason: &str, message: String) {
        let ev = event(pod, container, kind, reason, &message, &self.node);
        let ns = ev.metadata.namespace.clone().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        tokio::spawn(async move {
            if let Err(e) = api.create(&PostParams::default(), &ev).await {
                tracing::debug!("recording event {}: {e}", ev.reason.unwrap_or_default());
            }
        });
    }
}
