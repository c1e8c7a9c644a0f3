//! Strategic merge patch as the API server applies it (strategicpatch.StrategicMergeMapPatch).
//!
//! This follows k8s.io/apimachinery/pkg/util/strategicpatch/patch.go with the options the
//! server uses (`MergeParallelList`, `IgnoreUnmatchedNulls`), including its list ordering:
//! `$setElementOrder` wins, then the order of the patch list, then the live order; an
//! element the live list lacks is placed before the remaining live-only elements.
//!
//! Where Go would copy a patch value verbatim (a field the object lacks), the value is
//! instead merged onto nothing, so directives are applied and nulls dropped: the result
//! never carries a `$`-directive, and matches what Go yields once decoded into a struct.

use serde_json::{Map, Value};

use super::PatchError;
use super::schema::{ListStrategy, list_strategy};

/// A JSON object.
type Object = Map<String, Value>;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Applies a strategic merge patch to an object of the given kind (e.g. "Deployment").
///
/// Kinds the schema table does not know get JSON-merge-like treatment: maps merge,
/// lists are replaced (only `metadata` lists still merge, as every object has one).
pub fn strategic_merge_patch(kind: &str, doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let (Value::Object(original), Value::Object(patch)) = (doc, patch) else {
        return Err(PatchError::InvalidDocument);
    };
    let merger = Merger { kind };
    let merged = merger.merge_map(original.clone(), patch.clone(), "")?;
    Ok(Value::Object(merged))
}

/// The merge, carrying the kind so each list can look up its strategy by path.
struct Merger<'a> {
    kind: &'a str,
}

impl Merger<'_> {
    /// `mergeMap`: directives first, then each patch field.
    fn merge_map(&self, mut original: Object, mut patch: Object, path: &str) -> Result<Object, PatchError> {
        if let Some(directive) = patch.get(DIRECTIVE).cloned() {
            return self.map_directive(&directive, patch, path);
        }
        apply_retain_keys(&mut original, &mut patch)?;
        self.apply_element_orders(&mut original, &mut patch, path)?;
        for (key, value) in patch {
            self.merge_field(&mut original, key, value, path)?;
        }
        Ok(original)
    }

    /// `$patch` on a map: `replace` takes the patch as the whole map, `delete` empties it.
    fn map_directive(&self, directive: &Value, mut patch: Object, path: &str) -> Result<Object, PatchError> {
        match directive.as_str() {
            Some("replace") => {
                patch.shift_remove(DIRECTIVE);
                self.merge_map(Map::new(), patch, path)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(unknown_directive(directive, &patch)),
        }
    }

    fn merge_field(&self, original: &mut Object, key: String, value: Value, path: &str) -> Result<(), PatchError> {
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            let field =
                directive_field(&key, DELETE_FROM_PRIMITIVE_LIST).ok_or(PatchError::BadDeleteFromPrimitiveList)?;
            return delete_from_primitive_list(original, field, value);
        }
        if value.is_null() {
            original.shift_remove(&key);
            return Ok(());
        }
        let child = child_path(path, &key);
        match original.get_mut(&key) {
            Some(slot) => {
                let current = std::mem::take(slot);
                *slot = self.merge_value(current, value, &child)?;
            }
            None => {
                let cleaned = self.clean(value, &child)?;
                original.insert(key, cleaned);
            }
        }
        Ok(())
    }

    /// Two values for the same field: maps merge, lists follow their strategy, else the patch wins.
    fn merge_value(&self, current: Value, patch: Value, path: &str) -> Result<Value, PatchError> {
        match (current, patch) {
            (Value::Object(current), Value::Object(patch)) => self.merge_map(current, patch, path).map(Value::Object),
            (Value::Array(current), Value::Array(patch)) => self.merge_list(current, patch, path).map(Value::Array),
            (_, patch) => self.clean(patch, path),
        }
    }

    /// A patch value for a field the object lacks: merged onto nothing.
    fn clean(&self, value: Value, path: &str) -> Result<Value, PatchError> {
        match value {
            Value::Object(map) => self.merge_map(Map::new(), map, path).map(Value::Object),
            Value::Array(items) => self.clean_list(items, path).map(Value::Array),
            scalar => Ok(scalar),
        }
    }

    /// A list taken from the patch as it stands: directive-only entries are dropped.
    fn clean_list(&self, items: Vec<Value>, path: &str) -> Result<Vec<Value>, PatchError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(directive) = item.get(DIRECTIVE) {
                list_directive(directive, &item)?;
                continue;
            }
            out.push(self.clean(item, path)?);
        }
        Ok(out)
    }

    /// Two lists for the same field: merged if the schema says so, else replaced.
    fn merge_list(&self, current: Vec<Value>, patch: Vec<Value>, path: &str) -> Result<Vec<Value>, PatchError> {
        match list_strategy(self.kind, path) {
            Some(strategy) => self.merge_slice(current, patch, strategy, path),
            None => self.clean_list(patch, path),
        }
    }

    /// `mergeSlice`: scalars are unioned, objects merged by key; then the order is enforced.
    fn merge_slice(
        &self,
        current: Vec<Value>,
        patch: Vec<Value>,
        strategy: ListStrategy,
        path: &str,
    ) -> Result<Vec<Value>, PatchError> {
        if current.is_empty() && patch.is_empty() {
            return Ok(current);
        }
        if element_kind(&current, &patch)? != JsonKind::Object {
            return normalize_order(union(&current, &patch), &patch, &current, None);
        }
        let key = strategy.merge_key().ok_or_else(|| PatchError::NoMergeKeyDeclared(path.to_string()))?;
        self.merge_object_list(current, patch, key, path)
    }

    fn merge_object_list(
        &self,
        current: Vec<Value>,
        patch: Vec<Value>,
        key: &str,
        path: &str,
    ) -> Result<Vec<Value>, PatchError> {
        let (current, patch) = self.apply_list_directives(current, patch, key, path)?;
        let mut merged = current.clone();
        for element in patch.iter().cloned() {
            let Value::Object(element) = element else {
                return Err(type_mismatch("map[string]interface {}", &element));
            };
            let wanted = element.get(key).ok_or_else(|| missing_merge_key(&element, key))?;
            match merged.iter().position(|e| has_key_value(e, key, wanted)) {
                Some(i) => {
                    let existing = std::mem::take(&mut merged[i]);
                    merged[i] = self.merge_value(existing, Value::Object(element), path)?;
                }
                None => merged.push(self.clean(Value::Object(element), path)?),
            }
        }
        normalize_order(merged, &patch, &current, Some(key))
    }

    /// `mergeSliceWithSpecialElements`: `$patch: delete` entries remove live elements,
    /// `$patch: replace` makes the rest of the patch list the whole list.
    fn apply_list_directives(
        &self,
        mut current: Vec<Value>,
        patch: Vec<Value>,
        key: &str,
        path: &str,
    ) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
        let mut kept = Vec::with_capacity(patch.len());
        let mut replace = false;
        for element in patch {
            let Some(directive) = element.get(DIRECTIVE) else {
                kept.push(element);
                continue;
            };
            match list_directive(directive, &element)? {
                ListDirective::Replace => replace = true,
                ListDirective::Delete => {
                    let wanted = element.get(key).ok_or_else(|| missing_merge_key_in(&element, key))?;
                    current.retain(|e| !has_key_value(e, key, wanted));
                }
            }
        }
        if replace {
            return Ok((self.clean_list(kept, path)?, Vec::new()));
        }
        Ok((current, kept))
    }

    /// `mergePatchIntoOriginal`: each `$setElementOrder/<field>` merges that field's
    /// list and sorts it by the order given.
    fn apply_element_orders(&self, original: &mut Object, patch: &mut Object, path: &str) -> Result<(), PatchError> {
        let directives: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER)).cloned().collect();
        for directive in directives {
            let order = patch.shift_remove(&directive).unwrap_or_default();
            let field = directive_field(&directive, SET_ELEMENT_ORDER).ok_or(PatchError::BadSetElementOrder)?;
            self.apply_element_order(original, patch, field, order, path)?;
        }
        Ok(())
    }

    fn apply_element_order(
        &self,
        original: &mut Object,
        patch: &mut Object,
        field: &str,
        order: Value,
        path: &str,
    ) -> Result<(), PatchError> {
        let Value::Array(order) = order else {
            return Err(PatchError::BadSetElementOrder);
        };
        let live = list_field(original, field)?;
        let patch_list = list_field(patch, field)?;
        patch.shift_remove(field);
        let child = child_path(path, field);
        let merged = match list_strategy(self.kind, &child) {
            Some(strategy) => self.merge_in_order(live, patch_list, &order, strategy, &child)?,
            // An order for a list Go would not merge has nothing to sort: plain replace.
            None => patch_list.map(|list| self.clean_list(list, &child)).transpose()?,
        };
        if let Some(merged) = merged {
            original.insert(field.to_string(), Value::Array(merged));
        }
        Ok(())
    }

    /// Merges a live list (if any) with a patch list (if any), then sorts by `order`.
    fn merge_in_order(
        &self,
        live: Option<Vec<Value>>,
        patch: Option<Vec<Value>>,
        order: &[Value],
        strategy: ListStrategy,
        path: &str,
    ) -> Result<Option<Vec<Value>>, PatchError> {
        let patch_items = patch.clone().unwrap_or_default();
        validate_patch_with_order(&patch_items, order, strategy.merge_key())?;
        let live_items = live.clone().unwrap_or_default();
        let merged = match (live, patch) {
            (None, None) => return Ok(None),
            (Some(live), None) => live,
            (live, Some(patch)) => self.merge_slice(live.unwrap_or_default(), patch, strategy, path)?,
        };
        // Go picks map or scalar handling from the first element of either input list.
        let first = live_items.iter().chain(&patch_items).next();
        let key = match first {
            Some(Value::Object(_)) => {
                Some(strategy.merge_key().ok_or_else(|| PatchError::NoMergeKeyDeclared(path.to_string()))?)
            }
            _ => None,
        };
        normalize_order(merged, order, &live_items, key).map(Some)
    }
}

/// The directives a list element may carry.
enum ListDirective {
    Replace,
    Delete,
}

fn list_directive(directive: &Value, element: &Value) -> Result<ListDirective, PatchError> {
    match directive.as_str() {
        Some("replace") => Ok(ListDirective::Replace),
        Some("delete") => Ok(ListDirective::Delete),
        Some("merge") => Err(PatchError::MergeDirectiveInList),
        _ => Err(PatchError::UnknownDirective { directive: display_scalar(directive), element: element.to_string() }),
    }
}

/// `applyRetainKeysDirective`: keep only the listed keys of the live map.
fn apply_retain_keys(original: &mut Object, patch: &mut Object) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::BadRetainKeys);
    };
    let retained = |key: &str| retain.iter().any(|r| r.as_str() == Some(key));
    // Every field the patch sets must be one of the retained keys.
    let stray = patch.iter().any(|(key, value)| {
        !value.is_null()
            && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            && !key.starts_with(SET_ELEMENT_ORDER)
            && !retained(key)
    });
    if stray {
        return Err(PatchError::BadRetainKeys);
    }
    original.retain(|key, _| retained(key));
    Ok(())
}

/// `$deleteFromPrimitiveList/<field>`: remove these scalars from the live list.
fn delete_from_primitive_list(original: &mut Object, field: &str, value: Value) -> Result<(), PatchError> {
    let Value::Array(doomed) = value else {
        return Err(PatchError::BadDeleteFromPrimitiveList);
    };
    if let Some(Value::Array(items)) = original.get_mut(field) {
        items.retain(|item| !doomed.iter().any(|d| same_value(item, d)));
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch list must follow the given order.
fn validate_patch_with_order(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), PatchError> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let entries: Vec<&Value> = patch.iter().filter(|e| key.is_none() || !is_delete_entry(e)).collect();
    let (mut in_patch, mut in_order) = (0, 0);
    while in_patch < entries.len() && in_order < order.len() {
        if entries[in_patch].get(DIRECTIVE).is_some() {
            in_patch += 1;
            continue;
        }
        if merge_key_equal(entries[in_patch], &order[in_order], key)? {
            in_patch += 1;
        }
        in_order += 1;
    }
    if in_patch < entries.len() {
        return Err(PatchError::SetElementOrderMismatch {
            patch: Value::Array(patch.to_vec()).to_string(),
            order: Value::Array(order.to_vec()).to_string(),
        });
    }
    Ok(())
}

fn merge_key_equal(left: &Value, right: &Value, key: Option<&str>) -> Result<bool, PatchError> {
    let Some(key) = key else {
        return Ok(same_value(left, right));
    };
    let left_key = left.get(key).ok_or_else(|| missing_merge_key_in(left, key))?;
    let right_key = right.get(key).ok_or_else(|| missing_merge_key_in(right, key))?;
    Ok(same_value(left_key, right_key))
}

/// Enforces the order: patch items by `patch_order`, the others by `live_order`, then
/// interleaved by `live_order` (`normalizeElementOrder` + `mergeSortedSlice`).
fn normalize_order(
    merged: Vec<Value>,
    patch_order: &[Value],
    live_order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    if let Some(key) = key {
        for item in merged.iter().chain(patch_order).chain(live_order) {
            require_merge_key(item, key)?;
        }
    }
    let (mut from_patch, mut live_only): (Vec<Value>, Vec<Value>) =
        merged.into_iter().partition(|item| index_in(patch_order, item, key).is_some());
    sort_by_position(&mut from_patch, patch_order, key);
    sort_by_position(&mut live_only, live_order, key);
    Ok(interleave(live_only, from_patch, live_order, key))
}

fn sort_by_position(items: &mut [Value], order: &[Value], key: Option<&str>) {
    items.sort_by_key(|item| index_in(order, item, key).unwrap_or(usize::MAX));
}

/// `mergeSortedSlice`: a live-only item goes first only when both it and the next patch
/// item are in the live list and it comes earlier there; new items thus go first.
fn interleave(left: Vec<Value>, right: Vec<Value>, order: &[Value], key: Option<&str>) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => return out,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (index_in(order, l, key), index_in(order, r, key)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
}

/// Where `item` sits in `list`: by merge key for objects, by value for scalars.
fn index_in(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    let wanted = identity(item, key);
    list.iter().position(|candidate| match (identity(candidate, key), wanted) {
        (Some(a), Some(b)) => same_value(a, b),
        // Go compares two missing merge keys as equal (nil == nil).
        (None, None) => true,
        _ => false,
    })
}

fn identity<'v>(item: &'v Value, key: Option<&str>) -> Option<&'v Value> {
    match key {
        Some(key) => item.get(key),
        None => Some(item),
    }
}

/// Set-union of scalars, keeping first occurrences.
fn union(current: &[Value], patch: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(current.len() + patch.len());
    for item in current.iter().chain(patch) {
        if !out.iter().any(|seen| same_value(seen, item)) {
            out.push(item.clone());
        }
    }
    out
}

fn has_key_value(element: &Value, key: &str, wanted: &Value) -> bool {
    element.get(key).is_some_and(|v| same_value(v, wanted))
}

fn is_delete_entry(element: &Value) -> bool {
    element.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

/// JSON equality with numbers compared as Go's float64 does (`80` equals `80.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A list-valued field, if present; a non-list there is an error as in Go.
fn list_field(map: &Object, field: &str) -> Result<Option<Vec<Value>>, PatchError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(type_mismatch("[]interface {}", other)),
    }
}

/// `extractKey`: `$prefix/field` gives `field`.
fn directive_field<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    key.strip_prefix(prefix)?.strip_prefix('/')
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// The JSON types, as far as merging lists cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JsonKind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    fn of(value: &Value) -> Self {
        match value {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Bool,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }

    /// The Go type `encoding/json` would have decoded, for error messages.
    fn go_name(self) -> &'static str {
        match self {
            JsonKind::Null => "<nil>",
            JsonKind::Bool => "bool",
            JsonKind::Number => "float64",
            JsonKind::String => "string",
            JsonKind::Array => "[]interface {}",
            JsonKind::Object => "map[string]interface {}",
        }
    }
}

/// `sliceElementType`: all elements of both lists must share one non-list type.
fn element_kind(current: &[Value], patch: &[Value]) -> Result<JsonKind, PatchError> {
    let mut kinds = current.iter().chain(patch).map(JsonKind::of);
    let first = kinds.next().unwrap_or(JsonKind::Null);
    if first == JsonKind::Array {
        return Err(PatchError::ListOfLists);
    }
    if kinds.any(|kind| kind != first) {
        let lists = [Value::Array(current.to_vec()), Value::Array(patch.to_vec())];
        return Err(PatchError::MixedListElements(Value::Array(lists.to_vec()).to_string()));
    }
    Ok(first)
}

fn require_merge_key(item: &Value, key: &str) -> Result<(), PatchError> {
    match item {
        Value::Object(map) if map.contains_key(key) => Ok(()),
        Value::Object(map) => Err(missing_merge_key(map, key)),
        other => Err(type_mismatch("map[string]interface {}", other)),
    }
}

fn missing_merge_key(element: &Object, key: &str) -> PatchError {
    PatchError::MissingMergeKey { element: Value::Object(element.clone()).to_string(), key: key.to_string() }
}

fn missing_merge_key_in(element: &Value, key: &str) -> PatchError {
    PatchError::MissingMergeKey { element: element.to_string(), key: key.to_string() }
}

fn unknown_directive(directive: &Value, element: &Object) -> PatchError {
    PatchError::UnknownDirective {
        directive: display_scalar(directive),
        element: Value::Object(element.clone()).to_string(),
    }
}

fn type_mismatch(expected: &'static str, found: &Value) -> PatchError {
    PatchError::TypeMismatch { expected, found: JsonKind::of(found).go_name() }
}

/// A directive value as Go's `%s` prints it: strings bare, others as JSON.
fn display_scalar(value: &Value) -> String {
    value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string())
}

#[cfg(test)]
mod tests;
