//! Verifying a SCIM request's bearer token: the hot, security-critical path, readable on its own.
//!
//! Header, format and checksum are checked offline; then one indexed lookup by hash. No cache: revocation
//! through any process is seen by the next request of every process. Every refused credential is the same
//! `TokenError::Unauthorized` (the class goes to the debug log, never the token); a database failure is
//! `TokenError::Store` (503, not 401). Only two things may write: the first request to notice an expiry
//! records it (once: a row already recorded is not written again), and `last_used_at`, coalesced.

use crate::bearer::format::{self, FormatError, TokenHash};
use crate::bearer::service::{TokenService, record_expiry_event};
use crate::bearer::usage::LAST_USED_INTERVAL;
use crate::error::TokenError;
use crate::util::utc;
use chrono::NaiveDateTime;
use scimd_store::models::scim_tokens::{self, ScimTokenRow};
use scimd_store::{OrgId, TokenId};

/// What a successful `verify` knows about the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub token_id: TokenId,
    pub org_id: OrgId,
    pub hint: String,
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
        if let Some(expires_at) = row.expires_at
            && expires_at <= now
        {
            // Recorded already (revoked at its expiry, or earlier): nothing to write, so no write
            // transaction for an IdP that keeps presenting an expired token.
            if row.revoked_at.is_none_or(|at| at > expires_at) {
                self.record_expiry_noticed(url_org, &row, now);
            }
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
}
