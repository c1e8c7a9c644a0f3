//! Walks over objects with the apply schema (structured-merge-diff's `typed` package):
//! the field set an object sets, the comparison of two objects, and finding or removing
//! the value at a path.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::fieldpath::{FieldSet, Path, PathElement};
use super::schema::{ListType, Schema, always_present, item_element, join};

/// The items of a list with their path elements.
pub(crate) type Items<'v> = Vec<(PathElement, &'v Value)>;

/// Identifies each item of a list. Strictly (for an applied configuration) an item
/// without its key, or a repeated item, is an error; leniently (for a stored object) such
/// an item is identified by its index and repeats are dropped.
pub(crate) fn index_items<'v>(
    list: &ListType,
    items: &'v [Value],
    path: &Path,
    strict: bool,
) -> Result<Items<'v>, String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let element = match item_element(list, item) {
            Ok(element) => element,
            Err(reason) if strict => return Err(format!("{path}: element {index}: {reason}")),
            Err(_) => PathElement::Index(index),
        };
        if !seen.insert(element.clone()) {
            if strict {
                return Err(format!("{path}: duplicate entries for key {element}"));
            }
            continue;
        }
        out.push((element, item));
    }
    Ok(out)
}

/// The paths `value` sets: every scalar, empty object and null; every item of a
/// keyed or set list (and what it sets); atomic lists and objects as a whole.
pub(crate) fn field_set(schema: Schema<'_>, value: &Value) -> Result<FieldSet, String> {
    let mut set = FieldSet::new();
    collect(schema, &Path::default(), "", value, &mut set)?;
    Ok(set)
}

fn collect(schema: Schema<'_>, path: &Path, dotted: &str, value: &Value, set: &mut FieldSet) -> Result<(), String> {
    match value {
        Value::Object(map) if !schema.is_atomic_object(dotted) => collect_object(schema, path, dotted, map, set),
        Value::Array(items) => match schema.list_type(dotted) {
            ListType::Atomic => insert(set, path),
            list => collect_items(schema, path, dotted, &index_items(&list, items, path, true)?, set),
        },
        _ => insert(set, path),
    }
}

fn collect_object(
    schema: Schema<'_>,
    path: &Path,
    dotted: &str,
    map: &Map<String, Value>,
    set: &mut FieldSet,
) -> Result<(), String> {
    for (key, child) in map {
        let child_path = path.child(PathElement::Field(key.clone()));
        collect(schema, &child_path, &join(dotted, key), child, set)?;
        if is_empty_object(child) {
            set.insert(child_path);
        }
    }
    Ok(())
}

fn collect_items(
    schema: Schema<'_>,
    path: &Path,
    dotted: &str,
    items: &Items<'_>,
    set: &mut FieldSet,
) -> Result<(), String> {
    for (element, item) in items {
        let item_path = path.child(element.clone());
        collect(schema, &item_path, dotted, item, set)?;
        set.insert(item_path);
    }
    Ok(())
}

fn insert(set: &mut FieldSet, path: &Path) -> Result<(), String> {
    if !path.0.is_empty() {
        set.insert(path.clone());
    }
    Ok(())
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// What changed from one object to another, as structured-merge-diff's `Compare` sees it:
/// leaves that appeared, changed or went away, and objects and lists that appeared or
/// went away (those are owned as members, `"."`).
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    /// What the new object sets that the old one did not: the fields its writer now owns.
    pub(crate) fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
    }
}

/// Compares two objects.
pub(crate) fn compare(schema: Schema<'_>, old: &Value, new: &Value) -> Comparison {
    let mut comparison = Comparison::default();
    Comparer { schema, out: &mut comparison }.walk(&Path::default(), "", Some(old), Some(new));
    comparison
}

#[derive(PartialEq, Clone, Copy)]
enum Shape {
    Object,
    List,
    Leaf,
}

fn shape(value: &Value) -> Shape {
    match value {
        Value::Object(_) => Shape::Object,
        Value::Array(_) => Shape::List,
        _ => Shape::Leaf,
    }
}

struct Comparer<'s, 'o> {
    schema: Schema<'s>,
    out: &'o mut Comparison,
}

impl Comparer<'_, '_> {
    fn walk(&mut self, path: &Path, dotted: &str, lhs: Option<&Value>, rhs: Option<&Value>) {
        let zero = zero_like(path, lhs, rhs);
        let lhs = lhs.or(zero.as_ref());
        let rhs = rhs.or(zero.as_ref());
        match self.shape_of(dotted, lhs, rhs) {
            Shape::Object => self.walk_object(path, dotted, lhs, rhs),
            Shape::List => self.walk_list(path, dotted, lhs, rhs),
            Shape::Leaf => self.leaf(path, lhs, rhs),
        }
    }

    /// How to compare: as an object or list (when both sides are, or absent, and the
    /// schema makes it granular and not both empty) or as a leaf.
    fn shape_of(&self, dotted: &str, lhs: Option<&Value>, rhs: Option<&Value>) -> Shape {
        let shapes = (lhs.map(shape), rhs.map(shape));
        let common = match shapes {
            (Some(a), Some(b)) if a != b => return Shape::Leaf,
            (a, b) => a.or(b).unwrap_or(Shape::Leaf),
        };
        let empty = |v: Option<&Value>| v.is_none_or(is_empty_container);
        if empty(lhs) && empty(rhs) {
            return Shape::Leaf;
        }
        match common {
            Shape::Object if self.schema.is_atomic_object(dotted) => Shape::Leaf,
            Shape::List if self.schema.list_type(dotted) == ListType::Atomic => Shape::Leaf,
            other => other,
        }
    }

    fn leaf(&mut self, path: &Path, lhs: Option<&Value>, rhs: Option<&Value>) {
        if path.0.is_empty() {
            return;
        }
        match (lhs, rhs) {
            (None, Some(_)) => self.out.added.insert(path.clone()),
            (Some(_), None) => self.out.removed.insert(path.clone()),
            (Some(a), Some(b)) if a != b => self.out.modified.insert(path.clone()),
            _ => {}
        }
    }

    /// After the children of an object or list: the container itself appeared or went.
    fn container(&mut self, path: &Path, lhs: Option<&Value>, rhs: Option<&Value>) {
        if path.0.is_empty() {
            return;
        }
        if lhs.is_none() {
            self.out.added.insert(path.clone());
        } else if rhs.is_none() {
            self.out.removed.insert(path.clone());
        }
    }

    fn walk_object(&mut self, path: &Path, dotted: &str, lhs: Option<&Value>, rhs: Option<&Value>) {
        let (left, right) = (lhs.and_then(Value::as_object), rhs.and_then(Value::as_object));
        let only_right = right.into_iter().flatten().filter(|(key, _)| left.is_none_or(|l| !l.contains_key(*key)));
        let keys: Vec<&String> = left.into_iter().flatten().chain(only_right).map(|(key, _)| key).collect();
        for key in keys {
            let child = path.child(PathElement::Field(key.clone()));
            let (l, r) = (left.and_then(|m| m.get(key)), right.and_then(|m| m.get(key)));
            self.walk(&child, &join(dotted, key), l, r);
        }
        self.container(path, lhs, rhs);
    }

    fn walk_list(&mut self, path: &Path, dotted: &str, lhs: Option<&Value>, rhs: Option<&Value>) {
        let list = self.schema.list_type(dotted);
        let (left, right) = (index_map(&list, lhs), index_map(&list, rhs));
        for (element, item) in &left {
            self.walk(&path.child(element.clone()), dotted, Some(item), right.get(element).copied());
        }
        for (element, item) in right.iter().filter(|(element, _)| !left.contains_key(*element)) {
            self.walk(&path.child(element.clone()), dotted, None, Some(item));
        }
        self.container(path, lhs, rhs);
    }
}

/// A list's items by path element (leniently identified).
fn index_map<'v>(list: &ListType, value: Option<&'v Value>) -> BTreeMap<PathElement, &'v Value> {
    let items = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    index_items(list, items, &Path::default(), false).unwrap_or_default().into_iter().collect()
}

/// For a field a typed zero object carries (see `always_present`) that one side lacks:
/// an empty value of the other side's shape, standing in for the missing side.
fn zero_like(path: &Path, lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Value> {
    let present = lhs.or(rhs)?;
    if (lhs.is_some() && rhs.is_some()) || !always_present(path) {
        return None;
    }
    match present {
        Value::Object(_) => Some(Value::Object(Map::new())),
        Value::Array(_) => Some(Value::Array(Vec::new())),
        _ => None,
    }
}

fn is_empty_container(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// One concrete step into a JSON value.
enum Step {
    Field(String),
    Item(usize),
}

/// The concrete steps to the value at `path`, if it exists.
fn resolve(schema: Schema<'_>, root: &Value, path: &Path) -> Option<Vec<Step>> {
    let mut steps = Vec::with_capacity(path.0.len());
    let (mut value, mut dotted) = (root, String::new());
    for element in &path.0 {
        match element {
            PathElement::Field(name) => {
                value = value.get(name)?;
                dotted = join(&dotted, name);
                steps.push(Step::Field(name.clone()));
            }
            item => {
                let items = value.as_array()?;
                let position = find_item(&schema.list_type(&dotted), items, item)?;
                value = &items[position];
                steps.push(Step::Item(position));
            }
        }
    }
    Some(steps)
}

fn find_item(list: &ListType, items: &[Value], wanted: &PathElement) -> Option<usize> {
    if let PathElement::Index(index) = wanted {
        return (*index < items.len()).then_some(*index);
    }
    let indexed = index_items(list, items, &Path::default(), false).ok()?;
    let item = indexed.iter().find(|(element, _)| element == wanted)?.1;
    items.iter().position(|candidate| std::ptr::eq(candidate, item))
}

/// The value at `path`, if present.
pub(crate) fn get<'v>(schema: Schema<'_>, root: &'v Value, path: &Path) -> Option<&'v Value> {
    let steps = resolve(schema, root, path)?;
    steps.iter().try_fold(root, |value, step| match step {
        Step::Field(name) => value.get(name),
        Step::Item(index) => value.get(*index),
    })
}

/// Removes the value at `path` (and everything below it); false if there was none.
pub(crate) fn remove(schema: Schema<'_>, root: &mut Value, path: &Path) -> bool {
    let Some(mut steps) = resolve(schema, root, path) else {
        return false;
    };
    let Some(last) = steps.pop() else {
        return false;
    };
    let parent = steps.iter().try_fold(root, |value, step| match step {
        Step::Field(name) => value.get_mut(name),
        Step::Item(index) => value.get_mut(*index),
    });
    match (parent, last) {
        (Some(Value::Object(map)), Step::Field(name)) => map.shift_remove(&name).is_some(),
        (Some(Value::Array(items)), Step::Item(index)) if index < items.len() => {
            items.remove(index);
            true
        }
        _ => false,
    }
}

/// An object or list with nothing left in it.
pub(crate) fn is_hollow(value: &Value) -> bool {
    matches!(value, Value::Object(map) if map.is_empty()) || matches!(value, Value::Array(items) if items.is_empty())
}
