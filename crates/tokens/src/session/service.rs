//! `SessionService`: login links, their exchange for a session, the check made on every admin request, and
//! logout.

use crate::audit;
use crate::error::TokenError;
use crate::session::jwt::{self, Audience};
use crate::session::key::SigningKey;
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

#[derive(Clone)]
pub struct SessionService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    key: SigningKey,
    public_url: String,
    session_lifetime: Duration,
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
                session_lifetime: DEFAULT_SESSION_LIFETIME,
            }),
        }
    }

    /// The same service with another session lifetime.
    pub fn with_session_lifetime(self, lifetime: Duration) -> SessionService {
        let inner = &self.inner;
        SessionService {
            inner: Arc::new(Inner {
                store: inner.store.clone(),
                clock: inner.clock.clone(),
                key: inner.key.clone(),
                public_url: inner.public_url.clone(),
                session_lifetime: lifetime,
            }),
        }
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

    /// Exchanges a login link's token for a session. The link works once, within 10 minutes, for a member who
    /// is still active.
    pub fn exchange_login_link_blocking(&self, token: &str) -> Result<Session, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let now_naive = inner.clock.now_naive();
        let Some(claims) = jwt::verify(&inner.key, Audience::LoginLink, token, now) else {
            return Err(refuse("login_link_invalid"));
        };
        let org = OrgId::new(claims.org);
        let member_id = MemberId::new(claims.sub);
        let session_id = SessionId::generate();
        let expires_at = now + inner.session_lifetime;
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
            admin_sessions::insert(
                conn,
                &AdminSessionRow {
                    id: session_id.as_str().to_owned(),
                    org_id: org.as_str().to_owned(),
                    member_id: member_id.as_str().to_owned(),
                    created_at: now_naive,
                    expires_at: now_naive + inner.session_lifetime,
                    last_seen_at: now_naive,
                    revoked_at: None,
                },
            )?;
            let actor = audit::member_actor(member_id.as_str());
            let details = json!({"session_id": session_id.as_str(), "expires_at": expires_at});
            audit::record(
                conn,
                &org,
                now_naive,
                &actor,
                audit::ADMIN_LOGIN,
                Some(member_id.as_str()),
                details,
            )?;
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

    /// Checks a session cookie: signature, expiry, the session row (not revoked, not expired), and that the
    /// member is still active. Every refusal is `TokenError::Unauthorized`.
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
        inner.store.read(|conn| {
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
            let member = match members::find(conn, &org, &member_id)? {
                Some(member) if member.active => member,
                _ => return Err(refuse("member_inactive")),
            };
            Ok(SessionInfo {
                session_id: session_id.clone(),
                org_id: org.clone(),
                member_id: member_id.clone(),
                role: member.role(),
                email: member.email.clone().unwrap_or_else(|| member.user_name.clone()),
            })
        })
    }

    /// Ends a session. Returns whether a live session was ended.
    pub fn logout_blocking(&self, session_id: &SessionId) -> Result<bool, TokenError> {
        let inner = &self.inner;
        let now = inner.clock.now_naive();
        inner.store.write(|conn| {
            let Some(row) = admin_sessions::find(conn, session_id)? else {
                return Ok(false);
            };
            if !admin_sessions::revoke(conn, session_id, now)? {
                return Ok(false);
            }
            let actor = audit::member_actor(&row.member_id);
            let details = json!({"session_id": session_id.as_str()});
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
        })
    }

    pub async fn issue_login_link(
        &self,
        org: &OrgId,
        email: &str,
        actor: &str,
    ) -> Result<LoginLink, TokenError> {
        let (this, org, email, actor) = (self.clone(), org.clone(), email.to_owned(), actor.to_owned());
        scimd_store::blocking(move || this.issue_login_link_blocking(&org, &email, &actor)).await
    }

    pub async fn exchange_login_link(&self, token: &str) -> Result<Session, TokenError> {
        let (this, token) = (self.clone(), token.to_owned());
        scimd_store::blocking(move || this.exchange_login_link_blocking(&token)).await
    }

    pub async fn verify_session(&self, cookie_value: &str) -> Result<SessionInfo, TokenError> {
        let (this, cookie_value) = (self.clone(), cookie_value.to_owned());
        scimd_store::blocking(move || this.verify_session_blocking(&cookie_value)).await
    }

    pub async fn logout(&self, session_id: &SessionId) -> Result<bool, TokenError> {
        let (this, session_id) = (self.clone(), session_id.clone());
        scimd_store::blocking(move || this.logout_blocking(&session_id)).await
    }
}
