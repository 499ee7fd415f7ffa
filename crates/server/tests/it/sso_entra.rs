//! Sign-in through an Entra ID ("Azure AD") connection, end to end against the real app on both backends,
//! with a fake Entra ID on loopback (`SCIMD_ENTRA_AUTHORITY`): the start redirects to the tenant's v2.0
//! authorize endpoint with PKCE S256, `state` and `nonce`; the test, playing Entra's sign-in page, issues a
//! code for that challenge and nonce; the callback redeems it at the fake's token endpoint (which checks the
//! client secret and the PKCE verifier) and verifies the ID token against the fake's JWKS. Then refusals (an
//! IdP error, an unknown `state`, a wrong nonce, someone not provisioned) and deprovisioning.

use crate::scim_client::{Client, Reply};
use crate::test_app::TestApp;
use scimd_sso::testing::fake_entra::{FakeEntra, Grant};
use scimd_store::OrgId;
use scimd_store::models::audit_events;
use scimd_store::testing::TestDb;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// The tenant, client and secret `scim_client::org_with_token` gives every org's Azure AD connection.
const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT_ID: &str = "11111111-2222-3333-4444-666666666666";
const CLIENT_SECRET: &str = "a-client-secret-value";

/// A browser with a cookie jar.
pub(crate) struct Browser {
    client: Client,
    pub(crate) cookies: BTreeMap<String, String>,
}

impl Browser {
    pub(crate) fn new(env: &TestApp) -> Browser {
        Browser {
            client: env.client(String::new(), None),
            cookies: BTreeMap::new(),
        }
    }

    pub(crate) fn get(&mut self, path: &str) -> Reply {
        let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let cookie = cookie.join("; ");
        let headers: Vec<(&str, &str)> = if cookie.is_empty() {
            vec![]
        } else {
            vec![("Cookie", &cookie)]
        };
        let reply = self.client.send("GET", path, None, &headers);
        for (name, value) in &reply.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                let (k, v) = value.split(';').next().unwrap().split_once('=').unwrap();
                if v.is_empty() || value.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        reply
    }
}

/// What the authorize redirect carried.
pub(crate) struct Authorize {
    state: String,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

/// The fake Entra ID, serving the tenant and client of every org's connection.
pub(crate) fn start_fake() -> FakeEntra {
    FakeEntra::start_for(TENANT, CLIENT_ID, CLIENT_SECRET)
}

pub(crate) fn start(browser: &mut Browser, fake: &FakeEntra, org: &OrgId) -> Authorize {
    let reply = browser.get(&format!("/sso/{org}/start"));
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = url::Url::parse(reply.header("location").unwrap()).unwrap();
    assert!(
        location
            .as_str()
            .starts_with(&format!("{}/{TENANT}/oauth2/v2.0/authorize?", fake.base)),
        "{location}"
    );
    let q: HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    Authorize {
        state: q["state"].clone(),
        nonce: q["nonce"].clone(),
        challenge: q["code_challenge"].clone(),
        redirect_uri: q["redirect_uri"].clone(),
    }
}

/// Entra's sign-in page: a code for the request, naming `oid` and `upn`; the browser goes to the callback.
fn sign_in_at_entra(
    browser: &mut Browser,
    fake: &FakeEntra,
    org: &OrgId,
    auth: &Authorize,
    oid: &str,
    upn: &str,
    nonce: Option<&str>,
) -> Reply {
    sign_in_at_entra_with_email(browser, fake, org, auth, oid, upn, upn, nonce)
}

/// The same, with an `email` claim of its own (Entra's is unverified for guests, review 3 M-1).
#[expect(
    clippy::too_many_arguments,
    reason = "each is a claim or a party of the sign-in"
)]
pub(crate) fn sign_in_at_entra_with_email(
    browser: &mut Browser,
    fake: &FakeEntra,
    org: &OrgId,
    auth: &Authorize,
    oid: &str,
    upn: &str,
    email: &str,
    nonce: Option<&str>,
) -> Reply {
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "aud": CLIENT_ID, "sub": "pairwise-sub", "exp": now + 3600, "iat": now, "nbf": now, "tid": TENANT,
        "oid": oid, "nonce": nonce.unwrap_or(&auth.nonce), "ver": "2.0", "preferred_username": upn,
        "email": email, "name": "Entra User",
    });
    fake.grant(
        &code,
        Grant {
            code_challenge: auth.challenge.clone(),
            redirect_uri: auth.redirect_uri.clone(),
            claims,
        },
    );
    browser.get(&format!(
        "/sso/oidc/{org}/callback?code={code}&state={}",
        auth.state
    ))
}

pub(crate) fn reasons(env: &TestApp, org: &OrgId) -> Vec<String> {
    env.store
        .read(|conn| audit_events::list(conn, org, Some("sso.signin_refused"), None, 100))
        .unwrap()
        .iter()
        .rev()
        .map(|e| {
            serde_json::from_str::<Value>(&e.details).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

pub(crate) fn create_user(client: &Client, user_name: &str, external_id: &str) -> String {
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name,
        "externalId": external_id, "active": true});
    let r = client.send("POST", "/Users", Some(&body.to_string()), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn a_member_signs_in_through_entra_id(db: &TestDb) {
    let fake = &start_fake();
    let env = &TestApp::init_with(db, &["--entra-authority", &fake.base]);
    let a = env.a.id.clone();
    let ada = create_user(&env.client_a(), "ada@a.example", "oid-ada");

    let mut browser = Browser::new(env);
    let auth = start(&mut browser, fake, &a);
    let done = sign_in_at_entra(
        &mut browser,
        fake,
        &a,
        &auth,
        "oid-ada",
        "someone.else@a.example",
        None,
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some(format!("/admin/orgs/{a}/sso").as_str())
    );
    assert!(browser.cookies.contains_key("scimd_session"));
    let page = browser.get(&format!("/admin/orgs/{a}/sso"));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("ada@a.example"),
        "matched by the object id, not the UPN"
    );

    // The same callback again: the state is used up.
    let mut replay = Browser::new(env);
    replay.cookies = browser.cookies.clone();
    let again = replay.get(&format!(
        "/sso/oidc/{a}/callback?code=whatever&state={}",
        auth.state
    ));
    assert_eq!(again.status, 403);

    // The user declined at Entra.
    let auth = start(&mut browser, fake, &a);
    let declined = browser.get(&format!(
        "/sso/oidc/{a}/callback?error=access_denied&state={}",
        auth.state
    ));
    assert_eq!(declined.status, 403);

    // A token for another nonce (a token injected from another sign-in) is refused.
    let auth = start(&mut browser, fake, &a);
    let wrong = sign_in_at_entra(
        &mut browser,
        fake,
        &a,
        &auth,
        "oid-ada",
        "ada@a.example",
        Some("another-nonce"),
    );
    assert_eq!(wrong.status, 403);

    // Matched by UPN (userName, case-insensitive) when the object id is not provisioned as externalId.
    let mut by_name = Browser::new(env);
    let auth = start(&mut by_name, fake, &a);
    let ok = sign_in_at_entra(
        &mut by_name,
        fake,
        &a,
        &auth,
        "oid-unknown",
        "ADA@a.example",
        None,
    );
    assert_eq!(ok.status, 303, "{}", ok.body);

    // Someone Entra knows but the org does not.
    let mut stranger = Browser::new(env);
    let auth = start(&mut stranger, fake, &a);
    let refused = sign_in_at_entra(
        &mut stranger,
        fake,
        &a,
        &auth,
        "oid-grace",
        "grace@a.example",
        None,
    );
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("You do not have access yet"));

    // Deprovisioned over SCIM: the session ends, and Entra's next sign-in is refused.
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let r = env
        .client_a()
        .send("PATCH", &format!("/Users/{ada}"), Some(&body.to_string()), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(browser.get(&format!("/admin/orgs/{a}/sso")).status, 401);
    let mut later = Browser::new(env);
    let auth = start(&mut later, fake, &a);
    let gone = sign_in_at_entra(&mut later, fake, &a, &auth, "oid-ada", "ada@a.example", None);
    assert_eq!(gone.status, 403);
    assert!(gone.body.contains("Your access has been removed"));

    assert_eq!(
        reasons(env, &a),
        [
            "oidc_idp_error",
            "oidc_nonce_mismatch",
            "not_provisioned",
            "member_inactive"
        ]
    );
}

scimd_store::backend_tests!(a_member_signs_in_through_entra_id);
