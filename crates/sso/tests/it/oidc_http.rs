//! The whole back channel against the fake Entra on loopback: authorize (the test plays the browser and
//! Entra's login page), callback, token exchange with PKCE and the client secret, the JWKS fetched over
//! HTTP, and the ID token verified. Then what the HTTP client refuses: PKCE mismatch, a wrong secret,
//! redirects, oversized bodies, plain HTTP off loopback.

use scimd_sso::oidc::http::{self, DEFAULT_TIMEOUT, HttpClient};
use scimd_sso::oidc::{ClientSecret, EntraConfig, JwksCache, OidcError, PkceVerifier, read_callback};
use scimd_sso::testing::entra::{CLIENT_ID, OID, REDIRECT_URI, TENANT};
use scimd_sso::testing::fake_entra::{CLIENT_SECRET, FakeEntra};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

#[actix_web::test]
async fn code_flow_end_to_end_against_the_fake_entra() {
    let fake = FakeEntra::start();
    let config = EntraConfig::new(&fake.base, TENANT, CLIENT_ID, REDIRECT_URI).unwrap();
    let start = config.start().unwrap();
    assert!(
        start
            .authorize_url
            .starts_with(&format!("{}/{TENANT}/oauth2/v2.0/authorize?", fake.base))
    );

    // The browser goes to Entra; Entra sends it back with a code bound to the challenge and nonce.
    let q = query(&start.authorize_url);
    fake.issue_code("code-1", &q["code_challenge"], &q["nonce"]);
    let code = read_callback(&format!("code=code-1&state={}", q["state"]), &start.state).unwrap();

    let client = HttpClient::new(DEFAULT_TIMEOUT).unwrap();
    let secret = ClientSecret::from_stored(CLIENT_SECRET);
    let tokens = http::exchange_code(&client, &config, &code, &start.pkce_verifier, &secret)
        .await
        .unwrap();
    assert!(!format!("{tokens:?}").contains(&tokens.id_token));
    let mut cache = JwksCache::new(config.jwks_uri());
    let now = chrono::DateTime::from_timestamp(scimd_sso::testing::entra::now().timestamp() + 60, 0).unwrap();
    let claims = config
        .verify_id_token(&tokens.id_token, &mut cache, &client, &start.nonce, now)
        .await
        .unwrap();
    assert_eq!(
        (claims.tenant_id.as_str(), claims.object_id.as_str()),
        (TENANT, OID)
    );
    assert_eq!(fake.state.jwks_requests.load(Ordering::SeqCst), 1);
    // The code is single use at the fake, as at Entra.
    let again = http::exchange_code(&client, &config, &code, &start.pkce_verifier, &secret).await;
    assert_eq!(again.unwrap_err().reason_code(), "oidc_token_endpoint_error");
}

#[actix_web::test]
async fn a_pkce_mismatch_or_a_wrong_secret_is_reported_with_the_aadsts_code() {
    let fake = FakeEntra::start();
    let config = EntraConfig::new(&fake.base, TENANT, CLIENT_ID, REDIRECT_URI).unwrap();
    let start = config.start().unwrap();
    let q = query(&start.authorize_url);
    let client = HttpClient::new(DEFAULT_TIMEOUT).unwrap();
    let secret = ClientSecret::from_stored(CLIENT_SECRET);

    fake.issue_code("code-2", &q["code_challenge"], &q["nonce"]);
    let code = read_callback(&format!("code=code-2&state={}", q["state"]), &start.state).unwrap();
    let wrong_verifier = PkceVerifier::from_stored("another-verifier-another-verifier-another-v");
    let e = http::exchange_code(&client, &config, &code, &wrong_verifier, &secret)
        .await
        .unwrap_err();
    assert_eq!(
        e,
        OidcError::TokenEndpoint {
            status: 400,
            error: "invalid_grant AADSTS501481".into()
        }
    );
    assert!(
        !e.to_string().contains("ada@acme.example"),
        "error_description is not kept: {e}"
    );

    fake.issue_code("code-3", &q["code_challenge"], &q["nonce"]);
    let code = read_callback(&format!("code=code-3&state={}", q["state"]), &start.state).unwrap();
    let e = http::exchange_code(
        &client,
        &config,
        &code,
        &start.pkce_verifier,
        &ClientSecret::from_stored("wrong"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e,
        OidcError::TokenEndpoint {
            status: 400,
            error: "invalid_client AADSTS7000215".into()
        }
    );
}

#[actix_web::test]
async fn redirects_are_not_followed() {
    let fake = FakeEntra::start();
    let client = HttpClient::new(DEFAULT_TIMEOUT).unwrap();
    let e = client
        .get_text(&format!("{}/redirect", fake.base), 1024)
        .await
        .unwrap_err();
    assert_eq!(e, OidcError::Redirected);
}

#[actix_web::test]
async fn bodies_are_capped() {
    let fake = FakeEntra::start();
    let client = HttpClient::new(DEFAULT_TIMEOUT).unwrap();
    let e = client
        .get_text(&format!("{}/huge", fake.base), 64 * 1024)
        .await
        .unwrap_err();
    assert_eq!(e, OidcError::ResponseTooLarge { limit: 64 * 1024 });
}

#[actix_web::test]
async fn plain_http_off_loopback_is_never_requested() {
    let client = HttpClient::new(DEFAULT_TIMEOUT).unwrap();
    let e = client
        .get_text("http://login.microsoftonline.com/x", 1024)
        .await
        .unwrap_err();
    assert_eq!(e, OidcError::BadAuthority);
}

#[actix_web::test]
async fn an_unreachable_endpoint_is_an_error_not_a_hang() {
    // A port that was just free: connection refused, immediately.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = HttpClient::new(DEFAULT_TIMEOUT).unwrap();
    let e = client
        .get_text(&format!("http://127.0.0.1:{port}/x"), 1024)
        .await
        .unwrap_err();
    assert_eq!(e.reason_code(), "oidc_http_failed");
}
