#!/usr/bin/env python3
"""Generates protobuf/src/table.rs: the field table that protobuf::decode reads.

Sources (both crates.io packages, found through `cargo metadata` of the workspace, so the
versions are the ones Cargo.lock pins; k8s-pb is a dev-dependency of the protobuf crate):
  * k8s-pb (prost code generated from Kubernetes' own generated.proto files): every message,
    its fields' tags, wire types, cardinality (optional / repeated / map) and message types,
    and the proto doc comments;
  * k8s-openapi, feature v1_33 (generated from Kubernetes' OpenAPI spec): the exact JSON
    field names (its serde impls name them, e.g. "podIPs" => Field::Key_pod_ips), which fields
    are required (not Option), and which proto fields are Go embedded structs (inlined in
    JSON: the proto field has no JSON name and the embedded type's JSON fields all appear in
    the parent, e.g. Probe.handler -> exec/httpGet/...).

Only the API versions that k8s-openapi v1_33 has are emitted (Kubernetes 1.33's API).

Regenerate (from the workspace root, /work/main):
    python3 protobuf/tools/gen_table.py && cargo fmt -p protobuf
Pass --stats to print what was matched and what fell back, instead of writing the table.
"""

import collections
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
WORKSPACE = os.path.dirname(CRATE)
OUT = os.path.join(CRATE, "src", "table.rs")
OPENAPI_FEATURE = "v1_33"

# Messages whose JSON form is not an object of their fields (Go types with their own
# MarshalJSON, or named slice types that go-to-protobuf wraps in a message).
SPECIAL = {
    "apimachinery::pkg::apis::meta::v1::Time": "Time",
    "apimachinery::pkg::apis::meta::v1::MicroTime": "MicroTime",
    "apimachinery::pkg::apis::meta::v1::Duration": "Duration",
    "apimachinery::pkg::apis::meta::v1::FieldsV1": "RawJson",
    "apimachinery::pkg::apis::meta::v1::Verbs": "Items",
    "apimachinery::pkg::api::resource::Quantity": "Quantity",
    "apimachinery::pkg::api::resource::QuantityValue": "Quantity",
    "apimachinery::pkg::util::intstr::IntOrString": "IntOrString",
    "apimachinery::pkg::runtime::RawExtension": "RawJson",
    "apiextensions_apiserver::pkg::apis::apiextensions::v1::Json": "RawJson",
    "apiextensions_apiserver::pkg::apis::apiextensions::v1::JsonSchemaPropsOrArray": "SchemaOrArray",
    "apiextensions_apiserver::pkg::apis::apiextensions::v1::JsonSchemaPropsOrBool": "SchemaOrBool",
    "apiextensions_apiserver::pkg::apis::apiextensions::v1::JsonSchemaPropsOrStringArray": "SchemaOrStringArray",
}
# Named []string types (map values in UserInfo.extra and the like): JSON is the bare array.
ITEMS_WRAPPERS = {"ExtraValue"}
# Messages whose numbers are all Go pointers (*int64, *float64) although no doc says so.
POINTER_NUMBERS = {"JsonSchemaProps"}
# meta/v1 kinds that Kubernetes registers into every group version (metav1.AddToGroupVersion).
META_KINDS = {"CreateOptions", "DeleteOptions", "GetOptions", "ListOptions", "PatchOptions",
              "UpdateOptions", "WatchEvent", "Status"}


def crate_dirs():
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--manifest-path",
         os.path.join(WORKSPACE, "Cargo.toml")],
        check=True, capture_output=True, text=True).stdout
    found = {}
    for pkg in json.loads(meta)["packages"]:
        if pkg["name"] in ("k8s-pb", "k8s-openapi"):
            found[pkg["name"]] = (os.path.dirname(pkg["manifest_path"]), pkg["version"])
    for name in ("k8s-pb", "k8s-openapi"):
        if name not in found:
            sys.exit(f"{name} is not in the workspace's cargo metadata")
    return found


def lower_key(name):
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("r#", ""))


# ---------------------------------------------------------------- k8s-openapi

def parse_openapi(root):
    """module path ("api::core::v1") -> {lower struct name: {"name", "fields": {json: (rust, required)}}}"""
    base = os.path.join(root, "src", OPENAPI_FEATURE)
    out = collections.defaultdict(dict)
    for path in sorted(glob.glob(os.path.join(base, "**", "*.rs"), recursive=True)):
        if os.path.basename(path) == "mod.rs":
            continue
        module = "::".join(os.path.relpath(os.path.dirname(path), base).split(os.sep))
        src = open(path, encoding="utf-8").read()
        m = re.search(r"^pub struct (\w+)\s*\{(.*?)^\}", src, re.S | re.M)
        if not m:
            continue
        types = dict(re.findall(r"^    pub (\w+): (.+),$", m.group(2), re.M))
        fields = {}
        for json_name, rust in re.findall(r'"([^"]+)" => Field::Key_(\w+),', src):
            ty = types.get(rust, "")
            fields[json_name] = (rust, not ty.startswith("Option<"))
        out[module][m.group(1).lower()] = {"name": m.group(1), "fields": fields}
    return out


# ---------------------------------------------------------------- k8s-pb

FIELD_RE = re.compile(
    r"#\[prost\((?P<attr>[^\]]*)\)\]\s*pub (?:r#)?(?P<name>\w+):\s*(?P<ty>.*?),\n(?=\s*(?:///|#\[)|\s*\Z)", re.S)


def resolve(module, ty):
    """Resolves a Rust type path (relative to module) to "module::Struct"."""
    for wrapper in ("::core::option::Option<", "::prost::alloc::vec::Vec<",
                    "::prost::alloc::boxed::Box<"):
        ty = ty.replace(wrapper, "")
    if "BTreeMap<" in ty:
        ty = ty.split(",", 1)[1]
    ty = re.sub(r"[>\s]", "", ty).rstrip(",")
    parts = module.split("::")
    segs = ty.split("::")
    while segs and segs[0] == "super":
        segs.pop(0)
        parts.pop()
    return "::".join(parts + segs)


def parse_pb(root):
    """Returns (messages, resources): messages "module::Struct" -> [fields], resources
    "module::Struct" -> (apiVersion, kind)."""
    base = os.path.join(root, "src")
    messages = {}
    docs = {}
    resources = {}
    for path in sorted(glob.glob(os.path.join(base, "**", "mod.rs"), recursive=True)):
        module = "::".join(os.path.relpath(os.path.dirname(path), base).split(os.sep))
        src = open(path, encoding="utf-8").read()
        for m in re.finditer(r"^pub struct (\w+) \{(?:\}|\n(.*?)^\})", src, re.S | re.M):
            fields = []
            body = m.group(2) or ""
            for f in FIELD_RE.finditer(body):
                attr = f.group("attr")
                tag = int(re.search(r'tag = "(\d+)"', attr).group(1))
                doc_lines = []
                # doc comment lines directly above this field's attribute
                before = body[: f.start()].split("\n")
                for line in reversed(before[:-1] if before and before[-1].strip() == "" else before):
                    s = line.strip()
                    if s.startswith("///"):
                        doc_lines.insert(0, s[3:].strip())
                    elif s == "":
                        continue
                    else:
                        break
                first = attr.split(",")[0].strip()
                if first.startswith("btree_map") or first.startswith("map"):
                    value = re.search(r'map = "string, (\w+)"', attr).group(1)
                    card, scalar = "Map", value
                else:
                    scalar = first.split("=")[0].strip()
                    card = "Repeated" if "repeated" in attr else "Optional"
                ty = resolve(module, f.group("ty")) if scalar == "message" else None
                fields.append({"tag": tag, "rust": f.group("name"), "scalar": scalar,
                               "card": card, "msg": ty, "doc": " ".join(doc_lines)})
            messages[f"{module}::{m.group(1)}"] = fields
        for m in re.finditer(
                r'impl crate::Resource for (\w+) \{.*?API_VERSION: &\'static str = "([^"]*)";'
                r'.*?KIND: &\'static str = "([^"]*)";', src, re.S):
            resources[f"{module}::{m.group(1)}"] = (m.group(2), m.group(3))
    return messages, resources


# ---------------------------------------------------------------- join

def keeps_zero(scalar, doc):
    """Whether a zero value ("" 0 false) of this optional scalar means something, judged from
    the field's proto doc, since protobuf does not say which Go fields are pointers.

    Kubernetes' Go marshaller writes every non-pointer field, zero or not, and JSON leaves zero
    `omitempty` fields out, so zeros are dropped unless the doc shows the Go field is a pointer:
    it says so ("This is a pointer to distinguish between explicit zero and not specified"),
    gives zero a meaning ("The value zero indicates stop immediately"), or gives a default that
    is not zero (a bool defaulting to true, a number defaulting to 6), which a non-pointer field
    could not tell from unset. Strings and bytes: "" is always dropped; doubles are kept.
    """
    if scalar in ("string", "bytes"):
        return False
    if scalar == "double":  # the few doubles (JSON schema bounds) are all *float64
        return True
    if re.search(r"pointer|\bzero\b|explicit", doc, re.I):
        return True
    if scalar == "bool":
        return re.search(r"defaults? (?:is |to |value is )?\"?true", doc, re.I) is not None
    m = re.search(r"defaults? (?:is |to |value is )?(\d+)", doc, re.I)
    return m is not None and int(m.group(1)) != 0


def snake_to_camel(s, casing):
    """lowerCamel from snake_case; later words take the casing they have in matched JSON names
    (tls -> TLS, ip -> IP), else a capital first letter."""
    head, *rest = s.split("_")
    return head + "".join(casing.get(p, p[:1].upper() + p[1:]) for p in rest)


def learn_casing(pairs):
    """Word -> its most common casing after the first word, from (snake, JSON name) pairs."""
    seen = collections.defaultdict(collections.Counter)
    for rust, js in pairs:
        words = rust.split("_")
        if lower_key(rust) != lower_key(js) or not js.isalnum():
            continue
        pos = len(words[0])
        for w in words[1:]:
            seen[w][js[pos:pos + len(w)]] += 1
            pos += len(w)
    return {w: c.most_common(1)[0][0] for w, c in seen.items()}


def build(pb_root, oa_root):
    messages, resources = parse_pb(pb_root)
    openapi = parse_openapi(oa_root)
    modules = set(openapi) | {"apimachinery::pkg::apis::meta::v1", "apimachinery::pkg::runtime",
                              "apimachinery::pkg::util::intstr", "apimachinery::pkg::api::resource"}
    candidates = {k: v for k, v in messages.items() if k.rsplit("::", 1)[0] in modules}
    kinds = find_kinds(candidates, resources, openapi)
    # only what Kubernetes 1.33's kinds reach
    keep = {}
    todo = list(kinds.values()) + [k for k in SPECIAL if k in messages]
    while todo:
        full = todo.pop()
        if full in keep:
            continue
        keep[full] = messages[full]
        todo.extend(f["msg"] for f in messages[full] if f["msg"])

    alias = {}

    def oa_struct(full):
        module, name = full.rsplit("::", 1)
        return openapi.get(module, {}).get(name.lower()) or alias.get(full)

    def json_keys(full):
        module, name = full.rsplit("::", 1)
        st = openapi.get(module, {}).get(name.lower())
        if st:
            return {lower_key(j) for j in st["fields"]}
        return {lower_key(f["rust"]) for f in keep.get(full, [])}

    # Go embedded structs: a message field that has no JSON name in its parent, while most of
    # the embedded type's fields are JSON fields of the parent (k8s-pb may be a release newer
    # than k8s-openapi's v1_33, so not all). An embedded type k8s-openapi lacks (Rule,
    # PersistentVolumeSource) takes its JSON names from the parent it is embedded in.
    inline = set()
    for full, fields in keep.items():
        st = oa_struct(full)
        if not st:
            continue
        parent = {lower_key(j) for j in st["fields"]}
        for f in fields:
            if f["msg"] is None or f["card"] != "Optional" or lower_key(f["rust"]) in parent:
                continue
            sub = json_keys(f["msg"])
            if sub and len(sub & parent) >= 0.75 * len(sub):
                inline.add((full, f["tag"]))
                if not oa_struct(f["msg"]):
                    alias[f["msg"]] = st

    # global snake-key -> JSON name, learned from every matched field (for unmatched ones)
    learned = collections.Counter()
    for full, fields in keep.items():
        st = oa_struct(full)
        if not st:
            continue
        by_key = {lower_key(j): j for j in st["fields"]}
        for f in fields:
            if lower_key(f["rust"]) in by_key:
                learned[(f["rust"], by_key[lower_key(f["rust"])])] += 1
    casing = learn_casing(learned)
    learned_name = {}
    for (rust, js), _ in learned.most_common():
        learned_name.setdefault(rust, js)

    stats = collections.Counter()
    report = []
    table = {}
    for full in sorted(keep):
        fields = keep[full]
        st = oa_struct(full)
        special = SPECIAL.get(full)
        if special is None and full.rsplit("::", 1)[1] in ITEMS_WRAPPERS:
            special = "Items"
        by_key = {lower_key(j): j for j in st["fields"]} if st else {}
        out = []
        for f in sorted(fields, key=lambda f: f["tag"]):
            flags = []
            key = lower_key(f["rust"])
            if key in by_key:
                name = by_key[key]
                if st["fields"][name][1]:
                    flags.append("REQUIRED")
                stats["named by k8s-openapi"] += 1
            elif (full, f["tag"]) in inline:
                name = f["rust"]
                flags.append("INLINE")
                stats["inline (embedded struct)"] += 1
            elif f["rust"] in learned_name:
                name = learned_name[f["rust"]]
                stats["named by the same field elsewhere"] += 1
                report.append(f"learned  {full}.{f['rust']} -> {name}")
            else:
                name = snake_to_camel(f["rust"], casing)
                stats["named by snake->camel"] += 1
                if special is None:
                    report.append(f"camel    {full}.{f['rust']} -> {name}")
            if f["card"] == "Optional" and f["scalar"] != "message" and "REQUIRED" not in flags \
                    and (keeps_zero(f["scalar"], f["doc"])
                         or (full.rsplit("::", 1)[1] in POINTER_NUMBERS and f["scalar"] in ("int32", "int64"))):
                flags.append("KEEP_ZERO")
                stats["zero kept (Go pointer, by its doc)"] += 1
                report.append(f"zero     {full}.{f['rust']}")
            out.append(dict(f, name=name, flags=flags))
        table[full] = {"special": special or "None", "fields": out, "openapi": bool(st)}
        if not st and special is None:
            report.append(f"no k8s-openapi struct: {full}")

    return table, kinds, stats, report


def find_kinds(messages, resources, openapi):
    """(apiVersion, kind) -> message: k8s-pb's resources, every other struct with metadata in a
    module of a known apiVersion (Eviction, Scale, TokenRequest), and the meta/v1 kinds of
    every group version under apiVersion "*"; only those k8s-openapi v1_33 has."""
    versions = {}
    for full, (api_version, _) in resources.items():
        versions[full.rsplit("::", 1)[0]] = api_version
    kinds = {}
    for full, fields in messages.items():
        module, name = full.rsplit("::", 1)
        if name.lower() not in openapi.get(module, {}):
            continue
        if full in resources:
            kinds[resources[full]] = full
        elif module in versions and any(f["rust"] == "metadata" for f in fields):
            kinds.setdefault((versions[module], name), full)
        elif module == "apimachinery::pkg::apis::meta::v1" and name in META_KINDS:
            kinds[("*", name)] = full
    return kinds


# ---------------------------------------------------------------- emit

SCALARS = {"string": "String", "bytes": "Bytes", "bool": "Bool", "int32": "Int32",
           "int64": "Int64", "double": "Double", "message": "Message"}


def emit(table, kinds, pb, oa):
    index = {full: i for i, full in enumerate(table)}
    lines = [
        "//! GENERATED by protobuf/tools/gen_table.py - do not edit.",
        "//!",
        f"//! From k8s-pb {pb[1]} (prost code generated from Kubernetes' generated.proto files:",
        "//! tags, wire types, cardinality, message types) and k8s-openapi",
        f"//! {oa[1]} feature {OPENAPI_FEATURE} (exact JSON names, required fields, embedded structs).",
        "//! Regenerate from the workspace root:",
        "//! `python3 protobuf/tools/gen_table.py && cargo fmt -p protobuf`.",
        "",
        "use crate::schema::{Card::*, Field, Kind, Message, Special, Ty::*};",
        "",
        "const R: u8 = crate::schema::REQUIRED;",
        "const I: u8 = crate::schema::INLINE;",
        "const Z: u8 = crate::schema::KEEP_ZERO;",
        "",
        "/// Every message, by index; `Message(i)` field types point into this.",
        "pub(crate) static MESSAGES: &[Message] = &[",
    ]
    for full, msg in table.items():
        fields = []
        for f in msg["fields"]:
            ty = SCALARS[f["scalar"]]
            if ty == "Message":
                ty = f"Message({index[f['msg']]})"
            flags = "|".join({"REQUIRED": "R", "INLINE": "I", "KEEP_ZERO": "Z"}[x] for x in f["flags"]) or "0"
            fields.append(f'Field{{tag:{f["tag"]},name:"{f["name"]}",ty:{ty},card:{f["card"]},flags:{flags}}}')
        lines.append(f'    Message{{name:"{full}",special:Special::{msg["special"]},fields:&[{",".join(fields)}]}},')
    lines.append("];")
    lines.append("")
    lines.append("/// (apiVersion, kind) -> message, sorted; apiVersion `*` is a meta/v1 kind of every group version.")
    lines.append("pub(crate) static KINDS: &[Kind] = &[")
    for (api_version, kind), full in sorted(kinds.items()):
        lines.append(f'    Kind{{api_version:"{api_version}",kind:"{kind}",message:{index[full]}}},')
    lines.append("];")
    return "\n".join(lines) + "\n"


def main():
    dirs = crate_dirs()
    table, kinds, stats, report = build(dirs["k8s-pb"][0], dirs["k8s-openapi"][0])
    if "--stats" in sys.argv:
        for line in report:
            print(line)
        print(dict(stats), len(table), "messages", len(kinds), "kinds")
        return
    with open(OUT, "w", encoding="utf-8") as out:
        out.write(emit(table, kinds, dirs["k8s-pb"], dirs["k8s-openapi"]))
    print(f"wrote {OUT}: {len(table)} messages, {len(kinds)} kinds, {dict(stats)}")


if __name__ == "__main__":
    main()
