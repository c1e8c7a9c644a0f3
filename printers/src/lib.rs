//! Server-side printing: the Table columns and cells kube-apiserver 1.33 returns for `as=Table`.
//!
//! Column sets, names, types and cell computations follow Kubernetes'
//! `pkg/printers/internalversion/printers.go`; resources it has no printer for get the
//! apiserver's default table (`Name`, `Created At`). Cells are always the wide set, because the
//! apiserver generates tables with `Wide: true` and leaves it to kubectl to hide priority-1 columns.

mod age;
mod apps;
mod batch;
mod core;
mod doc;
mod events;
mod format;
mod networking;
mod other;
mod pod;
mod rbac;

use jiff::Timestamp;
use serde_json::Value;

pub use age::{human_duration, human_signed_duration, short_human_duration};

/// One `metav1.TableColumnDefinition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column header as the API sends it ("Name", "Nominated Node"); kubectl upper-cases it.
    pub name: &'static str,
    /// The OpenAPI type of the cells: "string", "integer", "boolean", "date", ...
    pub kind: &'static str,
    /// "name" for the column holding the object's name, "" otherwise.
    pub format: &'static str,
    /// What the column means, usually the documentation of the field it shows.
    pub description: &'static str,
    /// 0 for default columns, 1 for those kubectl shows only with `-o wide`.
    pub priority: i32,
}

impl Column {
    /// The NAME column every printer starts with.
    const fn name() -> Self {
        Self { name: "Name", kind: "string", format: "name", description: doc::META_NAME, priority: 0 }
    }

    /// The AGE column; printers.go declares it "string" because its cells are already "5m".
    const fn age() -> Self {
        Self::string("Age", doc::META_CREATION_TIMESTAMP)
    }

    /// A column of strings.
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self { name, kind: "string", format: "", description, priority: 0 }
    }

    /// A column of integers.
    const fn integer(name: &'static str, description: &'static str) -> Self {
        Self { name, kind: "integer", format: "", description, priority: 0 }
    }

    /// A column of booleans.
    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self { name, kind: "boolean", format: "", description, priority: 0 }
    }

    /// The same column shown only with `-o wide`.
    const fn wide(self) -> Self {
        Self { priority: 1, ..self }
    }
}

/// How a printer computes the cells of one row.
type Cells = fn(&Value, Timestamp) -> Vec<Value>;

/// A printer: its column definitions and how it computes one row.
#[derive(Clone, Copy)]
struct Printer {
    columns: &'static [Column],
    cells: Cells,
}

impl Printer {
    const fn new(columns: &'static [Column], cells: Cells) -> Self {
        Self { columns, cells }
    }
}

/// The apiserver's default table, for resources printers.go has no handler for.
const DEFAULT_COLUMNS: &[Column] = &[
    Column::name(),
    Column { name: "Created At", kind: "date", format: "", description: doc::META_CREATION_TIMESTAMP, priority: 0 },
];

/// The default table's cells: the name and the creation time in RFC 3339, not an age.
fn default_cells(obj: &Value, _now: Timestamp) -> Vec<Value> {
    let created = age::parse_time(&obj["metadata"]["creationTimestamp"])
        .map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), |t| whole_seconds(t).to_string());
    vec![format::name(obj), Value::from(created)]
}

/// Go formats `time.RFC3339` without fractional seconds.
fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

const DEFAULT: Printer = Printer { columns: DEFAULT_COLUMNS, cells: default_cells };

/// The printer for a group and plural resource name.
fn printer(group: &str, resource: &str) -> Printer {
    let found = match group {
        "" => core::printer(resource),
        "apps" => apps::printer(resource),
        "batch" => batch::printer(resource),
        "events.k8s.io" => events::printer(resource),
        "rbac.authorization.k8s.io" => rbac::printer(resource),
        "networking.k8s.io" | "discovery.k8s.io" => networking::printer(group, resource),
        _ => other::printer(group, resource),
    };
    found.unwrap_or(DEFAULT)
}

/// Columns for a resource (group "" for core, plural resource name). NAME is the first column,
/// except for events, which lead with LAST SEEN. Unknown resources get the default table
/// (`Name`, `Created At`).
pub fn columns(group: &str, resource: &str) -> Vec<Column> {
    printer(group, resource).columns.to_vec()
}

/// Cells for one object (its full JSON), same length and order as [`columns`].
pub fn cells(group: &str, resource: &str, obj: &Value, now: Timestamp) -> Vec<Value> {
    (printer(group, resource).cells)(obj, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every printer, to check that each row matches its header.
    const PRINTED: &[(&str, &str)] = &[
        ("", "pods"),
        ("", "services"),
        ("", "endpoints"),
        ("", "namespaces"),
        ("", "nodes"),
        ("", "configmaps"),
        ("", "secrets"),
        ("", "serviceaccounts"),
        ("", "events"),
        ("", "persistentvolumes"),
        ("", "persistentvolumeclaims"),
        ("", "resourcequotas"),
        ("", "limitranges"),
        ("", "replicationcontrollers"),
        ("", "podtemplates"),
        ("events.k8s.io", "events"),
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "daemonsets"),
        ("apps", "statefulsets"),
        ("apps", "controllerrevisions"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("networking.k8s.io", "ingresses"),
        ("networking.k8s.io", "ingressclasses"),
        ("networking.k8s.io", "networkpolicies"),
        ("discovery.k8s.io", "endpointslices"),
        ("coordination.k8s.io", "leases"),
        ("storage.k8s.io", "storageclasses"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("policy", "poddisruptionbudgets"),
        ("scheduling.k8s.io", "priorityclasses"),
        ("node.k8s.io", "runtimeclasses"),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
        ("example.com", "widgets"),
    ];

    #[test]
    fn every_row_has_one_cell_per_column_even_for_an_empty_object() {
        for (group, resource) in PRINTED {
            let columns = columns(group, resource);
            let cells = cells(group, resource, &json!({}), Timestamp::UNIX_EPOCH);
            assert_eq!(columns.len(), cells.len(), "{group}/{resource}");
        }
    }

    #[test]
    fn every_table_has_exactly_one_name_column() {
        for (group, resource) in PRINTED {
            let named = columns(group, resource).iter().filter(|c| c.format == "name").count();
            assert_eq!(named, 1, "{group}/{resource}");
        }
    }

    #[test]
    fn unknown_resources_get_the_default_table_with_an_rfc3339_creation_time() {
        let columns = columns("example.com", "widgets");
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        assert_eq!(names, ["Name", "Created At"]);
        assert_eq!(columns[1].kind, "date");
        let widget = json!({"metadata": {"name": "w1", "creationTimestamp": "2025-03-01T10:00:00.5Z"}});
        let row = cells("example.com", "widgets", &widget, Timestamp::UNIX_EPOCH);
        assert_eq!(row, [json!("w1"), json!("2025-03-01T10:00:00Z")]);
    }

    #[test]
    fn custom_resource_definitions_print_their_creation_time() {
        let crd = json!({"metadata": {"name": "widgets.example.com", "creationTimestamp": "2025-03-01T10:00:00Z"}});
        let row = cells("apiextensions.k8s.io", "customresourcedefinitions", &crd, Timestamp::UNIX_EPOCH);
        assert_eq!(row[1], json!("2025-03-01T10:00:00Z"));
    }
}
