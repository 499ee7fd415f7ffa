//! Signing in and out: the login link's landing page, its exchange for the session cookie, logout, and the
//! pages around them. The landing page asks for one click (a POST) before using the link, so that mail
//! scanners that fetch links do not spend the single-use link, and it names the organization and the email
//! the link signs in to: a link someone else sent must not sign a victim into the sender's org unnoticed.
//! Signing in through a link ends the browser's previous session.

use crate::assets::Assets;
use crate::csrf;
use crate::error::AdminError;
use crate::session::{self, Authed};
use crate::view::{self, see_other};
use actix_web::http::header;
use actix_web::web::{Bytes, Query};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// How long the login form's CSRF cookie lives (as long as a login link).
const LOGIN_FORM_SECS: i64 = 600;

#[derive(Template)]
#[template(path = "pages/signin.html")]
struct SignInHelpPage {
    assets: Assets,
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage<'a> {
    assets: Assets,
    token: &'a str,
    csrf_token: &'a str,
    org_name: &'a str,
    email: &'a str,
}

#[derive(Template)]
#[template(path = "pages/signed_out.html")]
struct SignedOutPage {
    assets: Assets,
}

/// `GET /`: the admin pages are the only thing a browser has to see here.
pub async fn root_get() -> HttpResponse {
    see_other("/admin")
}

/// `GET /admin`: to the org's settings when signed in; otherwise how to sign in.
pub async fn admin_get(req: HttpRequest) -> Result<HttpResponse, AdminError> {
    match Authed::from_req(&req).await {
        Ok(session) => Ok(see_other(&format!("/admin/orgs/{}/sso", session.info.org_id))),
        Err(AdminError::NotSignedIn) => view::ok(&SignInHelpPage {
            assets: view::assets(),
        }),
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    token: String,
}

/// `GET /admin/login?token=...`: the landing page of a login link.
pub async fn login_get(req: HttpRequest, query: Query<LoginQuery>) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    if query.token.is_empty() {
        return Err(AdminError::LoginLinkInvalid);
    }
    let token = query.token.clone();
    let Some(preview) = state
        .blocking(move |s| session::refused_as_none(s.sessions.preview_login_link_blocking(&token)))
        .await?
    else {
        return Err(AdminError::LoginLinkInvalid);
    };
    let nonce = csrf::random_token();
    let secure = state.secure_cookies();
    let html = LoginPage {
        assets: view::assets(),
        token: &query.token,
        csrf_token: &nonce,
        org_name: &preview.org_name,
        email: &preview.email,
    }
    .render()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((
            header::SET_COOKIE,
            session::set_cookie(
                session::login_cookie_name(secure),
                &nonce,
                LOGIN_FORM_SECS,
                secure,
                "Strict",
            ),
        ))
        .body(html))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/login`: exchanges the link for a session and sets the session cookie.
pub async fn login_post(req: HttpRequest, body: Bytes) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    if !csrf::same_origin(&req, &state) {
        return Err(AdminError::CrossOrigin);
    }
    let secure = state.secure_cookies();
    let form: LoginForm =
        serde_urlencoded::from_bytes(&body).map_err(|e| AdminError::BadRequest(e.to_string()))?;
    let expected = session::read_cookie(&req, session::login_cookie_name(secure)).unwrap_or_default();
    if !csrf::matches(&expected, &form.csrf_token) {
        return Err(AdminError::Csrf);
    }
    let previous = session::read_cookie(&req, session::session_cookie_name(secure));
    let token = form.token;
    let Some(session) = state
        .blocking(move |s| {
            session::refused_as_none(
                s.sessions
                    .exchange_login_link_blocking(&token, previous.as_deref()),
            )
        })
        .await?
    else {
        return Err(AdminError::LoginLinkInvalid);
    };
    let max_age = (session.expires_at - state.clock.now()).num_seconds().max(0);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin/orgs/{}/sso", session.org_id)))
        .append_header((
            header::SET_COOKIE,
            session::set_cookie(
                session::session_cookie_name(secure),
                &session.cookie_value,
                max_age,
                secure,
                "Lax",
            ),
        ))
        .append_header((
            header::SET_COOKIE,
            session::set_cookie(session::login_cookie_name(secure), "", 0, secure, "Strict"),
        ))
        .finish())
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/logout`: ends the session (audited by the session service) and clears the cookie. Any role
/// may sign out.
pub async fn logout_post(req: HttpRequest, body: Bytes) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    if !csrf::same_origin(&req, &state) {
        return Err(AdminError::CrossOrigin);
    }
    let secure = state.secure_cookies();
    let form: LogoutForm =
        serde_urlencoded::from_bytes(&body).map_err(|e| AdminError::BadRequest(e.to_string()))?;
    let Some(cookie) = session::read_cookie(&req, session::session_cookie_name(secure)) else {
        return Ok(see_other("/admin/signed-out"));
    };
    if !csrf::matches(&csrf::token_for_session(&cookie), &form.csrf_token) {
        return Err(AdminError::Csrf);
    }
    // A session that no longer works has nothing to end: clear the cookie all the same.
    state
        .blocking(move |s| match s.sessions.verify_session_blocking(&cookie) {
            Ok(info) => s.sessions.logout_blocking(&info.session_id),
            Err(_) => Ok(false),
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/signed-out"))
        .insert_header((header::SET_COOKIE, session::clear_cookie(secure)))
        .finish())
}

/// `GET /admin/signed-out`
pub async fn signed_out_get() -> Result<HttpResponse, AdminError> {
    view::ok(&SignedOutPage {
        assets: view::assets(),
    })
}

/// The admin scopes' answer to an unknown address.
pub async fn not_found() -> Result<HttpResponse, AdminError> {
    Err(AdminError::NotFound)
}
