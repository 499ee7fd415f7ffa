//! Sign-in through the org's SSO connection (issue #14), the browser's side; the work is
//! `scimd_signin::SignInService`'s.
//!
//! - `GET /sso/{org}/start[?return_to=][&force=1]`: 303 to the IdP (forced to authenticate afresh with `force`) with the `SAMLRequest`, and the binding cookie;
//! - `POST /sso/saml/{org}/acs`: the IdP's HTTP-POST; 303 to the hand-off (below) with a fresh binding cookie,
//!   or the refusal page. It is a cross-site POST by design, so it carries no CSRF token: the RelayState, the
//!   binding cookie and the signed response are what tie it to the browser that started. Being cross-site,
//!   it carries no SameSite=Lax session cookie either, so it cannot end the browser's previous session
//!   (review 3, L-6): it opens no session;
//! - `GET /sso/{org}/complete?handoff=`: the ACS's redirect, a top-level GET, which does carry the session
//!   cookie: collects the hand-off (single use, bound to the binding cookie), ends the previous session and
//!   answers 303 to the return path with the new session cookie, or the refusal page. It changes nothing
//!   for a browser other than the one the ACS answered, so a GET is safe;
//! - `GET /sso/oidc/{org}/callback`: Entra ID's redirect back (`code`, `state`); the code is redeemed and the
//!   ID token verified on this worker (the outbound client is per worker), the rest on the blocking pool;
//! - `GET /sso/saml/{org}/metadata`: the SP metadata for the IdP;
//! - `GET /admin/sso[?email=|org=]`: "Sign in with SSO": finds the org (by id, or by the one org where the
//!   e-mail is a member's userName) and starts there.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session;
use crate::view::{self, urlencode};
use actix_web::http::header;
use actix_web::web::{Bytes, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use scimd_signin::{BROWSER_COOKIE_SECS, Finished, HANDOFF_SECS, OIDC_HTTP_TIMEOUT, OidcHttpClient};
use scimd_store::OrgId;
use serde::Deserialize;

/// The ACS form's limit: a 256 KiB `SAMLResponse` (scimd-sso's cap) may grow to three times that when
/// URL-encoded; larger bodies are refused before they are read in full.
pub const ACS_BODY_LIMIT: usize = 800 * 1024;

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    return_to: Option<String>,
    /// `1`: the IdP authenticates afresh (the OpenID Provider's `prompt=login` and `max_age`).
    #[serde(default)]
    force: Option<String>,
}

/// `GET /sso/{org}/start`
pub async fn start_get(
    req: HttpRequest,
    org: Path<String>,
    query: Query<StartQuery>,
) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    let org = OrgId::new(org.into_inner());
    let query = query.into_inner();
    let (return_to, force) = (query.return_to, query.force.as_deref() == Some("1"));
    let started = state
        .blocking(move |s| s.signin.start_forced_blocking(&org, return_to.as_deref(), force))
        .await?;
    let secure = state.secure_cookies();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, started.redirect_url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::SET_COOKIE,
            binding_cookie(&started.browser_cookie, BROWSER_COOKIE_SECS, secure),
        ))
        .finish())
}

/// The binding cookie. The IdP's POST to the ACS is cross-site, which a `SameSite=Lax` cookie does not
/// follow: over https it is `SameSite=None` (it names nothing but a pending sign-in); over plain http (a
/// loopback test, where the IdP is same-site) browsers refuse `None` without `Secure`, so it is `Lax`.
fn binding_cookie(value: &str, max_age_secs: i64, secure: bool) -> String {
    let same_site = if secure { "None" } else { "Lax" };
    session::set_cookie(
        session::sso_cookie_name(secure),
        value,
        max_age_secs,
        secure,
        same_site,
    )
}

/// The HTTP-POST binding's form, under the binding's own field names.
#[derive(Deserialize)]
struct AcsForm {
    #[serde(default, rename = "SAMLResponse")]
    saml_response: String,
    #[serde(default, rename = "RelayState")]
    relay_state: Option<String>,
}

/// `POST /sso/saml/{org}/acs`
pub async fn acs_post(req: HttpRequest, org: Path<String>, body: Bytes) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    let secure = state.secure_cookies();
    let form: AcsForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AdminError::BadRequest("the SAML response form could not be read".into()))?;
    if form.saml_response.is_empty() {
        return Err(AdminError::BadRequest("SAMLResponse is missing".into()));
    }
    let org = OrgId::new(org.into_inner());
    let browser = session::read_cookie(&req, session::sso_cookie_name(secure));
    let handed_off = state
        .blocking(move |s| {
            s.signin
                .saml_acs_blocking(
                    &org,
                    &form.saml_response,
                    form.relay_state.as_deref(),
                    browser.as_deref(),
                )
                .map_err(|e| refused_for_client(s, e))
        })
        .await;
    match handed_off {
        Ok(handed_off) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, handed_off.url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((
                header::SET_COOKIE,
                binding_cookie(&handed_off.browser_cookie, HANDOFF_SECS, secure),
            ))
            .finish()),
        Err(err) => Ok(finish(&state, Err(err))),
    }
}

#[derive(Deserialize)]
pub struct CompleteQuery {
    #[serde(default)]
    handoff: String,
}

/// `GET /sso/{org}/complete?handoff=`
pub async fn complete_get(
    req: HttpRequest,
    org: Path<String>,
    query: Query<CompleteQuery>,
) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    let secure = state.secure_cookies();
    let org = OrgId::new(org.into_inner());
    let handoff = query.into_inner().handoff;
    let browser = session::read_cookie(&req, session::sso_cookie_name(secure));
    let previous = session::read_cookie(&req, session::session_cookie_name(secure));
    let finished = state
        .blocking(move |s| {
            s.signin
                .complete_blocking(&org, &handoff, browser.as_deref(), previous.as_deref())
                .map_err(|e| refused_for_client(s, e))
        })
        .await;
    Ok(finish(&state, finished))
}

/// The longest callback query accepted (a code and a state are a few hundred bytes; Entra's error
/// descriptions a few more).
const MAX_CALLBACK_QUERY: usize = 8 * 1024;

thread_local! {
    /// The outbound client of this worker (awc is not `Send`); built on the first OIDC sign-in.
    static OIDC_HTTP: std::cell::OnceCell<Option<std::rc::Rc<OidcHttpClient>>> = const { std::cell::OnceCell::new() };
}

fn oidc_http() -> Result<std::rc::Rc<OidcHttpClient>, AdminError> {
    OIDC_HTTP
        .with(|cell| {
            cell.get_or_init(|| match OidcHttpClient::new(OIDC_HTTP_TIMEOUT) {
                Ok(client) => Some(std::rc::Rc::new(client)),
                Err(err) => {
                    tracing::error!(error = %err, "the outbound HTTPS client for OIDC sign-in could not be built");
                    None
                }
            })
            .clone()
        })
        .ok_or_else(|| AdminError::Internal("the outbound HTTPS client could not be built".into()))
}

/// `GET /sso/oidc/{org}/callback`: Entra ID's redirect with `code` and `state` (or `error`).
pub async fn oidc_callback_get(req: HttpRequest, org: Path<String>) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    let secure = state.secure_cookies();
    let query = req.query_string().to_owned();
    if query.len() > MAX_CALLBACK_QUERY {
        return Err(AdminError::BadRequest("the callback query is too long".into()));
    }
    let org = OrgId::new(org.into_inner());
    let browser = session::read_cookie(&req, session::sso_cookie_name(secure));
    let previous = session::read_cookie(&req, session::session_cookie_name(secure));
    let finished = async {
        let lookup = org.clone();
        let callback = state
            .blocking(move |s| {
                s.signin
                    .oidc_callback_blocking(&lookup, &query, browser.as_deref())
            })
            .await?;
        let http = oidc_http()?;
        let identity = match callback.verify(&http, state.clock.now()).await {
            Ok(identity) => identity,
            Err(err) => {
                let (org, reason) = (org.clone(), err.reason_code());
                let refused = state
                    .blocking(move |s| {
                        Ok::<_, scimd_signin::SignInError>(s.signin.oidc_refused_blocking(&org, reason))
                    })
                    .await?;
                return Err(AdminError::from(refused));
            }
        };
        state
            .blocking(move |s| {
                s.signin
                    .oidc_finish_blocking(&org, identity, previous.as_deref())
                    .map_err(|e| refused_for_client(s, e))
            })
            .await
    }
    .await;
    Ok(finish(&state, finished))
}

/// A refusal of the member during a sign-in an OpenID Provider client asked for: the page says why and
/// leads back to the client with `error=access_denied` (OIDC Core §3.1.2.6). Any other error as it is.
fn refused_for_client(s: &crate::state::AdminState, err: scimd_signin::SignInError) -> AdminError {
    use scimd_signin::{Refusal, SignInError};
    if let SignInError::Refused {
        refusal: refusal @ (Refusal::NotProvisioned | Refusal::Deactivated),
        return_to: Some(return_to),
        ..
    } = &err
    {
        match s.provider.denied_redirect_blocking(return_to) {
            Ok(Some(back)) => return AdminError::SignInRefusedForClient(*refusal, back),
            Ok(None) => {}
            Err(e) => return e.into(),
        }
    }
    err.into()
}

/// The answer to the end of a sign-in: 303 to the return path with the session cookie, or the refusal page;
/// the binding cookie is cleared either way (the pending sign-in or the hand-off is used up).
fn finish(state: &crate::state::AdminState, finished: Result<Finished, AdminError>) -> HttpResponse {
    let secure = state.secure_cookies();
    let clear_binding = binding_cookie("", 0, secure);
    let finished = match finished {
        Ok(finished) => finished,
        Err(err) => {
            let mut response = actix_web::ResponseError::error_response(&err);
            if let Ok(value) = header::HeaderValue::from_str(&clear_binding) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            return response;
        }
    };
    let session = finished.session;
    let max_age = (session.expires_at - state.clock.now()).num_seconds().max(0);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, finished.return_to))
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
        .append_header((header::SET_COOKIE, clear_binding))
        .finish()
}

/// `GET /sso/saml/{org}/metadata`
pub async fn metadata_get(req: HttpRequest, org: Path<String>) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    let org = OrgId::new(org.into_inner());
    let exists = {
        let org = org.clone();
        state
            .blocking(move |s| {
                s.store
                    .read(|conn| scimd_store::models::organizations::find(conn, &org))
                    .map(|o| o.is_some())
            })
            .await?
    };
    if !exists {
        return Err(AdminError::NotFound);
    }
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/samlmetadata+xml; charset=utf-8",
        ))
        .body(state.signin.sp_metadata(&org)))
}

#[derive(Template)]
#[template(path = "pages/sso_signin.html")]
struct ChooserPage<'a> {
    assets: Assets,
    email: &'a str,
    org: &'a str,
    /// The e-mail did not lead to exactly one organization with SSO.
    not_found: bool,
    /// The org was found: the page moves on to its start (a meta refresh, not a redirect of the form's
    /// submission, which the pages' CSP `form-action 'self'` would stop on its way to the IdP).
    continue_to: Option<String>,
}

#[derive(Deserialize)]
pub struct ChooserQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    org: String,
}

/// `GET /admin/sso`: "Sign in with SSO".
pub async fn chooser_get(req: HttpRequest, query: Query<ChooserQuery>) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    let ChooserQuery { email, org } = query.into_inner();
    let (email, org) = (email.trim().to_owned(), org.trim().to_owned());
    let mut continue_to = (!org.is_empty()).then(|| format!("/sso/{}/start", urlencode(&org)));
    if continue_to.is_none() && !email.is_empty() && email.len() <= 320 {
        let lookup = email.clone();
        let found = state
            .blocking(move |s| -> Result<Option<OrgId>, AdminError> {
                let orgs = s
                    .store
                    .read(|conn| scimd_store::models::members::orgs_with_user_name(conn, &lookup, 2))?;
                match orgs.as_slice() {
                    [one] if s.signin.available_blocking(one)? => Ok(Some(one.clone())),
                    _ => Ok(None),
                }
            })
            .await?;
        continue_to = found.map(|org| format!("/sso/{}/start", org.as_str()));
    }
    view::ok(&ChooserPage {
        assets: view::assets(),
        email: &email,
        org: &org,
        not_found: !email.is_empty() && continue_to.is_none(),
        continue_to,
    })
}
