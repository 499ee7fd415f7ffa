//! The front channel: configuration rules, PKCE S256, `state` and `nonce`, the authorize URL, the callback.

use base64::Engine as _;
use scimd_sso::oidc::{EntraConfig, OidcError, PkceVerifier, State, read_callback};
use scimd_sso::testing::entra::{CLIENT_ID, REDIRECT_URI, TENANT, config};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;

#[test]
fn the_authorize_url_is_the_tenants_v2_endpoint_with_pkce_state_and_nonce() {
    let start = config().start().unwrap();
    let url = url::Url::parse(&start.authorize_url).unwrap();
    assert_eq!(
        url.origin().ascii_serialization(),
        "https://login.microsoftonline.com"
    );
    assert_eq!(url.path(), format!("/{TENANT}/oauth2/v2.0/authorize"));
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert_eq!(q["response_mode"], "query");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    assert_eq!(q["state"], start.state.expose());
    assert_eq!(q["nonce"], start.nonce.expose());
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"], start.pkce_verifier.challenge());
}

#[test]
fn the_pkce_challenge_is_base64url_sha256_of_the_verifier() {
    // RFC 7636 appendix B.
    let verifier = PkceVerifier::from_stored("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_eq!(
        verifier.challenge(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let fresh = config().start().unwrap().pkce_verifier;
    assert_eq!(fresh.expose().len(), 43);
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(fresh.expose()));
    assert_eq!(fresh.challenge(), expected);
}

#[test]
fn state_nonce_and_verifier_are_fresh_and_never_printed() {
    let a = config().start().unwrap();
    let b = config().start().unwrap();
    assert_ne!(a.state, b.state);
    assert_ne!(a.nonce.expose(), b.nonce.expose());
    assert_ne!(a.pkce_verifier.expose(), b.pkce_verifier.expose());
    let debug = format!("{:?} {:?} {:?}", a.state, a.nonce, a.pkce_verifier);
    assert_eq!(
        debug,
        "State(<redacted>) Nonce(<redacted>) PkceVerifier(<redacted>)"
    );
}

#[test]
fn the_authority_must_be_https_except_on_loopback() {
    let make =
        |authority: &str| EntraConfig::new(authority, TENANT, CLIENT_ID, REDIRECT_URI).map(|c| c.issuer());
    assert_eq!(
        make("http://login.microsoftonline.com").unwrap_err(),
        OidcError::BadAuthority
    );
    assert_eq!(
        make("http://127.0.0.1:4000").unwrap(),
        format!("http://127.0.0.1:4000/{TENANT}/v2.0")
    );
    assert_eq!(
        make("http://[::1]:4000/").unwrap(),
        format!("http://[::1]:4000/{TENANT}/v2.0")
    );
    assert_eq!(
        make("https://login.microsoftonline.us").unwrap(),
        format!("https://login.microsoftonline.us/{TENANT}/v2.0")
    );
    assert_eq!(
        make("https://login.microsoftonline.com?x=1").unwrap_err(),
        OidcError::BadAuthority
    );
}

#[test]
fn only_a_specific_tenant_is_accepted() {
    for tenant in [
        "common",
        "organizations",
        "consumers",
        "9188040d-6c67-4c5b-b112-36a304b66dad",
        "not-a-guid",
    ] {
        let e = EntraConfig::new(
            "https://login.microsoftonline.com",
            tenant,
            CLIENT_ID,
            REDIRECT_URI,
        )
        .unwrap_err();
        assert_eq!(e, OidcError::BadTenant, "{tenant}");
    }
    let c = config();
    assert_eq!(
        c.token_endpoint(),
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(
        c.jwks_uri(),
        format!("https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys")
    );
}

#[test]
fn the_callback_needs_the_matching_state_and_a_code() {
    let state = State::from_stored("s-123");
    let refused = |query| read_callback(query, &state).unwrap_err();
    assert_eq!(
        read_callback("code=abc&state=s-123", &state).unwrap().expose(),
        "abc"
    );
    assert_eq!(refused("code=abc&state=s-124"), OidcError::StateMismatch);
    assert_eq!(refused("code=abc"), OidcError::StateMismatch);
    assert_eq!(
        refused("code=abc&state=s-123&state=s-123"),
        OidcError::StateMismatch
    );
    assert_eq!(refused("state=s-123"), OidcError::MissingCode);
    let e = read_callback(
        "error=access_denied&error_description=AADSTS65004&state=s-123",
        &state,
    )
    .unwrap_err();
    assert_eq!(
        e,
        OidcError::IdpError {
            error: "access_denied".into()
        }
    );
    assert_eq!(e.reason_code(), "oidc_idp_error");
}
