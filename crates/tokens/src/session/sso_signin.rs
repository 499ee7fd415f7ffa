//! Sign-in through the org's IdP (SAML or OIDC, verified by `scimd-signin`), ending in a session, and the
//! audited refusals (`sso.signin_refused` with a reason code).
//!
//! An OIDC callback is a top-level GET that carries the browser's SameSite=Lax session cookie, so it opens the
//! session at once and ends the one it replaces ([`SessionService::sign_in_sso_blocking`]). The SAML ACS is the
//! IdP's cross-site POST, which carries no such cookie (review 3, L-6): it records a hand-off instead
//! ([`SessionService::hand_off_sso_blocking`]), and the browser's next request, a GET that does carry the
//! session cookie, collects it ([`SessionService::complete_sso_blocking`]): the session opens there, and the
//! browser's previous one ends there, with the same events as a login link's.

use super::Session;
use super::jwt::{self, Audience};
use super::service::{Opening, SessionService};
use crate::audit;
use crate::error::TokenError;
use chrono::{DateTime, Duration, Utc};
use scimd_store::models::members::{self, Role};
use scimd_store::models::sso_signin::{self as store_sso, HandOffRow};
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

/// A verified sign-in to hand off to the browser's next request (see [`SessionService::hand_off_sso_blocking`]).
/// `id` and `browser_hash` are SHA-256 digests of the secrets the browser gets: the token in the URL and the
/// binding cookie.
pub struct SsoHandOff<'a> {
    pub id: Vec<u8>,
    pub browser_hash: Vec<u8>,
    /// Where the browser goes once signed in (a checked local path).
    pub return_to: &'a str,
    /// How long the browser has to collect it.
    pub lifetime: Duration,
}

/// The outcome of collecting a hand-off ([`SessionService::complete_sso_blocking`]).
#[derive(Debug, Clone)]
pub enum SsoCompletion {
    SignedIn {
        session: Session,
        return_to: String,
    },
    /// No live hand-off of this org has that id for this browser: unknown, used, expired or another browser's.
    Unknown,
    /// The member may no longer sign in (deactivated since the ACS, say); audited.
    Refused {
        refusal: SsoRefusal,
        return_to: String,
    },
}

/// What collecting a hand-off did in its transaction.
enum Collected {
    Unknown,
    Opened {
        member_id: MemberId,
        role: Role,
        expires_at: DateTime<Utc>,
        return_to: String,
    },
    Refused {
        refusal: SsoRefusal,
        return_to: String,
    },
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
        let session = self.signed_session(org, member_id, session_id, role, now, expires_at)?;
        tracing::info!(org = %org, member_id = %session.member_id, session_id = %session.session_id, method, "signed in through SSO");
        Ok(SsoSignIn::SignedIn(session))
    }

    /// The first half of a SAML sign-in, at the ACS: as [`SessionService::sign_in_sso_blocking`] (`decide` in
    /// the write transaction, the member admitted or the refusal audited), but instead of a session it records
    /// `handoff` for the browser to collect with [`SessionService::complete_sso_blocking`], on a request that
    /// carries its session cookie. `Ok(None)` when the hand-off was recorded.
    pub fn hand_off_sso_blocking<F>(
        &self,
        org: &OrgId,
        method: &'static str,
        not_after: Option<DateTime<Utc>>,
        handoff: &SsoHandOff<'_>,
        decide: F,
    ) -> Result<Option<SsoRefusal>, TokenError>
    where
        F: FnOnce(&mut DbConnection) -> Result<SsoDecision, TokenError>,
    {
        let inner = &self.inner;
        let now = inner.clock.now();
        let now_naive = inner.clock.now_naive();
        let cap_passed = not_after.is_some_and(|cap| cap <= now);
        let refused = inner
            .store
            .write(|conn| -> Result<Option<SsoRefusal>, TokenError> {
                let decision = decide(conn)?;
                match admit(conn, org, decision, cap_passed)? {
                    Ok((member_id, _)) => {
                        store_sso::insert_handoff(
                            conn,
                            &HandOffRow {
                                id: handoff.id.clone(),
                                org_id: org.as_str().to_owned(),
                                member_id: member_id.as_str().to_owned(),
                                method: method.to_owned(),
                                browser_hash: handoff.browser_hash.clone(),
                                return_to: handoff.return_to.to_owned(),
                                session_not_after: not_after.map(|cap| cap.naive_utc()),
                                created_at: now_naive,
                                expires_at: now_naive + handoff.lifetime,
                                consumed_at: None,
                            },
                        )?;
                        Ok(None)
                    }
                    Err(refused) => {
                        record_refusal(conn, org, now_naive, method, audit::IDP_ACTOR, &refused)?;
                        Ok(Some(refused))
                    }
                }
            })?;
        if let Some(refusal) = &refused {
            tracing::info!(org = %org, method, reason = refusal.reason, "SSO sign-in refused");
        }
        Ok(refused)
    }

    /// The second half of a SAML sign-in: consumes the hand-off `id` of `org` if it is live and bound to this
    /// browser (`browser_hash`), checks the member is still active, opens the session and ends `replacing` (the
    /// browser's current session cookie) in the same transaction, as a login link does.
    pub fn complete_sso_blocking(
        &self,
        org: &OrgId,
        id: &[u8],
        browser_hash: &[u8],
        replacing: Option<&str>,
    ) -> Result<SsoCompletion, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let now_naive = inner.clock.now_naive();
        let session_id = SessionId::generate();
        let lifetime_end = now + inner.settings.lifetime;
        let previous = replacing
            .and_then(|cookie| jwt::verify(&inner.key, Audience::Session, cookie, now))
            .map(|claims| SessionId::new(claims.jti));
        let collected = inner.store.write(|conn| -> Result<Collected, TokenError> {
            let Some(row) = store_sso::consume_handoff(conn, org, id, browser_hash, now_naive)? else {
                return Ok(Collected::Unknown);
            };
            let expires_at = row
                .session_not_after
                .map_or(lifetime_end, |cap| cap.and_utc().min(lifetime_end));
            let decision = SsoDecision::Member(MemberId::new(row.member_id));
            match admit(conn, org, decision, expires_at <= now)? {
                Ok((member_id, role)) => {
                    Opening {
                        org,
                        member_id: &member_id,
                        session_id: &session_id,
                        now: now_naive,
                        expires_at,
                        expires_naive: now_naive + (expires_at - now),
                        method: &row.method,
                        previous: previous.as_ref(),
                    }
                    .insert(conn)?;
                    Ok(Collected::Opened {
                        member_id,
                        role,
                        expires_at,
                        return_to: row.return_to,
                    })
                }
                Err(refusal) => {
                    record_refusal(conn, org, now_naive, &row.method, audit::IDP_ACTOR, &refusal)?;
                    Ok(Collected::Refused {
                        refusal,
                        return_to: row.return_to,
                    })
                }
            }
        })?;
        match collected {
            Collected::Unknown => Ok(SsoCompletion::Unknown),
            Collected::Refused { refusal, return_to } => {
                tracing::info!(org = %org, reason = refusal.reason, "SSO sign-in refused at its hand-off");
                Ok(SsoCompletion::Refused { refusal, return_to })
            }
            Collected::Opened {
                member_id,
                role,
                expires_at,
                return_to,
            } => {
                let session = self.signed_session(org, member_id, session_id, role, now, expires_at)?;
                tracing::info!(org = %org, member_id = %session.member_id, session_id = %session.session_id, "signed in through SSO");
                Ok(SsoCompletion::SignedIn { session, return_to })
            }
        }
    }

    /// The cookie of a session just opened.
    fn signed_session(
        &self,
        org: &OrgId,
        member_id: MemberId,
        session_id: SessionId,
        role: Role,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Session, TokenError> {
        let cookie_value = jwt::sign(
            &self.inner.key,
            Audience::Session,
            org.as_str(),
            member_id.as_str(),
            session_id.as_str(),
            now,
            expires_at,
        )?;
        Ok(Session {
            cookie_value,
            session_id,
            org_id: org.clone(),
            member_id,
            role,
            expires_at,
        })
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
