//! `TokenService`: the lifecycle of an org's SCIM bearer tokens over the store.
//!
//! - `generate` (needs the org's SSO connection), `regenerate` (the old token keeps working for the grace the
//!   admin chose, then stops; never more than two live tokens), `revoke_all` (deleting the SCIM
//!   configuration), each in one transaction with its audit event.
//!
//! Verifying a request is `verify.rs`; the read views (`list`, `scim_status`) are `summary.rs`.
//!
//! State lives in the row: `revoked_at` is when the token stops working (in the future during a grace
//! period); `expires_at` is the expiry chosen at generation. An expired token is recorded once as revoked at
//! its expiry, with a `token.expired` event, by whichever request or change first notices it.
//!
//! The operations block on the database (`*_blocking`): async callers run them on the blocking pool
//! (`scimd_store::blocking`), as the admin pages do through `AdminState::blocking`.

use crate::audit;
use crate::bearer::format::{PlaintextToken, TokenHint};
use crate::bearer::options::{Expiry, Grace};
use crate::bearer::usage::UsageCoalescer;
use crate::error::TokenError;
use crate::util::utc;
use chrono::{DateTime, NaiveDateTime, Utc};
use scimd_store::models::scim_tokens::{self, NewScimToken, ScimTokenRow};
use scimd_store::models::sso_connections;
use scimd_store::{Clock, DbConnection, OrgId, Store, StoreError, TokenId};
use serde_json::json;
use std::sync::Arc;

/// A token that was just generated. `token` is the only copy of the plaintext there will ever be.
#[derive(Debug)]
pub struct GeneratedToken {
    pub endpoint_url: String,
    pub token: PlaintextToken,
    pub token_id: TokenId,
    pub hint: TokenHint,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// After a regenerate: when the previous token stops working (now, for a grace of `none`).
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// The SCIM token service. Cheap to clone; one per process (the `last_used_at` coalescing is per instance).
#[derive(Clone)]
pub struct TokenService {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Store,
    pub(super) clock: Arc<dyn Clock>,
    public_url: String,
    pub(super) usage: UsageCoalescer,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// `public_url` is where IdPs reach this scimd (for example `https://scimd.example.com`).
    pub fn new(store: Store, clock: Arc<dyn Clock>, public_url: String) -> TokenService {
        let public_url = public_url.trim_end_matches('/').to_owned();
        TokenService {
            inner: Arc::new(Inner {
                store,
                clock,
                public_url,
                usage: UsageCoalescer::default(),
            }),
        }
    }

    /// The org's SCIM base URL: `{public_url}/scim/v2/{org_id}`.
    pub fn endpoint_url(&self, org: &OrgId) -> String {
        format!("{}/scim/v2/{}", self.inner.public_url, org)
    }

    // ---- lifecycle ----

    /// Generates the org's first token (or a new one after `revoke_all`). Needs the org's SSO connection;
    /// refused with `AlreadyConfigured` while a token is active (use `regenerate`).
    pub fn generate_blocking(
        &self,
        org: &OrgId,
        actor: &str,
        expires: Expiry,
    ) -> Result<GeneratedToken, TokenError> {
        self.create(org, actor, expires, None)
    }

    /// Replaces the org's active token. The old one keeps working for `grace`, then stops; a token still in
    /// the grace of an earlier regenerate stops now, so that at most two tokens are ever live.
    pub fn regenerate_blocking(
        &self,
        org: &OrgId,
        actor: &str,
        grace: Grace,
        expires: Expiry,
    ) -> Result<GeneratedToken, TokenError> {
        self.create(org, actor, expires, Some(grace))
    }

    fn create(
        &self,
        org: &OrgId,
        actor: &str,
        expires: Expiry,
        regenerate: Option<Grace>,
    ) -> Result<GeneratedToken, TokenError> {
        let inner = &self.inner;
        let token = PlaintextToken::generate()?;
        let hash = token.hash();
        let hint = token.hint();
        let token_id = TokenId::generate();
        let now = inner.clock.now_naive();
        let expires_at = expires.duration().map(|d| now + d);

        let previous_valid_until = inner.store.write(|conn| -> Result<_, TokenError> {
            lock_org_with_sso(conn, org)?;
            let previous_valid_until = retire_current(conn, org, actor, now, regenerate)?;
            scim_tokens::insert(
                conn,
                &NewScimToken {
                    id: token_id.as_str(),
                    org_id: org.as_str(),
                    token_hash: hash.as_bytes(),
                    hint: hint.as_str(),
                    created_at: now,
                    created_by: actor,
                    expires_at,
                },
            )?;
            match &previous_valid_until {
                None => {
                    let details =
                        json!({"hint": hint.as_str(), "expires": expires, "expires_at": expires_at});
                    audit::record(
                        conn,
                        org,
                        now,
                        actor,
                        audit::TOKEN_GENERATED,
                        Some(token_id.as_str()),
                        details,
                    )?;
                }
                Some((previous, grace, until)) => {
                    let details = json!({
                        "hint": hint.as_str(),
                        "expires": expires,
                        "expires_at": expires_at,
                        "previous_token_id": previous.id,
                        "previous_hint": previous.hint,
                        "grace": grace,
                        "previous_valid_until": until,
                    });
                    audit::record(
                        conn,
                        org,
                        now,
                        actor,
                        audit::TOKEN_REGENERATED,
                        Some(token_id.as_str()),
                        details,
                    )?;
                }
            }
            Ok(previous_valid_until.map(|(_, _, until)| utc(until)))
        })?;

        tracing::info!(org = %org, token_id = %token_id, hint = %hint, "SCIM token generated");
        Ok(GeneratedToken {
            endpoint_url: self.endpoint_url(org),
            token,
            token_id,
            hint,
            created_at: utc(now),
            expires_at: expires_at.map(utc),
            previous_valid_until,
        })
    }

    /// Deletes the org's SCIM configuration: every token that still works stops now (including one in grace).
    /// Returns how many were revoked.
    pub fn revoke_all_blocking(&self, org: &OrgId, actor: &str) -> Result<usize, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now_naive();
        let revoked = inner.store.write(|conn| {
            if !scim_tokens::lock_org(conn, org)? {
                return Err(TokenError::OrgNotFound);
            }
            revoke_all_in(conn, org, actor, now, "scim_configuration_deleted")
        })?;
        tracing::info!(org = %org, revoked, "SCIM tokens revoked");
        Ok(revoked)
    }
}

/// Locks the org's tokens and checks that the org exists and has an SSO connection.
fn lock_org_with_sso(conn: &mut DbConnection, org: &OrgId) -> Result<(), TokenError> {
    if !scim_tokens::lock_org(conn, org)? {
        return Err(TokenError::OrgNotFound);
    }
    if sso_connections::find(conn, org)?.is_none() {
        return Err(TokenError::SsoRequired);
    }
    Ok(())
}

/// Records (once) the expiry of every token of the org whose expiry has passed.
fn record_expiries(conn: &mut DbConnection, org: &OrgId, now: NaiveDateTime) -> Result<(), TokenError> {
    for row in scim_tokens::expired_unrecorded(conn, org, now)? {
        if scim_tokens::record_expiry(conn, &row.id, now)? {
            record_expiry_event(conn, org, &row, now)?;
        }
    }
    Ok(())
}

pub(super) fn record_expiry_event(
    conn: &mut DbConnection,
    org: &OrgId,
    row: &ScimTokenRow,
    now: NaiveDateTime,
) -> Result<(), scimd_store::StoreError> {
    let details = json!({"hint": row.hint, "expired_at": row.expires_at});
    audit::record(
        conn,
        org,
        now,
        audit::SYSTEM_ACTOR,
        audit::TOKEN_EXPIRED,
        Some(&row.id),
        details,
    )
}

/// Inside `create`'s transaction (the org locked): a first token needs no live one; a regenerate needs the
/// current token, which stays valid for `grace` (a token still in an earlier grace stops now). Returns the
/// current token, its grace and the end of its validity when there was one.
fn retire_current(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    now: NaiveDateTime,
    regenerate: Option<Grace>,
) -> Result<Option<(ScimTokenRow, Grace, NaiveDateTime)>, TokenError> {
    record_expiries(conn, org, now)?;
    let live = scim_tokens::live(conn, org, now)?;
    let current = live.iter().find(|t| t.revoked_at.is_none());
    match (regenerate, current) {
        (None, Some(_)) => Err(TokenError::AlreadyConfigured),
        (Some(_), None) => Err(TokenError::NotConfigured),
        (None, None) => Ok(None),
        (Some(grace), Some(current)) => {
            for older in live.iter().filter(|t| t.id != current.id) {
                revoke_one(conn, org, actor, now, (&older.id, &older.hint), "superseded")?;
            }
            let until = now + grace.duration();
            scim_tokens::revoke_at(conn, &current.id, until)?;
            Ok(Some((current.clone(), grace, until)))
        }
    }
}

/// Revokes every live token of the org inside the caller's transaction (the org already locked), one audit
/// event per token. Also used when the org's SSO connection is removed (`scimd_signin::connection`).
pub fn revoke_all_in(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    now: NaiveDateTime,
    reason: &str,
) -> Result<usize, TokenError> {
    record_expiries(conn, org, now)?;
    let live = scim_tokens::live(conn, org, now)?;
    let mut revoked = 0;
    for row in &live {
        if revoke_one(conn, org, actor, now, (&row.id, &row.hint), reason)? {
            revoked += 1;
        }
    }
    Ok(revoked)
}

/// Revokes one live token now, audited with its hint and `reason`; false when it was no longer live.
fn revoke_one(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    now: NaiveDateTime,
    (id, hint): (&str, &str),
    reason: &str,
) -> Result<bool, StoreError> {
    if !scim_tokens::revoke_at(conn, id, now)? {
        return Ok(false);
    }
    let details = json!({"hint": hint, "reason": reason});
    audit::record(conn, org, now, actor, audit::TOKEN_REVOKED, Some(id), details)?;
    Ok(true)
}
