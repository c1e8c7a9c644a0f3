//! Server-side apply: merging the applied configuration into the live object, removing
//! what the applier no longer applies, and moving ownership (structured-merge-diff's
//! `merge.Updater.Apply` and `typed.Merge`, with managedfields' last-applied updater).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::entries::{Entries, Entry, managed_fields, strip_untracked, without_managed_fields};
use super::fieldpath::{FieldSet, Path, PathElement};
use super::schema::{ListType, Schema, join};
use super::typed::{self, Items, compare, field_set, index_items};
use super::{ApplyError, Manager, Operation, conflict};

/// kubectl's client-side apply annotation, kept in step by `kubectl apply --server-side`.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// See [`super::apply`].
pub(crate) fn apply(
    kind: &str,
    live: Option<&Value>,
    applied: &Value,
    manager: &Manager<'_>,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    let schema = Schema { kind };
    let config = configuration(applied, manager)?;
    let api_version = config.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
    let typed_error = |e: String| {
        ApplyError::Invalid(format!("failed to create typed patch object ({api_version}, Kind={kind}): {e}"))
    };
    let config_set = strip_untracked(field_set(schema, &config).map_err(typed_error)?);
    let live_object = live.map_or_else(|| Value::Object(Map::new()), without_managed_fields);
    let mut merged = merge(schema, &live_object, &config).map_err(typed_error)?;
    let mut entries = live.map(Entries::of).unwrap_or_default();
    let previous = entries.take(manager.name, Operation::Apply, "", manager.subresource);
    if let Some(previous) = &previous {
        prune(schema, &mut merged, &previous.fields, &config_set.union(&entries.owned()));
    }
    take_over(schema, &live_object, &merged, &mut entries, force)?;
    let time = match previous {
        Some(previous) if merged == live_object => previous.time,
        _ => Some(now.to_string()),
    };
    let (name, subresource) = (manager.name.to_string(), manager.subresource.to_string());
    let mine = Entry { manager: name, operation: Operation::Apply, api_version, time, subresource, fields: config_set };
    entries.0.push(mine);
    sync_last_applied(&mut merged, &config, manager.name);
    entries.write(&mut merged);
    Ok(merged)
}

/// The other managers lose what the apply changes (a conflict, unless forced) and what
/// it removes.
fn take_over(
    schema: Schema<'_>,
    live: &Value,
    merged: &Value,
    others: &mut Entries,
    force: bool,
) -> Result<(), ApplyError> {
    let comparison = compare(schema, live, merged);
    let changed = strip_untracked(comparison.changed());
    let conflicts = conflict::find(&others.0, &changed);
    if !force && !conflicts.is_empty() {
        return Err(ApplyError::Conflicts(conflicts));
    }
    others.disown(&changed);
    others.disown(&comparison.removed);
    Ok(())
}

/// Checks the applied configuration and keeps what this request may change: only
/// `status` through the status subresource.
fn configuration(applied: &Value, manager: &Manager<'_>) -> Result<Value, ApplyError> {
    if manager.name.is_empty() {
        return Err(ApplyError::Invalid("fieldManager: Required value: is required for apply requests".into()));
    }
    let Value::Object(object) = applied else {
        return Err(ApplyError::Invalid(format!("the applied configuration must be an object, not {applied}")));
    };
    if managed_fields(applied).is_some_and(|m| !m.is_null()) {
        return Err(ApplyError::Invalid("metadata.managedFields must be nil".into()));
    }
    if manager.subresource != "status" {
        return Ok(applied.clone());
    }
    let keep = ["apiVersion", "kind", "metadata", "status"];
    let mut config: Map<String, Value> =
        object.iter().filter(|(k, _)| keep.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(Value::Object(metadata)) = config.get_mut("metadata") {
        metadata.retain(|k, _| k == "name" || k == "namespace");
    }
    Ok(Value::Object(config))
}

/// The live object with the configuration merged in: objects merge field by field,
/// keyed and set lists item by item, everything else is replaced; `null` removes.
pub(crate) fn merge(schema: Schema<'_>, live: &Value, config: &Value) -> Result<Value, String> {
    Merger { schema }.value(&Path::default(), "", Some(live), config)
}

struct Merger<'s> {
    schema: Schema<'s>,
}

impl Merger<'_> {
    fn value(&self, path: &Path, dotted: &str, live: Option<&Value>, config: &Value) -> Result<Value, String> {
        match config {
            Value::Object(fields) if !self.schema.is_atomic_object(dotted) => self.object(path, dotted, live, fields),
            Value::Array(items) => match self.schema.list_type(dotted) {
                ListType::Atomic => Ok(config.clone()),
                list => self.list(path, dotted, &list, live, items),
            },
            _ => Ok(config.clone()),
        }
    }

    fn object(
        &self,
        path: &Path,
        dotted: &str,
        live: Option<&Value>,
        fields: &Map<String, Value>,
    ) -> Result<Value, String> {
        let mut out = live.and_then(Value::as_object).cloned().unwrap_or_default();
        for (key, config) in fields {
            let child = path.child(PathElement::Field(key.clone()));
            let merged = self.value(&child, &join(dotted, key), out.get(key), config)?;
            if merged.is_null() {
                out.shift_remove(key);
            } else {
                out.insert(key.clone(), merged);
            }
        }
        Ok(Value::Object(out))
    }

    fn list(
        &self,
        path: &Path,
        dotted: &str,
        list: &ListType,
        live: Option<&Value>,
        config: &[Value],
    ) -> Result<Value, String> {
        let rhs = index_items(list, config, path, true)?;
        let live_items = live.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let lhs = index_items(list, live_items, path, false)?;
        let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
        for (element, live_item, config_item) in merge_order(&lhs, &rhs) {
            let item = match config_item {
                Some(config_item) => self.value(&path.child(element.clone()), dotted, live_item, config_item)?,
                None => live_item.cloned().unwrap_or_default(),
            };
            out.push(item);
        }
        Ok(Value::Array(out))
    }
}

/// The order of a merged list, as structured-merge-diff's `visitListItems` makes it: live
/// items keep their places, items both sides have follow the configuration's order, and
/// new items go where the configuration puts them relative to those.
fn merge_order<'v>(lhs: &Items<'v>, rhs: &Items<'v>) -> Vec<(PathElement, Option<&'v Value>, Option<&'v Value>)> {
    let in_rhs = |e: &PathElement| rhs.iter().find(|(r, _)| r == e).map(|(_, v)| *v);
    let in_lhs = |e: &PathElement| lhs.iter().find(|(l, _)| l == e).map(|(_, v)| *v);
    let mut shared = rhs.iter().filter(|(e, _)| in_lhs(e).is_some()).map(|(e, _)| e);
    let mut next_shared = shared.next();
    let mut merged: BTreeSet<&PathElement> = BTreeSet::new();
    let mut out = Vec::new();
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if let (Some((l, lv)), Some((r, rv))) = (lhs.get(li), rhs.get(ri)) {
            if l == r {
                merged.insert(l);
                out.push((l.clone(), Some(*lv), Some(*rv)));
                (li, ri) = (li + 1, ri + 1);
                next_shared = shared.next();
                continue;
            }
            if in_rhs(l).is_some() && next_shared.is_some_and(|s| s != l) {
                li += 1;
                continue;
            }
        }
        if let Some((l, lv)) = lhs.get(li) {
            if in_rhs(l).is_none() {
                out.push((l.clone(), Some(*lv), None));
                li += 1;
                continue;
            }
            if merged.contains(l) || ri >= rhs.len() {
                li += 1;
                continue;
            }
        }
        if let Some((r, rv)) = rhs.get(ri) {
            merged.insert(r);
            out.push((r.clone(), in_lhs(r), Some(*rv)));
            ri += 1;
            if next_shared.is_some_and(|s| s == r) {
                next_shared = shared.next();
            }
        }
    }
    out
}

/// Removes from the merged object what the applier owned last time, applies no more,
/// and nobody else owns (`keep`: the new configuration's fields and everyone else's).
/// Objects and lists emptied by that go too, unless someone owns them.
fn prune(schema: Schema<'_>, merged: &mut Value, last: &FieldSet, keep: &FieldSet) {
    let gone = last.difference(keep);
    for path in gone.iter() {
        if is_kept(keep, path) || is_key_field(path) || !typed::remove(schema, merged, path) {
            continue;
        }
        remove_hollow_parents(schema, merged, path, keep);
    }
}

/// A field whose descendants someone owns stays (a list item goes whole, as in Kubernetes).
fn is_kept(keep: &FieldSet, path: &Path) -> bool {
    keep.contains(path) || (matches!(path.0.last(), Some(PathElement::Field(_))) && keep.has_prefix(path))
}

/// A key field of a list item: it goes with its item or not at all.
fn is_key_field(path: &Path) -> bool {
    match path.0.as_slice() {
        [.., PathElement::Key(keys), PathElement::Field(name)] => keys.iter().any(|(key, _)| key == name),
        _ => false,
    }
}

fn remove_hollow_parents(schema: Schema<'_>, merged: &mut Value, path: &Path, keep: &FieldSet) {
    for depth in (1..path.0.len()).rev() {
        let parent = Path(path.0[..depth].to_vec());
        if keep.has_prefix(&parent) || !typed::get(schema, merged, &parent).is_some_and(typed::is_hollow) {
            return;
        }
        typed::remove(schema, merged, &parent);
    }
}

/// `kubectl apply --server-side` keeps an existing client-side apply annotation equal to
/// what it applied, so a later client-side apply computes the right patch.
fn sync_last_applied(merged: &mut Value, config: &Value, manager: &str) {
    let Some(Value::Object(annotations)) = merged.pointer_mut("/metadata/annotations") else {
        return;
    };
    if manager != "kubectl" || !annotations.contains_key(LAST_APPLIED) {
        return;
    }
    let mut last_applied = config.clone();
    if let Some(Value::Object(metadata)) = last_applied.get_mut("metadata")
        && let Some(Value::Object(own)) = metadata.get_mut("annotations")
    {
        own.shift_remove(LAST_APPLIED);
        if own.is_empty() {
            metadata.shift_remove("annotations");
        }
    }
    annotations.insert(LAST_APPLIED.into(), format!("{}\n", sorted(&last_applied)).into());
}

/// The value with every object's keys sorted, as Go's encoding/json writes a map.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
