//! Ownership after a write that is not an apply (create, update, patch, status and scale
//! writes): structured-merge-diff's `merge.Updater.Update` with managedfields'
//! managedFieldsUpdater and the request's own `managedFields`.

use serde_json::{Map, Value};

use super::entries::{Entries, Entry, managed_fields, strip_untracked, without_managed_fields};
use super::schema::Schema;
use super::typed::compare;
use super::{Manager, Operation};

/// See [`super::record_update`].
pub(crate) fn record_update(kind: &str, old: Option<&Value>, new: &mut Value, manager: &Manager<'_>, now: &str) {
    let mut entries = starting_entries(old, new, manager.subresource);
    let old_object = old.map_or_else(|| Value::Object(Map::new()), without_managed_fields);
    *new = without_managed_fields(new);
    let comparison = compare(Schema { kind }, &old_object, new);
    let changed = strip_untracked(comparison.changed());
    let api_version = new.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
    let mine = entries.take(manager.name, Operation::Update, &api_version, manager.subresource);
    entries.disown(&changed);
    entries.disown(&comparison.removed);
    let mut mine = mine.unwrap_or_else(|| Entry {
        manager: manager.name.into(),
        operation: Operation::Update,
        api_version,
        time: None,
        subresource: manager.subresource.into(),
        fields: Default::default(),
    });
    mine.fields = mine.fields.difference(&comparison.removed);
    if !changed.is_empty() {
        mine.fields = mine.fields.union(&changed);
        mine.time = Some(now.to_string());
    }
    entries.0.push(mine);
    entries.write(new);
}

/// The entries before this write. A write to the main resource may set `managedFields`
/// itself: `[]` or `[{}]` clears them, a valid non-empty list replaces them; otherwise
/// (and always through a subresource) the stored object's entries count.
fn starting_entries(old: Option<&Value>, new: &Value, subresource: &str) -> Entries {
    let stored = || old.map(Entries::of).unwrap_or_default();
    if !subresource.is_empty() {
        return stored();
    }
    match managed_fields(new) {
        Some(Value::Array(items)) if is_reset(items) => Entries::default(),
        Some(list) => match Entries::decode(Some(list)) {
            Ok(entries) if !entries.0.is_empty() => entries,
            _ => stored(),
        },
        None => stored(),
    }
}

fn is_reset(items: &[Value]) -> bool {
    match items {
        [] => true,
        [only] => only.as_object().is_some_and(Map::is_empty),
        _ => false,
    }
}
