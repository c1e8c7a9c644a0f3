//! rbac.authorization.k8s.io/v1 printers; roles and cluster roles have none and use the default table.

use jiff::Timestamp;
use serde_json::Value;

use crate::age::age;
use crate::format::{list, name, text};
use crate::{Column, Printer, doc};

/// The printer for an RBAC resource.
pub(crate) fn printer(resource: &str) -> Option<Printer> {
    match resource {
        "rolebindings" => Some(Printer { columns: ROLE_BINDING, cells: binding }),
        "clusterrolebindings" => Some(Printer { columns: CLUSTER_ROLE_BINDING, cells: binding }),
        _ => None,
    }
}

const ROLE_BINDING: &[Column] = &[
    Column::name(),
    Column::string("Role", doc::ROLE_BINDING_ROLE_REF),
    Column::age(),
    Column::string("Users", "Users in the roleBinding").wide(),
    Column::string("Groups", "Groups in the roleBinding").wide(),
    Column::string("ServiceAccounts", "ServiceAccounts in the roleBinding").wide(),
];

const CLUSTER_ROLE_BINDING: &[Column] = &[
    Column::name(),
    Column::string("Role", doc::CLUSTER_ROLE_BINDING_ROLE_REF),
    Column::age(),
    Column::string("Users", "Users in the clusterRoleBinding").wide(),
    Column::string("Groups", "Groups in the clusterRoleBinding").wide(),
    Column::string("ServiceAccounts", "ServiceAccounts in the clusterRoleBinding").wide(),
];

/// Role and cluster role bindings print alike: "Kind/name" and the subjects by kind.
fn binding(obj: &Value, now: Timestamp) -> Vec<Value> {
    let role = &obj["roleRef"];
    let role = format!("{}/{}", text(&role["kind"]), text(&role["name"]));
    let (mut users, mut groups, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    for subject in list(&obj["subjects"]) {
        let name = text(&subject["name"]);
        match text(&subject["kind"]) {
            "User" => users.push(name.to_owned()),
            "Group" => groups.push(name.to_owned()),
            "ServiceAccount" => accounts.push(format!("{}/{name}", text(&subject["namespace"]))),
            _ => {}
        }
    }
    vec![
        name(obj),
        Value::from(role),
        age(obj, now),
        Value::from(users.join(", ")),
        Value::from(groups.join(", ")),
        Value::from(accounts.join(", ")),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_cluster_role_binding_sorts_its_subjects_by_kind() {
        let binding = json!({
            "metadata": {"name": "cluster-admin", "creationTimestamp": "2025-06-01T10:00:00Z"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [
                {"kind": "Group", "name": "system:masters"},
                {"kind": "User", "name": "alice"},
                {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"},
                {"kind": "User", "name": "bob"}
            ]
        });
        let now = "2025-06-01T12:00:00Z".parse().expect("a valid timestamp");
        assert_eq!(
            crate::cells("rbac.authorization.k8s.io", "clusterrolebindings", &binding, now),
            [
                json!("cluster-admin"),
                json!("ClusterRole/cluster-admin"),
                json!("120m"),
                json!("alice, bob"),
                json!("system:masters"),
                json!("ci/deployer")
            ]
        );
    }

    #[test]
    fn roles_use_the_default_table() {
        for resource in ["roles", "clusterroles"] {
            let names: Vec<&str> =
                crate::columns("rbac.authorization.k8s.io", resource).iter().map(|c| c.name).collect();
            assert_eq!(names, ["Name", "Created At"]);
        }
    }
}
