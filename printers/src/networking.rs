//! networking.k8s.io/v1 and discovery.k8s.io/v1 printers.

use jiff::Timestamp;
use serde_json::Value;

use crate::age::age;
use crate::core::load_balancer_addresses;
use crate::format::{format_label_selector, list, list_with_more, name, or_none, text};
use crate::{Column, Printer, doc};

/// The printer for a networking or discovery resource.
pub(crate) fn printer(group: &str, resource: &str) -> Option<Printer> {
    let printer = match (group, resource) {
        ("networking.k8s.io", "ingresses") => Printer::new(INGRESS, ingress),
        ("networking.k8s.io", "ingressclasses") => Printer::new(INGRESS_CLASS, ingress_class),
        ("networking.k8s.io", "networkpolicies") => Printer::new(NETWORK_POLICY, network_policy),
        ("discovery.k8s.io", "endpointslices") => Printer::new(ENDPOINT_SLICE, endpoint_slice),
        _ => return None,
    };
    Some(printer)
}

const INGRESS: &[Column] = &[
    Column::name(),
    Column::string("Class", "The name of the IngressClass resource that should be used for additional configuration"),
    Column::string("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
    Column::string("Address", "Address is a list containing ingress points for the load-balancer"),
    Column::string("Ports", "Ports of TLS configurations that open"),
    Column::age(),
];

fn ingress(obj: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &obj["spec"];
    let class = or_none(text(&spec["ingressClassName"]));
    let address = load_balancer_addresses(&obj["status"]["loadBalancer"]).join(",");
    let ports = if list(&spec["tls"]).is_empty() { "80" } else { "80, 443" };
    vec![
        name(obj),
        Value::from(class),
        Value::from(ingress_hosts(list(&spec["rules"]))),
        Value::from(address),
        Value::from(ports),
        age(obj, now),
    ]
}

/// `formatHosts`: the first three non-empty rule hosts, "*" when no rule names one.
fn ingress_hosts(rules: &[Value]) -> String {
    let mut hosts = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == 3 {
            more = true;
            break;
        }
        let host = text(&rule["host"]);
        if !host.is_empty() {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".to_owned();
    }
    // printers.go counts the rules, not the hosts, it leaves out.
    if more { format!("{} + {} more...", hosts.join(","), rules.len() - 3) } else { hosts.join(",") }
}

const INGRESS_CLASS: &[Column] = &[
    Column::name(),
    Column::string("Controller", "Controller that is responsible for handling this class"),
    Column::string("Parameters", "A reference to a resource with additional parameters"),
    Column::age(),
];

fn ingress_class(obj: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &obj["spec"];
    let parameters = &spec["parameters"];
    let parameters = if parameters.is_object() {
        let kind = match parameters["apiGroup"].as_str() {
            Some(group) => format!("{}.{group}", text(&parameters["kind"])),
            None => text(&parameters["kind"]).to_owned(),
        };
        format!("{kind}/{}", text(&parameters["name"]))
    } else {
        "<none>".to_owned()
    };
    vec![name(obj), Value::from(text(&spec["controller"])), Value::from(parameters), age(obj, now)]
}

const NETWORK_POLICY: &[Column] =
    &[Column::name(), Column::string("Pod-Selector", doc::NETWORK_POLICY_SPEC_POD_SELECTOR), Column::age()];

fn network_policy(obj: &Value, now: Timestamp) -> Vec<Value> {
    // The pod selector is not a pointer in Go: an absent one is empty, not nil.
    let selector = &obj["spec"]["podSelector"];
    vec![name(obj), Value::from(format_label_selector(selector)), age(obj, now)]
}

const ENDPOINT_SLICE: &[Column] = &[
    Column::name(),
    Column::string("AddressType", doc::ENDPOINT_SLICE_ADDRESS_TYPE),
    Column::string("Ports", doc::ENDPOINT_SLICE_PORTS),
    Column::string("Endpoints", doc::ENDPOINT_SLICE_ENDPOINTS),
    Column::age(),
];

fn endpoint_slice(obj: &Value, now: Timestamp) -> Vec<Value> {
    let ports: Vec<String> = list(&obj["ports"]).iter().map(slice_port).collect();
    let addresses: Vec<String> =
        list(&obj["endpoints"]).iter().flat_map(|e| list(&e["addresses"]).iter().map(|a| text(a).to_owned())).collect();
    vec![
        name(obj),
        Value::from(text(&obj["addressType"])),
        Value::from(list_with_more(&ports, 3)),
        Value::from(list_with_more(&addresses, 3)),
        age(obj, now),
    ]
}

/// A slice port's number, else its name, else "*" (all ports).
fn slice_port(port: &Value) -> String {
    match (port["port"].as_i64(), port["name"].as_str()) {
        (Some(number), _) => number.to_string(),
        (None, Some(name)) => name.to_owned(),
        (None, None) => "*".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().expect("a valid timestamp")
    }

    #[test]
    fn an_ingress_with_tls_lists_its_hosts_address_and_both_ports() {
        let ingress = json!({
            "metadata": {"name": "shop", "creationTimestamp": "2025-06-01T11:59:00Z"},
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                "rules": [{"host": "shop.example.com"}, {"host": "api.example.com"}]
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}
        });
        assert_eq!(
            crate::cells("networking.k8s.io", "ingresses", &ingress, now()),
            [
                json!("shop"),
                json!("nginx"),
                json!("shop.example.com,api.example.com"),
                json!("203.0.113.10"),
                json!("80, 443"),
                json!("60s")
            ]
        );
    }

    #[test]
    fn an_ingress_without_hosts_or_class_matches_everything() {
        let ingress = json!({"metadata": {"name": "i"}, "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}});
        let cells = crate::cells("networking.k8s.io", "ingresses", &ingress, now());
        assert_eq!(cells[1..5], [json!("<none>"), json!("*"), json!(""), json!("80")]);
    }

    #[test]
    fn an_ingress_with_many_rules_counts_the_rest() {
        let rules: Vec<Value> = (1..=5).map(|i| json!({"host": format!("h{i}.example.com")})).collect();
        let ingress = json!({"metadata": {"name": "i"}, "spec": {"rules": rules}});
        let cells = crate::cells("networking.k8s.io", "ingresses", &ingress, now());
        assert_eq!(cells[2], json!("h1.example.com,h2.example.com,h3.example.com + 2 more..."));
    }

    #[test]
    fn an_ingress_class_names_its_parameters_with_their_group() {
        let class = json!({
            "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx", "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}
        });
        let cells = crate::cells("networking.k8s.io", "ingressclasses", &class, now());
        assert_eq!(
            cells[1..3],
            [json!("k8s.io/ingress-nginx"), json!("IngressParameters.k8s.example.com/external-lb")]
        );
    }

    #[test]
    fn a_network_policy_for_all_pods_has_no_selector() {
        let policy = json!({"metadata": {"name": "deny-all"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}});
        assert_eq!(crate::cells("networking.k8s.io", "networkpolicies", &policy, now())[1], json!("<none>"));
    }

    #[test]
    fn an_endpoint_slice_lists_ports_and_addresses() {
        let slice = json!({
            "metadata": {"name": "web-abc12"},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "metrics"}],
            "endpoints": [{"addresses": ["10.244.1.7"]}, {"addresses": ["10.244.2.3"]}]
        });
        let cells = crate::cells("discovery.k8s.io", "endpointslices", &slice, now());
        assert_eq!(cells[1..4], [json!("IPv4"), json!("8080,metrics"), json!("10.244.1.7,10.244.2.3")]);
        let empty = crate::cells("discovery.k8s.io", "endpointslices", &json!({}), now());
        assert_eq!(empty[2..4], [json!("<unset>"), json!("<unset>")]);
    }
}
