//! The admin session in the browser: the cookie, and the extractors every handler takes.
//!
//! - `Authed`: the request's session, verified through the token service on every request (no cache: a
//!   deactivated member's or a logged-out session's very next request fails), and checked against the org in
//!   the URL;
//! - `Posted<T>`: a form POST that came from our own pages (Origin), carries the session's CSRF token, and
//!   comes from an owner or admin; only then is the form `T` parsed.

use crate::csrf;
use crate::error::AdminError;
use crate::state::AdminState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpRequest};
use scimd_tokens::{SessionInfo, TokenError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

const SESSION_COOKIE: &str = "scimd_session";
const SECURE_SESSION_COOKIE: &str = "__Host-scimd_session";
const LOGIN_COOKIE: &str = "scimd_login";
const SECURE_LOGIN_COOKIE: &str = "__Host-scimd_login";

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The cookie that binds a started SSO sign-in to this browser (see `scimd_signin`).
pub fn sso_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-scimd_sso" } else { "scimd_sso" }
}

pub fn login_cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_LOGIN_COOKIE } else { LOGIN_COOKIE }
}

/// The value of the cookie `name`, from any `Cookie` header of the request.
pub fn read_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, `Path=/` (which the `__Host-` prefix requires), `Secure` over https.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool, same_site: &str) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite={same_site}{secure}")
}

/// Removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie(session_cookie_name(secure), "", 0, secure, "Lax")
}

/// A verified session.
pub struct Authed {
    pub info: SessionInfo,
    /// The token every form of this session carries.
    pub csrf_token: String,
    pub state: Data<AdminState>,
}

impl Authed {
    pub fn can_edit(&self) -> bool {
        self.info.can_edit()
    }

    pub fn require_editor(&self) -> Result<(), AdminError> {
        if self.can_edit() {
            Ok(())
        } else {
            Err(AdminError::ReadOnly)
        }
    }

    /// `AdminState::blocking` for this session's org: `f` gets the services and the session.
    pub async fn blocking<T, E, F>(&self, f: F) -> Result<T, AdminError>
    where
        T: Send + 'static,
        E: From<scimd_store::StoreError> + Send + 'static,
        AdminError: From<E>,
        F: FnOnce(&AdminState, &SessionInfo) -> Result<T, E> + Send + 'static,
    {
        let info = self.info.clone();
        self.state.blocking(move |state| f(state, &info)).await
    }

    /// How the audit trail names this member.
    pub fn actor(&self) -> String {
        scimd_tokens::audit::member_actor(self.info.member_id.as_str())
    }

    /// Verifies the request's session cookie and, when the route names an org, that it is the session's org.
    pub async fn from_req(req: &HttpRequest) -> Result<Authed, AdminError> {
        let state = state(req)?;
        let secure = state.secure_cookies();
        let Some(cookie) = read_cookie(req, session_cookie_name(secure)) else {
            return Err(AdminError::NotSignedIn);
        };
        let checked = cookie.clone();
        let Some(info) = state
            .blocking(move |s| refused_as_none(s.sessions.verify_session_blocking(&checked)))
            .await?
        else {
            return Err(session_ended(secure));
        };
        if let Some(org) = req.match_info().get("org")
            && org != info.org_id.as_str()
        {
            return Err(AdminError::WrongOrg);
        }
        Ok(Authed {
            info,
            csrf_token: csrf::token_for_session(&cookie),
            state,
        })
    }
}

/// A refused credential as `None`, so that it survives the trip through `blocking` apart from real errors.
pub(crate) fn refused_as_none<T>(result: Result<T, TokenError>) -> Result<Option<T>, TokenError> {
    match result {
        Ok(t) => Ok(Some(t)),
        Err(TokenError::Unauthorized) => Ok(None),
        Err(err) => Err(err),
    }
}

pub(crate) fn state(req: &HttpRequest) -> Result<Data<AdminState>, AdminError> {
    req.app_data::<Data<AdminState>>()
        .cloned()
        .ok_or_else(|| AdminError::Internal("AdminState is not registered".into()))
}

type Boxed<T> = Pin<Box<dyn Future<Output = Result<T, AdminError>>>>;

impl FromRequest for Authed {
    type Error = AdminError;
    type Future = Boxed<Authed>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Authed::from_req(&req).await })
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

/// A checked form POST by an owner or admin: same origin, the session's CSRF token, then the form.
pub struct Posted<T> {
    pub session: Authed,
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = AdminError;
    type Future = Boxed<Posted<T>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let state = state(&req)?;
            if !csrf::same_origin(&req, &state) {
                return Err(AdminError::CrossOrigin);
            }
            let session = Authed::from_req(&req).await?;
            let body = body
                .await
                .map_err(|e| AdminError::BadRequest(format!("the form could not be read: {e}")))?;
            let submitted: CsrfField = serde_urlencoded::from_bytes(&body)
                .map_err(|e| AdminError::BadRequest(format!("the form could not be read: {e}")))?;
            if !csrf::matches(&session.csrf_token, &submitted.csrf_token) {
                return Err(AdminError::Csrf);
            }
            session.require_editor()?;
            let form = serde_urlencoded::from_bytes(&body)
                .map_err(|e| AdminError::BadRequest(format!("the form could not be read: {e}")))?;
            Ok(Posted { session, form })
        })
    }
}

/// The cookie-clearing header for a session that no longer works.
pub(crate) fn session_ended(secure: bool) -> AdminError {
    AdminError::SessionEnded {
        clear_cookie: clear_cookie(secure),
    }
}

/// A form with no fields but the CSRF token (confirmations, releases).
#[derive(Deserialize)]
pub struct EmptyForm {}
