//! Printers of the smaller groups: leases, storage classes, disruption budgets, priority and
//! runtime classes, webhook configurations. CRDs have none and use the default table.

use jiff::Timestamp;
use serde_json::Value;

use crate::age::age;
use crate::format::{int, list, name, text};
use crate::{Column, Printer, doc};

/// The printer for a resource of one of the smaller groups.
pub(crate) fn printer(group: &str, resource: &str) -> Option<Printer> {
    let printer = match (group, resource) {
        ("coordination.k8s.io", "leases") => Printer::new(LEASE, lease),
        ("storage.k8s.io", "storageclasses") => Printer::new(STORAGE_CLASS, storage_class),
        ("policy", "poddisruptionbudgets") => Printer::new(POD_DISRUPTION_BUDGET, pod_disruption_budget),
        ("scheduling.k8s.io", "priorityclasses") => Printer::new(PRIORITY_CLASS, priority_class),
        ("node.k8s.io", "runtimeclasses") => Printer::new(RUNTIME_CLASS, runtime_class),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations" | "validatingwebhookconfigurations") => {
            Printer::new(WEBHOOK_CONFIGURATION, webhook_configuration)
        }
        _ => return None,
    };
    Some(printer)
}

const LEASE: &[Column] = &[Column::name(), Column::string("Holder", doc::LEASE_SPEC_HOLDER_IDENTITY), Column::age()];

fn lease(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(obj), Value::from(text(&obj["spec"]["holderIdentity"])), age(obj, now)]
}

const STORAGE_CLASS: &[Column] = &[
    Column::name(),
    Column::string("Provisioner", doc::STORAGE_CLASS_PROVISIONER),
    Column::string("ReclaimPolicy", doc::STORAGE_CLASS_RECLAIM_POLICY),
    Column::string("VolumeBindingMode", doc::STORAGE_CLASS_VOLUME_BINDING_MODE),
    Column::string("AllowVolumeExpansion", doc::STORAGE_CLASS_ALLOW_VOLUME_EXPANSION),
    Column::age(),
];

fn storage_class(obj: &Value, now: Timestamp) -> Vec<Value> {
    let mut class_name = text(&obj["metadata"]["name"]).to_owned();
    if is_default_class(&obj["metadata"]["annotations"]) {
        class_name.push_str(" (default)");
    }
    vec![
        Value::from(class_name),
        Value::from(text(&obj["provisioner"])),
        Value::from(obj["reclaimPolicy"].as_str().unwrap_or("Delete")),
        Value::from(obj["volumeBindingMode"].as_str().unwrap_or("Immediate")),
        Value::from(obj["allowVolumeExpansion"].as_bool().unwrap_or(false)),
        age(obj, now),
    ]
}

/// `storageutil.IsDefaultAnnotation`: the GA or the beta is-default-class annotation is "true".
fn is_default_class(annotations: &Value) -> bool {
    ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"]
        .iter()
        .any(|key| annotations[*key].as_str() == Some("true"))
}

const POD_DISRUPTION_BUDGET: &[Column] = &[
    Column::name(),
    Column::string("Min Available", "The minimum number of pods that must be available."),
    Column::string("Max Unavailable", "The maximum number of pods that may be unavailable."),
    Column::integer("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time."),
    Column::age(),
];

fn pod_disruption_budget(obj: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &obj["spec"];
    vec![
        name(obj),
        Value::from(int_or_string(&spec["minAvailable"])),
        Value::from(int_or_string(&spec["maxUnavailable"])),
        Value::from(int(&obj["status"]["disruptionsAllowed"])),
        age(obj, now),
    ]
}

/// `intstr.IntOrString.String()` of an optional field, "N/A" when unset.
fn int_or_string(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => "N/A".to_owned(),
    }
}

const PRIORITY_CLASS: &[Column] = &[
    Column::name(),
    Column::integer("Value", doc::PRIORITY_CLASS_VALUE),
    Column::boolean("Global-Default", doc::PRIORITY_CLASS_GLOBAL_DEFAULT),
    Column::age(),
    // printers.go gives this wide-only cell no priority, so kubectl shows it by default.
    Column::string("PreemptionPolicy", doc::PRIORITY_CLASS_PREEMPTION_POLICY),
];

fn priority_class(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name(obj),
        Value::from(int(&obj["value"])),
        Value::from(obj["globalDefault"].as_bool().unwrap_or(false)),
        age(obj, now),
        Value::from(text(&obj["preemptionPolicy"])),
    ]
}

const RUNTIME_CLASS: &[Column] = &[
    Column::name(),
    // printers.go looks this description up in ObjectMeta's docs, which have no "handler".
    Column::string("Handler", ""),
    Column::age(),
];

fn runtime_class(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(obj), Value::from(text(&obj["handler"])), age(obj, now)]
}

const WEBHOOK_CONFIGURATION: &[Column] = &[
    Column::name(),
    Column::integer("Webhooks", "Webhooks indicates the number of webhooks registered in this configuration"),
    Column::age(),
];

fn webhook_configuration(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(obj), Value::from(list(&obj["webhooks"]).len()), age(obj, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().expect("a valid timestamp")
    }

    #[test]
    fn the_default_storage_class_is_marked_in_its_name() {
        let class = json!({
            "metadata": {
                "name": "standard",
                "creationTimestamp": "2025-05-01T12:00:00Z",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}
            },
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer"
        });
        assert_eq!(
            crate::cells("storage.k8s.io", "storageclasses", &class, now()),
            [
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(false),
                json!("31d")
            ]
        );
    }

    #[test]
    fn a_lease_shows_its_holder() {
        let lease = json!({"metadata": {"name": "kube-scheduler"}, "spec": {"holderIdentity": "cp-1_5f2e"}});
        assert_eq!(crate::cells("coordination.k8s.io", "leases", &lease, now())[1], json!("cp-1_5f2e"));
    }

    #[test]
    fn a_disruption_budget_prints_percentages_and_unset_limits() {
        let pdb =
            json!({"metadata": {"name": "web"}, "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}});
        let cells = crate::cells("policy", "poddisruptionbudgets", &pdb, now());
        assert_eq!(cells[1..4], [json!("50%"), json!("N/A"), json!(1)]);
    }

    #[test]
    fn a_priority_class_shows_its_value_and_preemption_policy() {
        let class = json!({"metadata": {"name": "system-node-critical"}, "value": 2000001000, "preemptionPolicy": "PreemptLowerPriority"});
        let cells = crate::cells("scheduling.k8s.io", "priorityclasses", &class, now());
        assert_eq!(cells[1..3], [json!(2000001000), json!(false)]);
        assert_eq!(cells[4], json!("PreemptLowerPriority"));
    }
}
