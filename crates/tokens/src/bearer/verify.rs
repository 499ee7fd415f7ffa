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
use scimd_store::{DbConnection, OrgId, TokenId};

/// The write a token check owes once its connection is given back ([`TokenService::verify_on`]); nothing
/// for most checks (`last_used_at` is coalesced).
#[derive(Default)]
#[must_use = "a check's follow-up records the token's use or expiry: give it to `TokenService::follow_up`"]
pub struct FollowUp(Option<Owed>);

enum Owed {
    Use {
        token_id: TokenId,
        now: NaiveDateTime,
    },
    Expiry {
        org: OrgId,
        row: ScimTokenRow,
        now: NaiveDateTime,
    },
}

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
        let row = self
            .inner
            .store
            .read(|conn| scim_tokens::find_by_hash(conn, hash.as_bytes()))?;
        let (verified, follow_up) = self.judge(url_org, row);
        self.follow_up(follow_up);
        verified
    }

    /// [`verify_blocking`](Self::verify_blocking) on a connection the caller holds, as the first read of the
    /// request's own unit of work: one pool check-out for the request instead of two (on PostgreSQL a round
    /// trip less), and the token's row read in the same snapshot as what the request reads next. The writes a
    /// check may owe (the coalesced `last_used_at`, an expiry noticed) are returned as a [`FollowUp`], for
    /// [`follow_up`](Self::follow_up) once the connection is given back: a unit of work that waited for a
    /// second connection could wait for itself in a busy pool.
    ///
    /// `hash` comes from [`check_header`](Self::check_header), called before a connection is taken: garbage
    /// costs no database work.
    pub fn verify_on(
        &self,
        conn: &mut DbConnection,
        url_org: &OrgId,
        hash: &TokenHash,
    ) -> (Result<VerifiedToken, TokenError>, FollowUp) {
        match scim_tokens::find_by_hash(conn, hash.as_bytes()) {
            Ok(row) => self.judge(url_org, row),
            Err(err) => (Err(err.into()), FollowUp::default()),
        }
    }

    /// The offline part of a check: the `Authorization` header's scheme, the token's format and checksum.
    pub fn check_header(
        &self,
        url_org: &OrgId,
        authorization_header: Option<&str>,
    ) -> Result<TokenHash, TokenError> {
        precheck(url_org, authorization_header)
    }

    /// Carries out what a check owes (see [`verify_on`](Self::verify_on)).
    pub fn follow_up(&self, follow_up: FollowUp) {
        match follow_up.0 {
            None => {}
            Some(Owed::Use { token_id, now }) => self.note_use(&token_id, now),
            Some(Owed::Expiry { org, row, now }) => self.record_expiry_noticed(&org, &row, now),
        }
    }

    /// The verdict on the token row found by hash (if any), and the write it owes.
    fn judge(
        &self,
        url_org: &OrgId,
        row: Option<ScimTokenRow>,
    ) -> (Result<VerifiedToken, TokenError>, FollowUp) {
        let Some(row) = row else {
            return (Err(refuse(url_org, Refusal::Unknown)), FollowUp::default());
        };
        if row.org_id != url_org.as_str() {
            return (Err(refuse(url_org, Refusal::WrongOrg)), FollowUp::default());
        }
        let now = self.inner.clock.now_naive();
        if let Some(expires_at) = row.expires_at
            && expires_at <= now
        {
            // Recorded already (revoked at its expiry, or earlier): nothing to write, so no write
            // transaction for an IdP that keeps presenting an expired token.
            let refused = Err(refuse(url_org, Refusal::Expired));
            if row.revoked_at.is_none_or(|at| at > expires_at) {
                let org = url_org.clone();
                return (refused, FollowUp(Some(Owed::Expiry { org, row, now })));
            }
            return (refused, FollowUp::default());
        }
        if row.revoked_at.is_some_and(|at| at <= now) {
            return (Err(refuse(url_org, Refusal::Revoked)), FollowUp::default());
        }
        let token_id = TokenId::new(row.id);
        let verified = VerifiedToken {
            token_id: token_id.clone(),
            org_id: url_org.clone(),
            hint: row.hint,
        };
        (Ok(verified), FollowUp(Some(Owed::Use { token_id, now })))
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
