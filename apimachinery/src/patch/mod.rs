//! The patch formats the API server accepts on PATCH, applied to `serde_json::Value`s.
//!
//! * [`json_patch`]: RFC 6902 operations (`application/json-patch+json`).
//! * [`merge_patch`]: RFC 7386 JSON merge patch (`application/merge-patch+json`).
//! * [`strategic_merge_patch`]: Kubernetes' strategic merge patch
//!   (`application/strategic-merge-patch+json`), driven by the table in `schema`.
//!
//! Server-side apply (`application/apply-patch+yaml`) is only recognised here; it is
//! applied by [`crate::managed_fields::apply`].

pub(crate) mod schema;
mod strategic;

use serde_json::Value;

pub use strategic::strategic_merge_patch;

/// Which patch format a PATCH request body is in, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    StrategicMerge,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// Parses a Content-Type header; parameters such as `; charset=utf-8` are ignored.
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge, PatchType::Apply]
            .into_iter()
            .find(|patch_type| media_type.eq_ignore_ascii_case(patch_type.content_type()))
    }

    /// The media type clients send for this patch format.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// Why a patch could not be applied. Strategic-merge messages follow Kubernetes'
/// k8s.io/apimachinery/pkg/util/mergepatch wording.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The JSON patch body is not a list of RFC 6902 operations (a 400 in Kubernetes).
    #[error("invalid JSON patch: {0}")]
    InvalidJsonPatch(String),
    /// An RFC 6902 operation failed: missing path, failed `test`, ...
    #[error(transparent)]
    JsonPatchFailed(#[from] json_patch::PatchError),
    /// A JSON merge patch for an object must itself be an object.
    #[error("Invalid JSON Patch")]
    InvalidMergePatch,
    /// The object or the strategic merge patch is not a JSON object.
    #[error("invalid JSON document")]
    InvalidDocument,
    /// An element of a merged list lacks the list's merge key.
    #[error("map: {element} does not contain declared merge key: {key}")]
    MissingMergeKey { element: String, key: String },
    /// A `$patch` directive with a value other than `replace` or `delete`.
    #[error("unknown patch type: {directive} in map: {element}")]
    UnknownDirective { directive: String, element: String },
    /// `$patch: merge` inside a list, which Kubernetes does not support.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// A malformed `$deleteFromPrimitiveList/<field>`.
    #[error("invalid patch format of primitive list")]
    BadDeleteFromPrimitiveList,
    /// A malformed `$retainKeys`, or a patch setting a key it does not retain.
    #[error("invalid patch format of retainKeys")]
    BadRetainKeys,
    /// A malformed `$setElementOrder/<field>`.
    #[error("invalid patch format of setElementOrder list")]
    BadSetElementOrder,
    /// The patch list is not in the order its `$setElementOrder` list gives.
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n")]
    SetElementOrderMismatch { patch: String, order: String },
    /// A list mixes element types.
    #[error("list element types are not identical: {0}")]
    MixedListElements(String),
    /// A list of lists, which no Kubernetes type has.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// A merged list of objects whose schema entry has no merge key.
    #[error("cannot merge lists without merge key for {0}")]
    NoMergeKeyDeclared(String),
    /// A value of the wrong JSON type where the merge needs a list or an object.
    #[error("expected a {expected}, but received a {found}")]
    TypeMismatch { expected: &'static str, found: &'static str },
}

/// Applies an RFC 6902 JSON patch (the parsed request body, a list of operations).
///
/// Either every operation applies or the error is returned; `doc` is never modified.
pub fn json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let operations: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|err| PatchError::InvalidJsonPatch(err.to_string()))?;
    let mut patched = doc.clone();
    json_patch::patch(&mut patched, &operations)?;
    Ok(patched)
}

/// Applies an RFC 7386 JSON merge patch: maps merge recursively, `null` deletes a key,
/// anything else (lists included) replaces.
pub fn merge_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    // Kubernetes' merge patch library refuses a patch that is not an object.
    if !patch.is_object() {
        return Err(PatchError::InvalidMergePatch);
    }
    let mut patched = doc.clone();
    json_patch::merge(&mut patched, patch);
    Ok(patched)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_types_map_to_patch_types() {
        let cases = [
            ("application/json-patch+json", PatchType::Json),
            ("application/merge-patch+json", PatchType::Merge),
            ("application/strategic-merge-patch+json", PatchType::StrategicMerge),
            ("application/apply-patch+yaml", PatchType::Apply),
            ("Application/Merge-Patch+JSON; charset=utf-8", PatchType::Merge),
        ];
        for (content_type, expected) in cases {
            assert_eq!(PatchType::from_content_type(content_type), Some(expected));
        }
    }

    #[test]
    fn other_content_types_are_not_patches() {
        assert_eq!(PatchType::from_content_type("application/json"), None);
        assert_eq!(PatchType::from_content_type(""), None);
    }

    #[test]
    fn kubectl_label_sends_a_merge_patch_that_adds_a_label() {
        let pod = json!({"metadata": {"name": "foo", "labels": {"app": "web"}}, "spec": {}});
        let patched = merge_patch(&pod, &json!({"metadata": {"labels": {"a": "b"}}})).unwrap();
        assert_eq!(patched, json!({"metadata": {"name": "foo", "labels": {"app": "web", "a": "b"}}, "spec": {}}));
    }

    #[test]
    fn kubectl_label_with_a_dash_sends_null_to_remove_the_label() {
        let pod = json!({"metadata": {"name": "foo", "labels": {"a": "b", "app": "web"}}});
        let patched = merge_patch(&pod, &json!({"metadata": {"labels": {"a": null}}})).unwrap();
        assert_eq!(patched, json!({"metadata": {"name": "foo", "labels": {"app": "web"}}}));
    }

    #[test]
    fn merge_patch_replaces_lists_whole() {
        let doc = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
        let patched = merge_patch(&doc, &json!({"spec": {"containers": [{"name": "a"}]}})).unwrap();
        assert_eq!(patched, json!({"spec": {"containers": [{"name": "a"}]}}));
    }

    #[test]
    fn merge_patch_drops_nulls_inside_new_objects() {
        let patched = merge_patch(&json!({}), &json!({"a": {"b": null, "c": 1}})).unwrap();
        assert_eq!(patched, json!({"a": {"c": 1}}));
    }

    #[test]
    fn merge_patch_must_be_an_object() {
        let err = merge_patch(&json!({}), &json!([1])).unwrap_err();
        assert_eq!(err.to_string(), "Invalid JSON Patch");
    }

    #[test]
    fn json_patch_applies_operations_in_order() {
        let doc = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 1}});
        let patch = json!([
            {"op": "test", "path": "/spec/replicas", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "remove", "path": "/metadata/labels/a"}
        ]);
        assert_eq!(
            json_patch(&doc, &patch).unwrap(),
            json!({"metadata": {"labels": {"b": "2"}}, "spec": {"replicas": 3}})
        );
    }

    #[test]
    fn json_patch_escapes_slashes_in_keys() {
        let doc = json!({"metadata": {"annotations": {}}});
        let patch = json!([{"op": "add", "path": "/metadata/annotations/example.com~1x", "value": "y"}]);
        assert_eq!(json_patch(&doc, &patch).unwrap(), json!({"metadata": {"annotations": {"example.com/x": "y"}}}));
    }

    #[test]
    fn a_failed_test_operation_fails_the_whole_patch() {
        let doc = json!({"spec": {"replicas": 1}});
        let patch = json!([
            {"op": "replace", "path": "/spec/replicas", "value": 5},
            {"op": "test", "path": "/spec/replicas", "value": 1}
        ]);
        assert!(matches!(json_patch(&doc, &patch), Err(PatchError::JsonPatchFailed(_))));
    }

    #[test]
    fn a_json_patch_that_is_not_a_list_of_operations_is_rejected() {
        let err = json_patch(&json!({}), &json!({"op": "add"})).unwrap_err();
        assert!(matches!(err, PatchError::InvalidJsonPatch(_)));
        let err = json_patch(&json!({}), &json!([{"op": "frobnicate", "path": "/a"}])).unwrap_err();
        assert!(matches!(err, PatchError::InvalidJsonPatch(_)));
    }

    #[test]
    fn removing_a_missing_path_is_an_error() {
        let err = json_patch(&json!({}), &json!([{"op": "remove", "path": "/a"}])).unwrap_err();
        assert!(matches!(err, PatchError::JsonPatchFailed(_)));
    }
}
