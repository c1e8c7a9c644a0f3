//! Core (group "") printers other than pods and events.

use jiff::Timestamp;
use serde_json::Value;

use crate::age::age;
use crate::format::{
    container_cells, count_keys, format_labels, int, list, name, or, or_none, quantity, replicas, text,
};
use crate::{Column, Printer, doc, events, pod};

/// The printer for a core resource, `None` for those without one (limitranges among them).
pub(crate) fn printer(resource: &str) -> Option<Printer> {
    let printer = match resource {
        "pods" => Printer::new(pod::COLUMNS, pod::cells),
        "podtemplates" => Printer::new(POD_TEMPLATE, pod_template),
        "replicationcontrollers" => Printer::new(REPLICATION_CONTROLLER, replication_controller),
        "services" => Printer::new(SERVICE, service),
        "endpoints" => Printer::new(ENDPOINTS, endpoints),
        "nodes" => Printer::new(NODE, node),
        "events" => Printer::new(events::COLUMNS, events::core_cells),
        "namespaces" => Printer::new(NAMESPACE, namespace),
        "secrets" => Printer::new(SECRET, secret),
        "serviceaccounts" => Printer::new(SERVICE_ACCOUNT, service_account),
        "configmaps" => Printer::new(CONFIG_MAP, config_map),
        "persistentvolumes" => Printer::new(PERSISTENT_VOLUME, persistent_volume),
        "persistentvolumeclaims" => Printer::new(PERSISTENT_VOLUME_CLAIM, persistent_volume_claim),
        "resourcequotas" => Printer::new(RESOURCE_QUOTA, resource_quota),
        _ => return None,
    };
    Some(printer)
}

const CONTAINERS: &str = "Names of each container in the template.";
const IMAGES: &str = "Images referenced by each container in the template.";

/// The CONTAINERS and IMAGES columns of workload printers, shown with `-o wide`.
pub(crate) const fn containers_column() -> Column {
    Column::string("Containers", CONTAINERS).wide()
}

/// See [`containers_column`].
pub(crate) const fn images_column() -> Column {
    Column::string("Images", IMAGES).wide()
}

const POD_TEMPLATE: &[Column] = &[
    Column::name(),
    Column::string("Containers", CONTAINERS),
    Column::string("Images", IMAGES),
    Column::string("Pod Labels", "The labels for the pod template."),
];

fn pod_template(obj: &Value, _now: Timestamp) -> Vec<Value> {
    let template = &obj["template"];
    let [names, images] = container_cells(&template["spec"]);
    vec![name(obj), names, images, Value::from(format_labels(&template["metadata"]["labels"]))]
}

const REPLICATION_CONTROLLER: &[Column] = &[
    Column::name(),
    Column::integer("Desired", doc::RC_SPEC_REPLICAS),
    Column::integer("Current", doc::RC_STATUS_REPLICAS),
    Column::integer("Ready", doc::RC_STATUS_READY_REPLICAS),
    Column::age(),
    containers_column(),
    images_column(),
    Column::string("Selector", doc::RC_SPEC_SELECTOR).wide(),
];

fn replication_controller(obj: &Value, now: Timestamp) -> Vec<Value> {
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
        Value::from(format_labels(&spec["selector"])),
    ]
}

const SERVICE: &[Column] = &[
    Column::name(),
    Column::string("Type", doc::SERVICE_SPEC_TYPE),
    Column::string("Cluster-IP", doc::SERVICE_SPEC_CLUSTER_IP),
    Column::string("External-IP", doc::SERVICE_SPEC_EXTERNAL_IPS),
    Column::string("Port(s)", doc::SERVICE_SPEC_PORTS),
    Column::age(),
    Column::string("Selector", doc::SERVICE_SPEC_SELECTOR).wide(),
];

fn service(obj: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &obj["spec"];
    // The API defaults an unset type to ClusterIP.
    let kind = or(text(&spec["type"]), "ClusterIP");
    let cluster_ip = list(&spec["clusterIPs"]).first().map_or_else(|| text(&spec["clusterIP"]), text);
    vec![
        name(obj),
        Value::from(kind.as_str()),
        Value::from(or_none(cluster_ip)),
        Value::from(service_external_ip(obj, &kind)),
        Value::from(or_none(&service_ports(list(&spec["ports"])))),
        age(obj, now),
        Value::from(format_labels(&spec["selector"])),
    ]
}

/// `getServiceExternalIP` for wide output (load balancer addresses are not clipped).
fn service_external_ip(svc: &Value, kind: &str) -> String {
    let spec = &svc["spec"];
    let external: Vec<&str> = list(&spec["externalIPs"]).iter().map(text).collect();
    match kind {
        "ClusterIP" | "NodePort" => or_none(&external.join(",")),
        "LoadBalancer" => {
            let mut all = load_balancer_addresses(&svc["status"]["loadBalancer"]);
            all.extend(external.iter().map(|ip| (*ip).to_owned()));
            or(&all.join(","), "<pending>")
        }
        "ExternalName" => text(&spec["externalName"]).to_owned(),
        _ => "<unknown>".to_owned(),
    }
}

/// The sorted, de-duplicated IPs (or else hostnames) of a load balancer status.
pub(crate) fn load_balancer_addresses(status: &Value) -> Vec<String> {
    let mut addresses: Vec<String> = list(&status["ingress"])
        .iter()
        .map(|i| or(text(&i["ip"]), text(&i["hostname"])))
        .filter(|a| !a.is_empty())
        .collect();
    addresses.sort();
    addresses.dedup();
    addresses
}

/// `makePortString`: "80/TCP" or "80:30080/TCP" when a node port is allocated.
fn service_ports(ports: &[Value]) -> String {
    let pieces: Vec<String> = ports
        .iter()
        .map(|p| {
            let protocol = or(text(&p["protocol"]), "TCP");
            match int(&p["nodePort"]) {
                node_port if node_port > 0 => format!("{}:{node_port}/{protocol}", int(&p["port"])),
                _ => format!("{}/{protocol}", int(&p["port"])),
            }
        })
        .collect();
    pieces.join(",")
}

const ENDPOINTS: &[Column] = &[Column::name(), Column::string("Endpoints", doc::ENDPOINTS_SUBSETS), Column::age()];

fn endpoints(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(obj), Value::from(format_endpoints(list(&obj["subsets"]))), age(obj, now)]
}

/// `formatEndpoints`: up to three "ip:port" pairs, then "+ N more...".
fn format_endpoints(subsets: &[Value]) -> String {
    if subsets.is_empty() {
        return "<none>".to_owned();
    }
    let mut all = Vec::new();
    for subset in subsets {
        let addresses: Vec<&str> = list(&subset["addresses"]).iter().map(|a| text(&a["ip"])).collect();
        let ports = list(&subset["ports"]);
        if ports.is_empty() {
            // Headless services may have no ports.
            all.extend(addresses.iter().map(|ip| (*ip).to_owned()));
        }
        for port in ports {
            all.extend(addresses.iter().map(|ip| join_host_port(ip, int(&port["port"]))));
        }
    }
    let shown = all.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if all.len() > 3 { format!("{shown} + {} more...", all.len() - 3) } else { shown }
}

/// `net.JoinHostPort`: IPv6 addresses get brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

const NODE: &[Column] = &[
    Column::name(),
    Column::string("Status", "The status of the node"),
    Column::string("Roles", "The roles of the node"),
    Column::age(),
    Column::string("Version", doc::NODE_INFO_KUBELET_VERSION),
    Column::string("Internal-IP", doc::NODE_STATUS_ADDRESSES).wide(),
    Column::string("External-IP", doc::NODE_STATUS_ADDRESSES).wide(),
    Column::string("OS-Image", doc::NODE_INFO_OS_IMAGE).wide(),
    Column::string("Kernel-Version", doc::NODE_INFO_KERNEL_VERSION).wide(),
    Column::string("Container-Runtime", doc::NODE_INFO_CONTAINER_RUNTIME_VERSION).wide(),
];

fn node(obj: &Value, now: Timestamp) -> Vec<Value> {
    let info = &obj["status"]["nodeInfo"];
    let unknown = |key: &str| Value::from(or(text(&info[key]), "<unknown>"));
    vec![
        name(obj),
        Value::from(node_status(obj)),
        Value::from(or_none(&node_roles(&obj["metadata"]["labels"]).join(","))),
        age(obj, now),
        Value::from(text(&info["kubeletVersion"])),
        Value::from(node_address(obj, "InternalIP")),
        Value::from(node_address(obj, "ExternalIP")),
        unknown("osImage"),
        unknown("kernelVersion"),
        unknown("containerRuntimeVersion"),
    ]
}

/// "Ready", "NotReady" or "Unknown" from the Ready condition, plus ",SchedulingDisabled".
fn node_status(node: &Value) -> String {
    let conditions = list(&node["status"]["conditions"]);
    // The last Ready condition wins, as it does in the Go map printers.go builds.
    let ready = conditions.iter().rev().find(|c| text(&c["type"]) == "Ready");
    let mut status = match ready {
        Some(c) if text(&c["status"]) == "True" => "Ready".to_owned(),
        Some(_) => "NotReady".to_owned(),
        None => "Unknown".to_owned(),
    };
    if node["spec"]["unschedulable"].as_bool() == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    status
}

/// `findNodeRoles`: node-role.kubernetes.io/<role> keys and kubernetes.io/role values, sorted.
fn node_roles(labels: &Value) -> Vec<String> {
    let mut roles: Vec<String> = labels
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| match key.strip_prefix("node-role.kubernetes.io/") {
            Some(role) => Some(role.to_owned()),
            None if key == "kubernetes.io/role" => Some(text(value).to_owned()),
            None => None,
        })
        .filter(|role| !role.is_empty())
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// The first node address of a type, "<none>" without one.
fn node_address(node: &Value, kind: &str) -> String {
    let addresses = list(&node["status"]["addresses"]);
    let found = addresses.iter().find(|a| text(&a["type"]) == kind);
    or_none(found.map_or("", |a| text(&a["address"])))
}

const NAMESPACE: &[Column] = &[Column::name(), Column::string("Status", "The status of the namespace"), Column::age()];

fn namespace(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(obj), Value::from(text(&obj["status"]["phase"])), age(obj, now)]
}

const SECRET: &[Column] = &[
    Column::name(),
    Column::string("Type", doc::SECRET_TYPE),
    Column::string("Data", doc::SECRET_DATA),
    Column::age(),
];

fn secret(obj: &Value, now: Timestamp) -> Vec<Value> {
    // The API defaults an unset type to Opaque.
    let kind = or(text(&obj["type"]), "Opaque");
    vec![name(obj), Value::from(kind), Value::from(count_keys(&obj["data"])), age(obj, now)]
}

const SERVICE_ACCOUNT: &[Column] =
    &[Column::name(), Column::string("Secrets", doc::SERVICE_ACCOUNT_SECRETS), Column::age()];

fn service_account(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(obj), Value::from(list(&obj["secrets"]).len()), age(obj, now)]
}

const CONFIG_MAP: &[Column] = &[Column::name(), Column::string("Data", doc::CONFIG_MAP_DATA), Column::age()];

fn config_map(obj: &Value, now: Timestamp) -> Vec<Value> {
    let keys = count_keys(&obj["data"]) + count_keys(&obj["binaryData"]);
    vec![name(obj), Value::from(keys), age(obj, now)]
}

const PERSISTENT_VOLUME: &[Column] = &[
    Column::name(),
    Column::string("Capacity", doc::PV_SPEC_CAPACITY),
    Column::string("Access Modes", doc::PV_SPEC_ACCESS_MODES),
    Column::string("Reclaim Policy", doc::PV_SPEC_RECLAIM_POLICY),
    Column::string("Status", doc::PV_STATUS_PHASE),
    Column::string("Claim", doc::PV_SPEC_CLAIM_REF),
    Column::string("StorageClass", "StorageClass of the pv"),
    Column::string("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
    Column::string("Reason", doc::PV_STATUS_REASON),
    Column::age(),
    Column::string("VolumeMode", doc::PV_SPEC_VOLUME_MODE).wide(),
];

fn persistent_volume(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&obj["spec"], &obj["status"]);
    let claim = &spec["claimRef"];
    let claim = if claim.is_object() {
        format!("{}/{}", text(&claim["namespace"]), text(&claim["name"]))
    } else {
        String::new()
    };
    vec![
        name(obj),
        Value::from(quantity(&spec["capacity"]["storage"])),
        Value::from(access_modes(&spec["accessModes"])),
        Value::from(text(&spec["persistentVolumeReclaimPolicy"])),
        Value::from(phase_or_terminating(obj)),
        Value::from(claim),
        Value::from(storage_class(obj)),
        Value::from(or(text(&spec["volumeAttributesClassName"]), "<unset>")),
        Value::from(text(&status["reason"])),
        age(obj, now),
        Value::from(or(text(&spec["volumeMode"]), "<unset>")),
    ]
}

/// The status phase, or "Terminating" once deletion has started.
fn phase_or_terminating(obj: &Value) -> String {
    if obj["metadata"]["deletionTimestamp"].is_string() {
        "Terminating".to_owned()
    } else {
        text(&obj["status"]["phase"]).to_owned()
    }
}

/// `helper.GetPersistentVolumeClass` / `GetPersistentVolumeClaimClass`: the beta annotation
/// still wins over spec.storageClassName.
fn storage_class(obj: &Value) -> String {
    let annotation = &obj["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"];
    match annotation.as_str() {
        Some(class) => class.to_owned(),
        None => text(&obj["spec"]["storageClassName"]).to_owned(),
    }
}

/// `helper.GetAccessModesAsString`: "RWO,ROX,RWX,RWOP" in that order, without duplicates.
fn access_modes(modes: &Value) -> String {
    let modes: Vec<&str> = list(modes).iter().map(text).collect();
    let known =
        [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")];
    let present: Vec<&str> = known.iter().filter(|(mode, _)| modes.contains(mode)).map(|(_, short)| *short).collect();
    present.join(",")
}

const PERSISTENT_VOLUME_CLAIM: &[Column] = &[
    Column::name(),
    Column::string("Status", doc::PVC_STATUS_PHASE),
    Column::string("Volume", doc::PVC_SPEC_VOLUME_NAME),
    Column::string("Capacity", doc::PVC_STATUS_CAPACITY),
    Column::string("Access Modes", doc::PVC_STATUS_ACCESS_MODES),
    Column::string("StorageClass", "StorageClass of the pvc"),
    Column::string("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
    Column::age(),
    Column::string("VolumeMode", doc::PVC_SPEC_VOLUME_MODE).wide(),
];

fn persistent_volume_claim(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&obj["spec"], &obj["status"]);
    let volume = text(&spec["volumeName"]);
    // Capacity and access modes are only those of a bound volume.
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (quantity(&status["capacity"]["storage"]), access_modes(&status["accessModes"]))
    };
    vec![
        name(obj),
        Value::from(phase_or_terminating(obj)),
        Value::from(volume),
        Value::from(capacity),
        Value::from(modes),
        Value::from(storage_class(obj)),
        Value::from(or(text(&spec["volumeAttributesClassName"]), "<unset>")),
        age(obj, now),
        Value::from(or(text(&spec["volumeMode"]), "<unset>")),
    ]
}

const RESOURCE_QUOTA: &[Column] = &[
    Column::name(),
    Column::string("Request", "Request represents a minimum amount of cpu/memory that a container may consume."),
    Column::string(
        "Limit",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    Column::age(),
];

fn resource_quota(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (hard, used) = (&obj["status"]["hard"], &obj["status"]["used"]);
    let mut resources: Vec<&String> = hard.as_object().into_iter().flatten().map(|(k, _)| k).collect();
    resources.sort();
    let (mut requests, mut limits) = (Vec::new(), Vec::new());
    for resource in resources {
        let entry = format!("{resource}: {}/{}", quantity(&used[resource]), quantity(&hard[resource]));
        // "limits.cpu" and the like go to the Limit column, everything else to Request.
        match resource.split_once('.') {
            Some(("limits", _)) => limits.push(entry),
            _ => requests.push(entry),
        }
    }
    vec![name(obj), Value::from(requests.join(", ")), Value::from(limits.join(", ")), age(obj, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().expect("a valid timestamp")
    }

    fn row(resource: &str, obj: &Value) -> Vec<Value> {
        crate::cells("", resource, obj, now())
    }

    #[test]
    fn a_node_port_service_shows_both_ports_and_no_external_ip() {
        let svc = json!({
            "metadata": {"name": "web", "creationTimestamp": "2025-06-01T11:55:00Z"},
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.12.34",
                "clusterIPs": ["10.96.12.34"],
                "selector": {"app": "web"},
                "ports": [
                    {"port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"},
                    {"port": 443, "protocol": "TCP"}
                ]
            }
        });
        assert_eq!(
            row("services", &svc),
            [
                json!("web"),
                json!("NodePort"),
                json!("10.96.12.34"),
                json!("<none>"),
                json!("80:30080/TCP,443/TCP"),
                json!("5m"),
                json!("app=web")
            ]
        );
    }

    #[test]
    fn a_load_balancer_without_ingress_is_pending() {
        let svc = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 31000}]}});
        assert_eq!(row("services", &svc)[3], json!("<pending>"));
    }

    #[test]
    fn a_load_balancer_lists_its_ingress_then_its_external_ips() {
        let svc = json!({
            "metadata": {"name": "lb"},
            "spec": {"type": "LoadBalancer", "externalIPs": ["192.0.2.9"]},
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": "lb.example.com"}]}}
        });
        assert_eq!(row("services", &svc)[3], json!("203.0.113.7,lb.example.com,192.0.2.9"));
    }

    #[test]
    fn an_external_name_service_shows_the_name_and_no_cluster_ip() {
        let svc =
            json!({"metadata": {"name": "db"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        let cells = row("services", &svc);
        assert_eq!(cells[2], json!("<none>"));
        assert_eq!(cells[3], json!("db.example.com"));
        assert_eq!(cells[4], json!("<none>"));
        assert_eq!(cells[6], json!("<none>"));
    }

    #[test]
    fn a_headless_service_prints_none_as_its_cluster_ip() {
        let svc = json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        assert_eq!(row("services", &svc)[2], json!("None"));
    }

    #[test]
    fn endpoints_show_three_addresses_and_count_the_rest() {
        let ep = json!({
            "metadata": {"name": "web"},
            "subsets": [{
                "addresses": [{"ip": "10.1.0.4"}, {"ip": "10.1.0.5"}, {"ip": "fd00::6"}, {"ip": "10.1.0.7"}],
                "ports": [{"port": 8080}]
            }]
        });
        assert_eq!(row("endpoints", &ep)[1], json!("10.1.0.4:8080,10.1.0.5:8080,[fd00::6]:8080 + 1 more..."));
        assert_eq!(row("endpoints", &json!({}))[1], json!("<none>"));
    }

    fn node_with(ready: &str, unschedulable: bool) -> Value {
        json!({
            "metadata": {
                "name": "cp-1",
                "creationTimestamp": "2025-05-30T09:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "cp-1"}
            },
            "spec": {"unschedulable": unschedulable},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": ready}],
                "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "cp-1"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7.0"}
            }
        })
    }

    #[test]
    fn a_ready_control_plane_node_shows_its_role_and_addresses() {
        assert_eq!(
            row("nodes", &node_with("True", false)),
            [
                json!("cp-1"),
                json!("Ready"),
                json!("control-plane"),
                json!("2d3h"),
                json!("v1.33.0"),
                json!("172.18.0.2"),
                json!("<none>"),
                json!("Debian GNU/Linux 12 (bookworm)"),
                json!("6.1.0"),
                json!("containerd://1.7.0")
            ]
        );
    }

    #[test]
    fn a_cordoned_node_is_scheduling_disabled() {
        assert_eq!(row("nodes", &node_with("True", true))[1], json!("Ready,SchedulingDisabled"));
        assert_eq!(row("nodes", &node_with("Unknown", false))[1], json!("NotReady"));
    }

    #[test]
    fn a_node_without_roles_or_conditions_has_placeholders() {
        let cells = row("nodes", &json!({"metadata": {"name": "w"}}));
        assert_eq!(cells[1], json!("Unknown"));
        assert_eq!(cells[2], json!("<none>"));
        assert_eq!(cells[7], json!("<unknown>"));
    }

    #[test]
    fn secrets_and_config_maps_count_their_keys() {
        let secret =
            json!({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
        assert_eq!(row("secrets", &secret)[1..3], [json!("kubernetes.io/tls"), json!(2)]);
        let cm = json!({"metadata": {"name": "cfg"}, "data": {"a": "1"}, "binaryData": {"b": ""}});
        assert_eq!(row("configmaps", &cm)[1], json!(2));
    }

    #[test]
    fn a_bound_claim_shows_its_volume_capacity_and_modes() {
        let pvc = json!({
            "metadata": {"name": "data", "creationTimestamp": "2025-06-01T11:00:00Z"},
            "spec": {"volumeName": "pv-1", "storageClassName": "standard", "accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce", "ReadWriteOncePod"]}
        });
        assert_eq!(
            row("persistentvolumeclaims", &pvc),
            [
                json!("data"),
                json!("Bound"),
                json!("pv-1"),
                json!("10Gi"),
                json!("RWO,RWOP"),
                json!("standard"),
                json!("<unset>"),
                json!("60m"),
                json!("Filesystem")
            ]
        );
    }

    #[test]
    fn a_released_volume_being_deleted_is_terminating() {
        let pv = json!({
            "metadata": {"name": "pv-1", "deletionTimestamp": "2025-06-01T11:59:00Z"},
            "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteMany"], "persistentVolumeReclaimPolicy": "Retain", "claimRef": {"namespace": "shop", "name": "data"}},
            "status": {"phase": "Released"}
        });
        let cells = row("persistentvolumes", &pv);
        assert_eq!(
            cells[1..6],
            [json!("5Gi"), json!("RWX"), json!("Retain"), json!("Terminating"), json!("shop/data")]
        );
    }

    #[test]
    fn a_quota_splits_requests_from_limits() {
        let quota = json!({
            "metadata": {"name": "compute"},
            "status": {
                "hard": {"requests.cpu": "2", "limits.memory": "4Gi", "pods": "10", "limits.cpu": "4"},
                "used": {"requests.cpu": "500m", "pods": "3"}
            }
        });
        let cells = row("resourcequotas", &quota);
        assert_eq!(cells[1], json!("pods: 3/10, requests.cpu: 500m/2"));
        assert_eq!(cells[2], json!("limits.cpu: 0/4, limits.memory: 0/4Gi"));
    }

    #[test]
    fn a_pod_template_lists_containers_and_labels_without_an_age() {
        let template = json!({
            "metadata": {"name": "t"},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]}}
        });
        assert_eq!(
            row("podtemplates", &template),
            [json!("t"), json!("app,log"), json!("nginx:1.27,busybox"), json!("app=web")]
        );
    }

    #[test]
    fn limit_ranges_use_the_default_table() {
        let names: Vec<&str> = crate::columns("", "limitranges").iter().map(|c| c.name).collect();
        assert_eq!(names, ["Name", "Created At"]);
    }
}
