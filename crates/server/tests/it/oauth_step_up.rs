//! The OpenID Provider over HTTP on both backends (issue #23; review 3 L-2, L-3, I-2): `prompt=login` and
//! `max_age` send a signed-in member back through the org's IdP with `ForceAuthn`, and only then is a code
//! issued (with `iss`); a member the IdP has not provisioned sees scimd's page, which leads back to the
//! client with `error=access_denied`; `scimd oauth-client rotate-secret` and `revoke` take effect at once.

use crate::harness;
use crate::oauth_provider::{REDIRECT_URI, form_post, query, to_idp};
use crate::sso_signin::{self, Browser};
use crate::test_app::TestApp;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scimd_sso::testing::keys;
use scimd_store::testing::TestDb;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

const VERIFIER: &str = "a-pkce-verifier-of-the-platform-0123456789abcdef";

fn authorize_path(client_id: &str, extra: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    format!(
        "/oauth/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid&state=st-2&nonce=n-2&code_challenge={challenge}&code_challenge_method=S256&login_hint=ada@a.example{extra}",
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    )
}

fn cli_json(dir: &std::path::Path, env: &TestApp, args: &[&str]) -> Value {
    let out = harness::scimd(dir, Some(&env.db_url), args);
    assert!(out.status.success(), "{}", harness::stderr(&out));
    serde_json::from_str(&harness::stdout(&out)).unwrap()
}

/// The IdP answers `request` for `name_id` / `object_id`; the ACS's reply.
fn idp_answers(
    env: &TestApp,
    browser: &mut Browser,
    request: &sso_signin::AuthnRequest,
    name_id: &str,
    object_id: &str,
) -> crate::scim_client::Reply {
    let spec = sso_signin::response(request, Some(&request.id), name_id, Some(object_id));
    sso_signin::post_acs(
        browser,
        &env.a.id,
        &sso_signin::signed_by(&spec, keys::idp()),
        Some(&request.relay_state),
    )
}

fn step_up_access_denied_and_client_revocation(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.a.id.clone();
    sso_signin::saml_connection(env, &a, keys::idp(), false);
    sso_signin::create_user(&env.client_a(), "ada@a.example", "oid-ada");
    let dir = tempfile::tempdir().unwrap();
    let created = cli_json(
        dir.path(),
        env,
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
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let mut secret = created["client_secret"].as_str().unwrap().to_owned();

    // A first sign-in: a session of org A in this browser.
    let mut browser = Browser::new(env);
    let request = to_idp(&mut browser, &authorize_path(&client_id, ""));
    let acs = idp_answers(env, &mut browser, &request, "ada@a.example", "oid-ada");
    assert_eq!(acs.status, 303, "{}", acs.body);
    let coded = browser.send("GET", acs.header("location").unwrap(), None);
    let first = query(coded.header("location").unwrap());
    assert!(first.contains_key("code"));
    assert_eq!(first["iss"], format!("http://{}", env.addr), "RFC 9207");

    // prompt=login and max_age=0 with that live session: no code, but the org's IdP, forced.
    for extra in ["&prompt=login", "&max_age=0"] {
        let reply = browser.send("GET", &authorize_path(&client_id, extra), None);
        assert_eq!(reply.status, 303, "{}", reply.body);
        let location = reply.header("location").unwrap().to_owned();
        assert!(
            location.starts_with(&format!("/sso/{a}/start?force=1&return_to=")),
            "{extra}: {location}"
        );
        let to_idp = browser.send("GET", &location, None);
        let idp_url = to_idp.header("location").unwrap();
        let xml = scimd_sso::saml::binding::decode_redirect(&sso_signin::query_value(idp_url, "SAMLRequest"))
            .unwrap();
        assert!(xml.contains(r#"ForceAuthn="true""#), "{xml}");
    }
    // The forced sign-in comes back, and then the code is issued.
    let request = to_idp(&mut browser, &authorize_path(&client_id, "&prompt=login"));
    let acs = idp_answers(env, &mut browser, &request, "ada@a.example", "oid-ada");
    let back = acs.header("location").unwrap().to_owned();
    assert!(back.contains("scimd_auth_after="), "{back}");
    assert!(!back.contains("prompt=login"), "{back}");
    let coded = browser.send("GET", &back, None);
    let stepped_up = query(coded.header("location").unwrap());
    let token_form = [
        ("grant_type", "authorization_code"),
        ("code", stepped_up["code"].as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = form_post(
        &mut browser,
        "/oauth/token",
        &token_form,
        Some((&client_id, &secret)),
    );
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    // Someone the IdP has not provisioned: scimd's page says why and leads back to the client.
    let mut stranger = Browser::new(env);
    let request = to_idp(&mut stranger, &authorize_path(&client_id, ""));
    let refused = idp_answers(env, &mut stranger, &request, "grace@a.example", "oid-grace");
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("You do not have access yet"),
        "{}",
        refused.body
    );
    let href = refused
        .body
        .split("href=\"")
        .map(|s| {
            s.split('"')
                .next()
                .unwrap()
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        })
        .find(|h| h.starts_with(REDIRECT_URI))
        .unwrap_or_else(|| panic!("no link back to the client: {}", refused.body));
    let denied = query(&href);
    assert_eq!(denied["error"], "access_denied");
    assert_eq!(denied["state"], "st-2");
    assert!(!denied.contains_key("code"));

    // The secret rotates: the old one stops working at once, the token does not.
    let rotated = cli_json(
        dir.path(),
        env,
        &[
            "oauth-client",
            "rotate-secret",
            "--client-id",
            &client_id,
            "--json",
        ],
    );
    let introspect = |browser: &mut Browser, secret: &str| {
        form_post(
            browser,
            "/oauth/introspect",
            &[("token", &access)],
            Some((&client_id, secret)),
        )
    };
    assert_eq!(introspect(&mut browser, &secret).0, 401);
    secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&mut browser, &secret).1["active"], true);

    // Revoked: its access token is dead at userinfo, and the client authenticates no more.
    cli_json(
        dir.path(),
        env,
        &["oauth-client", "revoke", "--client-id", &client_id, "--json"],
    );
    let bearer = format!("Bearer {access}");
    let info = browser.client_send("GET", "/oauth/userinfo", None, &[("Authorization", &bearer)]);
    assert_eq!(info.status, 401, "{}", info.body);
    let (status, body) = introspect(&mut browser, &secret);
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let listed = cli_json(dir.path(), env, &["oauth-client", "list", "--json"]);
    assert_eq!(listed[0]["revoked"], true);
    assert_eq!(listed[0]["id_token_signed_response_alg"], "RS256");
}

scimd_store::backend_tests!(step_up_access_denied_and_client_revocation);
