//! Apply conflicts and how Kubernetes words them
//! (k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::Operation;
use super::entries::Entry;
use super::fieldpath::{FieldSet, Path};

/// A field the applier would change that another manager owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The owner's manager name.
    pub manager: String,
    /// How the owner last wrote the field.
    pub operation: Operation,
    /// The version the owner wrote (shown for Update owners only).
    pub api_version: String,
    /// The subresource the owner wrote through, or "".
    pub subresource: String,
    /// The field, e.g. `.spec.template.spec.containers[name="web"].image`.
    pub field: String,
}

impl Conflict {
    /// The owner as Kubernetes prints it: `"kubectl"`, `"kubectl" with subresource
    /// "scale" using apps/v1`; Update owners name the version they wrote.
    pub fn owner(&self) -> String {
        let mut owner = quote(&self.manager);
        if !self.subresource.is_empty() {
            owner = format!("{owner} with subresource {}", quote(&self.subresource));
        }
        match self.operation {
            Operation::Update => format!("{owner} using {}", self.api_version),
            Operation::Apply => owner,
        }
    }

    /// The message of this conflict's StatusCause (type `FieldManagerConflict`, field
    /// [`Conflict::field`]): `conflict with "kubectl" using apps/v1`.
    pub fn cause_message(&self) -> String {
        format!("conflict with {}", self.owner())
    }

    /// Kubernetes' manager identifier, by which conflicts are grouped and sorted.
    fn identifier(&self) -> String {
        let mut map = Map::new();
        map.insert("manager".into(), self.manager.clone().into());
        map.insert("operation".into(), self.operation.as_str().into());
        if self.operation == Operation::Update {
            map.insert("apiVersion".into(), self.api_version.clone().into());
        }
        if !self.subresource.is_empty() {
            map.insert("subresource".into(), self.subresource.clone().into());
        }
        Value::Object(map).to_string()
    }
}

fn quote(text: &str) -> String {
    Value::from(text).to_string()
}

/// The 409 message: `Apply failed with 1 conflict: conflict with "m" using apps/v1:
/// .spec.replicas`, or for several, one `conflicts with ...:` block per owner listing
/// `- <field>` lines.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!("Apply failed with 1 conflict: conflict with {}: {}", only.owner(), only.field);
    }
    let mut owners: Vec<(String, &Conflict)> = conflicts.iter().map(|c| (c.identifier(), c)).collect();
    owners.sort_by(|a, b| a.0.cmp(&b.0));
    owners.dedup_by(|a, b| a.0 == b.0);
    let mut lines = Vec::new();
    for (identifier, first) in owners {
        lines.push(format!("conflicts with {}:", first.owner()));
        let fields = conflicts.iter().filter(|c| c.identifier() == identifier);
        lines.extend(fields.map(|c| format!("- {}", c.field)));
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

/// The conflicts of the fields `changed` with the owners in `entries`, owners in
/// identifier order, fields in structured-merge-diff's iteration order.
pub(crate) fn find(entries: &[Entry], changed: &FieldSet) -> Vec<Conflict> {
    let mut conflicts = Vec::new();
    for entry in entries {
        let owned = entry.fields.intersection(changed);
        let mut paths: Vec<&Path> = owned.iter().collect();
        paths.sort_by(|a, b| iteration_order(a, b));
        conflicts.extend(paths.into_iter().map(|path| Conflict {
            manager: entry.manager.clone(),
            operation: entry.operation,
            api_version: entry.api_version.clone(),
            subresource: entry.subresource.clone(),
            field: path.to_string(),
        }));
    }
    conflicts.sort_by_key(Conflict::identifier);
    conflicts
}

/// structured-merge-diff visits a set level by level: at each level the owned leaves
/// first, then the children, each in element order.
fn iteration_order(a: &Path, b: &Path) -> Ordering {
    let common = a.0.iter().zip(&b.0).take_while(|(x, y)| x == y).count();
    let leaf = |p: &Path| p.0.len() == common + 1;
    match (a.0.get(common), b.0.get(common)) {
        (Some(x), Some(y)) => leaf(b).cmp(&leaf(a)).then_with(|| x.cmp(y)),
        _ => a.0.len().cmp(&b.0.len()),
    }
}
