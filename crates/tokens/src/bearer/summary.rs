//! The read views of an org's SCIM tokens, for the CLI and the admin page: never a hash, never a token.

use crate::bearer::service::TokenService;
use crate::error::TokenError;
use crate::util::utc;
use chrono::{DateTime, NaiveDateTime, Utc};
use scimd_store::OrgId;
use scimd_store::TokenId;
use scimd_store::models::scim_tokens::{self, ScimTokenRow};
use serde::Serialize;

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
    #[serde(serialize_with = "crate::util::secs")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(serialize_with = "crate::util::opt_secs")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::util::opt_secs")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it stopped (or, in grace, will stop) working.
    #[serde(serialize_with = "crate::util::opt_secs")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The configured state of an org's SCIM provisioning, for the admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScimConfigSummary {
    pub endpoint_url: String,
    pub token_id: TokenId,
    pub hint: String,
    #[serde(serialize_with = "crate::util::secs")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(serialize_with = "crate::util::opt_secs")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::util::opt_secs")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The previous token, while its grace period runs.
    pub previous: Option<GraceToken>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraceToken {
    pub token_id: TokenId,
    pub hint: String,
    #[serde(serialize_with = "crate::util::secs")]
    pub valid_until: DateTime<Utc>,
    #[serde(serialize_with = "crate::util::opt_secs")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl TokenService {
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
