//! `SessionService`: login links, their exchange for a session, the check made on every admin request, and
//! logout.
//!
//! A session ends at the first of: its absolute lifetime (`SessionSettings::lifetime`), an idle period without
//! a request (`SessionSettings::idle_timeout`, measured from `last_seen_at`), logout, a new login through a
//! link in the same browser, or the member's deactivation. `last_seen_at` is written at most once per
//! `LAST_SEEN_INTERVAL` per session (a conditional UPDATE, so across processes too), not on every request.
//!
//! Every operation blocks on the database: async callers run it on the blocking pool.

use crate::audit;
use crate::error::TokenError;
use crate::session::jwt::{self, Audience};
use crate::keys::SigningKey;
use chrono::{DateTime, Duration, Utc};
use scimd_store::models::admin_sessions::{self, AdminSessionRow};
use scimd_store::models::login_links::{self, LoginLinkRow};
use scimd_store::models::members::{self, Role};
use scimd_store::models::organizations;
use scimd_store::{Clock, MemberId, OrgId, SessionId, Store};
use serde_json::json;
use std::fmt;
use std::sync::Arc;

/// How long a login link works (once).
pub const LOGIN_LINK_LIFETIME: Duration = Duration::minutes(10);
/// How long a session lasts unless the member logs out or is deactivated first.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::hours(12);
/// How long a session survives without a request.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::hours(12);
/// `last_seen_at` is written at most this often per session: an idle timeout needs minutes, not every request.
pub const LAST_SEEN_INTERVAL: Duration = Duration::minutes(1);

/// How long sessions last. The default is 12 hours absolute and 12 hours idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// From login; the session cookie lives as long.
    pub lifetime: Duration,
    /// Without a request, measured from the session's `last_seen_at` (to the minute, see
    /// `LAST_SEEN_INTERVAL`).
    pub idle_timeout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            lifetime: DEFAULT_SESSION_LIFETIME,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// Whom a login link signs in, as its landing page shows before the link is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLinkPreview {
    pub org_id: OrgId,
    pub org_name: String,
    pub email: String,
}

/// A login link for one member. `url` carries a single-use credential: hand it to that member only.
#[derive(Clone)]
pub struct LoginLink {
    pub url: String,
    pub member_id: MemberId,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for LoginLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginLink")
            .field("member_id", &self.member_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A new session. `cookie_value` goes into an HttpOnly, SameSite=Lax cookie (Secure over https) and nowhere
/// else.
#[derive(Clone)]
pub struct Session {
    pub cookie_value: String,
    pub session_id: SessionId,
    pub org_id: OrgId,
    pub member_id: MemberId,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.session_id)
            .field("org_id", &self.org_id)
            .field("member_id", &self.member_id)
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Who is behind a valid session cookie, as of this request. `role` is the member's current role, not the one
/// they had at login: owners and admins may edit, members only look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub session_id: SessionId,
    pub org_id: OrgId,
    pub member_id: MemberId,
    pub email: String,
    pub role: Role,
}

impl SessionInfo {
    pub fn can_edit(&self) -> bool {
        self.role.can_edit_settings()
    }
}

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

#[derive(Clone)]
pub struct SessionService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    key: SigningKey,
    public_url: String,
    settings: SessionSettings,
}

impl fmt::Debug for SessionService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

fn refuse(class: &'static str) -> TokenError {
    tracing::debug!(class, "admin credential refused");
    TokenError::Unauthorized
}

impl SessionService {
    /// `public_url` is where admins reach this scimd; login links are `{public_url}/admin/login?token=...`.
    pub fn new(store: Store, clock: Arc<dyn Clock>, key: SigningKey, public_url: String) -> SessionService {
        SessionService {
            inner: Arc::new(Inner {
                store,
                clock,
                key,
                public_url: public_url.trim_end_matches('/').to_owned(),
                settings: SessionSettings::default(),
            }),
        }
    }

    /// The same service with other session lifetimes.
    pub fn with_settings(self, settings: SessionSettings) -> SessionService {
        let inner = &self.inner;
        SessionService {
            inner: Arc::new(Inner {
                store: inner.store.clone(),
                clock: inner.clock.clone(),
                key: inner.key.clone(),
                public_url: inner.public_url.clone(),
                settings,
            }),
        }
    }

    /// The same service with another absolute session lifetime (the idle timeout unchanged).
    pub fn with_session_lifetime(self, lifetime: Duration) -> SessionService {
        let settings = SessionSettings {
            lifetime,
            ..self.inner.settings
        };
        self.with_settings(settings)
    }

    /// A single-use link, valid for 10 minutes, for the active member of `org` whose userName (their email)
    /// is `email`. Any active member may log in; members without an admin role see the pages read-only.
    pub fn issue_login_link_blocking(
        &self,
        org: &OrgId,
        email: &str,
        actor: &str,
    ) -> Result<LoginLink, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let now_naive = inner.clock.now_naive();
        let expires_at = now + LOGIN_LINK_LIFETIME;
        let link_id = uuid::Uuid::new_v4().to_string();
        let member = inner.store.read(|conn| {
            if organizations::find(conn, org)?.is_none() {
                return Err(TokenError::OrgNotFound);
            }
            members::find_by_user_name(conn, org, email)?.ok_or(TokenError::MemberNotFound)
        })?;
        if !member.active {
            return Err(TokenError::MemberInactive);
        }
        let token = jwt::sign(
            &inner.key,
            Audience::LoginLink,
            org.as_str(),
            &member.id,
            &link_id,
            now,
            expires_at,
        )?;
        inner.store.write(|conn| -> Result<(), scimd_store::StoreError> {
            login_links::insert(
                conn,
                &LoginLinkRow {
                    id: link_id.clone(),
                    org_id: org.as_str().to_owned(),
                    member_id: member.id.clone(),
                    created_at: now_naive,
                    expires_at: now_naive + LOGIN_LINK_LIFETIME,
                    used_at: None,
                },
            )?;
            let details = json!({"login_link_id": link_id, "expires_at": expires_at});
            audit::record(
                conn,
                org,
                now_naive,
                actor,
                audit::ADMIN_LOGIN_LINK_ISSUED,
                Some(&member.id),
                details,
            )?;
            Ok(())
        })?;
        tracing::info!(org = %org, member_id = %member.id, "admin login link issued");
        Ok(LoginLink {
            url: format!("{}/admin/login?token={token}", inner.public_url),
            member_id: member.member_id(),
            expires_at,
        })
    }

    /// Whom the link signs in (org name and email), without using it; `Unauthorized` for a link that would
    /// not work (bad signature, used, expired, inactive member), so the page never offers a dead link.
    pub fn preview_login_link_blocking(&self, token: &str) -> Result<LoginLinkPreview, TokenError> {
        let inner = &self.inner;
        let now_naive = inner.clock.now_naive();
        let Some(claims) = jwt::verify(&inner.key, Audience::LoginLink, token, inner.clock.now()) else {
            return Err(refuse("login_link_invalid"));
        };
        let org = OrgId::new(claims.org);
        let member_id = MemberId::new(claims.sub);
        inner.store.read(|conn| {
            match login_links::find(conn, &claims.jti)? {
                Some(link)
                    if link.used_at.is_none()
                        && link.expires_at > now_naive
                        && link.org_id == org.as_str()
                        && link.member_id == member_id.as_str() => {}
                _ => return Err(refuse("login_link_used_or_expired")),
            }
            let Some(org_row) = organizations::find(conn, &org)? else {
                return Err(refuse("login_link_org_gone"));
            };
            let member = match members::find(conn, &org, &member_id)? {
                Some(member) if member.active => member,
                _ => return Err(refuse("member_inactive")),
            };
            Ok(LoginLinkPreview {
                org_id: org.clone(),
                org_name: org_row.name,
                email: member.email.clone().unwrap_or_else(|| member.user_name.clone()),
            })
        })
    }

    /// Exchanges a login link's token for a session. The link works once, within 10 minutes, for a member who
    /// is still active. `replacing` is the browser's current session cookie, if it sent one: that session is
    /// revoked in the same transaction (a browser holds one session; a link sent by someone else must not
    /// leave the victim's own session alive behind the new one).
    pub fn exchange_login_link_blocking(
        &self,
        token: &str,
        replacing: Option<&str>,
    ) -> Result<Session, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let now_naive = inner.clock.now_naive();
        let Some(claims) = jwt::verify(&inner.key, Audience::LoginLink, token, now) else {
            return Err(refuse("login_link_invalid"));
        };
        let org = OrgId::new(claims.org);
        let member_id = MemberId::new(claims.sub);
        let session_id = SessionId::generate();
        let expires_at = now + inner.settings.lifetime;
        let previous = replacing
            .and_then(|cookie| jwt::verify(&inner.key, Audience::Session, cookie, now))
            .map(|claims| SessionId::new(claims.jti));
        let role = inner.store.write(|conn| {
            let Some(link) = login_links::consume(conn, &claims.jti, now_naive)? else {
                return Err(refuse("login_link_used_or_expired"));
            };
            if link.org_id != org.as_str() || link.member_id != member_id.as_str() {
                return Err(refuse("login_link_mismatch"));
            }
            let member = match members::find(conn, &org, &member_id)? {
                Some(member) if member.active => member,
                _ => return Err(refuse("member_inactive")),
            };
            let opened = Opening {
                org: &org,
                member_id: &member_id,
                session_id: &session_id,
                now: now_naive,
                expires_at,
                expires_naive: now_naive + inner.settings.lifetime,
                method: "login_link",
                previous: previous.as_ref(),
            };
            opened.insert(conn)?;
            Ok(member.role())
        })?;
        let cookie_value = jwt::sign(
            &inner.key,
            Audience::Session,
            org.as_str(),
            member_id.as_str(),
            session_id.as_str(),
            now,
            expires_at,
        )?;
        tracing::info!(org = %org, member_id = %member_id, session_id = %session_id, "admin logged in");
        Ok(Session {
            cookie_value,
            session_id,
            org_id: org,
            member_id,
            role,
            expires_at,
        })
    }

    /// Checks a session cookie: signature, expiry, the session row (not revoked, not expired, not idle), and
    /// that the member is still active; then keeps `last_seen_at` (at most once per `LAST_SEEN_INTERVAL`).
    /// Every refusal is `TokenError::Unauthorized`.
    pub fn verify_session_blocking(&self, cookie_value: &str) -> Result<SessionInfo, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let now_naive = inner.clock.now_naive();
        let Some(claims) = jwt::verify(&inner.key, Audience::Session, cookie_value, now) else {
            return Err(refuse("session_cookie_invalid"));
        };
        let session_id = SessionId::new(claims.jti);
        let org = OrgId::new(claims.org);
        let member_id = MemberId::new(claims.sub);
        let (info, last_seen_at) = inner.store.read(|conn| {
            let Some(row) = admin_sessions::find(conn, &session_id)? else {
                return Err(refuse("session_unknown"));
            };
            if row.org_id != org.as_str() || row.member_id != member_id.as_str() {
                return Err(refuse("session_mismatch"));
            }
            if row.revoked_at.is_some() {
                return Err(refuse("session_revoked"));
            }
            if row.expires_at <= now_naive {
                return Err(refuse("session_expired"));
            }
            if row.last_seen_at + inner.settings.idle_timeout <= now_naive {
                return Err(refuse("session_idle"));
            }
            let member = match members::find(conn, &org, &member_id)? {
                Some(member) if member.active => member,
                _ => return Err(refuse("member_inactive")),
            };
            let info = SessionInfo {
                session_id: session_id.clone(),
                org_id: org.clone(),
                member_id: member_id.clone(),
                role: member.role(),
                email: member.email.clone().unwrap_or_else(|| member.user_name.clone()),
            };
            Ok((info, row.last_seen_at))
        })?;
        // The row is in hand: most requests see a recent `last_seen_at` and write nothing.
        let not_before = now_naive - LAST_SEEN_INTERVAL;
        if last_seen_at < not_before {
            let touched = inner
                .store
                .write(|conn| admin_sessions::touch_last_seen(conn, &session_id, now_naive, not_before));
            if let Err(err) = touched {
                // Losing one update only brings the idle timeout a minute closer; the page still works.
                tracing::warn!(session_id = %session_id, error = %err, "could not update a session's last_seen_at");
            }
        }
        Ok(info)
    }

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
        F: FnOnce(&mut scimd_store::DbConnection) -> Result<SsoDecision, TokenError>,
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
                let refused = match decide(conn)? {
                    SsoDecision::Member(member_id) => match members::find(conn, org, &member_id)? {
                        Some(member) if member.active => {
                            if expires_at <= now {
                                SsoRefusal::new("session_cap_passed", Some(member_id))
                            } else {
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
                                return Ok(Ok((member_id, member.role())));
                            }
                        }
                        Some(_) => SsoRefusal::new("member_inactive", Some(member_id)),
                        None => SsoRefusal::new("not_provisioned", None),
                    },
                    SsoDecision::Refuse(refusal) => refusal,
                };
                record_refusal(conn, org, now_naive, method, &refused)?;
                Ok(Err(refused))
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

    /// Audits an SSO sign-in refused before any member was known (a message that failed verification, an
    /// unknown or reused RelayState): `sso.signin_refused` with `reason`.
    pub fn record_sso_refusal_blocking(
        &self,
        org: &OrgId,
        method: &'static str,
        reason: &'static str,
    ) -> Result<(), TokenError> {
        let now = self.inner.clock.now_naive();
        tracing::info!(org = %org, method, reason, "SSO sign-in refused");
        self.inner
            .store
            .write(|conn| record_refusal(conn, org, now, method, &SsoRefusal::new(reason, None)))
    }

    /// Ends a session. Returns whether a live session was ended.
    pub fn logout_blocking(&self, session_id: &SessionId) -> Result<bool, TokenError> {
        let now = self.inner.clock.now_naive();
        self.inner
            .store
            .write(|conn| end_session(conn, session_id, now, "logout"))
    }
}

/// A session row about to be inserted, with its `admin.login` event; `previous` (the browser's earlier
/// session) ends in the same transaction.
struct Opening<'a> {
    org: &'a OrgId,
    member_id: &'a MemberId,
    session_id: &'a SessionId,
    now: chrono::NaiveDateTime,
    expires_at: DateTime<Utc>,
    /// `expires_at` as stored (the database's precision, as `now`).
    expires_naive: chrono::NaiveDateTime,
    /// How the member signed in: `login_link`, `saml` or `oidc` (the audit event says).
    method: &'a str,
    previous: Option<&'a SessionId>,
}

impl Opening<'_> {
    fn insert(&self, conn: &mut scimd_store::DbConnection) -> Result<(), TokenError> {
        admin_sessions::insert(
            conn,
            &AdminSessionRow {
                id: self.session_id.as_str().to_owned(),
                org_id: self.org.as_str().to_owned(),
                member_id: self.member_id.as_str().to_owned(),
                created_at: self.now,
                expires_at: self.expires_naive,
                last_seen_at: self.now,
                revoked_at: None,
            },
        )?;
        let actor = audit::member_actor(self.member_id.as_str());
        let details = json!({
            "session_id": self.session_id.as_str(),
            "expires_at": self.expires_at,
            "method": self.method,
        });
        audit::record(
            conn,
            self.org,
            self.now,
            &actor,
            audit::ADMIN_LOGIN,
            Some(self.member_id.as_str()),
            details,
        )?;
        if let Some(previous) = self.previous {
            end_session(conn, previous, self.now, "replaced_by_login")?;
        }
        Ok(())
    }
}

/// Revokes a live session with its `admin.logout` event (in the session's own org). Returns whether a live
/// session was ended.
fn end_session(
    conn: &mut scimd_store::DbConnection,
    session_id: &SessionId,
    now: chrono::NaiveDateTime,
    reason: &str,
) -> Result<bool, TokenError> {
    let Some(row) = admin_sessions::find(conn, session_id)? else {
        return Ok(false);
    };
    if !admin_sessions::revoke(conn, session_id, now)? {
        return Ok(false);
    }
    let actor = audit::member_actor(&row.member_id);
    let details = json!({"session_id": session_id.as_str(), "reason": reason});
    let org = OrgId::new(row.org_id);
    audit::record(
        conn,
        &org,
        now,
        &actor,
        audit::ADMIN_LOGOUT,
        Some(&row.member_id),
        details,
    )?;
    Ok(true)
}

/// The `sso.signin_refused` audit event of a refusal (actor `idp`: the IdP's message caused it).
fn record_refusal(
    conn: &mut scimd_store::DbConnection,
    org: &OrgId,
    now: chrono::NaiveDateTime,
    method: &str,
    refusal: &SsoRefusal,
) -> Result<(), TokenError> {
    let details = json!({"method": method, "reason": refusal.reason});
    audit::record(
        conn,
        org,
        now,
        audit::IDP_ACTOR,
        audit::SSO_SIGNIN_REFUSED,
        refusal.member_id.as_ref().map(MemberId::as_str),
        details,
    )?;
    Ok(())
}
