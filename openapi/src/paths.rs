//! The REST operations of each resource, modelled once and rendered by `v2` and `v3`.

use std::borrow::Cow;

use crate::Resource;
use crate::kinds::Gvk;
use crate::schema::{self, Schemas};

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum In {
    Path,
    Query,
}

impl In {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            In::Path => "path",
            In::Query => "query",
        }
    }
}

/// One operation or path parameter.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub name: &'static str,
    pub location: In,
    /// The JSON type: "string", "integer" or "boolean".
    pub ty: &'static str,
    pub description: Cow<'static, str>,
    pub required: bool,
}

/// What an operation accepts as its body.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    None,
    /// The object itself (create, replace), by definition name.
    Object(String),
    /// A patch; `strategic` says whether strategic merge patch is offered.
    Patch {
        strategic: bool,
    },
    /// Optional DeleteOptions.
    DeleteOptions,
}

/// What an operation answers with on success.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// A schema, by definition name.
    Schema(String),
    /// Plain text (logs, streaming connections).
    Text,
}

/// One HTTP method on one path.
#[derive(Clone, Debug)]
pub(crate) struct Operation {
    pub method: &'static str,
    /// `x-kubernetes-action`; None for discovery.
    pub action: Option<&'static str>,
    pub id: String,
    pub description: String,
    /// `x-kubernetes-group-version-kind`; None for discovery.
    pub gvk: Option<Gvk<'static>>,
    pub params: Vec<Param>,
    pub body: Body,
    pub reply: Reply,
    /// Success status codes, each answered with `reply`.
    pub codes: &'static [&'static str],
    /// Whether the reply may also be a watch stream (list with `watch=true`).
    pub watch: bool,
    /// The tag grouping the operation, e.g. "apps_v1".
    pub tag: String,
}

/// A path with its shared parameters and operations.
#[derive(Clone, Debug)]
pub(crate) struct PathItem {
    pub path: String,
    pub params: Vec<Param>,
    pub operations: Vec<Operation>,
}

/// The operations Kubernetes knows how to describe, named after `x-kubernetes-action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    List,
    Create,
    DeleteCollection,
    Read,
    Replace,
    Patch,
    Delete,
    Log,
    ConnectGet,
    ConnectPost,
}

/// "/api/v1" or "/apis/<group>/<version>".
pub(crate) fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") }
}

/// Tag and operation-id stem of a group-version, e.g. ("apps_v1", "AppsV1").
fn group_words(group: &str, version: &str) -> (String, String) {
    let group = match group {
        "" => "core",
        _ => group.strip_suffix(".k8s.io").unwrap_or(group),
    };
    let group_camel: String = group.split(['.', '-']).map(capitalize).collect();
    let tag = format!("{}_{version}", lower_first(&group_camel));
    (tag, format!("{group_camel}{}", capitalize(version)))
}

/// "api/v1" or "apis/<group>/<version>": the key of a group-version under /openapi/v3.
pub(crate) fn gv_path(group: &str, version: &str) -> String {
    prefix(group, version).split_off(1)
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn lower_first(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// The discovery path of a group-version, e.g. `GET /apis/apps/v1/`.
pub(crate) fn discovery_path(group: &str, version: &str) -> PathItem {
    let (tag, camel) = group_words(group, version);
    let operation = Operation {
        method: "get",
        action: None,
        id: format!("get{camel}APIResources"),
        description: "get available resources".into(),
        gvk: None,
        params: Vec::new(),
        body: Body::None,
        reply: Reply::Schema(schema::RESOURCE_LIST.into()),
        codes: &["200"],
        watch: false,
        tag,
    };
    PathItem { path: format!("{}/", prefix(group, version)), params: Vec::new(), operations: vec![operation] }
}

/// Everything needed to describe the operations of one resource or subresource.
struct Target<'a> {
    resource: &'a Resource,
    /// The kind the operations read and write (the parent's, Scale, Eviction, ...).
    gvk: Gvk<'static>,
    /// Its definition name, or None when it has no schema (connect options).
    schema: Option<String>,
    /// The definition name of its list kind, for list operations.
    list: Option<String>,
    /// The subresource name, or "" for the resource itself.
    sub: &'static str,
    tag: String,
    camel: String,
}

impl Target<'_> {
    /// "Namespaced" for namespaced resources, as Kubernetes' operation ids have it.
    fn scope(&self) -> &'static str {
        if self.resource.namespaced { "Namespaced" } else { "" }
    }

    fn operation(&self, verb: Verb) -> Operation {
        let reply = match (verb, &self.schema) {
            (Verb::List, _) => self.list.clone().map_or(Reply::Text, Reply::Schema),
            (Verb::Delete | Verb::DeleteCollection, _) => Reply::Schema(schema::STATUS.into()),
            (Verb::Log | Verb::ConnectGet | Verb::ConnectPost, _) | (_, None) => Reply::Text,
            (_, Some(name)) => Reply::Schema(name.clone()),
        };
        let watchable = self.resource.verbs.contains(&"watch");
        Operation {
            method: verb_words(verb).0,
            action: Some(verb_words(verb).1),
            id: self.operation_id(verb),
            description: self.describe(verb),
            gvk: Some(self.gvk),
            params: verb_params(verb, watchable, self.sub),
            body: self.body(verb),
            reply,
            codes: verb_codes(verb),
            watch: verb == Verb::List && watchable,
            tag: self.tag.clone(),
        }
    }

    /// Kubernetes' operation ids, e.g. "patchAppsV1NamespacedDeploymentStatus".
    fn operation_id(&self, verb: Verb) -> String {
        let (method, _, id_verb) = verb_words(verb);
        let (camel, scope, kind) = (&self.camel, self.scope(), self.resource.kind);
        let sub = capitalize(self.sub);
        match verb {
            Verb::DeleteCollection => format!("delete{camel}Collection{scope}{kind}"),
            Verb::ConnectGet | Verb::ConnectPost => {
                format!("connect{camel}{}{scope}{kind}{sub}", capitalize(method))
            }
            _ => format!("{id_verb}{camel}{scope}{kind}{sub}"),
        }
    }

    fn body(&self, verb: Verb) -> Body {
        match (verb, &self.schema) {
            (Verb::Create | Verb::Replace, Some(name)) => Body::Object(name.clone()),
            (Verb::Patch, _) => Body::Patch {
                // Kubernetes offers strategic merge patch only for built-in types; kubectl then
                // builds the patch from our schema, which carries the patch extensions.
                strategic: Schemas::is_typed(self.gvk),
            },
            (Verb::Delete | Verb::DeleteCollection, _) => Body::DeleteOptions,
            _ => Body::None,
        }
    }

    fn describe(&self, verb: Verb) -> String {
        let kind = self.resource.kind;
        let sub = self.sub;
        if sub.is_empty() {
            return match verb {
                Verb::List => format!("list or watch objects of kind {kind}"),
                Verb::Create => format!("create a {kind}"),
                Verb::DeleteCollection => format!("delete collection of {kind}"),
                Verb::Read => format!("read the specified {kind}"),
                Verb::Replace => format!("replace the specified {kind}"),
                Verb::Patch => format!("partially update the specified {kind}"),
                Verb::Delete => format!("delete a {kind}"),
                Verb::Log | Verb::ConnectGet | Verb::ConnectPost => format!("access {kind}"),
            };
        }
        match verb {
            Verb::Create => format!("create {sub} of a {kind}"),
            Verb::Read | Verb::Log => format!("read {sub} of the specified {kind}"),
            Verb::Replace => format!("replace {sub} of the specified {kind}"),
            Verb::Patch => format!("partially update {sub} of the specified {kind}"),
            Verb::ConnectGet => format!("connect GET requests to {sub} of {kind}"),
            Verb::ConnectPost => format!("connect POST requests to {sub} of {kind}"),
            _ => format!("access {sub} of {kind}"),
        }
    }
}

/// (HTTP method, x-kubernetes-action, operation-id verb).
fn verb_words(verb: Verb) -> (&'static str, &'static str, &'static str) {
    match verb {
        Verb::List => ("get", "list", "list"),
        Verb::Create => ("post", "post", "create"),
        Verb::DeleteCollection => ("delete", "deletecollection", "delete"),
        Verb::Read | Verb::Log => ("get", "get", "read"),
        Verb::Replace => ("put", "put", "replace"),
        Verb::Patch => ("patch", "patch", "patch"),
        Verb::Delete => ("delete", "delete", "delete"),
        Verb::ConnectGet => ("get", "connect", "connect"),
        Verb::ConnectPost => ("post", "connect", "connect"),
    }
}

fn verb_codes(verb: Verb) -> &'static [&'static str] {
    match verb {
        Verb::Create => &["200", "201", "202"],
        Verb::Replace | Verb::Patch => &["200", "201"],
        Verb::Delete => &["200", "202"],
        _ => &["200"],
    }
}

/// The paths of one resource: collection, item, all-namespaces list and subresources.
pub(crate) fn resource_paths(resource: &Resource, schemas: &mut Schemas) -> Vec<PathItem> {
    let gvk = Gvk { group: resource.group, version: resource.version, kind: resource.kind };
    let has = |verb: &str| resource.verbs.contains(&verb);
    let (tag, camel) = group_words(resource.group, resource.version);
    let target = Target {
        resource,
        gvk,
        schema: Some(schemas.kind(gvk)),
        list: has("list").then(|| schemas.list(gvk)),
        sub: "",
        tag: tag.clone(),
        camel: camel.clone(),
    };
    let base = prefix(resource.group, resource.version);
    let collection = match resource.namespaced {
        true => format!("{base}/namespaces/{{namespace}}/{}", resource.plural),
        false => format!("{base}/{}", resource.plural),
    };
    let item = format!("{collection}/{{name}}");
    let mut paths = Vec::new();

    let collection_verbs =
        [("list", Verb::List), ("create", Verb::Create), ("deletecollection", Verb::DeleteCollection)];
    let item_verbs = [("get", Verb::Read), ("update", Verb::Replace), ("patch", Verb::Patch), ("delete", Verb::Delete)];
    let pick = |table: &[(&str, Verb)]| -> Vec<Verb> {
        table.iter().filter(|(name, _)| has(name)).map(|(_, verb)| *verb).collect()
    };
    push_path(&mut paths, &target, collection, false, &pick(&collection_verbs));
    push_path(&mut paths, &target, item.clone(), true, &pick(&item_verbs));
    if resource.namespaced && has("list") {
        paths.push(all_namespaces_list(&target, &base));
    }
    for sub in resource.subresources {
        if let Some((sub_target, verbs)) = subresource(resource, sub, schemas, &tag, &camel) {
            let path = format!("{item}/{sub}");
            push_path(&mut paths, &sub_target, path, true, verbs);
        }
    }
    paths
}

fn push_path(paths: &mut Vec<PathItem>, target: &Target<'_>, path: String, named: bool, verbs: &[Verb]) {
    if verbs.is_empty() {
        return;
    }
    let operations = verbs.iter().map(|verb| target.operation(*verb)).collect();
    paths.push(PathItem { path, params: path_params(target, named), operations });
}

/// `GET /apis/<g>/<v>/<plural>`: the list across all namespaces.
fn all_namespaces_list(target: &Target<'_>, base: &str) -> PathItem {
    let mut operation = target.operation(Verb::List);
    operation.id = format!("list{}{}ForAllNamespaces", target.camel, target.resource.kind);
    PathItem { path: format!("{base}/{}", target.resource.plural), params: vec![pretty()], operations: vec![operation] }
}

fn path_params(target: &Target<'_>, named: bool) -> Vec<Param> {
    let mut params = Vec::new();
    if named {
        let owner = match target.sub {
            "" => target.resource.kind,
            _ => target.gvk.kind,
        };
        params.push(Param {
            name: "name",
            location: In::Path,
            ty: "string",
            description: format!("name of the {owner}").into(),
            required: true,
        });
    }
    if target.resource.namespaced {
        params.push(Param {
            name: "namespace",
            location: In::Path,
            ty: "string",
            description: "object name and auth scope, such as for teams and projects".into(),
            required: true,
        });
    }
    params.push(pretty());
    params
}

fn pretty() -> Param {
    query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
    )
}

fn query(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param { name, location: In::Query, ty, description: description.into(), required: false }
}

/// The subresource's target kind and verbs, or None for one we cannot describe.
fn subresource<'a>(
    resource: &'a Resource,
    sub: &'static str,
    schemas: &mut Schemas,
    tag: &str,
    camel: &str,
) -> Option<(Target<'a>, &'static [Verb])> {
    const RW: &[Verb] = &[Verb::Read, Verb::Replace, Verb::Patch];
    const CONNECT: &[Verb] = &[Verb::ConnectGet, Verb::ConnectPost];
    let parent = Gvk { group: resource.group, version: resource.version, kind: resource.kind };
    let core = |kind| Gvk { group: "", version: "v1", kind };
    let (gvk, typed, verbs): (Gvk<'static>, bool, &'static [Verb]) = match sub {
        "status" | "ephemeralcontainers" | "resize" | "approval" => (parent, true, RW),
        "finalize" => (parent, true, &[Verb::Replace]),
        "log" => (parent, false, &[Verb::Log]),
        "scale" => (gvk("autoscaling", "v1", "Scale"), true, RW),
        "binding" => (core("Binding"), true, &[Verb::Create]),
        "eviction" => (gvk("policy", "v1", "Eviction"), true, &[Verb::Create]),
        "token" => (gvk("authentication.k8s.io", "v1", "TokenRequest"), true, &[Verb::Create]),
        "exec" => (core("PodExecOptions"), false, CONNECT),
        "attach" => (core("PodAttachOptions"), false, CONNECT),
        "portforward" => (core("PodPortForwardOptions"), false, CONNECT),
        "proxy" => (core(proxy_options(resource.kind)?), false, CONNECT),
        _ => return None,
    };
    let schema = typed.then(|| schemas.kind(gvk));
    let target = Target { resource, gvk, schema, list: None, sub, tag: tag.to_owned(), camel: camel.to_owned() };
    Some((target, verbs))
}

fn gvk(group: &'static str, version: &'static str, kind: &'static str) -> Gvk<'static> {
    Gvk { group, version, kind }
}

fn proxy_options(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("PodProxyOptions"),
        "Node" => Some("NodeProxyOptions"),
        "Service" => Some("ServiceProxyOptions"),
        _ => None,
    }
}

/// The query parameters of an operation, as Kubernetes 1.33 lists them.
fn verb_params(verb: Verb, watchable: bool, sub: &str) -> Vec<Param> {
    let names: &[&str] = match verb {
        Verb::List if watchable => &[
            "allowWatchBookmarks",
            "continue",
            "fieldSelector",
            "labelSelector",
            "limit",
            "resourceVersion",
            "resourceVersionMatch",
            "sendInitialEvents",
            "timeoutSeconds",
            "watch",
        ],
        Verb::List => &[
            "continue",
            "fieldSelector",
            "labelSelector",
            "limit",
            "resourceVersion",
            "resourceVersionMatch",
            "timeoutSeconds",
        ],
        Verb::Create | Verb::Replace => &["dryRun", "fieldManager", "fieldValidation"],
        Verb::Patch => &["dryRun", "fieldManager", "fieldValidation", "force"],
        Verb::Delete => &[
            "dryRun",
            "gracePeriodSeconds",
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "orphanDependents",
            "propagationPolicy",
        ],
        Verb::DeleteCollection => &[
            "continue",
            "dryRun",
            "fieldSelector",
            "gracePeriodSeconds",
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "labelSelector",
            "limit",
            "orphanDependents",
            "propagationPolicy",
            "resourceVersion",
            "resourceVersionMatch",
            "sendInitialEvents",
            "timeoutSeconds",
        ],
        Verb::Read => &[],
        Verb::Log => &[
            "container",
            "follow",
            "insecureSkipTLSVerifyBackend",
            "limitBytes",
            "previous",
            "sinceSeconds",
            "stream",
            "tailLines",
            "timestamps",
        ],
        Verb::ConnectGet | Verb::ConnectPost => match sub {
            "exec" => &["command", "container", "stderr", "stdin", "stdout", "tty"],
            "attach" => &["container", "stderr", "stdin", "stdout", "tty"],
            "portforward" => &["ports"],
            _ => &["path"],
        },
    };
    names.iter().filter_map(|name| query_param(name)).collect()
}

/// The shared query parameters, with Kubernetes' (shortened) descriptions.
fn query_param(name: &str) -> Option<Param> {
    let (name, ty, description) = QUERY_PARAMS.iter().find(|(n, _, _)| *n == name)?;
    Some(query(name, ty, description))
}

static QUERY_PARAMS: &[(&str, &str, &str)] = &[
    (
        "allowWatchBookmarks",
        "boolean",
        "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion.",
    ),
    ("command", "string", "Command is the remote command to execute. argv array. Not executed within a shell."),
    (
        "container",
        "string",
        "The container in which to execute the command (or whose logs to stream). Defaults to only container if there is only one container in the pod.",
    ),
    (
        "continue",
        "string",
        "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue).",
    ),
    (
        "dryRun",
        "string",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    ),
    (
        "fieldManager",
        "string",
        "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
    ),
    (
        "fieldSelector",
        "string",
        "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
    ),
    (
        "fieldValidation",
        "string",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
    ),
    ("follow", "boolean", "Follow the log stream of the pod. Defaults to false."),
    (
        "force",
        "boolean",
        "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
    ),
    (
        "gracePeriodSeconds",
        "integer",
        "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
    ),
    (
        "ignoreStoreReadErrorWithClusterBreakingPotential",
        "boolean",
        "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. The default value is false, and the user must opt in to enable it",
    ),
    (
        "insecureSkipTLSVerifyBackend",
        "boolean",
        "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to.",
    ),
    (
        "labelSelector",
        "string",
        "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
    ),
    (
        "limit",
        "integer",
        "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.",
    ),
    ("limitBytes", "integer", "If set, the number of bytes to read from the server before terminating the log output."),
    (
        "orphanDependents",
        "boolean",
        "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
    ),
    ("path", "string", "Path is the URL path to use for the current proxy request."),
    ("ports", "integer", "List of ports to forward. Required when using WebSockets"),
    ("previous", "boolean", "Return previous terminated container logs. Defaults to false."),
    (
        "propagationPolicy",
        "string",
        "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
    ),
    (
        "resourceVersion",
        "string",
        "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details. Defaults to unset",
    ),
    (
        "resourceVersionMatch",
        "string",
        "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set. Defaults to unset",
    ),
    (
        "sendInitialEvents",
        "boolean",
        "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection, followed by a \"Bookmark\" event.",
    ),
    ("sinceSeconds", "integer", "A relative time in seconds before the current time from which to show logs."),
    ("stderr", "boolean", "Redirect the standard error stream of the pod for this call."),
    ("stdin", "boolean", "Redirect the standard input stream of the pod for this call. Defaults to false."),
    ("stdout", "boolean", "Redirect the standard output stream of the pod for this call."),
    (
        "stream",
        "string",
        "Specify which container log stream to return to the client. Acceptable values are \"All\", \"Stdout\" and \"Stderr\". If not specified, \"All\" is used.",
    ),
    ("tailLines", "integer", "If set, the number of lines from the end of the logs to show."),
    (
        "timeoutSeconds",
        "integer",
        "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
    ),
    (
        "timestamps",
        "boolean",
        "If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.",
    ),
    ("tty", "boolean", "TTY if true indicates that a tty will be allocated for the exec call. Defaults to false."),
    (
        "watch",
        "boolean",
        "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
    ),
];
