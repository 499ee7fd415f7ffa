//! OpenID Connect to the letter (issue #23; review 3 L-1, L-2, L-3, M-2, I-2), on the provider itself: ID
//! tokens RS256 by default and EdDSA on request, each verified by `jsonwebtoken` against the JWKS, with
//! `at_hash` and `email_verified: false`; `iss` in every authorization response; a replayed code revokes what
//! it was redeemed for; a revoked client is dead and a rotated secret replaces the old one; a compromised key
//! leaves the JWKS; `prompt=login` and `max_age` ask for a fresh sign-in and only a fresh one gets a code.

use crate::fixtures::{OWNER_EMAIL, PUBLIC_URL};
use crate::oauth::{Platform, REDIRECT_URI, VERIFIER, platform, query_value};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use scimd_signin::oauth::{Authorization, AuthorizeRequest, ProviderError, SignedInAs};
use scimd_store::Clock;
use scimd_store::testing::TestDb;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

/// Verifies `id_token` with the key the JWKS publishes under its `kid`, as a relying party would.
fn verify(p: &Platform, id_token: &str) -> Result<(jsonwebtoken::Algorithm, Value), String> {
    let header = jsonwebtoken::decode_header(id_token).map_err(|e| e.to_string())?;
    let jwks = p.provider.jwks_blocking().unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| Some(k["kid"].as_str().unwrap()) == header.kid.as_deref())
        .ok_or("the kid is not in the JWKS")?;
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[p.client_id.as_str()]);
    validation.set_issuer(&[PUBLIC_URL]);
    validation.validate_exp = false; // the fixed clock is in 2026-11-28
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .map_err(|e| e.to_string())?
        .claims;
    Ok((header.alg, claims))
}

fn half_b64(digest: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

fn id_tokens_are_rs256_by_default_and_eddsa_on_request(db: &TestDb) {
    let mut p = platform(db);
    let discovery = p.provider.discovery();
    let algs = discovery["id_token_signing_alg_values_supported"].clone();
    assert_eq!(algs, serde_json::json!(["RS256", "EdDSA"]));
    assert_eq!(discovery["authorization_response_iss_parameter_supported"], true);

    let tokens = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    let (alg, claims) = verify(&p, tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(alg, jsonwebtoken::Algorithm::RS256);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims["at_hash"], half_b64(&Sha256::digest(access.as_bytes())));
    assert_eq!(claims["sub"], p.who.member.as_str());
    // The address is whatever the org's SCIM caller wrote: never a verified one (M-2).
    assert_eq!(claims["email"], OWNER_EMAIL);
    assert_eq!(claims["email_verified"], false);
    let info = p.provider.userinfo_blocking(access).unwrap();
    assert_eq!(info["email_verified"], false);
    let jwks = p.provider.jwks_blocking().unwrap();
    let kinds: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{jwks}");
    assert!(kinds.contains(&"RSA") && kinds.contains(&"OKP"), "{jwks}");

    // A client registered for EdDSA gets EdDSA, its at_hash over SHA-512 (Ed25519's hash).
    let eddsa = p
        .provider
        .create_client_blocking("EdDSA platform", &[REDIRECT_URI.to_owned()], "EdDSA")
        .unwrap();
    p.client_id = eddsa.client_id;
    p.client_secret = eddsa.client_secret;
    let tokens = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    let (alg, claims) = verify(&p, tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(alg, jsonwebtoken::Algorithm::EdDSA);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims["at_hash"], half_b64(&Sha512::digest(access.as_bytes())));
    assert!(matches!(
        p.provider
            .create_client_blocking("HS256 platform", &[REDIRECT_URI.to_owned()], "HS256"),
        Err(ProviderError::InvalidRequest(_))
    ));
}

fn every_authorization_response_names_the_issuer(db: &TestDb) {
    let p = platform(db);
    let Authorization::Redirect(with_code) = p.authorize(p.request()).unwrap() else {
        panic!("expected a code");
    };
    assert_eq!(query_value(&with_code, "iss").as_deref(), Some(PUBLIC_URL));
    let bad_scope = AuthorizeRequest {
        scope: "email".into(),
        ..p.request()
    };
    let Authorization::Redirect(with_error) = p.authorize(bad_scope).unwrap() else {
        panic!("expected an error redirect");
    };
    assert_eq!(
        query_value(&with_error, "error").as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(query_value(&with_error, "iss").as_deref(), Some(PUBLIC_URL));
}

fn a_replayed_code_revokes_the_tokens_issued_from_it(db: &TestDb) {
    let p = platform(db);
    let code = p.code();
    let first = p.redeem(&code, REDIRECT_URI, VERIFIER).unwrap();
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(p.introspect(access)["active"], true);
    // Another code's tokens are not touched by this code's replay.
    let other = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    let other = other["access_token"].as_str().unwrap();

    assert!(matches!(
        p.redeem(&code, REDIRECT_URI, VERIFIER),
        Err(ProviderError::InvalidGrant)
    ));
    assert_eq!(p.introspect(access), serde_json::json!({"active": false}));
    assert!(matches!(
        p.provider.userinfo_blocking(access),
        Err(ProviderError::InvalidToken)
    ));
    assert_eq!(p.introspect(other)["active"], true);
}

fn a_revoked_client_is_dead_and_a_rotated_secret_replaces_the_old(db: &TestDb) {
    let mut p = platform(db);
    let tokens = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    let rotated = p.provider.rotate_client_secret_blocking(&p.client_id).unwrap();
    assert_ne!(rotated.client_secret, p.client_secret);
    assert!(matches!(
        p.provider
            .introspect_blocking((&p.client_id, &p.client_secret), &access),
        Err(ProviderError::InvalidClient)
    ));
    p.client_secret = rotated.client_secret;
    assert_eq!(p.introspect(&access)["active"], true, "tokens outlive a rotation");

    let pending = p.code();
    p.provider.revoke_client_blocking(&p.client_id).unwrap();
    assert!(matches!(
        p.provider.userinfo_blocking(&access),
        Err(ProviderError::InvalidToken)
    ));
    assert!(matches!(
        p.provider
            .introspect_blocking((&p.client_id, &p.client_secret), &access),
        Err(ProviderError::InvalidClient)
    ));
    assert!(matches!(
        p.redeem(&pending, REDIRECT_URI, VERIFIER),
        Err(ProviderError::InvalidClient)
    ));
    assert!(matches!(
        p.authorize(p.request()),
        Err(ProviderError::InvalidClient)
    ));
    assert!(matches!(
        p.provider.revoke_client_blocking(&p.client_id),
        Err(ProviderError::InvalidRequest(_))
    ));
    assert!(matches!(
        p.provider.rotate_client_secret_blocking(&p.client_id),
        Err(ProviderError::InvalidRequest(_))
    ));
}

fn kids(p: &Platform) -> Vec<String> {
    let jwks = p.provider.jwks_blocking().unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn a_compromised_key_leaves_the_jwks(db: &TestDb) {
    let p = platform(db);
    let before = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    let old_token = before["id_token"].as_str().unwrap().to_owned();
    let first = kids(&p);
    assert_eq!(first.len(), 2);

    // An ordinary rotation: the new keys sign, the previous ones still verify.
    // (The newest key signs: a rotation comes later than the keys it replaces.)
    p.w.clock.advance(Duration::minutes(1));
    let second = p.provider.rotate_key_blocking(false).unwrap();
    let published = kids(&p);
    assert_eq!(published.len(), 4, "{published:?}");
    assert!(first.iter().chain(&second).all(|k| published.contains(k)));
    assert!(verify(&p, &old_token).is_ok());
    let after = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    let header = jsonwebtoken::decode_header(after["id_token"].as_str().unwrap()).unwrap();
    assert!(second.contains(&header.kid.unwrap()), "the new key signs");

    // A compromise: every previous key leaves at once, and what it signed no longer verifies.
    p.w.clock.advance(Duration::minutes(1));
    let third = p.provider.rotate_key_blocking(true).unwrap();
    let mut published = kids(&p);
    published.sort();
    let mut expected = third.clone();
    expected.sort();
    assert_eq!(published, expected);
    assert!(verify(&p, &old_token).is_err());
    assert!(verify(&p, after["id_token"].as_str().unwrap()).is_err());
    let fresh = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    assert!(verify(&p, fresh["id_token"].as_str().unwrap()).is_ok());
}

/// The owner signs in again now (a new session), as a forced IdP sign-in would end.
fn sign_in_again(p: &Platform) -> SignedInAs {
    let link = p
        .sessions
        .issue_login_link_blocking(&p.w.org, OWNER_EMAIL, "cli")
        .unwrap();
    let token = link.url.split_once("token=").unwrap().1;
    let session = p.sessions.exchange_login_link_blocking(token, None).unwrap();
    SignedInAs {
        org: session.org_id,
        member: session.member_id,
        session: session.session_id,
    }
}

fn prompt_login_and_max_age_ask_for_a_fresh_sign_in(db: &TestDb) {
    let mut p = platform(db);
    p.w.clock.advance(Duration::minutes(30));
    let now = p.w.clock.now().timestamp();
    let ask = |p: &Platform, prompt: &str, max_age: Option<&str>, after: Option<i64>| {
        p.authorize(AuthorizeRequest {
            prompt: prompt.into(),
            max_age: max_age.map(str::to_owned),
            auth_after: after.map(|t| t.to_string()),
            ..p.request()
        })
        .unwrap()
    };
    let reauth = |a: &Authorization| match a {
        Authorization::Reauthenticate {
            org,
            auth_after,
            login_required,
        } => {
            assert_eq!(org, &p.w.org);
            assert_eq!(
                query_value(login_required, "error").as_deref(),
                Some("login_required")
            );
            *auth_after
        }
        other => panic!("expected a re-authentication, got {other:?}"),
    };
    // A session 30 minutes old: max_age 60 and prompt=login each ask for a fresh sign-in, with no code.
    assert_eq!(reauth(&ask(&p, "", Some("60"), None)), now);
    assert_eq!(reauth(&ask(&p, "login", None, None)), now);
    // ... and with prompt=none the client hears login_required.
    let Authorization::Redirect(none) = ask(&p, "none", Some("60"), None) else {
        panic!("expected login_required");
    };
    assert_eq!(query_value(&none, "error").as_deref(), Some("login_required"));
    assert_eq!(query_value(&none, "code"), None);
    // A max_age the session meets gets a code at once.
    let Authorization::Redirect(coded) = ask(&p, "", Some("3600"), None) else {
        panic!("expected a code");
    };
    assert!(query_value(&coded, "code").is_some(), "{coded}");
    // Coming back with the old session does not count as a fresh sign-in, nor does a hand-made marker from
    // before the session or from outside the window.
    reauth(&ask(&p, "", Some("60"), Some(now)));
    let session_start = now - 30 * 60;
    reauth(&ask(&p, "", Some("60"), Some(session_start)));
    reauth(&ask(&p, "", Some("60"), Some(now + 5)));

    // The member signs in again (a minute later): now the request gets its code, and the ID token's
    // auth_time is the new sign-in.
    p.w.clock.advance(Duration::minutes(1));
    p.who = sign_in_again(&p);
    let Authorization::Redirect(coded) = ask(&p, "", Some("0"), Some(now)) else {
        panic!("expected a code after the fresh sign-in");
    };
    let code = query_value(&coded, "code").unwrap();
    let tokens = p.redeem(&code, REDIRECT_URI, VERIFIER).unwrap();
    let (_, claims) = verify(&p, tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["auth_time"], now + 60);
    // An hour later the marker is stale: the same request asks again.
    p.w.clock.advance(Duration::hours(1));
    reauth(&ask(&p, "", Some("0"), Some(now)));
    // Malformed values go back to the client as invalid_request.
    for (prompt, max_age) in [("none login", None), ("", Some("-1")), ("", Some("soon"))] {
        let Authorization::Redirect(bad) = ask(&p, prompt, max_age, None) else {
            panic!("expected invalid_request");
        };
        assert_eq!(query_value(&bad, "error").as_deref(), Some("invalid_request"));
    }
}

fn a_refused_member_goes_back_to_the_client_with_access_denied(db: &TestDb) {
    let p = platform(db);
    let back = format!(
        "/oauth/authorize?client_id={}&redirect_uri={}&state=st-9&response_type=code",
        p.client_id,
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );
    let denied = p.provider.denied_redirect_blocking(&back).unwrap().unwrap();
    assert!(denied.starts_with(REDIRECT_URI), "{denied}");
    assert_eq!(query_value(&denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_value(&denied, "state").as_deref(), Some("st-9"));
    assert_eq!(query_value(&denied, "iss").as_deref(), Some(PUBLIC_URL));
    // Never to an address the client did not register, and nothing for a sign-in of the admin pages.
    let elsewhere = back.replace("platform.example.com", "evil.example");
    assert_eq!(p.provider.denied_redirect_blocking(&elsewhere).unwrap(), None);
    assert_eq!(
        p.provider.denied_redirect_blocking("/admin/orgs/x/sso").unwrap(),
        None
    );
}

scimd_store::backend_tests!(
    id_tokens_are_rs256_by_default_and_eddsa_on_request,
    every_authorization_response_names_the_issuer,
    a_replayed_code_revokes_the_tokens_issued_from_it,
    a_revoked_client_is_dead_and_a_rotated_secret_replaces_the_old,
    a_compromised_key_leaves_the_jwks,
    prompt_login_and_max_age_ask_for_a_fresh_sign_in,
    a_refused_member_goes_back_to_the_client_with_access_denied,
    custom_attributes_mapped_to_claims,
);

/// A custom attribute the org maps to a claim (`scimd attribute define --claim`) is in the ID token and userinfo
/// when the member has a value; an unmapped one is not, and a claim scimd sets itself cannot be mapped.
fn custom_attributes_mapped_to_claims(db: &TestDb) {
    use diesel::prelude::*;
    use scimd_store::models::attributes::{self, CustomType, NewDefinition};
    use scimd_store::{StoreError, schema::members as m};
    const URN: &str = "urn:ietf:params:scim:schemas:extension:scimd:2.0:User";
    let p = platform(db);
    let org = p.w.org.clone();
    let now = p.w.clock.now_naive();
    let define = |name: &'static str, claim: Option<&'static str>| {
        let new = NewDefinition {
            name,
            ty: CustomType::String,
            multi_valued: false,
            case_exact: false,
            filterable: false,
            claim,
        };
        db.store
            .write(|conn| attributes::define(conn, Some(&org), "test", &new, now))
    };
    define("costCenter", Some("cost_center")).unwrap();
    define("department", None).unwrap();
    assert!(matches!(define("x", Some("email")), Err(StoreError::Refused(_))));
    let doc = serde_json::json!({URN: {"costCenter": "CC-7", "department": "R&D"}}).to_string();
    db.store
        .write(|conn| {
            diesel::update(m::table.filter(m::id.eq(p.who.member.as_str())))
                .set(m::document.eq(&doc))
                .execute(conn)
                .map_err(StoreError::from)
        })
        .unwrap();

    let tokens = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    let (_, claims) = verify(&p, tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["cost_center"], "CC-7");
    assert!(claims.get("department").is_none());
    assert_eq!(claims["email"], OWNER_EMAIL);
    let info = p
        .provider
        .userinfo_blocking(tokens["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(info["cost_center"], "CC-7");
}
