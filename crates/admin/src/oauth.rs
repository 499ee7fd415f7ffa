//! "Sign in with scimd" over HTTP: the OpenID Provider's endpoints (`scimd_signin::oauth` does the work).
//! Errors are OAuth error objects (`{"error": ..}`), mapped here once ([`OAuthHttpError`]); an authorize
//! request whose client or redirect URI does not check out gets an HTML error page instead of a redirect.
//!
//! ```text
//! GET  /.well-known/openid-configuration
//! GET  /oauth/authorize     org= or login_hint= picks the org; without a session of it (or, with prompt=login
//!                           or max_age, one fresh enough), its SSO runs first
//! POST /oauth/token         authorization_code + PKCE, client_secret_basic or client_secret_post
//! GET  /oauth/userinfo      Bearer access token (POST too)
//! GET  /oauth/jwks
//! POST /oauth/introspect    RFC 7662, client authentication required
//! ```

use crate::error::AdminError;
use crate::session;
use crate::view::urlencode;
use actix_web::http::{StatusCode, header};
use actix_web::web::{Bytes, Query};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use base64::Engine as _;
use scimd_signin::oauth::{
    Authorization, AuthorizeRequest, OrgChoice, ProviderError, SignedInAs, TokenRequest,
};
use serde::Deserialize;
use serde_json::json;

/// The OAuth surface's one error-to-response mapping.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct OAuthHttpError(#[from] ProviderError);

impl From<AdminError> for OAuthHttpError {
    fn from(err: AdminError) -> Self {
        OAuthHttpError(match err {
            AdminError::BadRequest(m) => ProviderError::InvalidRequest(m),
            other => ProviderError::Key(other.to_string()),
        })
    }
}

impl From<scimd_store::StoreError> for OAuthHttpError {
    fn from(err: scimd_store::StoreError) -> Self {
        OAuthHttpError(ProviderError::Store(err))
    }
}

impl OAuthHttpError {
    /// The database is unavailable: 503 `temporarily_unavailable` with `Retry-After`, so that the client
    /// retries instead of giving up on a server error.
    fn unavailable(&self) -> bool {
        match &self.0 {
            ProviderError::Store(e) => e.is_unavailable(),
            ProviderError::Token(e) => e.is_unavailable(),
            _ => false,
        }
    }
}

impl ResponseError for OAuthHttpError {
    fn status_code(&self) -> StatusCode {
        if self.unavailable() {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        match self.0.code() {
            "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if self.unavailable() {
            // The store logs an outage once, when it starts and when it ends.
            tracing::debug!(error = %self.0, "OAuth request failed: database unavailable");
            return HttpResponse::build(status)
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::RETRY_AFTER, 5))
                .json(json!({"error": "temporarily_unavailable", "error_description": null}));
        }
        if status.is_server_error() {
            tracing::error!(error = %self.0, "OAuth request failed");
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self.0.code() {
            "invalid_client" => {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"scimd\""));
            }
            "invalid_token" => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            _ => {}
        }
        let description = match &self.0 {
            ProviderError::InvalidRequest(m) => Some(m.clone()),
            _ => None,
        };
        response.json(json!({"error": self.0.code(), "error_description": description}))
    }
}

fn no_store_json(value: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(value)
}

/// `GET /.well-known/openid-configuration`
pub async fn discovery_get(req: HttpRequest) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    Ok(HttpResponse::Ok().json(state.provider.discovery()))
}

/// `GET /oauth/jwks`
pub async fn jwks_get(req: HttpRequest) -> Result<HttpResponse, OAuthHttpError> {
    let provider = session::state(&req)?.provider.clone();
    let jwks = scimd_store::blocking(move || provider.jwks_blocking()).await?;
    Ok(HttpResponse::Ok().json(jwks))
}

#[derive(Deserialize, Default)]
pub struct AuthorizeQuery {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    login_hint: String,
    #[serde(default)]
    prompt: String,
    max_age: Option<String>,
    scimd_auth_after: Option<String>,
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `GET /oauth/authorize`: one trip to the blocking pool; the provider checks the request, picks the org and
/// asks for the browser's session only once both hold (`OAuthProvider::authorize_blocking`).
pub async fn authorize_get(
    req: HttpRequest,
    query: Query<AuthorizeQuery>,
) -> Result<HttpResponse, AdminError> {
    let state = session::state(&req)?;
    let q = query.into_inner();
    let request = AuthorizeRequest {
        client_id: q.client_id,
        redirect_uri: q.redirect_uri,
        response_type: q.response_type,
        scope: q.scope,
        state: q.state,
        nonce: q.nonce,
        code_challenge: q.code_challenge,
        code_challenge_method: q.code_challenge_method,
        prompt: q.prompt,
        max_age: q.max_age,
        auth_after: q.scimd_auth_after,
    };
    let choice = OrgChoice {
        org: q.org,
        login_hint: q.login_hint,
    };
    let cookie = session::read_cookie(&req, session::session_cookie_name(state.secure_cookies()));
    let authorization = state
        .blocking(move |s| {
            s.provider.authorize_blocking(request, &choice, || {
                let Some(cookie) = cookie else {
                    return Ok(None);
                };
                let info = session::refused_as_none(s.sessions.verify_session_blocking(&cookie))?;
                Ok(info.map(|info| SignedInAs {
                    org: info.org_id,
                    member: info.member_id,
                    session: info.session_id,
                }))
            })
        })
        .await?;
    match authorization {
        Authorization::Redirect(location) => Ok(see_other(&location)),
        // Without a session of that org: the org's sign-in first, back here after.
        Authorization::SignIn(org) => {
            let back = format!("/oauth/authorize?{}", req.query_string());
            Ok(see_other(&format!(
                "/sso/{}/start?return_to={}",
                urlencode(org.as_str()),
                urlencode(&back)
            )))
        }
        // A fresh sign-in asked for: the org's IdP, forced, then this request again marked with when it was
        // asked for; an org without a connection cannot re-authenticate, and the client hears so.
        Authorization::Reauthenticate {
            org,
            auth_after,
            login_required,
        } => {
            let start_org = org.clone();
            let available = state
                .blocking(move |s| s.signin.available_blocking(&start_org))
                .await?;
            if !available {
                return Ok(see_other(&login_required));
            }
            let mut back = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
                if k != "prompt" && k != "scimd_auth_after" {
                    back.append_pair(&k, &v);
                }
            }
            back.append_pair("scimd_auth_after", &auth_after.to_string());
            let back = format!("/oauth/authorize?{}", back.finish());
            Ok(see_other(&format!(
                "/sso/{}/start?force=1&return_to={}",
                urlencode(org.as_str()),
                urlencode(&back)
            )))
        }
    }
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1, form-encoded id and secret) or the form's.
fn client_credentials(
    req: &HttpRequest,
    form: &[(String, String)],
) -> Result<(String, String), OAuthHttpError> {
    let field = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    if let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(encoded) = value.strip_prefix("Basic ")
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(ProviderError::InvalidClient)?;
        let (id, secret) = decoded.split_once(':').ok_or(ProviderError::InvalidClient)?;
        let unescape = |s: &str| {
            url::form_urlencoded::parse(format!("v={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Ok((unescape(id), unescape(secret)));
    }
    match (field("client_id"), field("client_secret")) {
        (Some(id), Some(secret)) => Ok((id, secret)),
        _ => Err(ProviderError::InvalidClient.into()),
    }
}

fn form_of(body: &Bytes) -> Result<Vec<(String, String)>, OAuthHttpError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    // A repeated parameter is ambiguous (RFC 6749 §3.1): refuse rather than pick one.
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(ProviderError::InvalidRequest("a parameter is repeated".into()).into());
    }
    Ok(pairs)
}

/// `POST /oauth/token`
pub async fn token_post(req: HttpRequest, body: Bytes) -> Result<HttpResponse, OAuthHttpError> {
    let state = session::state(&req)?;
    let form = form_of(&body)?;
    let (id, secret) = client_credentials(&req, &form)?;
    let field = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let request = TokenRequest {
        grant_type: field("grant_type"),
        code: field("code"),
        redirect_uri: field("redirect_uri"),
        code_verifier: field("code_verifier"),
    };
    let provider = state.provider.clone();
    let tokens = scimd_store::blocking(move || provider.token_blocking((&id, &secret), &request)).await?;
    Ok(no_store_json(tokens))
}

/// `POST /oauth/introspect`
pub async fn introspect_post(req: HttpRequest, body: Bytes) -> Result<HttpResponse, OAuthHttpError> {
    let state = session::state(&req)?;
    let form = form_of(&body)?;
    let (id, secret) = client_credentials(&req, &form)?;
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| ProviderError::InvalidRequest("token is required".into()))?;
    let provider = state.provider.clone();
    let answer = scimd_store::blocking(move || provider.introspect_blocking((&id, &secret), &token)).await?;
    Ok(no_store_json(answer))
}

/// `GET|POST /oauth/userinfo`
pub async fn userinfo(req: HttpRequest) -> Result<HttpResponse, OAuthHttpError> {
    let state = session::state(&req)?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or(ProviderError::InvalidToken)?;
    let provider = state.provider.clone();
    let info = scimd_store::blocking(move || provider.userinfo_blocking(&token)).await?;
    Ok(no_store_json(info))
}
