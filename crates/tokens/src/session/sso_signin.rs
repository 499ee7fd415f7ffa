//! Sign-in through the org's IdP (SAML or OIDC, verified by `scimd-signin`), ending in a session, and the
//! audited refusals (`sso.signin_refused` with a reason code).

use super::Session;
use super::jwt::{self, Audience};
use super::service::{Opening, SessionService};
use crate::audit;
use crate::error::TokenError;
use chrono::{DateTime, Utc};
use scimd_store::models::members::{self, Role};
use scimd_store::{DbConnection, MemberId, OrgId, SessionId};
use serde_json::json;

/// What an SSO sign-in's `decide` step concluded (see [`SessionService::sign_in_sso_blocking`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoDecision {
    /// The verified identity is this member of the org (their state is checked next).
    Member(MemberId),
    Refuse(SsoRefusal),
}

/// Why an SSO sign-in was refused: a stable reason code for the audit trail and the activity page, and the
/// member when one was identified. The browser is told less (see the admin pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRefusal {
    pub reason: &'static str,
    pub member_id: Option<MemberId>,
}

impl SsoRefusal {
    pub fn new(reason: &'static str, member_id: Option<MemberId>) -> SsoRefusal {
        SsoRefusal { reason, member_id }
    }
}

/// The outcome of an SSO sign-in.
#[derive(Debug, Clone)]
pub enum SsoSignIn {
    SignedIn(Session),
    Refused(SsoRefusal),
}

impl SessionService {
    /// Signs a member in after the org's IdP vouched for them (SAML or OIDC, verified by the caller). `decide`
    /// runs inside the write transaction: it consumes what the sign-in used (its replay record) and names the
    /// member, or refuses. A member found must be active. A refusal is audited (`sso.signin_refused` with its
    /// reason code) in the same transaction, so what `decide` consumed stays consumed. The session ends at
    /// `not_after` when the IdP capped it earlier than the configured lifetime. `replacing` is the browser's
    /// current session cookie: that session ends, as with a login link.
    pub fn sign_in_sso_blocking<F>(
        &self,
        org: &OrgId,
        method: &'static str,
        not_after: Option<DateTime<Utc>>,
        replacing: Option<&str>,
        decide: F,
    ) -> Result<SsoSignIn, TokenError>
    where
        F: FnOnce(&mut DbConnection) -> Result<SsoDecision, TokenError>,
    {
        let inner = &self.inner;
        let now = inner.clock.now();
        let now_naive = inner.clock.now_naive();
        let session_id = SessionId::generate();
        let lifetime_end = now + inner.settings.lifetime;
        let expires_at = not_after.map_or(lifetime_end, |cap| cap.min(lifetime_end));
        let previous = replacing
            .and_then(|cookie| jwt::verify(&inner.key, Audience::Session, cookie, now))
            .map(|claims| SessionId::new(claims.jti));
        let outcome = inner.store.write(
            |conn| -> Result<Result<(MemberId, Role), SsoRefusal>, TokenError> {
                let decision = decide(conn)?;
                match admit(conn, org, decision, expires_at <= now)? {
                    Ok((member_id, role)) => {
                        Opening {
                            org,
                            member_id: &member_id,
                            session_id: &session_id,
                            now: now_naive,
                            expires_at,
                            expires_naive: now_naive + (expires_at - now),
                            method,
                            previous: previous.as_ref(),
                        }
                        .insert(conn)?;
                        Ok(Ok((member_id, role)))
                    }
                    Err(refused) => {
                        record_refusal(conn, org, now_naive, method, audit::IDP_ACTOR, &refused)?;
                        Ok(Err(refused))
                    }
                }
            },
        )?;
        let (member_id, role) = match outcome {
            Ok(signed_in) => signed_in,
            Err(refusal) => {
                tracing::info!(org = %org, method, reason = refusal.reason, "SSO sign-in refused");
                return Ok(SsoSignIn::Refused(refusal));
            }
        };
        let cookie_value = jwt::sign(
            &inner.key,
            Audience::Session,
            org.as_str(),
            member_id.as_str(),
            session_id.as_str(),
            now,
            expires_at,
        )?;
        tracing::info!(org = %org, member_id = %member_id, session_id = %session_id, method, "signed in through SSO");
        Ok(SsoSignIn::SignedIn(Session {
            cookie_value,
            session_id,
            org_id: org.clone(),
            member_id,
            role,
            expires_at,
        }))
    }

    /// Audits an SSO sign-in refused before any member was known, after a verified message or a pending
    /// request that the refused browser used up (never for a message nobody verified: review H-1):
    /// `sso.signin_refused` with `reason`, by `actor` (`audit::IDP_ACTOR` or `audit::ANONYMOUS_ACTOR`).
    pub fn record_sso_refusal_blocking(
        &self,
        org: &OrgId,
        method: &'static str,
        reason: &'static str,
        actor: &'static str,
    ) -> Result<(), TokenError> {
        let now = self.inner.clock.now_naive();
        tracing::info!(org = %org, method, reason, actor, "SSO sign-in refused");
        self.inner
            .store
            .write(|conn| record_refusal(conn, org, now, method, actor, &SsoRefusal::new(reason, None)))
    }
}

/// Whom `decide` named, if they may sign in: an active member of the org, and the IdP's cap on the session not
/// already passed (`cap_passed`). Otherwise the refusal, with the member when one was found.
fn admit(
    conn: &mut DbConnection,
    org: &OrgId,
    decision: SsoDecision,
    cap_passed: bool,
) -> Result<Result<(MemberId, Role), SsoRefusal>, TokenError> {
    let member_id = match decision {
        SsoDecision::Member(member_id) => member_id,
        SsoDecision::Refuse(refusal) => return Ok(Err(refusal)),
    };
    Ok(match members::find(conn, org, &member_id)? {
        Some(member) if member.active => {
            if cap_passed {
                Err(SsoRefusal::new("session_cap_passed", Some(member_id)))
            } else {
                let role = member.role();
                Ok((member_id, role))
            }
        }
        Some(_) => Err(SsoRefusal::new("member_inactive", Some(member_id))),
        None => Err(SsoRefusal::new("not_provisioned", None)),
    })
}

/// The `sso.signin_refused` audit event of a refusal, by `actor`: `idp` when the IdP's verified message
/// caused it, `anonymous` when a browser did.
fn record_refusal(
    conn: &mut DbConnection,
    org: &OrgId,
    now: chrono::NaiveDateTime,
    method: &str,
    actor: &str,
    refusal: &SsoRefusal,
) -> Result<(), TokenError> {
    let details = json!({"method": method, "reason": refusal.reason});
    audit::record(
        conn,
        org,
        now,
        actor,
        audit::SSO_SIGNIN_REFUSED,
        refusal.member_id.as_ref().map(MemberId::as_str),
        details,
    )?;
    Ok(())
}
