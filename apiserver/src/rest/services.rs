//! The Service hook of writes: ClusterIP and NodePort allocation under the allocation lock.

use super::{Call, decode_stored};
use crate::allocator::{Taken, drop_unwanted_node_ports};
use crate::meta;
use crate::status::ApiError;
use serde_json::Value;
use tokio::sync::MutexGuard;

fn is_service(call: &Call<'_>) -> bool {
    call.kind.group.is_empty() && call.kind.kind == "Service" && call.info.subresource.is_none()
}

/// Allocates what a Service needs; the returned guard must be held until the write is stored.
pub async fn allocate<'a>(
    call: &'a Call<'_>,
    svc: &mut Value,
    old: Option<&Value>,
) -> Result<Option<MutexGuard<'a, ()>>, ApiError> {
    if !is_service(call) {
        return Ok(None);
    }
    let guard = call.api.service_lock.lock().await;
    let taken = taken(call, svc).await?;
    drop_unwanted_node_ports(svc);
    let errs = call.api.services.allocate(svc, old, &taken);
    if !errs.is_empty() {
        return Err(ApiError::Invalid {
            group: String::new(),
            kind: "Service".into(),
            name: meta::name(svc).unwrap_or_default().into(),
            causes: errs,
        });
    }
    Ok(Some(guard))
}

/// Allocations of every stored Service except this one.
async fn taken(call: &Call<'_>, svc: &Value) -> Result<Taken, ApiError> {
    let page = call.api.store.list(&call.kind.prefix(None), None, 0).await?;
    let me = (meta::namespace(svc).map(String::from), meta::name(svc).map(String::from));
    let mut taken = Taken::default();
    for (_, v) in &page.items {
        let other = decode_stored(v)?;
        if (meta::namespace(&other).map(String::from), meta::name(&other).map(String::from)) != me {
            taken.add_service(&other);
        }
    }
    Ok(taken)
}
