//! `metadata.managedFields`: decoding, keeping and re-encoding its entries
//! (k8s.io/apimachinery/pkg/util/managedfields/internal: managedfields.go).

use serde_json::{Map, Value};

use super::Operation;
use super::fieldpath::{FieldSet, Path};

/// One `managedFields` entry: who owns which fields.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub manager: String,
    pub operation: Operation,
    /// For an Apply entry, the version of its last apply; it is not part of its identity.
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: String,
    pub fields: FieldSet,
}

impl Entry {
    /// Whether this is the entry of `manager` doing `operation` through `subresource`
    /// (at `api_version`, for updates): Kubernetes' manager identifier.
    pub(crate) fn is(&self, manager: &str, operation: Operation, api_version: &str, subresource: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource == subresource
            && (operation == Operation::Apply || self.api_version == api_version)
    }

    fn decode(value: &Value) -> Result<Entry, String> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        let operation = match text("operation").as_str() {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            _ => return Err("operation must be `Apply` or `Update`".into()),
        };
        if text("apiVersion").is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        if text("fieldsType") != "FieldsV1" {
            return Err(format!("invalid fieldsType {:?}", text("fieldsType")));
        }
        let fields = value.get("fieldsV1").map_or_else(|| Ok(FieldSet::new()), FieldSet::from_fields_v1)?;
        let time = value.get("time").and_then(Value::as_str).map(str::to_string);
        Ok(Entry {
            manager: text("manager"),
            operation,
            api_version: text("apiVersion"),
            time,
            subresource: text("subresource"),
            fields,
        })
    }

    /// The entry in Kubernetes' field order.
    fn encode(&self) -> Value {
        let mut map = Map::new();
        map.insert("manager".into(), self.manager.clone().into());
        map.insert("operation".into(), self.operation.as_str().into());
        map.insert("apiVersion".into(), self.api_version.clone().into());
        if let Some(time) = &self.time {
            map.insert("time".into(), time.clone().into());
        }
        map.insert("fieldsType".into(), "FieldsV1".into());
        map.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if !self.subresource.is_empty() {
            map.insert("subresource".into(), self.subresource.clone().into());
        }
        Value::Object(map)
    }
}

/// The entries of one object.
#[derive(Clone, Debug, Default)]
pub(crate) struct Entries(pub Vec<Entry>);

/// Fields the API server manages itself and nobody owns (the strip set of
/// managedfields' stripMetaManager); `apiVersion` and `kind` are not fields at all.
const UNTRACKED: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "metadata.name",
    "metadata.namespace",
    "metadata.creationTimestamp",
    "metadata.selfLink",
    "metadata.uid",
    "metadata.clusterName",
    "metadata.generation",
    "metadata.managedFields",
    "metadata.resourceVersion",
];

/// The set without the untracked fields.
pub(crate) fn strip_untracked(mut set: FieldSet) -> FieldSet {
    for dotted in UNTRACKED {
        set.remove(&Path::fields(dotted));
    }
    set
}

impl Entries {
    /// Decodes a `managedFields` list; a missing or null list has no entries.
    pub(crate) fn decode(list: Option<&Value>) -> Result<Entries, String> {
        let items = match list {
            None | Some(Value::Null) => return Ok(Entries::default()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err("managedFields must be a list".into()),
        };
        let mut entries = Entries::default();
        for item in items {
            entries.replace(Entry::decode(item)?);
        }
        Ok(entries)
    }

    /// The entries stored in an object, or none if they cannot be decoded (as Kubernetes
    /// does for a live object, rather than failing the write).
    pub(crate) fn of(object: &Value) -> Entries {
        Entries::decode(managed_fields(object)).unwrap_or_default()
    }

    /// Adds an entry, replacing one with the same identity.
    fn replace(&mut self, entry: Entry) {
        let (manager, op, version, sub) = (&entry.manager, entry.operation, &entry.api_version, &entry.subresource);
        self.0.retain(|e| !e.is(manager, op, version, sub));
        self.0.push(entry);
    }

    /// Takes out the entry of this identity.
    pub(crate) fn take(
        &mut self,
        manager: &str,
        operation: Operation,
        api_version: &str,
        subresource: &str,
    ) -> Option<Entry> {
        let position = self.0.iter().position(|e| e.is(manager, operation, api_version, subresource))?;
        Some(self.0.remove(position))
    }

    /// Everything any entry owns.
    pub(crate) fn owned(&self) -> FieldSet {
        self.0.iter().fold(FieldSet::new(), |all, entry| all.union(&entry.fields))
    }

    /// Nobody owns these fields any more (they are gone from the object).
    pub(crate) fn disown(&mut self, fields: &FieldSet) {
        for entry in &mut self.0 {
            entry.fields = entry.fields.difference(fields);
        }
    }

    /// Writes the entries into `metadata.managedFields`, dropping empty ones and sorting
    /// as Kubernetes does: Apply entries first, then by time, manager, version, subresource.
    pub(crate) fn write(mut self, object: &mut Value) {
        self.0.retain(|entry| !entry.fields.is_empty());
        self.0.sort_by(|a, b| {
            let key = |e: &Entry| (e.operation != Operation::Apply, e.time.clone().unwrap_or_default());
            key(a)
                .cmp(&key(b))
                .then_with(|| a.manager.cmp(&b.manager))
                .then_with(|| a.api_version.cmp(&b.api_version))
                .then_with(|| a.subresource.cmp(&b.subresource))
        });
        let Value::Object(root) = object else {
            return;
        };
        if self.0.is_empty() {
            if let Some(Value::Object(metadata)) = root.get_mut("metadata") {
                metadata.shift_remove("managedFields");
            }
            return;
        }
        let metadata = root.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(metadata) = metadata {
            metadata.insert("managedFields".into(), Value::Array(self.0.iter().map(Entry::encode).collect()));
        }
    }
}

/// `metadata.managedFields` of an object.
pub(crate) fn managed_fields(object: &Value) -> Option<&Value> {
    object.get("metadata")?.get("managedFields")
}

/// The object without `metadata.managedFields`.
pub(crate) fn without_managed_fields(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        metadata.shift_remove("managedFields");
    }
    object
}
