//! Outbound HTTP for the token endpoint and the JWKS (O9, `crates/sso/README.md`): awc over rustls 0.23 on
//! *ring* with Mozilla's roots compiled in (no OpenSSL, no system trust store, no aws-lc), a timeout on
//! connect, handshake and the whole request, redirects never followed (a 3xx is an error: SSRF), and response
//! bodies capped. Only `https://` URLs, or `http://` to loopback (the tests' fake Entra), are requested.
//!
//! awc runs on the actix runtime the server already uses; its client is `!Send`, so make one per worker.

use super::jwks::{JwksFetcher, MAX_JWKS_LEN};
use super::{AuthorizationCode, ClientSecret, EntraConfig, OidcError, PkceVerifier, config::short};
use crate::url_policy;
use awc::error::{PayloadError, SendRequestError};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Entra answers in well under a second; a hung endpoint must not hold a sign-in for long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Token responses are a few KiB.
pub const MAX_BODY_LEN: usize = 256 * 1024;

/// The outbound client.
pub struct HttpClient {
    client: awc::Client,
    max_body: usize,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(timeout: Duration) -> Result<Self, OidcError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| OidcError::Http(format!("TLS setup: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = awc::Connector::new()
            .rustls_0_23(Arc::new(tls))
            .timeout(timeout)
            .handshake_timeout(timeout);
        let client = awc::Client::builder()
            .connector(connector)
            .timeout(timeout)
            .disable_redirects()
            .finish();
        Ok(Self {
            client,
            max_body: MAX_BODY_LEN,
        })
    }

    /// Lower the body cap (tests).
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// GET `url`; a 2xx body as text.
    pub async fn get_text(&self, url: &str, max_body: usize) -> Result<String, OidcError> {
        let url = url_policy::https_or_loopback(url).ok_or(OidcError::BadAuthority)?;
        let response = self.client.get(url.as_str()).send().await.map_err(send_error)?;
        let (status, body) = self.read(response, max_body.min(self.max_body)).await?;
        if !(200..300).contains(&status) {
            return Err(OidcError::Http(format!("status {status}")));
        }
        Ok(body)
    }

    /// POST a form to `url`; the status and body text, whatever the status (the caller reads error bodies).
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<(u16, String), OidcError> {
        let url = url_policy::https_or_loopback(url).ok_or(OidcError::BadAuthority)?;
        let response = self
            .client
            .post(url.as_str())
            .send_form(&form)
            .await
            .map_err(send_error)?;
        self.read(response, self.max_body).await
    }

    async fn read(
        &self,
        mut response: awc::ClientResponse,
        limit: usize,
    ) -> Result<(u16, String), OidcError> {
        let status = response.status();
        if status.is_redirection() {
            return Err(OidcError::Redirected);
        }
        let body = response.body().limit(limit).await.map_err(|e| match e {
            PayloadError::Overflow => OidcError::ResponseTooLarge { limit },
            other => OidcError::Http(format!("reading the body: {other}")),
        })?;
        let text =
            String::from_utf8(body.to_vec()).map_err(|_| OidcError::Http("body is not UTF-8".into()))?;
        Ok((status.as_u16(), text))
    }
}

fn send_error(e: SendRequestError) -> OidcError {
    match e {
        SendRequestError::Timeout => OidcError::Http("timed out".into()),
        other => OidcError::Http(short(&other.to_string())),
    }
}

impl JwksFetcher for HttpClient {
    async fn fetch_jwks(&self, jwks_uri: &str) -> Result<String, OidcError> {
        self.get_text(jwks_uri, MAX_JWKS_LEN)
            .await
            .map_err(|e| OidcError::JwksUnavailable(e.to_string()))
    }
}

/// The token endpoint's answer; only the ID token is kept (access and refresh tokens are dropped, O10).
#[derive(Clone)]
pub struct TokenResponse {
    pub id_token: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenResponse(<redacted>)")
    }
}

#[derive(Deserialize)]
struct Success {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct Failure {
    error: Option<String>,
    error_codes: Option<Vec<u64>>,
}

/// Redeem `code` at the tenant's token endpoint (`client_secret_post`, with the PKCE verifier).
pub async fn exchange_code(
    http: &HttpClient,
    config: &EntraConfig,
    code: &AuthorizationCode,
    verifier: &PkceVerifier,
    client_secret: &ClientSecret,
) -> Result<TokenResponse, OidcError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", config.client_id()),
        ("code", code.expose()),
        ("redirect_uri", config.redirect_uri()),
        ("code_verifier", verifier.expose()),
        ("client_secret", client_secret.expose()),
    ];
    let (status, body) = http.post_form(&config.token_endpoint(), &form).await?;
    if status != 200 {
        // `error` is an OAuth code and `error_codes` AADSTS numbers (e.g. 7000222: the secret expired),
        // neither personal; `error_description` can quote input and is not kept.
        let failure: Option<Failure> = serde_json::from_str(&body).ok();
        let error = failure
            .map(|f| {
                let codes = f
                    .error_codes
                    .unwrap_or_default()
                    .iter()
                    .map(|c| format!(" AADSTS{c}"))
                    .collect::<String>();
                format!("{}{codes}", f.error.unwrap_or_default())
            })
            .unwrap_or_default();
        return Err(OidcError::TokenEndpoint {
            status,
            error: short(&error),
        });
    }
    let success: Success =
        serde_json::from_str(&body).map_err(|_| OidcError::Http("the token response is not JSON".into()))?;
    let id_token = success
        .id_token
        .ok_or(OidcError::MalformedToken("the token response has no id_token"))?;
    Ok(TokenResponse { id_token })
}
