//! core/v1 Events about pods (Scheduled, FailedScheduling, Preempted) from default-scheduler;
//! a repeat of the same event for the same pod bumps the first one's count, as client-go's
//! correlator does.

use std::collections::HashMap;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::pod_info::PodInfo;

/// The component that reports the events.
pub const COMPONENT: &str = "default-scheduler";
/// Events kept for folding repeats; beyond this the memory is cleared.
const REMEMBERED: usize = 4096;
/// Event API calls in flight at once.
const CONCURRENCY: usize = 16;

/// Normal or Warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Normal.
    Normal,
    /// Warning.
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// One event to record.
#[derive(Clone, Debug)]
struct Record {
    object: ObjectReference,
    type_: EventType,
    reason: &'static str,
    action: &'static str,
    message: String,
}

enum Call {
    Create(Box<Event>),
    Bump { namespace: String, name: String, count: i32 },
}

/// Sends events in the background; recording never waits (a full buffer drops the event, as
/// client-go's broadcaster does).
#[derive(Clone, Debug)]
pub struct EventRecorder {
    tx: mpsc::Sender<Record>,
}

impl EventRecorder {
    /// Starts the sender.
    pub fn new(client: Client) -> EventRecorder {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(send_all(client, rx));
        EventRecorder { tx }
    }

    /// Records an event about a pod.
    pub fn record(&self, pod: &PodInfo, type_: EventType, reason: &'static str, action: &'static str, message: String) {
        let object = ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            namespace: Some(pod.namespace.clone()),
            name: Some(pod.name.clone()),
            uid: pod.pod.metadata.uid.clone(),
            resource_version: pod.pod.metadata.resource_version.clone(),
            field_path: None,
        };
        let record = Record { object, type_, reason, action, message };
        if self.tx.try_send(record).is_err() {
            tracing::debug!("scheduler: event buffer full, dropping an event");
        }
    }
}

async fn send_all(client: Client, rx: mpsc::Receiver<Record>) {
    let mut seen: HashMap<(String, &'static str, String), (String, i32)> = HashMap::new();
    let host = hostname();
    let calls = ReceiverStream::new(rx).map(move |record| correlate(&mut seen, record, &host));
    calls
        .for_each_concurrent(CONCURRENCY, |call| {
            let client = client.clone();
            async move { send(client, call).await }
        })
        .await;
}

/// A new event, or a count bump of the same (pod, reason, message) seen before.
fn correlate(seen: &mut HashMap<(String, &'static str, String), (String, i32)>, record: Record, host: &str) -> Call {
    let namespace = record.object.namespace.clone().unwrap_or_default();
    let key = (record.object.uid.clone().unwrap_or_default(), record.reason, record.message.clone());
    if let Some((name, count)) = seen.get_mut(&key) {
        *count += 1;
        return Call::Bump { namespace, name: name.clone(), count: *count };
    }
    if seen.len() >= REMEMBERED {
        seen.clear();
    }
    let event = event(record, host);
    let name = event.metadata.name.clone().unwrap_or_default();
    seen.insert(key, (name, 1));
    Call::Create(Box::new(event))
}

fn event(record: Record, host: &str) -> Event {
    let now = Time(jiff::Timestamp::now());
    let pod = record.object.name.clone().unwrap_or_default();
    let nanos = jiff::Timestamp::now().as_nanosecond();
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{pod}.{nanos:x}")),
            namespace: record.object.namespace.clone(),
            ..Default::default()
        },
        involved_object: record.object,
        reason: Some(record.reason.into()),
        message: Some(record.message),
        type_: Some(record.type_.as_str().into()),
        action: Some(record.action.into()),
        source: Some(EventSource { component: Some(COMPONENT.into()), host: None }),
        reporting_component: Some(COMPONENT.into()),
        reporting_instance: Some(format!("{COMPONENT}-{host}")),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(1),
        ..Default::default()
    }
}

async fn send(client: Client, call: Call) {
    let result = match call {
        Call::Create(event) => {
            let namespace = event.metadata.namespace.clone().unwrap_or_default();
            let api: Api<Event> = Api::namespaced(client, &namespace);
            api.create(&PostParams::default(), &event).await.map(drop)
        }
        Call::Bump { namespace, name, count } => {
            let api: Api<Event> = Api::namespaced(client, &namespace);
            let patch = serde_json::json!({"count": count, "lastTimestamp": Time(jiff::Timestamp::now())});
            api.patch(&name, &PatchParams::default(), &Patch::Merge(patch)).await.map(drop)
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "scheduler: could not record an event");
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pod;

    fn record(message: &str) -> Record {
        let p = PodInfo::new(pod("web").build());
        Record {
            object: ObjectReference {
                name: Some(p.name.clone()),
                namespace: Some(p.namespace.clone()),
                uid: p.pod.metadata.uid.clone(),
                kind: Some("Pod".into()),
                ..Default::default()
            },
            type_: EventType::Warning,
            reason: "FailedScheduling",
            action: "Scheduling",
            message: message.into(),
        }
    }

    #[test]
    fn events_name_the_scheduler_as_their_source() {
        let mut seen = HashMap::new();
        let Call::Create(event) = correlate(&mut seen, record("0/1 nodes are available"), "host") else {
            panic!("expected a new event");
        };
        assert_eq!(event.source.unwrap().component.as_deref(), Some("default-scheduler"));
        assert_eq!(event.reporting_component.as_deref(), Some("default-scheduler"));
        assert_eq!(event.type_.as_deref(), Some("Warning"));
        assert!(event.metadata.name.unwrap().starts_with("web."));
    }

    #[test]
    fn a_repeated_event_bumps_the_count_instead_of_creating_another() {
        let mut seen = HashMap::new();
        assert!(matches!(correlate(&mut seen, record("same"), "h"), Call::Create(_)));
        assert!(matches!(correlate(&mut seen, record("same"), "h"), Call::Bump { count: 2, .. }));
        assert!(matches!(correlate(&mut seen, record("different"), "h"), Call::Create(_)));
    }
}
