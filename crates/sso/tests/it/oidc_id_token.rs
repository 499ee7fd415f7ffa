//! ID token validation: the happy path and each refusal of issue #14 (wrong `iss`, `aud`, `tid`, nonce,
//! `alg: none`, HS256 keyed with the public key, unknown `kid`, expired), plus the time edges.

use base64::Engine as _;
use chrono::TimeDelta;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scimd_sso::oidc::{Jwks, Nonce, OidcError};
use scimd_sso::testing::entra::{
    self, CLIENT_ID, NONCE, OID, TENANT, claims, config, jwks_json, now, sign, with_header,
};
use scimd_sso::testing::keys;
use serde_json::{Value, json};

fn jwks() -> Jwks {
    Jwks::parse(&jwks_json(&[(keys::idp(), "k1"), (keys::idp_next(), "k2")])).unwrap()
}

fn check(token: &str) -> Result<scimd_sso::oidc::IdTokenClaims, OidcError> {
    config().validate_id_token(token, &jwks(), &Nonce::from_stored(NONCE), now())
}

fn code_of(mutate: impl FnOnce(&mut Value)) -> &'static str {
    let mut c = claims(NONCE);
    mutate(&mut c);
    check(&sign(&c, keys::idp(), "k1")).unwrap_err().reason_code()
}

/// The reason a token without the claim `name` is refused.
fn code_without(name: &str) -> &'static str {
    code_of(|c| {
        c.as_object_mut().unwrap().remove(name);
    })
}

/// A token whose claim `name` is `wrong`, and one without it, are both refused with `code`.
fn assert_wrong_or_missing_is_refused(name: &str, wrong: Value, code: &str) {
    assert_eq!(code_of(|c| c[name] = wrong), code);
    assert_eq!(code_without(name), code);
}

#[test]
fn a_correct_token_yields_tenant_and_object_id() {
    let got = check(&sign(&claims(NONCE), keys::idp(), "k1")).unwrap();
    assert_eq!(got.tenant_id, TENANT);
    assert_eq!(got.object_id, OID);
    assert_eq!(got.subject, "pairwise-sub-1");
    assert_eq!(got.email.as_deref(), Some("ada@acme.example"));
    assert_eq!(got.expires_at, now() + TimeDelta::hours(1));
    let debug = format!("{got:?}");
    assert!(
        !debug.contains("ada@acme.example") && !debug.contains(OID),
        "{debug}"
    );
    // The second key of the set works too.
    assert!(check(&sign(&claims(NONCE), keys::idp_next(), "k2")).is_ok());
}

#[test]
fn a_wrong_issuer_is_refused() {
    assert_eq!(
        code_of(|c| c["iss"] = json!(format!("https://sts.windows.net/{TENANT}/"))),
        "oidc_wrong_issuer"
    );
    assert_eq!(
        code_of(|c| c["iss"] = json!("https://login.microsoftonline.com/{tenantid}/v2.0")),
        "oidc_wrong_issuer"
    );
}

#[test]
fn a_wrong_audience_is_refused() {
    assert_eq!(
        code_of(|c| c["aud"] = json!("00000000-0000-0000-0000-000000000000")),
        "oidc_wrong_audience"
    );
    assert_eq!(
        code_of(|c| c["aud"] = json!([CLIENT_ID, "another-app"])),
        "oidc_wrong_audience"
    );
    assert!(
        check(&sign(
            &{
                let mut c = claims(NONCE);
                c["aud"] = json!([CLIENT_ID]);
                c
            },
            keys::idp(),
            "k1"
        ))
        .is_ok()
    );
}

#[test]
fn a_wrong_tenant_is_refused() {
    // Another tenant's token with this tenant's issuer string (a misconfigured multi-tenant app).
    assert_wrong_or_missing_is_refused(
        "tid",
        json!("11111111-1111-1111-1111-111111111111"),
        "oidc_wrong_tenant",
    );
}

#[test]
fn a_wrong_or_missing_nonce_is_refused() {
    assert_wrong_or_missing_is_refused("nonce", json!("another-nonce"), "oidc_nonce_mismatch");
}

#[test]
fn a_v1_token_is_refused() {
    assert_eq!(code_of(|c| c["ver"] = json!("1.0")), "oidc_wrong_version");
}

#[test]
fn a_token_without_oid_is_refused() {
    assert_eq!(code_without("oid"), "oidc_missing_oid");
}

#[test]
fn alg_none_is_refused() {
    let token = with_header(&json!({"alg": "none", "kid": "k1"}), &claims(NONCE), "");
    assert_eq!(
        check(&token).unwrap_err(),
        OidcError::AlgorithmNotAllowed { alg: "none".into() }
    );
}

#[test]
fn hs256_keyed_with_the_public_key_is_refused() {
    // The classic confusion: the verifier's RSA public key used as an HMAC secret.
    let public = keys::idp().private.to_public_key();
    let n = rsa::traits::PublicKeyParts::n_bytes(&public);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    for secret in [n.to_vec(), entra::jwk(keys::idp(), "k1").to_string().into_bytes()] {
        let token = jsonwebtoken::encode(
            &header,
            &claims(NONCE),
            &EncodingKey::from_secret(&secret).unwrap(),
        )
        .unwrap();
        assert_eq!(
            check(&token).unwrap_err(),
            OidcError::AlgorithmNotAllowed { alg: "HS256".into() }
        );
    }
}

#[test]
fn rs384_and_other_algorithms_are_refused() {
    let mut header = Header::new(Algorithm::RS384);
    header.kid = Some("k1".into());
    let der = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&keys::idp().private).unwrap();
    let token = jsonwebtoken::encode(
        &header,
        &claims(NONCE),
        &EncodingKey::from_rsa_der(der.as_bytes()),
    )
    .unwrap();
    assert_eq!(check(&token).unwrap_err().reason_code(), "oidc_alg_not_allowed");
}

#[test]
fn an_unknown_kid_or_none_is_refused() {
    assert_eq!(
        check(&sign(&claims(NONCE), keys::attacker(), "k9")).unwrap_err(),
        OidcError::UnknownKid
    );
    let token = with_header(&json!({"alg": "RS256"}), &claims(NONCE), "c2ln");
    assert_eq!(check(&token).unwrap_err(), OidcError::MissingKid);
}

#[test]
fn a_token_signed_by_another_key_under_a_known_kid_is_refused() {
    assert_eq!(
        check(&sign(&claims(NONCE), keys::attacker(), "k1")).unwrap_err(),
        OidcError::SignatureInvalid
    );
}

#[test]
fn a_tampered_payload_is_refused() {
    let token = sign(&claims(NONCE), keys::idp(), "k1");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut c = claims(NONCE);
    c["oid"] = json!("00000000-0000-0000-0000-000000000000");
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string());
    assert_eq!(check(&parts.join(".")).unwrap_err(), OidcError::SignatureInvalid);
}

#[test]
fn expiry_and_not_before_honour_the_leeway() {
    let t = now().timestamp();
    let leeway = 180;
    assert_eq!(code_of(|c| c["exp"] = json!(t - leeway)), "oidc_expired");
    assert!(
        check(&sign(
            &{
                let mut c = claims(NONCE);
                c["exp"] = json!(t - leeway + 1);
                c
            },
            keys::idp(),
            "k1"
        ))
        .is_ok()
    );
    assert_eq!(
        code_of(|c| c["nbf"] = json!(t + leeway + 1)),
        "oidc_not_yet_valid"
    );
    assert_eq!(
        code_of(|c| c["iat"] = json!(t + leeway + 1)),
        "oidc_issued_in_future"
    );
}

#[test]
fn a_string_exp_does_not_parse() {
    // jsonwebtoken CVE-2026-25537's shape: a string `exp` must not count as "absent".
    assert_eq!(
        code_of(|c| c["exp"] = json!("9999999999")),
        "oidc_malformed_token"
    );
}

#[test]
fn a_key_published_for_another_issuer_is_refused() {
    let mut key = entra::jwk(keys::idp(), "k1");
    key["issuer"] = json!("https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/v2.0");
    let jwks = Jwks::parse(&json!({"keys": [key]}).to_string()).unwrap();
    let e = config()
        .validate_id_token(
            &sign(&claims(NONCE), keys::idp(), "k1"),
            &jwks,
            &Nonce::from_stored(NONCE),
            now(),
        )
        .unwrap_err();
    assert_eq!(e, OidcError::WrongIssuer);
}

#[test]
fn garbage_is_malformed() {
    for token in ["", "a.b", "a.b.c.d", "!!!.e30.sig"] {
        assert_eq!(
            check(token).unwrap_err().reason_code(),
            "oidc_malformed_token",
            "{token}"
        );
    }
}
