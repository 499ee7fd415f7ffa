//! A fake Entra ID on 127.0.0.1:0: actix-web in its own thread with its own `System`, serving Entra's paths
//! so the library's URL building runs unchanged. The token endpoint checks grant type, client, secret,
//! redirect URI and `BASE64URL(SHA256(code_verifier)) == code_challenge`, then answers with an ID token of
//! the code's claims; the JWKS endpoint counts its requests. Two extra routes misbehave on purpose.
//! `start` registers this crate's test client (`entra::{TENANT, CLIENT_ID}`); `start_for` another one (the
//! server's tests register the org's connection).

use super::entra::{self, CLIENT_ID, REDIRECT_URI, TENANT};
use super::keys;
use crate::oidc::DEFAULT_AUTHORITY;
use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const CLIENT_SECRET: &str = "fake-client-secret~value";

/// What Entra remembers of one sign-in: the authorize request's challenge and redirect URI, and the ID
/// token's claims (its `iss` is set to the fake's own).
#[derive(Debug, Clone)]
pub struct Grant {
    pub code_challenge: String,
    pub redirect_uri: String,
    pub claims: Value,
}

pub struct State {
    /// The fake's own base URL: its tokens' `iss` follows the authority it is reached at, as Entra's does.
    pub base: String,
    /// The one registered client: tenant, client ID, client secret.
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    pub codes: Mutex<HashMap<String, Grant>>,
    pub jwks_requests: AtomicUsize,
    /// Requests to the token endpoint, answered or not (what review L-8 counts).
    pub token_requests: AtomicUsize,
}

pub struct FakeEntra {
    pub base: String,
    pub state: Arc<State>,
}

impl FakeEntra {
    /// Serving this crate's test client.
    pub fn start() -> Self {
        Self::start_for(TENANT, CLIENT_ID, CLIENT_SECRET)
    }

    /// Serving one client of one tenant.
    pub fn start_for(tenant: &str, client_id: &str, client_secret: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            base: base.clone(),
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            codes: Mutex::default(),
            jwks_requests: AtomicUsize::new(0),
            token_requests: AtomicUsize::new(0),
        });
        let shared = state.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let data = web::Data::from(shared);
                HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/{tenant}/oauth2/v2.0/token", web::post().to(token))
                        .route("/{tenant}/discovery/v2.0/keys", web::get().to(jwks))
                        .route("/redirect", web::get().to(redirect))
                        .route("/huge", web::get().to(huge))
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
                .unwrap();
            });
        });
        Self { base, state }
    }

    /// What Entra does after the user signs in: remember the code with the request's challenge, for this
    /// crate's redirect URI and a correct ID token for `nonce` (`entra::claims`).
    pub fn issue_code(&self, code: &str, code_challenge: &str, nonce: &str) {
        self.grant(
            code,
            Grant {
                code_challenge: code_challenge.into(),
                redirect_uri: REDIRECT_URI.into(),
                claims: entra::claims(nonce),
            },
        );
    }

    /// Remember `code` for `grant`.
    pub fn grant(&self, code: &str, grant: Grant) {
        self.state.codes.lock().unwrap().insert(code.into(), grant);
    }
}

fn oauth_error(error: &str, code: u64) -> HttpResponse {
    HttpResponse::BadRequest().json(serde_json::json!({
        "error": error, "error_description": format!("AADSTS{code}: something for ada@acme.example"),
        "error_codes": [code],
    }))
}

async fn token(
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<State>,
) -> HttpResponse {
    state.token_requests.fetch_add(1, Ordering::SeqCst);
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if path.as_str() != state.tenant
        || f("grant_type") != "authorization_code"
        || f("client_id") != state.client_id
    {
        return oauth_error("invalid_request", 900144);
    }
    if f("client_secret") != state.client_secret {
        return oauth_error("invalid_client", 7000215);
    }
    let Some(grant) = state.codes.lock().unwrap().remove(f("code")) else {
        return oauth_error("invalid_grant", 54005);
    };
    if f("redirect_uri") != grant.redirect_uri {
        return oauth_error("invalid_grant", 50011);
    }
    let computed =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(f("code_verifier")));
    if computed != grant.code_challenge {
        return oauth_error("invalid_grant", 501481);
    }
    let mut claims = grant.claims;
    claims["iss"] = serde_json::json!(format!("{}/{}/v2.0", state.base, state.tenant));
    HttpResponse::Ok().json(serde_json::json!({
        "token_type": "Bearer", "access_token": "opaque-access-token", "refresh_token": "opaque-refresh",
        "id_token": entra::sign(&claims, keys::idp(), "k1"),
    }))
}

async fn jwks(state: web::Data<State>) -> HttpResponse {
    state.jwks_requests.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok()
        .content_type("application/json")
        // Entra's per-key `issuer` names the authority it serves; so does the fake's.
        .body(
            entra::jwks_json(&[(keys::idp(), "k1"), (keys::idp_next(), "k2")])
                .replace(DEFAULT_AUTHORITY, &state.base),
        )
}

async fn redirect() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", "http://169.254.169.254/latest/meta-data/"))
        .finish()
}

async fn huge() -> HttpResponse {
    HttpResponse::Ok().body("x".repeat(2 * 1024 * 1024))
}
