//! [`JwksCaches`]: the Entra tenants' signing keys, cached per tenant and shared by the actix workers (the
//! OIDC sign-in's step 2 verifies ID tokens against them).

use scimd_sso::oidc::{EntraConfig, JwksCache};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The tenants' JWKS caches, shared by the workers. A cache is taken out while a request uses it (no lock is
/// held across the fetch); a request that finds it taken starts from an empty one.
#[derive(Debug, Default, Clone)]
pub(crate) struct JwksCaches(Arc<Mutex<HashMap<String, JwksCache>>>);

impl JwksCaches {
    pub(crate) fn take(&self, config: &EntraConfig) -> JwksCache {
        self.0
            .lock()
            .ok()
            .and_then(|mut map| map.remove(config.tenant_id()))
            .unwrap_or_else(|| JwksCache::new(config.jwks_uri()))
    }

    pub(crate) fn put_back(&self, config: &EntraConfig, cache: JwksCache) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(config.tenant_id().to_owned(), cache);
        }
    }
}
