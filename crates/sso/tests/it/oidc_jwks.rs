//! The JWKS cache: one fetch serves many tokens, an unknown `kid` refetches once (key rotation works), a
//! stream of unknown `kid`s does not hammer the endpoint, and cached keys survive an endpoint outage.

use chrono::TimeDelta;
use scimd_sso::oidc::{Jwks, JwksCache, Nonce, OidcError};
use scimd_sso::testing::entra::{MemoryJwks, NONCE, claims, config, jwks_json, now, sign};
use scimd_sso::testing::keys;

fn cache() -> JwksCache {
    JwksCache::new(config().jwks_uri())
}

/// An endpoint serving the IdP's signing key as `k1`.
fn serving_k1() -> MemoryJwks {
    MemoryJwks::serving(jwks_json(&[(keys::idp(), "k1")]))
}

/// A cache that has fetched `source`'s keys once, for `k1`.
async fn warm(source: &MemoryJwks) -> JwksCache {
    let mut cache = cache();
    cache.keys_for(source, "k1", now()).await.unwrap();
    cache
}

#[actix_web::test]
async fn one_fetch_serves_many_lookups() {
    let source = serving_k1();
    let mut cache = cache();
    for _ in 0..3 {
        assert!(cache.keys_for(&source, "k1", now()).await.unwrap().contains("k1"));
    }
    assert_eq!(source.calls.get(), 1);
}

#[actix_web::test]
async fn an_unknown_kid_refetches_once_and_finds_a_rotated_key() {
    let source = serving_k1();
    let mut cache = warm(&source).await;
    // Entra rolls its keys; a token with the new kid arrives later.
    *source.body.borrow_mut() = Some(jwks_json(&[(keys::idp(), "k1"), (keys::idp_next(), "k2")]));
    let later = now() + TimeDelta::minutes(10);
    let token = sign(&claims(NONCE), keys::idp_next(), "k2");
    let got = config()
        .verify_id_token(&token, &mut cache, &source, &Nonce::from_stored(NONCE), later)
        .await;
    assert!(got.is_ok(), "{got:?}");
    assert_eq!(source.calls.get(), 2);
}

#[actix_web::test]
async fn unknown_kids_refetch_at_most_once_per_interval() {
    let source = serving_k1();
    let mut cache = cache();
    assert_eq!(
        cache.keys_for(&source, "nope-1", now()).await.unwrap_err(),
        OidcError::UnknownKid
    );
    assert_eq!(source.calls.get(), 1, "the first fetch already was the refresh");
    for i in 0..5 {
        let kid = format!("nope-{i}");
        assert_eq!(
            cache
                .keys_for(&source, &kid, now() + TimeDelta::minutes(1))
                .await
                .unwrap_err(),
            OidcError::UnknownKid
        );
    }
    assert_eq!(source.calls.get(), 1);
    cache
        .keys_for(&source, "nope-x", now() + TimeDelta::minutes(6))
        .await
        .unwrap_err();
    assert_eq!(source.calls.get(), 2);
}

#[actix_web::test]
async fn cached_keys_survive_an_outage_and_age_out_to_a_refetch() {
    let source = serving_k1();
    let mut cache = warm(&source).await;
    *source.body.borrow_mut() = None;
    let next_day = now() + TimeDelta::hours(25);
    assert!(
        cache.keys_for(&source, "k1", next_day).await.is_ok(),
        "stale keys beat no keys"
    );
    assert_eq!(source.calls.get(), 2, "the stale set triggered a refetch");
}

#[actix_web::test]
async fn without_any_keys_an_outage_is_reported() {
    let source = MemoryJwks {
        body: std::cell::RefCell::new(None),
        calls: std::cell::Cell::new(0),
    };
    let e = cache().keys_for(&source, "k1", now()).await.unwrap_err();
    assert_eq!(e.reason_code(), "oidc_jwks_unavailable");
}

#[test]
fn jwks_parsing_keeps_only_rs256_signing_keys() {
    let mut doc: serde_json::Value =
        serde_json::from_str(&jwks_json(&[(keys::idp(), "k1"), (keys::idp_next(), "k2")])).unwrap();
    doc["keys"][1]["use"] = "enc".into();
    doc["keys"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"kty": "EC", "kid": "ec", "crv": "P-256"}));
    let jwks = Jwks::parse(&doc.to_string()).unwrap();
    assert_eq!(jwks.kids(), vec!["k1"]);
    assert_eq!(
        Jwks::parse("{\"nokeys\": []}").unwrap_err(),
        OidcError::JwksInvalid
    );
    assert_eq!(
        Jwks::parse(&" ".repeat(300 * 1024)).unwrap_err(),
        OidcError::JwksInvalid
    );
}
