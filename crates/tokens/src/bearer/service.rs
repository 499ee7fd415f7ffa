//! `TokenService`: the lifecycle of an org's SCIM bearer tokens over the store.
//!
//! - `generate` (needs the org's SSO connection), `regenerate` (the old token keeps working for the grace the
//!   admin chose, then stops; never more than two live tokens), `revoke_all` (deleting the SCIM
//!   configuration), each in one transaction with its audit event;
//! - `verify`: header, format and checksum offline, then one indexed lookup by hash. No cache: revocation
//!   through any process is seen by the next request of every process;
//! - `list` and `scim_status` for the CLI and the admin page (never a hash, never a token).
//!
//! State lives in the row: `revoked_at` is when the token stops working (in the future during a grace
//! period); `expires_at` is the expiry chosen at generation. An expired token is recorded once as revoked at
//! its expiry, with a `token.expired` event, by whichever request or change first notices it.
//!
//! Every operation has a blocking form (`*_blocking`, for the CLI and tests) and an async form that runs it on
//! the blocking pool (for actix handlers).

use crate::audit;
use crate::bearer::format::{self, FormatError, PlaintextToken, TokenHash, TokenHint};
use crate::bearer::options::{Expiry, Grace};
use crate::bearer::usage::{LAST_USED_INTERVAL, UsageCoalescer};
use crate::error::TokenError;
use crate::util::utc;
use chrono::{DateTime, NaiveDateTime, Utc};
use scimd_store::models::scim_tokens::{self, NewScimToken, ScimTokenRow};
use scimd_store::models::sso_connections;
use scimd_store::{Clock, DbConnection, OrgId, Store, TokenId};
use serde::Serialize;
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

/// What a successful `verify` knows about the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub token_id: TokenId,
    pub org_id: OrgId,
    pub hint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    /// Replaced by a newer token, still working until `revoked_at`.
    Grace,
    Revoked,
    Expired,
}

/// A token as lists show it: no hash, no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenSummary {
    pub token_id: TokenId,
    pub hint: String,
    pub status: TokenStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When it stopped (or, in grace, will stop) working.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The configured state of an org's SCIM provisioning, for the admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScimConfigSummary {
    pub endpoint_url: String,
    pub token_id: TokenId,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The previous token, while its grace period runs.
    pub previous: Option<GraceToken>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraceToken {
    pub token_id: TokenId,
    pub hint: String,
    pub valid_until: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The SCIM token service. Cheap to clone; one per process (the `last_used_at` coalescing is per instance).
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    public_url: String,
    usage: UsageCoalescer,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

/// Why a credential was refused, for the debug log only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Missing,
    Empty,
    Malformed,
    BadChecksum,
    Unknown,
    WrongOrg,
    Revoked,
    Expired,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Empty => "empty",
            Refusal::Malformed => "malformed",
            Refusal::BadChecksum => "bad_checksum",
            Refusal::Unknown => "unknown",
            Refusal::WrongOrg => "wrong_org",
            Refusal::Revoked => "revoked",
            Refusal::Expired => "expired",
        }
    }
}

fn refuse(url_org: &OrgId, class: Refusal) -> TokenError {
    tracing::debug!(org = ?url_org.as_str(), class = class.as_str(), "SCIM bearer token refused");
    TokenError::Unauthorized
}

/// Takes the token out of an `Authorization` header value (`Bearer <token>`, scheme in any case) and checks
/// its format and checksum. Touches no database.
fn precheck(url_org: &OrgId, authorization_header: Option<&str>) -> Result<TokenHash, TokenError> {
    let Some(header) = authorization_header else {
        return Err(refuse(url_org, Refusal::Missing));
    };
    let header = header.trim();
    if header.is_empty() {
        return Err(refuse(url_org, Refusal::Empty));
    }
    let (scheme, credentials) = header.split_once([' ', '\t']).unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(refuse(url_org, Refusal::Malformed));
    }
    let presented = credentials.trim_start_matches([' ', '\t']);
    if presented.is_empty() {
        return Err(refuse(url_org, Refusal::Empty));
    }
    match format::check_format(presented) {
        Ok(()) => Ok(TokenHash::of(presented)),
        Err(FormatError::Malformed) => Err(refuse(url_org, Refusal::Malformed)),
        Err(FormatError::BadChecksum) => Err(refuse(url_org, Refusal::BadChecksum)),
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

    // ---- verify ----

    /// Verifies the `Authorization` header of a request to `url_org`'s SCIM endpoint. Every refused credential
    /// is `TokenError::Unauthorized`; `TokenError::Store` means the database failed (answer 503, not 401).
    pub async fn verify(
        &self,
        url_org: &OrgId,
        authorization_header: Option<&str>,
    ) -> Result<VerifiedToken, TokenError> {
        // Garbage is refused here, without a database query or a trip to the blocking pool.
        let hash = precheck(url_org, authorization_header)?;
        let this = self.clone();
        let url_org = url_org.clone();
        scimd_store::blocking(move || this.verify_hash(&url_org, &hash)).await
    }

    /// `verify` on the calling thread.
    pub fn verify_blocking(
        &self,
        url_org: &OrgId,
        authorization_header: Option<&str>,
    ) -> Result<VerifiedToken, TokenError> {
        let hash = precheck(url_org, authorization_header)?;
        self.verify_hash(url_org, &hash)
    }

    fn verify_hash(&self, url_org: &OrgId, hash: &TokenHash) -> Result<VerifiedToken, TokenError> {
        let inner = &self.inner;
        let Some(row) = inner
            .store
            .read(|conn| scim_tokens::find_by_hash(conn, hash.as_bytes()))?
        else {
            return Err(refuse(url_org, Refusal::Unknown));
        };
        if row.org_id != url_org.as_str() {
            return Err(refuse(url_org, Refusal::WrongOrg));
        }
        let now = inner.clock.now_naive();
        if row.expires_at.is_some_and(|at| at <= now) {
            self.record_expiry_noticed(url_org, &row, now);
            return Err(refuse(url_org, Refusal::Expired));
        }
        if row.revoked_at.is_some_and(|at| at <= now) {
            return Err(refuse(url_org, Refusal::Revoked));
        }
        let token_id = TokenId::new(row.id);
        self.note_use(&token_id, now);
        Ok(VerifiedToken {
            token_id,
            org_id: url_org.clone(),
            hint: row.hint,
        })
    }

    /// The request is refused whatever happens here; a failure to record the expiry is only logged (the next
    /// request or change records it).
    fn record_expiry_noticed(&self, org: &OrgId, row: &ScimTokenRow, now: NaiveDateTime) {
        let result = self
            .inner
            .store
            .write(|conn| -> Result<(), scimd_store::StoreError> {
                if scim_tokens::record_expiry(conn, &row.id, now)? {
                    record_expiry_event(conn, org, row, now)?;
                }
                Ok(())
            });
        if let Err(err) = result {
            tracing::warn!(org = %org, token_id = %row.id, error = %err, "could not record a token's expiry");
        }
    }

    fn note_use(&self, token_id: &TokenId, now: NaiveDateTime) {
        let inner = &self.inner;
        if !inner.usage.should_write(token_id, utc(now)) {
            return;
        }
        let not_before = now - LAST_USED_INTERVAL;
        let result = inner
            .store
            .write(|conn| scim_tokens::touch_last_used(conn, token_id.as_str(), now, not_before));
        if let Err(err) = result {
            // Losing a `last_used_at` update must not fail a provisioning request.
            inner.usage.forget(token_id);
            tracing::warn!(token_id = %token_id, error = %err, "could not update a token's last_used_at");
        }
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

        let previous_valid_until = inner.store.write(|conn| {
            lock_org_with_sso(conn, org)?;
            record_expiries(conn, org, now)?;
            let live = scim_tokens::live(conn, org, now)?;
            let current = live.iter().find(|t| t.revoked_at.is_none());
            let previous_valid_until = match (regenerate, current) {
                (None, Some(_)) => return Err(TokenError::AlreadyConfigured),
                (Some(_), None) => return Err(TokenError::NotConfigured),
                (None, None) => None,
                (Some(grace), Some(current)) => {
                    for older in live.iter().filter(|t| t.id != current.id) {
                        if scim_tokens::revoke_at(conn, &older.id, now)? {
                            let details = json!({"hint": older.hint, "reason": "superseded"});
                            audit::record(
                                conn,
                                org,
                                now,
                                actor,
                                audit::TOKEN_REVOKED,
                                Some(&older.id),
                                details,
                            )?;
                        }
                    }
                    let until = now + grace.duration();
                    scim_tokens::revoke_at(conn, &current.id, until)?;
                    Some((current.clone(), grace, until))
                }
            };
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

    /// Every token the org ever had, newest first.
    pub fn list_blocking(&self, org: &OrgId) -> Result<Vec<TokenSummary>, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now_naive();
        let rows = inner.store.read(|conn| scim_tokens::list(conn, org))?;
        Ok(rows.into_iter().map(|row| summarise(row, now)).collect())
    }

    /// The org's configured SCIM provisioning, or `None` when no token is active.
    pub fn scim_status_blocking(&self, org: &OrgId) -> Result<Option<ScimConfigSummary>, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now_naive();
        let live = inner.store.read(|conn| scim_tokens::live(conn, org, now))?;
        let Some(current) = live.iter().find(|t| t.revoked_at.is_none()) else {
            return Ok(None);
        };
        let previous = live.iter().filter(|t| t.id != current.id).find_map(|t| {
            t.revoked_at.map(|until| GraceToken {
                token_id: TokenId::new(t.id.clone()),
                hint: t.hint.clone(),
                valid_until: utc(until),
                last_used_at: t.last_used_at.map(utc),
            })
        });
        Ok(Some(ScimConfigSummary {
            endpoint_url: self.endpoint_url(org),
            token_id: TokenId::new(current.id.clone()),
            hint: current.hint.clone(),
            created_at: utc(current.created_at),
            created_by: current.created_by.clone(),
            last_used_at: current.last_used_at.map(utc),
            expires_at: current.expires_at.map(utc),
            previous,
        }))
    }

    // ---- async forms ----

    pub async fn generate(
        &self,
        org: &OrgId,
        actor: &str,
        expires: Expiry,
    ) -> Result<GeneratedToken, TokenError> {
        let (this, org, actor) = (self.clone(), org.clone(), actor.to_owned());
        scimd_store::blocking(move || this.generate_blocking(&org, &actor, expires)).await
    }

    pub async fn regenerate(
        &self,
        org: &OrgId,
        actor: &str,
        grace: Grace,
        expires: Expiry,
    ) -> Result<GeneratedToken, TokenError> {
        let (this, org, actor) = (self.clone(), org.clone(), actor.to_owned());
        scimd_store::blocking(move || this.regenerate_blocking(&org, &actor, grace, expires)).await
    }

    pub async fn revoke_all(&self, org: &OrgId, actor: &str) -> Result<usize, TokenError> {
        let (this, org, actor) = (self.clone(), org.clone(), actor.to_owned());
        scimd_store::blocking(move || this.revoke_all_blocking(&org, &actor)).await
    }

    pub async fn list(&self, org: &OrgId) -> Result<Vec<TokenSummary>, TokenError> {
        let (this, org) = (self.clone(), org.clone());
        scimd_store::blocking(move || this.list_blocking(&org)).await
    }

    pub async fn scim_status(&self, org: &OrgId) -> Result<Option<ScimConfigSummary>, TokenError> {
        let (this, org) = (self.clone(), org.clone());
        scimd_store::blocking(move || this.scim_status_blocking(&org)).await
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

fn record_expiry_event(
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

/// Revokes every live token of the org inside the caller's transaction (the org already locked), one audit
/// event per token. Also used when the org's SSO connection is removed.
pub(crate) fn revoke_all_in(
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
        if scim_tokens::revoke_at(conn, &row.id, now)? {
            revoked += 1;
            let details = json!({"hint": row.hint, "reason": reason});
            audit::record(
                conn,
                org,
                now,
                actor,
                audit::TOKEN_REVOKED,
                Some(&row.id),
                details,
            )?;
        }
    }
    Ok(revoked)
}

fn summarise(row: ScimTokenRow, now: NaiveDateTime) -> TokenSummary {
    let status = if row.expires_at.is_some_and(|at| at <= now) {
        TokenStatus::Expired
    } else {
        match row.revoked_at {
            Some(at) if at <= now => TokenStatus::Revoked,
            Some(_) => TokenStatus::Grace,
            None => TokenStatus::Active,
        }
    };
    TokenSummary {
        token_id: TokenId::new(row.id),
        hint: row.hint,
        status,
        created_at: utc(row.created_at),
        created_by: row.created_by,
        last_used_at: row.last_used_at.map(utc),
        expires_at: row.expires_at.map(utc),
        revoked_at: row.revoked_at.map(utc),
    }
}
