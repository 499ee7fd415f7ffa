//! `SessionService`: the check made on every admin request, logout, and how a session is opened and ended
//! (login links are `login_link.rs`; a sign-in through the org's IdP is `sso_signin.rs`).
//!
//! A session ends at the first of: its absolute lifetime (`SessionSettings::lifetime`), an idle period without
//! a request (`SessionSettings::idle_timeout`, measured from `last_seen_at`), logout, a new sign-in (a link or
//! the org's IdP) in the same browser, or the member's deactivation. `last_seen_at` is written at most once per
//! `LAST_SEEN_INTERVAL` per session (a conditional UPDATE, so across processes too), not on every request.
//!
//! Every operation blocks on the database: async callers run it on the blocking pool.

use crate::audit;
use crate::error::TokenError;
use crate::keys::SigningKey;
use crate::session::jwt::{self, Audience};
use chrono::{DateTime, Duration, Utc};
use scimd_store::models::admin_sessions::{self, AdminSessionRow};
use scimd_store::models::members::{self, Role};
use scimd_store::{Clock, MemberId, OrgId, SessionId, Store};
use serde_json::json;
use std::fmt;
use std::sync::Arc;

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
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Store,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) key: SigningKey,
    pub(super) public_url: String,
    pub(super) settings: SessionSettings,
}

impl fmt::Debug for SessionService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

pub(super) fn refuse(class: &'static str) -> TokenError {
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
            // The member's effective scimd role: an `admin` mapped from an IdP group counts (issue #26).
            let granted = scimd_store::provisioning::roles::granted_roles(conn, &org, &member.id)?;
            let effective =
                scimd_store::provisioning::roles::compose(&member.role, granted.iter().map(String::as_str));
            let info = SessionInfo {
                session_id: session_id.clone(),
                org_id: org.clone(),
                member_id: member_id.clone(),
                role: effective.first().map_or(member.role(), |r| Role::parse(r)),
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
pub(super) struct Opening<'a> {
    pub(super) org: &'a OrgId,
    pub(super) member_id: &'a MemberId,
    pub(super) session_id: &'a SessionId,
    pub(super) now: chrono::NaiveDateTime,
    pub(super) expires_at: DateTime<Utc>,
    /// `expires_at` as stored (the database's precision, as `now`).
    pub(super) expires_naive: chrono::NaiveDateTime,
    /// How the member signed in: `login_link`, `saml` or `oidc` (the audit event says).
    pub(super) method: &'a str,
    pub(super) previous: Option<&'a SessionId>,
}

impl Opening<'_> {
    pub(super) fn insert(&self, conn: &mut scimd_store::DbConnection) -> Result<(), TokenError> {
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
