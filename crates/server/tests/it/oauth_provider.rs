//! "Sign in with scimd" end to end on both backends: a platform registers a client (`scimd oauth-client
//! create`), sends a member to `/oauth/authorize` with PKCE; scimd runs the org's SAML sign-in (the fake IdP
//! of `sso_signin.rs`) and comes back with a code; the platform redeems it, verifies the ID token with the
//! JWKS, reads userinfo and introspects the access token, which turns `active: false` the moment the member
//! is deactivated over SCIM.

use crate::harness;
use crate::sso_signin::{self, AuthnRequest, Browser};
use crate::test_app::TestApp;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use scimd_sso::testing::keys;
use scimd_store::testing::TestDb;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub(crate) const REDIRECT_URI: &str = "https://platform.example.com/auth/callback";

pub(crate) fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

/// Follows scimd's redirects from `path` until the browser is sent to the IdP; returns the AuthnRequest.
pub(crate) fn to_idp(browser: &mut Browser, path: &str) -> AuthnRequest {
    let mut path = path.to_owned();
    for _ in 0..3 {
        let reply = browser.send("GET", &path, None);
        assert_eq!(reply.status, 303, "{path}: {}", reply.body);
        let location = reply.header("location").unwrap().to_owned();
        if location.starts_with("http://127.0.0.1:9/") {
            let xml =
                scimd_sso::saml::binding::decode_redirect(&sso_signin::query_value(&location, "SAMLRequest"))
                    .unwrap();
            let issuer = xml
                .split("<saml:Issuer>")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned();
            return AuthnRequest {
                id: sso_signin::attribute(&xml, "ID"),
                relay_state: sso_signin::query_value(&location, "RelayState"),
                acs_url: sso_signin::attribute(&xml, "AssertionConsumerServiceURL"),
                issuer,
            };
        }
        path = location;
    }
    panic!("never reached the IdP");
}

pub(crate) fn form_post(
    browser: &mut Browser,
    path: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let auth = basic.map(|(id, secret)| format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))));
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let reply = browser.client_send("POST", path, Some(&body), &headers);
    (reply.status, reply.json())
}

fn the_platform_signs_a_member_in_through_scimd(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.a.id.clone();
    sso_signin::saml_connection(env, &a, keys::idp(), false);
    let ada = sso_signin::create_user(&env.client_a(), "ada@a.example", "oid-ada");
    let group = env
        .client_a()
        .send(
            "POST",
            "/Groups",
            Some(
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng",
                "members": [{"value": ada}]})
                .to_string(),
            ),
            &[],
        )
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Eng's members are deployers (issue #26): the `roles` scope carries it.
    env.store
        .write(|c| {
            let ctx = scimd_store::provisioning::WriteCtx {
                org: a.clone(),
                actor: "cli".into(),
                now: scimd_store::Clock::now_naive(&scimd_store::SystemClock),
            };
            scimd_store::provisioning::roles::create_role(c, Some(&a), "cli", "deployer", ctx.now)?;
            scimd_store::provisioning::roles::map(
                c,
                &ctx,
                scimd_store::provisioning::roles::Acting(scimd_store::models::members::Role::Owner),
                &group,
                "deployer",
                scimd_store::provisioning::roles::JOB_BATCH,
            )
        })
        .unwrap();

    // The platform registers.
    let dir = tempfile::tempdir().unwrap();
    let out = harness::scimd(
        dir.path(),
        Some(&env.db_url),
        &[
            "oauth-client",
            "create",
            "--name",
            "Platform",
            "--redirect-uri",
            REDIRECT_URI,
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", harness::stderr(&out));
    let created: Value = serde_json::from_str(&harness::stdout(&out)).unwrap();
    let (client_id, client_secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );

    let issuer = format!("http://{}", env.addr);
    let mut browser = Browser::new(env);
    let discovery = browser
        .send("GET", "/.well-known/openid-configuration", None)
        .json();
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(
        discovery["authorization_endpoint"],
        format!("{issuer}/oauth/authorize")
    );
    assert_eq!(discovery["code_challenge_methods_supported"], json!(["S256"]));
    assert!(
        discovery["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("roles"))
    );

    // An unregistered redirect URI is shown an error, never redirected to.
    let bad = browser.send(
        "GET",
        &format!("/oauth/authorize?client_id={client_id}&redirect_uri=https://evil.example/cb&response_type=code&scope=openid"),
        None,
    );
    assert_eq!(bad.status, 400);
    assert!(bad.header("location").is_none());

    // authorize -> the org's SSO -> back to authorize -> the code.
    let verifier = "a-pkce-verifier-of-the-platform-0123456789abcdef";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "/oauth/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid%20email%20groups%20roles&state=st-1&nonce=n-1&code_challenge={challenge}&code_challenge_method=S256&login_hint=ada@a.example",
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );
    let request = to_idp(&mut browser, &authorize);
    let spec = sso_signin::response(&request, Some(&request.id), "ada@a.example", Some("oid-ada"));
    let acs = sso_signin::post_acs(
        &mut browser,
        &a,
        &sso_signin::signed_by(&spec, keys::idp()),
        Some(&request.relay_state),
    );
    assert_eq!(acs.status, 303, "{}", acs.body);
    let back = acs.header("location").unwrap().to_owned();
    assert!(back.starts_with("/oauth/authorize?"), "{back}");
    let coded = browser.send("GET", &back, None);
    assert_eq!(coded.status, 303, "{}", coded.body);
    let callback = coded.header("location").unwrap().to_owned();
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    let params = query(&callback);
    assert_eq!(params["state"], "st-1");
    let code = params["code"].clone();

    // token: the client authenticates, the verifier matches.
    let token_form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    let (status, tokens) = form_post(
        &mut browser,
        "/oauth/token",
        &token_form,
        Some((client_id, client_secret)),
    );
    assert_eq!(status, 200, "{tokens}");
    // A second code of the same session, redeemed twice: the replay is refused and revokes its token.
    let second = query(browser.send("GET", &back, None).header("location").unwrap())["code"].clone();
    let second_form = [
        ("grant_type", "authorization_code"),
        ("code", second.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    let (_, replayed) = form_post(
        &mut browser,
        "/oauth/token",
        &second_form,
        Some((client_id, client_secret)),
    );
    let (status, again) = form_post(
        &mut browser,
        "/oauth/token",
        &second_form,
        Some((client_id, client_secret)),
    );
    let (_, revoked) = form_post(
        &mut browser,
        "/oauth/introspect",
        &[("token", replayed["access_token"].as_str().unwrap())],
        Some((client_id, client_secret)),
    );
    assert_eq!(revoked, json!({"active": false}), "RFC 6749 §4.1.2 (L-1)");
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code works once"
    );

    // The ID token verifies with the JWKS, for this client, with the member's claims.
    let jwks = browser.send("GET", "/oauth/jwks", None).json();
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256, "RS256 by default");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header.kid.clone().unwrap().as_str())
        .unwrap();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[issuer.as_str()]);
    let claims = jsonwebtoken::decode::<Value>(
        id_token,
        &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], ada.as_str());
    assert_eq!(claims["org_id"], a.as_str());
    assert_eq!(claims["email"], "ada@a.example");
    assert_eq!(claims["email_verified"], false, "scimd verifies no mailbox (M-2)");
    assert!(claims["at_hash"].as_str().is_some_and(|h| h.len() == 22));
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["groups"], json!([group]));
    assert_eq!(claims["roles"], json!(["member", "deployer"]), "the roles scope");
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));

    // userinfo and introspection while the member is active.
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {access}");
    let info = browser.client_send("GET", "/oauth/userinfo", None, &[("Authorization", &bearer)]);
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["sub"], ada.as_str());
    assert_eq!(info.json()["roles"], json!(["member", "deployer"]));
    let (status, active) = form_post(
        &mut browser,
        "/oauth/introspect",
        &[("token", &access)],
        Some((client_id, client_secret)),
    );
    assert_eq!(status, 200);
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["sub"], ada.as_str());
    let (status, _) = form_post(
        &mut browser,
        "/oauth/introspect",
        &[("token", &access)],
        Some((client_id, "wrong")),
    );
    assert_eq!(status, 401);

    // Deprovisioned over SCIM: introspection says so at once, userinfo refuses.
    sso_signin::set_active(&env.client_a(), &ada, false);
    let (_, inactive) = form_post(
        &mut browser,
        "/oauth/introspect",
        &[("token", &access)],
        Some((client_id, client_secret)),
    );
    assert_eq!(inactive, json!({"active": false}));
    let info = browser.client_send("GET", "/oauth/userinfo", None, &[("Authorization", &bearer)]);
    assert_eq!(info.status, 401);
    // ... and the event feed tells the platform which of its sessions (`sid`) to end.
    let key =
        scimd_tokens::ApiKeyService::new(env.store.clone(), std::sync::Arc::new(scimd_store::SystemClock))
            .create_blocking("platform", Some(&a))
            .unwrap()
            .key;
    let feed = env
        .client_a()
        .with_base(String::new())
        .with_token(Some(&key))
        .get("/api/v1/events?after=0&types=session.revoked");
    assert_eq!(feed.status, 200, "{}", feed.body);
    let events = feed.json()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["member_id"], ada.as_str());
    assert_eq!(events[0]["data"]["reason"], "deprovisioned");
    assert!(
        events[0]["data"]["session_ids"]
            .as_array()
            .unwrap()
            .contains(&claims["sid"])
    );

    // The keys rotate: the new ones sign, the old ones stay published (one RSA and one Ed25519 key each).
    let out = harness::scimd(dir.path(), Some(&env.db_url), &["oauth-key", "rotate", "--json"]);
    assert!(out.status.success(), "{}", harness::stderr(&out));
    let kids: Vec<Value> = browser.send("GET", "/oauth/jwks", None).json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids.len(), 4);
    assert!(kids.contains(&json!(header.kid.clone().unwrap())));
    // A compromised key: `--retire-previous` takes every previous key out of the JWKS at once.
    let out = harness::scimd(
        dir.path(),
        Some(&env.db_url),
        &["oauth-key", "rotate", "--retire-previous", "--json"],
    );
    assert!(out.status.success(), "{}", harness::stderr(&out));
    let rotated: Value = serde_json::from_str(&harness::stdout(&out)).unwrap();
    let kids: Vec<Value> = browser.send("GET", "/oauth/jwks", None).json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(!kids.contains(&json!(header.kid.unwrap())));
    for kid in rotated["kids"].as_array().unwrap() {
        assert!(kids.contains(kid), "{kid}");
    }
}

scimd_store::backend_tests!(the_platform_signs_a_member_in_through_scimd);
