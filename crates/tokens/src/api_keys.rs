//! The platform API's keys (`scimd api-key`): `scimd_ak_` + the body and checksum of a SCIM-token-style
//! secret (256 random bits in base62, CRC32), shown once and stored as its SHA-256 with a hint. A key bound
//! to an org sees that org only; an unbound key sees every org. SCIM tokens are not API keys and API keys are
//! not SCIM tokens: their prefixes and lengths differ, and each surface checks its own.

use crate::bearer::format::{self, PlaintextToken, TokenHash};
use crate::error::TokenError;
use scimd_store::models::{api_keys, organizations};
use scimd_store::{Clock, OrgId, Store};
use serde::Serialize;
use std::sync::Arc;
use zeroize::Zeroizing;

/// What every API key starts with.
pub const PREFIX: &str = "scimd_ak_";

/// A created key: `key` is the only time the secret is shown.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedKey {
    pub id: String,
    pub key: String,
    pub name: String,
    pub org_id: Option<String>,
}

/// A key that was accepted: who it is and what it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyAuth {
    pub id: String,
    /// `Some`: this org only.
    pub org: Option<OrgId>,
}

impl ApiKeyAuth {
    /// Whether the key may see `org`.
    pub fn sees(&self, org: &OrgId) -> bool {
        self.org.as_ref().is_none_or(|own| own == org)
    }
}

#[derive(Clone)]
pub struct ApiKeyService {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ApiKeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyService").finish_non_exhaustive()
    }
}

/// Whether `presented` is shaped like an API key: the prefix, then a well-formed token body and checksum.
fn well_formed(presented: &str) -> bool {
    presented
        .strip_prefix(PREFIX)
        .is_some_and(|rest| format::check_format(&format!("{}{rest}", format::PREFIX)).is_ok())
}

impl ApiKeyService {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> ApiKeyService {
        ApiKeyService { store, clock }
    }

    /// A new key named `name`, bound to `org` when given (which must exist).
    pub fn create_blocking(&self, name: &str, org: Option<&OrgId>) -> Result<CreatedKey, TokenError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(TokenError::InvalidInput(
                "the name must be 1 to 200 characters".into(),
            ));
        }
        let token = PlaintextToken::generate()?;
        let secret = Zeroizing::new(token.expose_once());
        let key = format!("{PREFIX}{}", &secret[format::PREFIX.len()..]);
        let hint = format!("{PREFIX}…{}", &key[key.len().saturating_sub(4)..]);
        let row = api_keys::ApiKey {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            org_id: org.map(|o| o.as_str().to_owned()),
            key_hash: TokenHash::of(&key).as_bytes().to_vec(),
            hint,
            created_at: self.clock.now_naive(),
            revoked_at: None,
        };
        self.store.write(|conn| {
            if let Some(org) = org
                && organizations::find(conn, org)?.is_none()
            {
                return Err(TokenError::OrgNotFound);
            }
            api_keys::insert(conn, &row)?;
            Ok(())
        })?;
        Ok(CreatedKey {
            id: row.id,
            key,
            name: row.name,
            org_id: row.org_id,
        })
    }

    pub fn list_blocking(&self) -> Result<Vec<api_keys::ApiKey>, TokenError> {
        Ok(self.store.read(api_keys::list)?)
    }

    /// Revokes the key: its very next request is refused. False when no live key has this id.
    pub fn revoke_blocking(&self, id: &str) -> Result<bool, TokenError> {
        let now = self.clock.now_naive();
        Ok(self.store.write(|conn| api_keys::revoke(conn, id, now))?)
    }

    /// The key in an `Authorization: Bearer` header, or `Unauthorized` (one answer for every refusal);
    /// a database failure stays a store error (503, not 401).
    pub fn verify_blocking(&self, authorization: Option<&str>) -> Result<ApiKeyAuth, TokenError> {
        let presented = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| well_formed(k))
            .ok_or(TokenError::Unauthorized)?;
        let hash = TokenHash::of(presented);
        let row = self
            .store
            .read(|conn| api_keys::find_live_by_hash(conn, hash.as_bytes()))?
            .ok_or(TokenError::Unauthorized)?;
        Ok(ApiKeyAuth {
            id: row.id,
            org: row.org_id.map(OrgId::new),
        })
    }
}
