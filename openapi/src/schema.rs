//! Collects the component schemas of one document from k8s-openapi's schemars impls.
//!
//! k8s-openapi already names its schemas the way Kubernetes does
//! ("io.k8s.api.apps.v1.Deployment"), so no renaming is needed: the generator's
//! definitions path decides whether refs point at `#/definitions/` (v2) or
//! `#/components/schemas/` (v3). What k8s-openapi lacks is added here: the
//! `x-kubernetes-group-version-kind` extension, the list kinds, the list/patch
//! extensions (see `extensions`) and a schema for kinds without a Rust type.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use schemars::generate::SchemaSettings;
use schemars::transform::{RemoveRefSiblings, Transform};
use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::extensions;
use crate::kinds::{self, Gvk};

/// Which OpenAPI flavour a document is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Swagger 2.0, served at /openapi/v2.
    V2,
    /// OpenAPI 3.0, served at /openapi/v3/<group-version>.
    V3,
}

impl Format {
    fn definitions_path(self) -> &'static str {
        match self {
            Format::V2 => "/definitions",
            Format::V3 => "/components/schemas",
        }
    }

    /// A `$ref` schema pointing at the named definition.
    pub(crate) fn reference(self, name: &str) -> Value {
        json!({ "$ref": format!("#{}/{name}", self.definitions_path()) })
    }
}

pub(crate) const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
pub(crate) const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
pub(crate) const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
pub(crate) const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
pub(crate) const RESOURCE_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// The schemas one document needs, gathered as its operations are built.
pub(crate) struct Schemas {
    generator: SchemaGenerator,
    format: Format,
    /// Definition name -> the (group, version, kind)s of its `x-kubernetes-group-version-kind`.
    gvks: BTreeMap<String, BTreeSet<(String, String, String)>>,
    /// List kinds to synthesize: list definition name -> (list kind, item definition name).
    lists: BTreeMap<String, (String, String)>,
    /// Kinds without a Rust type (custom resources): definition name -> GVK.
    untyped: BTreeMap<String, Gvk<'static>>,
}

impl Schemas {
    pub(crate) fn new(format: Format) -> Self {
        let settings = SchemaSettings::openapi3().with(|s| {
            s.definitions_path = format.definitions_path().into();
            // Transforms run explicitly in `finish`, so the raw k8s-openapi output is kept.
            s.transforms.clear();
        });
        let mut schemas = Schemas {
            generator: settings.into_generator(),
            format,
            gvks: BTreeMap::new(),
            lists: BTreeMap::new(),
            untyped: BTreeMap::new(),
        };
        schemas.add_meta();
        schemas
    }

    /// The meta types every document's operations refer to.
    fn add_meta(&mut self) {
        self.generator.subschema_for::<meta::Status>();
        self.generator.subschema_for::<meta::DeleteOptions>();
        self.generator.subschema_for::<meta::Patch>();
        self.generator.subschema_for::<meta::WatchEvent<meta::Status>>();
        self.generator.subschema_for::<meta::APIResourceList>();
        self.tag(STATUS, meta_gvk("", "v1", "Status"));
    }

    /// Tags a meta type (DeleteOptions, WatchEvent) as a kind of this group-version, like
    /// Kubernetes does for every group-version it serves.
    pub(crate) fn tag_meta_for(&mut self, group: &'static str, version: &'static str) {
        self.tag(DELETE_OPTIONS, meta_gvk(group, version, "DeleteOptions"));
        self.tag(WATCH_EVENT, meta_gvk(group, version, "WatchEvent"));
    }

    fn tag(&mut self, name: &str, gvk: Gvk<'_>) {
        let gvk = (gvk.group.into(), gvk.version.into(), gvk.kind.into());
        self.gvks.entry(name.to_owned()).or_default().insert(gvk);
    }

    /// Adds a kind's schema (and all it reaches) and returns its definition name.
    pub(crate) fn kind(&mut self, gvk: Gvk<'static>) -> String {
        let name = match kinds::lookup(gvk) {
            Some(typed) => {
                (typed.add)(&mut self.generator);
                (typed.name)().into_owned()
            }
            None => {
                let name = untyped_name(gvk);
                self.untyped.insert(name.clone(), gvk);
                name
            }
        };
        self.tag(&name, gvk);
        name
    }

    /// Adds the `<Kind>List` schema for a kind and returns its definition name.
    pub(crate) fn list(&mut self, gvk: Gvk<'static>) -> String {
        let item = self.kind(gvk);
        let name = format!("{item}List");
        let kind = format!("{}List", gvk.kind);
        self.generator.subschema_for::<meta::ListMeta>();
        self.tag(&name, Gvk { kind: &kind, ..gvk });
        self.lists.insert(name.clone(), (kind, item));
        name
    }

    /// Whether k8s-openapi has a type (and so a full schema) for this kind.
    pub(crate) fn is_typed(gvk: Gvk<'_>) -> bool {
        kinds::lookup(gvk).is_some()
    }

    /// The finished `definitions` / `components.schemas` map, sorted by name.
    pub(crate) fn finish(mut self) -> Map<String, Value> {
        let mut definitions = self.generator.take_definitions(false);
        for (name, (kind, item)) in &self.lists {
            definitions.insert(name.clone(), list_schema(self.format, kind, item));
        }
        if !self.untyped.is_empty() {
            self.generator.subschema_for::<meta::ObjectMeta>();
            definitions.extend(self.generator.take_definitions(false));
            for (name, gvk) in &self.untyped {
                definitions.insert(name.clone(), untyped_schema(self.format, *gvk));
            }
        }
        extensions::apply(&mut definitions);
        for (name, gvks) in &self.gvks {
            if let Some(Value::Object(schema)) = definitions.get_mut(name) {
                let list = gvks.iter().map(|(group, version, kind)| gvk_value(&Gvk { group, version, kind })).collect();
                schema.insert("x-kubernetes-group-version-kind".into(), Value::Array(list));
            }
        }
        if self.format == Format::V3 {
            // OpenAPI 3.0 ignores siblings of `$ref`, so Kubernetes wraps such refs in
            // `allOf` to keep their descriptions and extensions; kubectl explain reads them there.
            definitions.values_mut().for_each(remove_ref_siblings);
        }
        definitions.sort_keys();
        definitions
    }
}

fn remove_ref_siblings(value: &mut Value) {
    if let Ok(schema) = <&mut Schema>::try_from(value) {
        RemoveRefSiblings::default().transform(schema);
    }
}

fn meta_gvk(group: &'static str, version: &'static str, kind: &'static str) -> Gvk<'static> {
    Gvk { group, version, kind }
}

/// The extension value Kubernetes uses for a GVK, both on schemas (in a list) and operations.
pub(crate) fn gvk_value(gvk: &Gvk<'_>) -> Value {
    json!({ "group": gvk.group, "kind": gvk.kind, "version": gvk.version })
}

/// Kubernetes names custom resource schemas by the reversed group: "com.example.v1.Widget".
fn untyped_name(gvk: Gvk<'_>) -> String {
    let group = if gvk.group.is_empty() {
        "io.k8s.api.core".to_owned()
    } else {
        gvk.group.rsplit('.').collect::<Vec<_>>().join(".")
    };
    format!("{group}.{}.{}", gvk.version, gvk.kind)
}

fn type_meta() -> (Value, Value) {
    let api_version = json!({
        "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
        "type": "string",
    });
    let kind = json!({
        "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
        "type": "string",
    });
    (api_version, kind)
}

/// A schema like `<Kind>List`, which k8s-openapi models as the generic `List<T>` without a schema.
fn list_schema(format: Format, list_kind: &str, item: &str) -> Value {
    let (api_version, kind) = type_meta();
    let item_kind = list_kind.strip_suffix("List").unwrap_or(list_kind);
    let mut metadata = format.reference(LIST_META);
    metadata["description"] = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata".into();
    json!({
        "description": format!("{list_kind} is a list of {item_kind} objects."),
        "type": "object",
        "properties": {
            "apiVersion": api_version,
            "items": {
                "description": format!("List of {item_kind} objects."),
                "type": "array",
                "items": format.reference(item),
            },
            "kind": kind,
            "metadata": metadata,
        },
        "required": ["items"],
    })
}

/// An open schema for a kind we have no Rust type for: known envelope, anything inside.
fn untyped_schema(format: Format, gvk: Gvk<'_>) -> Value {
    let (api_version, kind) = type_meta();
    let mut metadata = format.reference(OBJECT_META);
    metadata["description"] = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata".into();
    json!({
        "description": format!("{} of {}.", gvk.kind, group_version(gvk)),
        "type": "object",
        "properties": {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": metadata,
        },
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

fn group_version(gvk: Gvk<'_>) -> String {
    if gvk.group.is_empty() { gvk.version.to_owned() } else { format!("{}/{}", gvk.group, gvk.version) }
}

/// Every definition a document built from these kinds would hold; used by tests.
#[cfg(test)]
pub(crate) fn definitions_for_all_kinds(format: Format) -> Map<String, Value> {
    let mut schemas = Schemas::new(format);
    for kind in kinds::all() {
        schemas.list(kind.gvk);
    }
    schemas.finish()
}
