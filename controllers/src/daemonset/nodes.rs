//! Which nodes a DaemonSet's pods belong on: nodeName, nodeSelector, required node affinity
//! and taints against tolerations, with the tolerations Kubernetes gives every daemon pod.

use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, Taint,
    Toleration,
};

/// Tolerations every daemon pod gets (Kubernetes' AddOrUpdateDaemonPodTolerations), so
/// daemons keep running on nodes that are not ready, under pressure or cordoned.
const AUTO_TOLERATIONS: &[(&str, &str)] = &[
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
];
const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";

fn exists(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    }
}

/// Adds the daemon tolerations a pod spec lacks (network-unavailable for hostNetwork pods).
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    let host_network = spec.host_network == Some(true);
    let extra = host_network.then_some((NETWORK_UNAVAILABLE, "NoSchedule"));
    let tolerations = spec.tolerations.get_or_insert_default();
    for (key, effect) in AUTO_TOLERATIONS.iter().copied().chain(extra) {
        let t = exists(key, effect);
        let same =
            |o: &Toleration| o.key == t.key && o.effect == t.effect && o.operator == t.operator && o.value == t.value;
        if !tolerations.iter().any(same) {
            tolerations.push(t);
        }
    }
}

/// Kubernetes' ToleratesTaint.
fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    let effect_ok = t.effect.as_deref().is_none_or(|e| e.is_empty() || e == taint.effect);
    let key_ok = t.key.as_deref().is_none_or(|k| k.is_empty() || k == taint.key);
    let value_ok = match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => t.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default(),
        _ => false,
    };
    effect_ok && key_ok && value_ok
}

/// Whether some taint with an effect `effects` accepts is tolerated by none of `tolerations`.
fn untolerated(taints: &[Taint], tolerations: &[Toleration], effects: &[&str]) -> bool {
    taints
        .iter()
        .filter(|t| effects.contains(&t.effect.as_str()))
        .any(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    let num = |s: &str| s.parse::<i64>().ok();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (value.and_then(num), values.first().and_then(|b| num(b))) else {
                return false;
            };
            if r.operator == "Gt" { v > bound } else { v < bound }
        }
        _ => false,
    }
}

/// A term matches when all its expressions and fields do; an empty term matches nothing.
fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref();
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs.iter().all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields.iter().all(|r| r.key == "metadata.name" && requirement_matches(r, name))
}

/// Kubernetes' GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required terms.
fn fits_affinity(spec: &PodSpec, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let by_selector = spec.node_selector.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref());
    by_selector && required.is_none_or(|ns| ns.node_selector_terms.iter().any(|t| term_matches(t, node)))
}

/// Kubernetes' NodeShouldRunDaemonPod: (should run a new pod, may keep a running one).
/// A pod may keep running on a node whose new taints are only NoSchedule.
pub fn should_run(template: &PodSpec, node: &Node) -> (bool, bool) {
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    if template.node_name.as_deref().is_some_and(|n| !n.is_empty() && n != node_name) {
        return (false, false);
    }
    if !fits_affinity(template, node) {
        return (false, false);
    }
    let mut spec = template.clone();
    add_daemon_tolerations(&mut spec);
    let tolerations = spec.tolerations.unwrap_or_default();
    let taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    if untolerated(&taints, &tolerations, &["NoSchedule", "NoExecute"]) {
        return (false, !untolerated(&taints, &tolerations, &["NoExecute"]));
    }
    (true, true)
}

/// Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity: the pod may only go to `node`
/// (the scheduler then binds it there).
pub fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let term = NodeSelectorTerm {
        match_fields: Some(vec![NodeSelectorRequirement {
            key: "metadata.name".into(),
            operator: "In".into(),
            values: Some(vec![node.into()]),
        }]),
        match_expressions: None,
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let na = affinity.node_affinity.get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(NodeSelector { node_selector_terms: vec![term] });
}

/// The node a daemon pod is for: its nodeName, else the node its affinity pins it to.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms.iter().flat_map(|t| t.match_fields.iter().flatten()).find_map(|r| {
        let values = r.values.as_deref().unwrap_or_default();
        (r.key == "metadata.name" && r.operator == "In" && values.len() == 1).then(|| values[0].clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, labels: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}}))
            .unwrap()
    }

    fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_node_selector_limits_the_nodes() {
        let s = spec(json!({"containers": [], "nodeSelector": {"disk": "ssd"}}));
        assert_eq!(should_run(&s, &node("a", json!({"disk": "ssd"}), json!([]))), (true, true));
        assert_eq!(should_run(&s, &node("b", json!({}), json!([]))), (false, false));
    }

    #[test]
    fn required_node_affinity_terms_are_ored_and_expressions_anded() {
        let s = spec(
            json!({"containers": [], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}, {"key": "cpus", "operator": "Gt", "values": ["4"]}]},
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["special"]}]}
            ]}}}}),
        );
        assert!(should_run(&s, &node("x", json!({"zone": "a", "cpus": "8"}), json!([]))).0);
        assert!(!should_run(&s, &node("x", json!({"zone": "a", "cpus": "2"}), json!([]))).0);
        assert!(should_run(&s, &node("special", json!({}), json!([]))).0);
    }

    #[test]
    fn an_untolerated_no_schedule_taint_keeps_new_pods_off_but_running_ones_on() {
        let s = spec(json!({"containers": []}));
        let n = node("m", json!({}), json!([{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]));
        assert_eq!(should_run(&s, &n), (false, true));
        let n = node("m", json!({}), json!([{"key": "dedicated", "value": "x", "effect": "NoExecute"}]));
        assert_eq!(should_run(&s, &n), (false, false));
    }

    #[test]
    fn a_tolerated_master_taint_lets_the_daemon_run() {
        let s = spec(
            json!({"containers": [], "tolerations": [{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]}),
        );
        let n = node("m", json!({}), json!([{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]));
        assert_eq!(should_run(&s, &n), (true, true));
    }

    #[test]
    fn daemon_pods_tolerate_not_ready_unreachable_and_cordoned_nodes() {
        let s = spec(json!({"containers": []}));
        let n = node(
            "a",
            json!({}),
            json!([
                {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
                {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
            ]),
        );
        assert_eq!(should_run(&s, &n), (true, true));
        let n = node("a", json!({}), json!([{"key": NETWORK_UNAVAILABLE, "effect": "NoSchedule"}]));
        assert!(!should_run(&s, &n).0);
        let host = spec(json!({"containers": [], "hostNetwork": true}));
        assert!(should_run(&host, &n).0);
    }

    #[test]
    fn a_pinned_pod_names_its_target_node() {
        let mut s = spec(
            json!({"containers": [], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "Exists"}]}]}}}}),
        );
        pin_to_node(&mut s, "n1");
        let pod = Pod { spec: Some(s), ..Default::default() };
        assert_eq!(target_node(&pod).as_deref(), Some("n1"));
        let terms = &pod
            .spec
            .unwrap()
            .affinity
            .unwrap()
            .node_affinity
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .unwrap()
            .node_selector_terms;
        assert_eq!(terms.len(), 1, "the template's terms are replaced, as Kubernetes does");
    }
}
