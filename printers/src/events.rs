//! The event printer, shared by core/v1 and events.k8s.io/v1 events (one storage, two shapes).

use jiff::Timestamp;
use serde_json::Value;

use crate::age::since;
use crate::format::{int, name, text};
use crate::{Column, Printer, doc};

/// Events lead with LAST SEEN; their NAME is a wide column at the end.
pub(crate) const COLUMNS: &[Column] = &[
    Column::string("Last Seen", doc::EVENT_LAST_TIMESTAMP),
    Column::string("Type", doc::EVENT_TYPE),
    Column::string("Reason", doc::EVENT_REASON),
    Column::string("Object", doc::EVENT_INVOLVED_OBJECT),
    Column::string("Subobject", doc::OBJECT_REFERENCE_FIELD_PATH).wide(),
    Column::string("Source", doc::EVENT_SOURCE).wide(),
    Column::string("Message", doc::EVENT_MESSAGE),
    Column::string("First Seen", doc::EVENT_FIRST_TIMESTAMP).wide(),
    Column::string("Count", doc::EVENT_COUNT).wide(),
    Column { priority: 1, ..Column::name() },
];

/// The printer for events.k8s.io resources.
pub(crate) fn printer(resource: &str) -> Option<Printer> {
    (resource == "events").then_some(Printer { columns: COLUMNS, cells: events_v1_cells })
}

/// Where each field the printer needs lives in one of the two event shapes.
struct Shape {
    object: &'static str,
    message: &'static str,
    source: &'static str,
    first: &'static str,
    last: &'static str,
    count: &'static str,
    reporting_controller: &'static str,
}

const CORE: Shape = Shape {
    object: "involvedObject",
    message: "message",
    source: "source",
    first: "firstTimestamp",
    last: "lastTimestamp",
    count: "count",
    reporting_controller: "reportingComponent",
};

const EVENTS_V1: Shape = Shape {
    object: "regarding",
    message: "note",
    source: "deprecatedSource",
    first: "deprecatedFirstTimestamp",
    last: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    reporting_controller: "reportingController",
};

pub(crate) fn core_cells(obj: &Value, now: Timestamp) -> Vec<Value> {
    event_cells(obj, now, &CORE)
}

fn events_v1_cells(obj: &Value, now: Timestamp) -> Vec<Value> {
    event_cells(obj, now, &EVENTS_V1)
}

fn event_cells(obj: &Value, now: Timestamp, shape: &Shape) -> Vec<Value> {
    let (last_seen, first_seen, count) = seen(obj, now, shape);
    let object = &obj[shape.object];
    let kind = text(&object["kind"]).to_lowercase();
    let target = match text(&object["name"]) {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    vec![
        Value::from(last_seen),
        Value::from(text(&obj["type"])),
        Value::from(text(&obj["reason"])),
        Value::from(target),
        Value::from(text(&object["fieldPath"])),
        Value::from(source(obj, shape)),
        Value::from(text(&obj[shape.message]).trim()),
        Value::from(first_seen),
        Value::from(count),
        name(obj),
    ]
}

/// LAST SEEN, FIRST SEEN and COUNT, falling back on eventTime and the series for new-style events.
fn seen(obj: &Value, now: Timestamp, shape: &Shape) -> (String, String, i64) {
    let first =
        if obj[shape.first].is_string() { since(&obj[shape.first], now) } else { since(&obj["eventTime"], now) };
    let mut last = if obj[shape.last].is_string() { since(&obj[shape.last], now) } else { first.clone() };
    let series = &obj["series"];
    let count = if series.is_object() {
        last = since(&series["lastObservedTime"], now);
        int(&series["count"])
    } else {
        // Singleton events of the new API leave the count unset.
        match int(&obj[shape.count]) {
            0 => 1,
            count => count,
        }
    };
    (last, first, count)
}

/// `formatEventSource`: "component, host", with the reporting controller and instance as fallbacks.
fn source(obj: &Value, shape: &Shape) -> String {
    let source = &obj[shape.source];
    let component = first_non_empty(text(&source["component"]), text(&obj[shape.reporting_controller]));
    let host = first_non_empty(text(&source["host"]), text(&obj["reportingInstance"]));
    if host.is_empty() { component.to_owned() } else { format!("{component}, {host}") }
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().expect("a valid timestamp")
    }

    #[test]
    fn a_core_event_about_a_pod_names_the_pod_and_its_source() {
        let event = json!({
            "metadata": {"name": "web-1.17f3a", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
            "reason": "BackOff",
            "message": "Back-off restarting failed container app\n",
            "source": {"component": "kubelet", "host": "worker-1"},
            "firstTimestamp": "2025-06-01T11:00:00Z",
            "lastTimestamp": "2025-06-01T11:58:00Z",
            "count": 12,
            "type": "Warning"
        });
        assert_eq!(
            crate::cells("", "events", &event, now()),
            [
                json!("2m"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/web-1"),
                json!("spec.containers{app}"),
                json!("kubelet, worker-1"),
                json!("Back-off restarting failed container app"),
                json!("60m"),
                json!(12),
                json!("web-1.17f3a")
            ]
        );
    }

    #[test]
    fn a_new_style_event_uses_its_event_time_series_and_reporting_controller() {
        let event = json!({
            "metadata": {"name": "e"},
            "regarding": {"kind": "Node", "name": "worker-1"},
            "reason": "Starting",
            "note": "Starting kubelet.",
            "type": "Normal",
            "eventTime": "2025-06-01T11:30:00.000000Z",
            "reportingController": "kubelet",
            "reportingInstance": "worker-1",
            "series": {"count": 4, "lastObservedTime": "2025-06-01T11:59:00.000000Z"}
        });
        let cells = crate::cells("events.k8s.io", "events", &event, now());
        assert_eq!(cells[0], json!("60s"));
        assert_eq!(cells[3], json!("node/worker-1"));
        assert_eq!(cells[5], json!("kubelet, worker-1"));
        assert_eq!(cells[6], json!("Starting kubelet."));
        assert_eq!(cells[7], json!("30m"));
        assert_eq!(cells[8], json!(4));
    }

    #[test]
    fn a_singleton_event_counts_once() {
        let event = json!({"metadata": {"name": "e"}, "regarding": {"kind": "Pod"}, "eventTime": "2025-06-01T11:59:50.000000Z"});
        let cells = crate::cells("events.k8s.io", "events", &event, now());
        assert_eq!(cells[0], json!("10s"));
        assert_eq!(cells[3], json!("pod"));
        assert_eq!(cells[8], json!(1));
    }
}
