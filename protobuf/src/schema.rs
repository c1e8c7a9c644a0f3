//! The shape of the generated field table (`table.rs`): messages, their fields, and the
//! (apiVersion, kind) index.

/// A required field (not `Option` in k8s-openapi): its zero value is kept.
pub(crate) const REQUIRED: u8 = 1;
/// A Go embedded struct: its fields are written into the parent object.
pub(crate) const INLINE: u8 = 2;
/// A Go pointer by its doc: a zero value means something and is kept.
pub(crate) const KEEP_ZERO: u8 = 4;

/// A protobuf message and how its JSON looks.
pub(crate) struct Message {
    /// The k8s-pb Rust path, for errors.
    pub name: &'static str,
    pub special: Special,
    /// Sorted by tag.
    pub fields: &'static [Field],
}

/// One field of a message.
pub(crate) struct Field {
    pub tag: u32,
    /// The JSON name.
    pub name: &'static str,
    /// For a map, the value's type (keys are always strings).
    pub ty: Ty,
    pub card: Card,
    pub flags: u8,
}

/// A field's protobuf type.
#[derive(Clone, Copy)]
pub(crate) enum Ty {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Double,
    /// An index into `MESSAGES`.
    Message(u16),
}

/// A field's cardinality.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Card {
    Optional,
    Repeated,
    Map,
}

/// Messages whose JSON is not an object of their fields.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    None,
    /// meta.v1.Time: RFC 3339 in seconds, or null when zero.
    Time,
    /// meta.v1.MicroTime: RFC 3339 with microseconds, or null when zero.
    MicroTime,
    /// meta.v1.Duration: Go's duration string.
    Duration,
    /// resource.Quantity: its string.
    Quantity,
    /// intstr.IntOrString: a number or a string.
    IntOrString,
    /// RawExtension, FieldsV1, apiextensions JSON: the raw bytes are the JSON.
    RawJson,
    /// A named []string type (Verbs, ExtraValue): the bare array.
    Items,
    /// apiextensions JSONSchemaPropsOrArray: a schema or an array of schemas.
    SchemaOrArray,
    /// apiextensions JSONSchemaPropsOrBool: a schema or a bool.
    SchemaOrBool,
    /// apiextensions JSONSchemaPropsOrStringArray: a schema or an array of strings.
    SchemaOrStringArray,
}

/// A top-level kind; apiVersion `*` stands for every group version (meta/v1 options).
pub(crate) struct Kind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub message: u16,
}

impl Message {
    pub(crate) fn field(&self, tag: u32) -> Option<&'static Field> {
        self.fields.binary_search_by_key(&tag, |f| f.tag).ok().map(|i| &self.fields[i])
    }
}

/// The message for a top-level apiVersion and kind.
pub(crate) fn kind(api_version: &str, kind: &str) -> Option<u16> {
    let find = |v: &str| {
        crate::table::KINDS
            .binary_search_by(|k| (k.api_version, k.kind).cmp(&(v, kind)))
            .ok()
            .map(|i| crate::table::KINDS[i].message)
    };
    find(api_version).or_else(|| find("*"))
}

/// A message by index.
pub(crate) fn message(index: u16) -> &'static Message {
    &crate::table::MESSAGES[usize::from(index)]
}
