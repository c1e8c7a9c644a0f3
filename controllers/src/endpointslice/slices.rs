//! The EndpointSlices a Service should have: one endpoint per selected pod with an IP, its
//! conditions and resolved ports, in slices of at most 100 (the EndpointSlice reconciler).

use super::layout::{self, Group, GroupKey, Shape};
use super::pods;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::collections::BTreeMap;

pub use super::layout::SliceAction;

/// Label naming the Service a slice belongs to.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Label naming the controller that manages a slice.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's value of [`MANAGED_BY_LABEL`].
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// Label on the slices and Endpoints of a Service without a cluster IP.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// Endpoints per slice (kube-controller-manager's --max-endpoints-per-slice default).
pub const MAX_ENDPOINTS: usize = 100;

/// The writes that make the Service's slices list exactly its selected pods. `existing` are
/// the slices labelled for this Service and managed by this controller; `zone_of` gives a
/// node's topology.kubernetes.io/zone.
pub fn plan(
    svc: &Service,
    selected: &[&Pod],
    zone_of: &dyn Fn(&str) -> Option<String>,
    existing: &[&EndpointSlice],
) -> Vec<SliceAction> {
    let family = pods::families(svc).remove(0);
    layout::layout(&shape(svc), desired(svc, selected, zone_of), existing, Some(&family))
}

fn shape(svc: &Service) -> Shape {
    Shape {
        namespace: svc.metadata.namespace.clone(),
        generate_name: format!("{}-", svc.metadata.name.as_deref().unwrap_or_default()),
        labels: labels(svc),
        annotations: None,
        owner: owner_reference(svc),
        max_endpoints: MAX_ENDPOINTS,
    }
}

/// The endpoints the Service should list, grouped by address type and resolved ports.
/// Terminating pods are listed (with terminating true), as the EndpointSlice controller does.
fn desired(svc: &Service, selected: &[&Pod], zone_of: &dyn Fn(&str) -> Option<String>) -> BTreeMap<GroupKey, Group> {
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    for pod in selected.iter().filter(|p| pods::belongs_in_endpoints(p, true)) {
        let ports = endpoint_ports(svc, pod);
        for family in pods::families(svc) {
            let Some(ip) = pods::ip_of_family(pod, &family) else { continue };
            let key = (family.clone(), ports.iter().map(layout::port_key).collect());
            let group = groups.entry(key).or_insert_with(|| Group { ports: ports.clone(), ..Default::default() });
            let e = endpoint(svc, pod, ip, zone_of);
            if let Some(id) = layout::endpoint_id(&e) {
                group.endpoints.insert(id, e);
            }
        }
    }
    groups
}

/// The Service's ports as this pod serves them; ports the pod cannot resolve are left out.
fn endpoint_ports(svc: &Service, pod: &Pod) -> Vec<EndpointPort> {
    pods::service_ports(svc)
        .iter()
        .filter_map(|sp| {
            let port = pods::find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(port),
                protocol: Some(pods::protocol(sp.protocol.as_deref()).to_string()),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

/// One pod's endpoint: ready means serving and not terminating, unless the Service
/// publishes not-ready addresses, which makes every endpoint ready and serving.
fn endpoint(svc: &Service, pod: &Pod, ip: String, zone_of: &dyn Fn(&str) -> Option<String>) -> Endpoint {
    let publish = pods::publishes_not_ready(svc);
    let terminating = pods::is_terminating(pod);
    let serving = publish || pods::is_ready(pod);
    let node_name = pods::node_name(pod);
    Endpoint {
        addresses: vec![ip],
        conditions: Some(EndpointConditions {
            ready: Some(publish || (serving && !terminating)),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: pods::hostname_for(pod, svc),
        zone: node_name.as_deref().and_then(zone_of),
        node_name,
        target_ref: Some(pods::target_ref(pod)),
        ..Default::default()
    }
}

/// The Service's labels (less the reserved ones), the headless label when it has no cluster
/// IP, and the two labels that tie the slice to the Service and this controller.
pub fn labels(svc: &Service) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = svc.metadata.labels.clone().unwrap_or_default();
    l.retain(|k, _| k != SERVICE_NAME_LABEL && k != MANAGED_BY_LABEL);
    set_headless_label(svc, &mut l);
    l.insert(SERVICE_NAME_LABEL.into(), svc.metadata.name.clone().unwrap_or_default());
    l.insert(MANAGED_BY_LABEL.into(), CONTROLLER_NAME.into());
    l
}

/// Adds [`HEADLESS_LABEL`] when the Service has no cluster IP, removes it otherwise.
pub fn set_headless_label(svc: &Service, labels: &mut BTreeMap<String, String>) {
    let ip = svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).unwrap_or_default();
    if ip.is_empty() || ip == "None" {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }
}

fn owner_reference(svc: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: svc.metadata.name.clone().unwrap_or_default(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

#[cfg(test)]
#[path = "slices_tests.rs"]
mod tests;
