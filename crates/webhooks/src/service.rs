//! `WebhookService`: the endpoints (create with a secret shown once, list, delete, replay), their delivery
//! log, and the signing secret of an endpoint for the worker. Blocking: async callers run it through
//! `scimd_store::blocking`.

use crate::address::AddressPolicy;
use crate::audit_url;
use crate::error::WebhookError;
use crate::signature::SigningSecret;
use scimd_store::models::sealed::SealedValue;
use scimd_store::models::webhooks::{self, Delivery, Endpoint};
use scimd_store::models::{audit_events, events, organizations};
use scimd_store::{Clock, DbConnection, OrgId, Store};
use scimd_tokens::SecretKey;
use scimd_tokens::cipher::SecretCipher;
use serde_json::json;
use std::sync::Arc;

/// The most event types one endpoint lists.
pub const MAX_TYPES: usize = events::types::ALL.len();
/// The most endpoints one org has, unless configured (`SCIMD_WEBHOOK_MAX_ENDPOINTS_PER_ORG`): each endpoint
/// receives every event, so the cap bounds the requests one org's changes make scimd send.
pub const DEFAULT_MAX_ENDPOINTS_PER_ORG: usize = 10;
/// The most attempts `deliveries` shows.
pub const MAX_DELIVERIES: i64 = 200;

/// The operator's webhook settings: where deliveries may go, and how many endpoints an org may have.
#[derive(Debug, Clone, Copy)]
pub struct WebhookLimits {
    pub policy: AddressPolicy,
    pub max_endpoints_per_org: usize,
}

impl From<AddressPolicy> for WebhookLimits {
    fn from(policy: AddressPolicy) -> Self {
        WebhookLimits {
            policy,
            max_endpoints_per_org: DEFAULT_MAX_ENDPOINTS_PER_ORG,
        }
    }
}

/// What `create` hands out once: the secret is never shown again.
#[derive(Debug)]
pub struct CreatedEndpoint {
    pub endpoint: Endpoint,
    pub secret: SigningSecret,
}

#[derive(Clone)]
pub struct WebhookService {
    store: Store,
    clock: Arc<dyn Clock>,
    secret_key: Option<SecretKey>,
    policy: AddressPolicy,
    max_endpoints_per_org: usize,
}

impl std::fmt::Debug for WebhookService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The cipher's associated data binds a sealed secret to its endpoint (and org): copied to another row, it
/// does not open.
fn purpose(endpoint_id: &str) -> String {
    format!("webhook_signing_secret:{endpoint_id}")
}

fn scope(org: Option<&str>) -> OrgId {
    OrgId::new(org.unwrap_or("*"))
}

/// The org and purpose a stored signing secret was sealed with (`scimd keys rotate` re-seals it).
pub fn seal_context(value: &SealedValue) -> (OrgId, String) {
    (scope(value.org_id.as_deref()), purpose(&value.key))
}

impl WebhookService {
    /// `secret_key` is `Keys::sso_secret` (`SCIMD_SECRET_KEY`), which encrypts the signing secrets at rest.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        secret_key: Option<SecretKey>,
        policy: AddressPolicy,
    ) -> WebhookService {
        WebhookService {
            store,
            clock,
            secret_key,
            policy,
            max_endpoints_per_org: DEFAULT_MAX_ENDPOINTS_PER_ORG,
        }
    }

    /// The same service, with another cap on the endpoints of one org.
    pub fn with_max_endpoints_per_org(mut self, max: usize) -> WebhookService {
        self.max_endpoints_per_org = max;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    /// Parses a comma-separated list of event types (empty: every type).
    pub fn parse_types(list: &str) -> Result<Vec<String>, WebhookError> {
        let types: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(unknown) = types.iter().find(|t| !events::types::ALL.contains(&t.as_str())) {
            return Err(WebhookError::InvalidInput(format!(
                "{unknown:?} is not an event type"
            )));
        }
        if types.len() > MAX_TYPES {
            return Err(WebhookError::InvalidInput("too many event types".into()));
        }
        Ok(types)
    }

    /// A new endpoint of `org` (or of every org), for the events that commit from now on; audited in the org.
    pub fn create_blocking(
        &self,
        url: &str,
        org: Option<&OrgId>,
        types: &[String],
        actor: &str,
    ) -> Result<CreatedEndpoint, WebhookError> {
        let url = self.policy.check_url(url)?;
        let types = Self::parse_types(&types.join(","))?;
        let secret = SigningSecret::generate()?;
        let id = format!("wh_{}", uuid::Uuid::new_v4().simple());
        let now = self.clock.now_naive();
        let (key, org) = (self.secret_key.clone(), org.cloned());
        // The endpoint starts at the newest position: every event committed before it is positioned first
        // (PostgreSQL), so that none of them is sent to it.
        events::catch_up(&self.store)?;
        let endpoint = self.store.write(|conn| {
            if let Some(org) = &org
                && organizations::find(conn, org)?.is_none()
            {
                return Err(WebhookError::InvalidInput(format!("no organization {org}")));
            }
            let max = self.max_endpoints_per_org;
            if let Some(org) = &org
                && usize::try_from(webhooks::count_for_org(conn, org)?).unwrap_or(usize::MAX) >= max
            {
                return Err(WebhookError::TooManyEndpoints { max });
            }
            let cipher = SecretCipher::load(key.as_ref(), conn, now)?;
            let org_id = org.as_ref().map(|o| o.as_str().to_owned());
            let sealed = cipher.encrypt(
                &scope(org_id.as_deref()),
                &purpose(&id),
                secret.expose().as_bytes(),
            )?;
            let endpoint = Endpoint {
                id: id.clone(),
                org_id,
                url: url.to_string(),
                types: types.join(","),
                secret_sealed: sealed,
                created_at: now,
                cursor: events::latest(conn)?,
                attempts: 0,
                next_attempt_at: now,
                failing_since: None,
                disabled_at: None,
                leased_until: None,
                lease_owner: None,
            };
            webhooks::insert(conn, &endpoint)?;
            if let Some(org) = &org {
                audit_events::append_for_org(
                    conn,
                    org,
                    actor,
                    "webhook.created",
                    json!({ "endpoint_id": endpoint.id, "url": audit_url::origin(&endpoint.url), "types": types }),
                    now,
                )?;
            }
            Ok::<_, WebhookError>(endpoint)
        })?;
        Ok(CreatedEndpoint { endpoint, secret })
    }

    /// The endpoints of `org`, or every endpoint.
    pub fn list_blocking(&self, org: Option<&OrgId>) -> Result<Vec<Endpoint>, WebhookError> {
        Ok(self.store.read(|conn| webhooks::list(conn, org))?)
    }

    /// One endpoint, if it is `org`'s (any endpoint when `org` is `None`).
    pub fn get_blocking(&self, id: &str, org: Option<&OrgId>) -> Result<Endpoint, WebhookError> {
        let found = self.store.read(|conn| webhooks::get(conn, id))?;
        found
            .filter(|e| org.is_none_or(|o| e.org_id.as_deref() == Some(o.as_str())))
            .ok_or(WebhookError::NotFound)
    }

    /// Deletes an endpoint of `org` (any endpoint when `None`) with its log; audited in its org.
    pub fn delete_blocking(&self, id: &str, org: Option<&OrgId>, actor: &str) -> Result<(), WebhookError> {
        let endpoint = self.get_blocking(id, org)?;
        let now = self.clock.now_naive();
        self.store.write(|conn| {
            if !webhooks::delete(conn, id)? {
                return Err(WebhookError::NotFound);
            }
            if let Some(org) = endpoint.org() {
                audit_events::append_for_org(
                    conn,
                    &org,
                    actor,
                    "webhook.deleted",
                    json!({ "endpoint_id": id, "url": audit_url::origin(&endpoint.url) }),
                    now,
                )?;
            }
            Ok(())
        })
    }

    /// Sends the endpoint (of `org`, when given) every retained event after `cursor` again, in order, and
    /// re-enables it; audited in its org.
    pub fn replay_blocking(
        &self,
        id: &str,
        org: Option<&OrgId>,
        cursor: i64,
        actor: &str,
    ) -> Result<(), WebhookError> {
        if cursor < 0 {
            return Err(WebhookError::InvalidInput(
                "the cursor is a feed cursor (0 or more)".into(),
            ));
        }
        let endpoint = self.get_blocking(id, org)?;
        let now = self.clock.now_naive();
        self.store.write(|conn| {
            if !webhooks::replay(conn, id, cursor, now)? {
                return Err(WebhookError::NotFound);
            }
            if let Some(org) = endpoint.org() {
                audit_events::append_for_org(
                    conn,
                    &org,
                    actor,
                    "webhook.replayed",
                    json!({ "endpoint_id": id, "after": cursor.to_string() }),
                    now,
                )?;
            }
            Ok(())
        })
    }

    /// The newest attempts at an endpoint, newest first.
    pub fn deliveries_blocking(&self, id: &str, limit: i64) -> Result<Vec<Delivery>, WebhookError> {
        let limit = limit.clamp(1, MAX_DELIVERIES);
        Ok(self.store.read(|conn| webhooks::deliveries(conn, id, limit))?)
    }

    /// The endpoint's signing secret, decrypted.
    pub fn signing_secret(
        &self,
        conn: &mut DbConnection,
        endpoint: &Endpoint,
    ) -> Result<SigningSecret, WebhookError> {
        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, self.clock.now_naive())?;
        let plain = cipher.decrypt(
            &scope(endpoint.org_id.as_deref()),
            &purpose(&endpoint.id),
            &endpoint.secret_sealed,
        )?;
        let text = std::str::from_utf8(&plain).map_err(|_| WebhookError::BadSecret)?;
        SigningSecret::parse(text)
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}
