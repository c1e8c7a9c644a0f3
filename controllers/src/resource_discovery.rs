//! The API's resource types as discovery lists them, with the facts the namespace controller
//! and the garbage collector need: scope, and whether they can be listed, watched, deleted.

use kube::Client;
use kube::discovery::{ApiResource, Discovery, Scope, verbs};

/// One resource type the server serves (its preferred version).
#[derive(Clone, Debug)]
pub struct ResourceType {
    pub api: ApiResource,
    pub namespaced: bool,
    pub watchable: bool,
    pub delete_collection: bool,
}

impl ResourceType {
    /// `plural.group`, as Kubernetes names a group resource ("pods." for the core group).
    pub fn group_resource(&self) -> String {
        format!("{}.{}", self.api.plural, self.api.group)
    }
}

/// Every resource type that can be listed and deleted, from aggregated discovery (falling
/// back to the per-group documents).
pub async fn deletable(client: &Client) -> Result<Vec<ResourceType>, kube::Error> {
    let discovery = match Discovery::new(client.clone()).run_aggregated().await {
        Ok(d) => d,
        Err(_) => Discovery::new(client.clone()).run().await?,
    };
    let mut out = Vec::new();
    for group in discovery.groups() {
        for (api, caps) in group.recommended_resources() {
            if !(caps.supports_operation(verbs::LIST) && caps.supports_operation(verbs::DELETE)) {
                continue;
            }
            out.push(ResourceType {
                namespaced: caps.scope == Scope::Namespaced,
                watchable: caps.supports_operation(verbs::WATCH),
                delete_collection: caps.supports_operation(verbs::DELETE_COLLECTION),
                api,
            });
        }
    }
    Ok(out)
}

/// The type an owner reference (apiVersion, kind) names: that exact version when served,
/// else the same group and kind at the version discovery prefers.
pub fn by_kind<'a>(types: &'a [ResourceType], api_version: &str, kind: &str) -> Option<&'a ResourceType> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let same_kind = |t: &&ResourceType| t.api.kind == kind && t.api.group == group;
    types.iter().filter(same_kind).find(|t| t.api.api_version == api_version).or_else(|| types.iter().find(same_kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::GroupVersionKind;

    fn rt(group: &str, version: &str, kind: &str, plural: &str) -> ResourceType {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        ResourceType {
            api: ApiResource::from_gvk_with_plural(&gvk, plural),
            namespaced: true,
            watchable: true,
            delete_collection: true,
        }
    }

    #[test]
    fn an_owner_reference_resolves_by_group_and_kind() {
        let types = vec![rt("apps", "v1", "ReplicaSet", "replicasets"), rt("", "v1", "Pod", "pods")];
        assert_eq!(by_kind(&types, "apps/v1", "ReplicaSet").map(|t| t.api.plural.as_str()), Some("replicasets"));
        assert_eq!(by_kind(&types, "v1", "Pod").map(|t| t.api.plural.as_str()), Some("pods"));
    }

    #[test]
    fn an_owner_reference_of_another_served_version_still_resolves() {
        let types = vec![rt("batch", "v1", "Job", "jobs")];
        assert!(by_kind(&types, "batch/v1beta1", "Job").is_some());
        assert!(by_kind(&types, "v1", "Job").is_none());
    }

    #[test]
    fn a_core_resource_is_named_with_a_trailing_dot() {
        assert_eq!(rt("", "v1", "Pod", "pods").group_resource(), "pods.");
    }
}
