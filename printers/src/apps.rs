//! apps/v1 printers: deployments, replica sets, daemon sets, stateful sets, controller revisions.

use jiff::Timestamp;
use serde_json::Value;

use crate::age::age;
use crate::core::{containers_column, images_column};
use crate::format::{
    container_cells, format_label_selector, format_labels, int, list, name, replicas, selector_string, text,
};
use crate::{Column, Printer, doc};

/// The printer for an apps resource.
pub(crate) fn printer(resource: &str) -> Option<Printer> {
    let printer = match resource {
        "deployments" => Printer::new(DEPLOYMENT, deployment),
        "replicasets" => Printer::new(REPLICA_SET, replica_set),
        "daemonsets" => Printer::new(DAEMON_SET, daemon_set),
        "statefulsets" => Printer::new(STATEFUL_SET, stateful_set),
        "controllerrevisions" => Printer::new(CONTROLLER_REVISION, controller_revision),
        _ => return None,
    };
    Some(printer)
}

const READY: &str = "Number of the pod with ready state";

const DEPLOYMENT: &[Column] = &[
    Column::name(),
    Column::string("Ready", READY),
    Column::string("Up-to-date", doc::DEPLOYMENT_STATUS_UPDATED),
    Column::string("Available", doc::DEPLOYMENT_STATUS_AVAILABLE),
    Column::age(),
    containers_column(),
    images_column(),
    Column::string("Selector", doc::DEPLOYMENT_SPEC_SELECTOR).wide(),
];

fn deployment(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&obj["spec"], &obj["status"]);
    let ready = format!("{}/{}", int(&status["readyReplicas"]), replicas(&spec["replicas"]));
    let [names, images] = container_cells(&spec["template"]["spec"]);
    // Deployments print the bare selector string: "" rather than "<none>" when it is empty.
    let selector = selector_string(&spec["selector"]).unwrap_or_else(|| "<invalid>".to_owned());
    vec![
        name(obj),
        Value::from(ready),
        Value::from(int(&status["updatedReplicas"])),
        Value::from(int(&status["availableReplicas"])),
        age(obj, now),
        names,
        images,
        Value::from(selector),
    ]
}

const REPLICA_SET: &[Column] = &[
    Column::name(),
    Column::integer("Desired", doc::REPLICA_SET_SPEC_REPLICAS),
    Column::integer("Current", doc::REPLICA_SET_STATUS_REPLICAS),
    Column::integer("Ready", doc::REPLICA_SET_STATUS_READY_REPLICAS),
    Column::age(),
    containers_column(),
    images_column(),
    Column::string("Selector", doc::REPLICA_SET_SPEC_SELECTOR).wide(),
];

fn replica_set(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&obj["spec"], &obj["status"]);
    let [names, images] = container_cells(&spec["template"]["spec"]);
    vec![
        name(obj),
        Value::from(replicas(&spec["replicas"])),
        Value::from(int(&status["replicas"])),
        Value::from(int(&status["readyReplicas"])),
        age(obj, now),
        names,
        images,
        Value::from(format_label_selector(&spec["selector"])),
    ]
}

const DAEMON_SET: &[Column] = &[
    Column::name(),
    Column::integer("Desired", doc::DAEMON_SET_STATUS_DESIRED),
    Column::integer("Current", doc::DAEMON_SET_STATUS_CURRENT),
    Column::integer("Ready", doc::DAEMON_SET_STATUS_READY),
    Column::integer("Up-to-date", doc::DAEMON_SET_STATUS_UPDATED),
    Column::integer("Available", doc::DAEMON_SET_STATUS_AVAILABLE),
    Column::string("Node Selector", doc::POD_SPEC_NODE_SELECTOR),
    Column::age(),
    containers_column(),
    images_column(),
    Column::string("Selector", doc::DAEMON_SET_SPEC_SELECTOR).wide(),
];

fn daemon_set(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&obj["spec"], &obj["status"]);
    let pod_spec = &spec["template"]["spec"];
    let [names, images] = container_cells(pod_spec);
    let count = |key: &str| Value::from(int(&status[key]));
    vec![
        name(obj),
        count("desiredNumberScheduled"),
        count("currentNumberScheduled"),
        count("numberReady"),
        count("updatedNumberScheduled"),
        count("numberAvailable"),
        Value::from(format_labels(&pod_spec["nodeSelector"])),
        age(obj, now),
        names,
        images,
        Value::from(format_label_selector(&spec["selector"])),
    ]
}

const STATEFUL_SET: &[Column] =
    &[Column::name(), Column::string("Ready", READY), Column::age(), containers_column(), images_column()];

fn stateful_set(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&obj["spec"], &obj["status"]);
    let ready = format!("{}/{}", int(&status["readyReplicas"]), replicas(&spec["replicas"]));
    let [names, images] = container_cells(&spec["template"]["spec"]);
    vec![name(obj), Value::from(ready), age(obj, now), names, images]
}

const CONTROLLER_REVISION: &[Column] = &[
    Column::name(),
    Column::string("Controller", "Controller of the object"),
    Column::string("Revision", doc::CONTROLLER_REVISION_REVISION),
    Column::age(),
];

fn controller_revision(obj: &Value, now: Timestamp) -> Vec<Value> {
    let owners = list(&obj["metadata"]["ownerReferences"]);
    let controller = owners.iter().find(|o| o["controller"].as_bool() == Some(true));
    let controller = controller.map_or_else(|| "<none>".to_owned(), controller_name);
    vec![name(obj), Value::from(controller), Value::from(int(&obj["revision"])), age(obj, now)]
}

/// "kind.group/name" in lower case, as `formatResourceName` prints an owner.
fn controller_name(owner: &Value) -> String {
    let group = text(&owner["apiVersion"]).rsplit_once('/').map_or("", |(group, _)| group);
    let kind = text(&owner["kind"]);
    let group_kind = match group {
        "" => kind.to_owned(),
        group => format!("{kind}.{group}"),
    };
    match group_kind.as_str() {
        "" => text(&owner["name"]).to_owned(),
        _ => format!("{}/{}", group_kind.to_lowercase(), text(&owner["name"])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().expect("a valid timestamp")
    }

    fn template() -> Value {
        json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "metrics", "image": "prom/statsd-exporter"}]}
        })
    }

    #[test]
    fn a_deployment_with_two_of_three_replicas_ready() {
        let deployment = json!({
            "metadata": {"name": "web", "creationTimestamp": "2025-05-31T12:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template()},
            "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}
        });
        assert_eq!(
            crate::cells("apps", "deployments", &deployment, now()),
            [
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("24h"),
                json!("app,metrics"),
                json!("nginx:1.27,prom/statsd-exporter"),
                json!("app=web")
            ]
        );
    }

    #[test]
    fn a_new_deployment_without_status_has_zero_ready() {
        let deployment = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2}});
        let cells = crate::cells("apps", "deployments", &deployment, now());
        assert_eq!(cells[1..4], [json!("0/2"), json!(0), json!(0)]);
        assert_eq!(cells[7], json!(""));
    }

    #[test]
    fn a_replica_set_shows_desired_current_and_ready_counts() {
        let rs = json!({
            "metadata": {"name": "web-7d4b9c"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9c"}}, "template": template()},
            "status": {"replicas": 3, "readyReplicas": 1}
        });
        let cells = crate::cells("apps", "replicasets", &rs, now());
        assert_eq!(cells[1..4], [json!(3), json!(3), json!(1)]);
        assert_eq!(cells[7], json!("app=web,pod-template-hash=7d4b9c"));
    }

    #[test]
    fn a_daemon_set_shows_its_node_selector() {
        let mut pod_template = template();
        pod_template["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
        let ds = json!({
            "metadata": {"name": "kube-proxy"},
            "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}}, "template": pod_template},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 3, "updatedNumberScheduled": 3, "numberAvailable": 2}
        });
        let cells = crate::cells("apps", "daemonsets", &ds, now());
        assert_eq!(cells[1..7], [json!(3), json!(3), json!(3), json!(3), json!(2), json!("kubernetes.io/os=linux")]);
        assert_eq!(cells[10], json!("k8s-app=kube-proxy"));
    }

    #[test]
    fn a_stateful_set_shows_ready_over_desired() {
        let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 3, "template": template()}, "status": {"readyReplicas": 3}});
        let cells = crate::cells("apps", "statefulsets", &sts, now());
        assert_eq!(cells[1], json!("3/3"));
        assert_eq!(cells.len(), 5);
    }

    #[test]
    fn a_controller_revision_names_its_owner_with_kind_and_group() {
        let revision = json!({
            "metadata": {"name": "db-5f8c", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": true}]},
            "revision": 2
        });
        let cells = crate::cells("apps", "controllerrevisions", &revision, now());
        assert_eq!(cells[1..3], [json!("statefulset.apps/db"), json!(2)]);
    }
}
