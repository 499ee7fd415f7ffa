//! Login links: issued for one active member (a single-use HS256 JWT naming a `login_links` row, 10 minutes),
//! previewed by the landing page without being used, and exchanged once for a session.

use super::Session;
use super::jwt::{self, Audience};
use super::service::{Opening, SessionService, refuse};
use crate::audit;
use crate::error::TokenError;
use chrono::{DateTime, Duration, Utc};
use scimd_store::models::login_links::{self, LoginLinkRow};
use scimd_store::models::{members, organizations};
use scimd_store::{MemberId, OrgId, SessionId};
use serde_json::json;
use std::fmt;

/// How long a login link works (once).
pub const LOGIN_LINK_LIFETIME: Duration = Duration::minutes(10);

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

impl SessionService {
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
}
