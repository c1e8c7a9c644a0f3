//! Request info: what a URL and method ask for (verb, group, version, resource, namespace,
//! name, subresource), parsed as Kubernetes' RequestInfoFactory does.

use axum::http::Method;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

/// A resource request; discovery and other paths are not RequestInfos.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    pub verb: Verb,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Subresources of namespaces, which would otherwise read as `namespaces/<ns>/<resource>`.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

/// Parses `/api/v1/...` or `/apis/<group>/<version>/...`; None for anything that is not a
/// resource path (discovery documents, unknown prefixes).
pub fn parse(method: &Method, path: &str, watch_param: bool) -> Option<RequestInfo> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
    let (group, version, mut rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let mut watch = watch_param;
    if rest.first() == Some(&"watch") {
        watch = true;
        rest = &rest[1..];
    }
    let (namespace, rest) = split_namespace(rest);
    let (resource, name, subresource) = match rest {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(*name), None),
        [resource, name, sub] => (*resource, Some(*name), Some(*sub)),
        _ => return None,
    };
    let verb = verb(method, name.is_some(), watch)?;
    Some(RequestInfo {
        verb,
        group: group.into(),
        version: version.into(),
        resource: resource.into(),
        namespace: namespace.map(String::from),
        name: name.map(String::from),
        subresource: subresource.map(String::from),
    })
}

fn split_namespace<'a>(rest: &'a [&'a str]) -> (Option<&'a str>, &'a [&'a str]) {
    match rest {
        ["namespaces", ns, sub] if NAMESPACE_SUBRESOURCES.contains(sub) => (None, rest),
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(*ns), tail),
        _ => (None, rest),
    }
}

fn verb(method: &Method, named: bool, watch: bool) -> Option<Verb> {
    Some(match (method.as_str(), named) {
        ("GET" | "HEAD", _) if watch => Verb::Watch,
        ("GET" | "HEAD", true) => Verb::Get,
        ("GET" | "HEAD", false) => Verb::List,
        ("POST", _) => Verb::Create,
        ("PUT", true) => Verb::Update,
        ("PATCH", true) => Verb::Patch,
        ("DELETE", true) => Verb::Delete,
        ("DELETE", false) => Verb::DeleteCollection,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(m: Method, p: &str) -> RequestInfo {
        parse(&m, p, false).expect("a resource path")
    }

    #[test]
    fn a_namespaced_name_and_subresource_are_read_from_the_path() {
        let r = info(Method::PUT, "/apis/apps/v1/namespaces/default/deployments/web/status");
        assert_eq!((r.group.as_str(), r.namespace.as_deref()), ("apps", Some("default")));
        assert_eq!((r.name.as_deref(), r.subresource.as_deref()), (Some("web"), Some("status")));
        assert_eq!(r.verb, Verb::Update);
    }

    #[test]
    fn a_namespace_itself_is_a_cluster_scoped_resource() {
        let r = info(Method::GET, "/api/v1/namespaces/kube-system");
        assert_eq!((r.resource.as_str(), r.name.as_deref(), r.namespace), ("namespaces", Some("kube-system"), None));
        let f = info(Method::PUT, "/api/v1/namespaces/x/finalize");
        assert_eq!((f.name.as_deref(), f.subresource.as_deref()), (Some("x"), Some("finalize")));
    }

    #[test]
    fn the_legacy_watch_prefix_and_the_watch_parameter_both_watch() {
        assert_eq!(info(Method::GET, "/api/v1/watch/namespaces/default/pods").verb, Verb::Watch);
        assert_eq!(parse(&Method::GET, "/api/v1/pods", true).map(|r| r.verb), Some(Verb::Watch));
    }

    #[test]
    fn discovery_paths_are_not_resource_requests() {
        assert!(parse(&Method::GET, "/apis/apps", false).is_none());
        assert!(parse(&Method::GET, "/version", false).is_none());
    }
}
