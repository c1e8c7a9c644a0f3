//! Field paths and field sets, and their `fieldsV1` JSON encoding
//! (sigs.k8s.io/structured-merge-diff/fieldpath).
//!
//! A path is a list of elements: a field name (`f:spec`), the key of a list item
//! (`k:{"name":"web"}`), a set member (`v:"x"`) or a list index (`i:0`). A set holds the
//! paths its manager owns; `fieldsV1` nests them, `".": {}` marking a path that is itself
//! owned and also has owned children.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// One step into an object: a field, a keyed list item, a set member or a list index.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A field of an object (struct field or map key).
    Field(String),
    /// The item of an associative list with these key field values, sorted by name.
    Key(Vec<(String, Value)>),
    /// The member of a set list with this value.
    Value(Value),
    /// The item of a list at this index (only for lists without identity).
    Index(usize),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The element's `fieldsV1` key: `f:name`, `k:{...}`, `v:...` or `i:N`.
    pub fn encode(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => format!("k:{}", key_json(fields)),
            PathElement::Value(value) => format!("v:{value}"),
            PathElement::Index(index) => format!("i:{index}"),
        }
    }

    /// Parses a `fieldsV1` key.
    pub fn decode(text: &str) -> Result<PathElement, String> {
        let (prefix, rest) = text.split_at_checked(2).ok_or_else(|| bad_element(text))?;
        match prefix {
            "f:" => Ok(PathElement::Field(rest.to_string())),
            "k:" => decode_key(rest).ok_or_else(|| bad_element(text)),
            "v:" => serde_json::from_str(rest).map(PathElement::Value).map_err(|_| bad_element(text)),
            "i:" => rest.parse().map(PathElement::Index).map_err(|_| bad_element(text)),
            _ => Err(bad_element(text)),
        }
    }
}

fn bad_element(text: &str) -> String {
    format!("invalid path element {text:?}")
}

fn key_json(fields: &[(String, Value)]) -> Value {
    Value::Object(fields.iter().cloned().collect())
}

fn decode_key(json: &str) -> Option<PathElement> {
    let Value::Object(map) = serde_json::from_str(json).ok()? else {
        return None;
    };
    let mut fields: Vec<(String, Value)> = map.into_iter().collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Some(PathElement::Key(fields))
}

/// `.spec`, `[name="web"]`, `[="x"]`, `[0]`: how Kubernetes prints a path element.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(name, value)| format!("{name}={value}")).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(value) => write!(f, "[={value}]"),
            PathElement::Index(index) => write!(f, "[{index}]"),
        }
    }
}

impl Ord for PathElement {
    /// structured-merge-diff's order: fields, then keys, then values, then indexes.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_keys(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

fn compare_keys(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = x.0.cmp(&y.0).then_with(|| compare_values(&x.1, &y.1));
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// A total order on JSON values: numbers (compared numerically), strings, booleans,
/// lists, objects, null — structured-merge-diff's `value.Compare`.
fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => compare_lists(x, y),
        (Value::Object(x), Value::Object(y)) => compare_objects(x, y),
        _ => value_rank(a).cmp(&value_rank(b)),
    }
}

fn value_rank(value: &Value) -> u8 {
    match value {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

fn compare_numbers(x: &serde_json::Number, y: &serde_json::Number) -> Ordering {
    match (x.as_i64(), y.as_i64()) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => {
            let (a, b) = (x.as_f64().unwrap_or_default(), y.as_f64().unwrap_or_default());
            a.partial_cmp(&b).unwrap_or(Ordering::Equal)
        }
    }
}

fn compare_lists(x: &[Value], y: &[Value]) -> Ordering {
    for (a, b) in x.iter().zip(y) {
        let order = compare_values(a, b);
        if order != Ordering::Equal {
            return order;
        }
    }
    x.len().cmp(&y.len())
}

fn compare_objects(x: &Map<String, Value>, y: &Map<String, Value>) -> Ordering {
    let sorted = |m: &Map<String, Value>| {
        let mut entries: Vec<(String, Value)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries
    };
    compare_keys(&sorted(x), &sorted(y))
}

/// A path from the root of an object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    /// The path one element further down.
    pub fn child(&self, element: PathElement) -> Path {
        let mut elements = self.0.clone();
        elements.push(element);
        Path(elements)
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &Path) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// Parses dotted field names (`"spec.replicas"`); no list elements.
    pub fn fields(dotted: &str) -> Path {
        Path(dotted.split('.').map(|name| PathElement::Field(name.to_string())).collect())
    }
}

/// `.spec.template.spec.containers[name="web"].image`, as in Kubernetes' conflict messages.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|element| write!(f, "{element}"))
    }
}

/// The paths a manager owns. Ancestors of an owned path are not owned unless listed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FieldSet(BTreeSet<Path>);

impl FieldSet {
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    pub fn insert(&mut self, path: Path) {
        self.0.insert(path);
    }

    pub fn remove(&mut self, path: &Path) {
        self.0.remove(path);
    }

    pub fn contains(&self, path: &Path) -> bool {
        self.0.contains(path)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The owned paths, in `fieldsV1` order (a path before its descendants).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Path> {
        self.0.iter()
    }

    /// Whether `path` or anything below it is owned.
    pub fn has_prefix(&self, path: &Path) -> bool {
        self.0.range(path.clone()..).next().is_some_and(|p| p.starts_with(path))
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.union(&other.0).cloned().collect())
    }

    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.difference(&other.0).cloned().collect())
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.intersection(&other.0).cloned().collect())
    }

    /// The `fieldsV1` object of this set.
    pub fn to_fields_v1(&self) -> Value {
        let mut root = Node::default();
        for path in self.0.iter().filter(|path| !path.0.is_empty()) {
            root.insert(&path.0);
        }
        root.encode()
    }

    /// Parses a `fieldsV1` object.
    pub fn from_fields_v1(fields: &Value) -> Result<FieldSet, String> {
        let Value::Object(map) = fields else {
            return Err("fieldsV1 must be an object".into());
        };
        let mut set = FieldSet::new();
        decode_children(map, &Path::default(), &mut set)?;
        Ok(set)
    }
}

impl FromIterator<Path> for FieldSet {
    fn from_iter<I: IntoIterator<Item = Path>>(iter: I) -> Self {
        FieldSet(iter.into_iter().collect())
    }
}

/// The tree a set's paths form; `member` marks a path that is itself owned.
#[derive(Default)]
struct Node<'a> {
    member: bool,
    children: BTreeMap<&'a PathElement, Node<'a>>,
}

impl<'a> Node<'a> {
    fn insert(&mut self, path: &'a [PathElement]) {
        match path.split_first() {
            None => self.member = true,
            Some((first, rest)) => self.children.entry(first).or_default().insert(rest),
        }
    }

    /// `{}` for an owned leaf, `{".": {}, ...children}` for an owned path with owned
    /// children, `{...children}` otherwise; children in structured-merge-diff's order.
    fn encode(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".into(), Value::Object(Map::new()));
        }
        for (element, child) in &self.children {
            map.insert(element.encode(), child.encode());
        }
        Value::Object(map)
    }
}

fn decode_children(map: &Map<String, Value>, prefix: &Path, set: &mut FieldSet) -> Result<(), String> {
    for (key, child) in map {
        if key == "." {
            set.insert(prefix.clone());
            continue;
        }
        let path = prefix.child(PathElement::decode(key)?);
        let Value::Object(grandchildren) = child else {
            return Err(format!("fieldsV1 entry {key:?} must be an object"));
        };
        if grandchildren.is_empty() {
            set.insert(path);
        } else {
            decode_children(grandchildren, &path, set)?;
        }
    }
    Ok(())
}
