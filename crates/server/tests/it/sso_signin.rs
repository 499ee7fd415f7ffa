//! Sign-in through the org's SAML connection, end to end against the real app on both backends: the
//! browser (this test, keeping cookies) starts at `/sso/{org}/start`, the fake IdP answers the AuthnRequest
//! the redirect carries with a signed response, the ACS hands it off to `/sso/{org}/complete`, which opens a
//! session that the admin pages accept (`sso_handoff.rs` tests the hand-off itself); then the
//! member is deactivated over SCIM and the session's next request fails and a new sign-in is refused. Also:
//! who may not sign in (not provisioned, another org's IdP, a replayed or reused response, another browser),
//! each refusal audited with its reason, and the SP metadata.

use crate::scim_client::{Client, Reply};
use crate::test_app::TestApp;
use chrono::{TimeDelta, Utc};
use scimd_signin::ConnectionService;
use scimd_signin::connection::SamlInput;
use scimd_sso::testing::keys::{self, TestKey};
use scimd_sso::testing::saml_idp::{self, Mode, Signer, Spec};
use scimd_store::OrgId;
use scimd_store::models::audit_events;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, SystemClock};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A browser: one cookie jar, requests over the server's loopback address.
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

    /// A request with the jar's cookies and these headers (cookies set by the answer are kept).
    pub(crate) fn client_send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = extra.to_vec();
        if !cookie.is_empty() {
            headers.push(("Cookie", cookie.as_str()));
        }
        self.client.send(method, path, body, &headers)
    }

    pub(crate) fn send(&mut self, method: &str, path: &str, form: Option<&str>) -> Reply {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if !cookie.is_empty() {
            headers.push(("Cookie", cookie.as_str()));
        }
        let reply = self.client.send(method, path, form, &headers);
        for (name, value) in &reply.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = value.split(';').next().unwrap_or_default();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || value.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        reply
    }
}

/// What the redirect to the IdP carried.
pub(crate) struct AuthnRequest {
    pub(crate) id: String,
    pub(crate) relay_state: String,
    pub(crate) acs_url: String,
    pub(crate) issuer: String,
}

pub(crate) fn query_value(url: &str, name: &str) -> String {
    let query = url::Url::parse(url).unwrap();
    query
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} missing from {url}"))
}

pub(crate) fn attribute(xml: &str, name: &str) -> String {
    let start = xml
        .find(&format!(" {name}=\""))
        .unwrap_or_else(|| panic!("{name} in {xml}"))
        + name.len()
        + 3;
    xml[start..].split('"').next().unwrap().to_owned()
}

/// `GET /sso/{org}/start`: 303 to the IdP with a deflated AuthnRequest.
pub(crate) fn start(browser: &mut Browser, org: &OrgId) -> AuthnRequest {
    let reply = browser.send("GET", &format!("/sso/{org}/start"), None);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("location").unwrap().to_owned();
    assert!(location.starts_with(SSO_URL), "{location}");
    let xml = scimd_sso::saml::binding::decode_redirect(&query_value(&location, "SAMLRequest")).unwrap();
    assert!(!xml.contains("<saml:Subject"), "{xml}");
    let issuer = xml
        .split("<saml:Issuer>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    AuthnRequest {
        id: attribute(&xml, "ID"),
        relay_state: query_value(&location, "RelayState"),
        acs_url: attribute(&xml, "AssertionConsumerServiceURL"),
        issuer,
    }
}

const SSO_URL: &str = "http://127.0.0.1:9/saml2";

/// A response as Entra sends it, now, answering `request` (or unsolicited), naming `name_id`.
pub(crate) fn response(
    request: &AuthnRequest,
    in_response_to: Option<&str>,
    name_id: &str,
    object_id: Option<&str>,
) -> Spec {
    let now = Utc::now();
    Spec {
        response_id: format!("_r{}", uuid::Uuid::new_v4().simple()),
        assertion_id: format!("_a{}", uuid::Uuid::new_v4().simple()),
        destination: Some(request.acs_url.clone()),
        in_response_to: in_response_to.map(str::to_owned),
        recipient: request.acs_url.clone(),
        audience: request.issuer.clone(),
        issue_instant: now,
        not_before: now,
        not_on_or_after: now + TimeDelta::minutes(70),
        bearer_not_on_or_after: now + TimeDelta::minutes(5),
        name_id: name_id.to_owned(),
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        object_id: object_id.map(str::to_owned),
        email: None,
        session_not_on_or_after: Some(now + TimeDelta::hours(8)),
        ..Spec::entra()
    }
}

pub(crate) fn signed_by(spec: &Spec, key: &TestKey) -> String {
    saml_idp::b64(&saml_idp::signed_xml(spec, Mode::Assertion, &Signer::with(key)))
}

fn form(saml_response: &str, relay_state: Option<&str>) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    out.append_pair("SAMLResponse", saml_response);
    if let Some(relay) = relay_state {
        out.append_pair("RelayState", relay);
    }
    out.finish()
}

/// The IdP's POST to the ACS and, when the ACS hands the sign-in off (303 to `/sso/{org}/complete`), the
/// browser's GET there, as a browser follows it: the reply of the last.
pub(crate) fn post_acs(
    browser: &mut Browser,
    org: &OrgId,
    saml_response: &str,
    relay_state: Option<&str>,
) -> Reply {
    let reply = post_acs_only(browser, org, saml_response, relay_state);
    match reply.header("location") {
        Some(next) if reply.status == 303 && next.starts_with(&format!("/sso/{org}/complete?")) => {
            let next = next.to_owned();
            browser.send("GET", &next, None)
        }
        _ => reply,
    }
}

/// The IdP's POST to the ACS alone.
pub(crate) fn post_acs_only(
    browser: &mut Browser,
    org: &OrgId,
    saml_response: &str,
    relay_state: Option<&str>,
) -> Reply {
    browser.send(
        "POST",
        &format!("/sso/saml/{org}/acs"),
        Some(&form(saml_response, relay_state)),
    )
}

/// A SAML connection for `org` pinning `key`'s certificate.
pub(crate) fn saml_connection(env: &TestApp, org: &OrgId, key: &TestKey, allow_unsolicited: bool) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    ConnectionService::new(env.store.clone(), clock)
        .set_saml_blocking(
            org,
            "test",
            &SamlInput {
                entity_id: saml_idp::IDP_ENTITY_ID.into(),
                sso_url: SSO_URL.into(),
                certificate_pem: key.cert_pem.clone(),
                allow_unsolicited,
                ..SamlInput::default()
            },
        )
        .unwrap();
}

pub(crate) fn create_user(client: &Client, user_name: &str, external_id: &str) -> String {
    let body = json!({"schemas": [USER], "userName": user_name, "externalId": external_id, "active": true});
    let r = client.send("POST", "/Users", Some(&body.to_string()), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

pub(crate) fn set_active(client: &Client, id: &str, active: bool) {
    let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": active}}]});
    let r = client.send("PATCH", &format!("/Users/{id}"), Some(&body.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The org's audit events of `action`, newest first: their details.
fn audited(env: &TestApp, org: &OrgId, action: &str) -> Vec<Value> {
    env.store
        .read(|conn| audit_events::list(conn, org, Some(action), None, 100))
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect()
}

fn reasons(env: &TestApp, org: &OrgId) -> Vec<String> {
    audited(env, org, "sso.signin_refused")
        .iter()
        .rev()
        .map(|d| d["reason"].as_str().unwrap().to_owned())
        .collect()
}

fn a_provisioned_member_signs_in_and_deprovisioning_ends_it(db: &TestDb) {
    let env = &TestApp::init(db);
    let (a, b) = (env.a.id.clone(), env.b.id.clone());
    saml_connection(env, &a, keys::idp(), false);
    let ada = create_user(&env.client_a(), "ada@a.example", "oid-ada");

    // Start, IdP, ACS: a session, and the admin page accepts it.
    let mut browser = Browser::new(env);
    let request = start(&mut browser, &a);
    assert_eq!(request.acs_url, format!("http://{}/sso/saml/{a}/acs", env.addr));
    assert_eq!(request.issuer, format!("http://{}/sso/saml/{a}", env.addr));
    assert!(request.id.starts_with('_') && request.relay_state.len() <= 80);
    let spec = response(&request, Some(&request.id), "ADA@a.example", Some("oid-ada"));
    let signed = signed_by(&spec, keys::idp());
    let reply = post_acs(&mut browser, &a, &signed, Some(&request.relay_state));
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        reply.header("location"),
        Some(format!("/admin/orgs/{a}/sso").as_str())
    );
    assert!(
        browser.cookies.contains_key("scimd_session"),
        "{:?}",
        reply.headers
    );
    assert!(
        !browser.cookies.contains_key("scimd_sso"),
        "the binding cookie is spent"
    );
    let page = browser.send("GET", &format!("/admin/orgs/{a}/sso"), None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("ada@a.example"), "the page names the member");
    let logins = audited(env, &a, "admin.login");
    assert_eq!(logins[0]["method"], "saml", "{logins:?}");

    // The same response again: its RelayState is used up.
    let mut other = Browser::new(env);
    let again = post_acs(&mut other, &a, &signed, Some(&request.relay_state));
    assert_eq!(again.status, 403, "{}", again.body);
    assert!(!other.cookies.contains_key("scimd_session"));
    // The same response answering a new request: InResponseTo no longer matches.
    let second = start(&mut other, &a);
    assert_eq!(
        post_acs(&mut other, &a, &signed, Some(&second.relay_state)).status,
        403
    );

    // Another browser cannot finish a sign-in this browser started.
    let third = start(&mut browser, &a);
    let mut thief = Browser::new(env);
    let spec = response(&third, Some(&third.id), "ada@a.example", Some("oid-ada"));
    assert_eq!(
        post_acs(
            &mut thief,
            &a,
            &signed_by(&spec, keys::idp()),
            Some(&third.relay_state)
        )
        .status,
        403
    );

    // Unsolicited responses are refused unless the connection allows them.
    let spec = response(&request, None, "ada@a.example", Some("oid-ada"));
    assert_eq!(
        post_acs(&mut thief, &a, &signed_by(&spec, keys::idp()), None).status,
        403
    );

    // Someone the IdP has not provisioned gets the page that says so.
    let mut stranger = Browser::new(env);
    let req = start(&mut stranger, &a);
    let spec = response(&req, Some(&req.id), "grace@a.example", Some("oid-grace"));
    let refused = post_acs(
        &mut stranger,
        &a,
        &signed_by(&spec, keys::idp()),
        Some(&req.relay_state),
    );
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("You do not have access yet"),
        "{}",
        refused.body
    );
    assert!(!stranger.cookies.contains_key("scimd_session"));

    // A response signed by another key (with that key in KeyInfo) is refused.
    let req = start(&mut stranger, &a);
    let spec = response(&req, Some(&req.id), "ada@a.example", Some("oid-ada"));
    let forged = post_acs(
        &mut stranger,
        &a,
        &signed_by(&spec, keys::attacker()),
        Some(&req.relay_state),
    );
    assert_eq!(forged.status, 403);
    assert!(
        forged.body.contains("Sign-in did not complete"),
        "{}",
        forged.body
    );

    // Another org's connection never signs in a member of this org: org B's IdP vouching for ada at B's ACS
    // finds nobody in B; org A's response posted to B's ACS fails B's pinned key.
    saml_connection(env, &b, keys::other_org(), false);
    let mut to_b = Browser::new(env);
    let req = start(&mut to_b, &b);
    let spec = response(&req, Some(&req.id), "ada@a.example", Some("oid-ada"));
    let at_b = post_acs(
        &mut to_b,
        &b,
        &signed_by(&spec, keys::other_org()),
        Some(&req.relay_state),
    );
    assert_eq!(at_b.status, 403);
    assert!(at_b.body.contains("You do not have access yet"));
    let req = start(&mut to_b, &b);
    let spec = response(&req, Some(&req.id), "ada@a.example", Some("oid-ada"));
    assert_eq!(
        post_acs(
            &mut to_b,
            &b,
            &signed_by(&spec, keys::idp()),
            Some(&req.relay_state)
        )
        .status,
        403
    );
    // The response B's pinned key refuses was verified by nobody: counted, not audited (review H-1).
    assert_eq!(reasons(env, &b), ["not_provisioned"]);

    // Deprovisioning over SCIM: the session's next request fails, and a new sign-in is refused.
    set_active(&env.client_a(), &ada, false);
    let ended = browser.send("GET", &format!("/admin/orgs/{a}/sso"), None);
    assert_eq!(ended.status, 401, "{}", ended.body);
    let mut later = Browser::new(env);
    let req = start(&mut later, &a);
    let spec = response(&req, Some(&req.id), "ada@a.example", Some("oid-ada"));
    let gone = post_acs(
        &mut later,
        &a,
        &signed_by(&spec, keys::idp()),
        Some(&req.relay_state),
    );
    assert_eq!(gone.status, 403);
    assert!(
        gone.body.contains("Your access has been removed"),
        "{}",
        gone.body
    );
    assert!(!later.cookies.contains_key("scimd_session"));

    // Every refusal after a verified message or a used-up pending request is in the audit trail with its
    // own reason; the used-up RelayState, the unsolicited and the forged responses were verified by nobody,
    // and are only counted (review H-1).
    assert_eq!(
        reasons(env, &a),
        [
            "saml_in_response_to_mismatch",
            "browser_mismatch",
            "not_provisioned",
            "member_inactive",
        ]
    );
}

fn an_allowed_unsolicited_response_works_once(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.a.id.clone();
    // The IdP is rolling its certificate over: the next one is pinned beside the current one.
    ConnectionService::new(env.store.clone(), Arc::new(SystemClock))
        .set_saml_blocking(
            &a,
            "test",
            &SamlInput {
                entity_id: saml_idp::IDP_ENTITY_ID.into(),
                sso_url: SSO_URL.into(),
                certificate_pem: keys::idp().cert_pem.clone(),
                next_certificate_pem: keys::idp_next().cert_pem.clone(),
                allow_unsolicited: true,
            },
        )
        .unwrap();
    create_user(&env.client_a(), "lin@a.example", "oid-lin");
    let mut browser = Browser::new(env);
    // The addresses as the start would name them, without starting.
    let request = AuthnRequest {
        id: String::new(),
        relay_state: String::new(),
        acs_url: format!("http://{}/sso/saml/{a}/acs", env.addr),
        issuer: format!("http://{}/sso/saml/{a}", env.addr),
    };
    let spec = response(&request, None, "lin@a.example", None);
    let signed = signed_by(&spec, keys::idp_next());
    let first = post_acs(&mut browser, &a, &signed, None);
    assert_eq!(first.status, 303, "{}", first.body);
    assert!(browser.cookies.contains_key("scimd_session"));
    // The same assertion a second time: the replay table refuses it.
    let mut replayer = Browser::new(env);
    assert_eq!(post_acs(&mut replayer, &a, &signed, None).status, 403);
    assert_eq!(reasons(env, &a), ["saml_replayed"]);
}

fn the_sp_metadata_and_the_entry_points(db: &TestDb) {
    let env = &TestApp::init(db);
    let (a, b) = (env.a.id.clone(), env.b.id.clone());
    let mut browser = Browser::new(env);
    let metadata = browser.send("GET", &format!("/sso/saml/{a}/metadata"), None);
    assert_eq!(metadata.status, 200);
    assert!(
        metadata
            .header("content-type")
            .unwrap()
            .starts_with("application/samlmetadata+xml")
    );
    let entity = format!("entityID=\"http://{}/sso/saml/{a}\"", env.addr);
    assert!(metadata.body.contains(&entity), "{}", metadata.body);
    assert!(
        metadata
            .body
            .contains(&format!("Location=\"http://{}/sso/saml/{a}/acs\"", env.addr))
    );
    assert!(metadata.body.contains("HTTP-POST"));
    assert_eq!(
        browser.send("GET", "/sso/saml/no-such-org/metadata", None).status,
        404
    );
    // Org B's connection is Azure AD: its start goes to the tenant's v2.0 authorize endpoint with PKCE S256.
    let entra = browser.send("GET", &format!("/sso/{b}/start"), None);
    assert_eq!(entra.status, 303);
    let location = entra.header("location").unwrap();
    assert!(
        location.starts_with(
            "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/authorize?"
        ),
        "{location}"
    );
    assert!(location.contains("code_challenge_method=S256"), "{location}");
    assert_eq!(
        query_value(location, "redirect_uri"),
        format!("http://{}/sso/oidc/{b}/callback", env.addr)
    );
    // An unknown org has no connection.
    assert_eq!(browser.send("GET", "/sso/no-such-org/start", None).status, 404);
    // The return path stays on this server.
    saml_connection(env, &a, keys::idp(), false);
    let open_redirect = browser.send(
        "GET",
        &format!("/sso/{a}/start?return_to=https://evil.example/"),
        None,
    );
    assert_eq!(open_redirect.status, 400);
    let back = browser.send(
        "GET",
        &format!("/sso/{a}/start?return_to=/admin/orgs/{a}/members"),
        None,
    );
    assert_eq!(back.status, 303);
    // "Sign in with SSO" by e-mail: the one org where it is a member's userName.
    create_user(&env.client_a(), "max@a.example", "oid-max");
    let chooser = browser.send("GET", "/admin/sso?email=MAX@a.example", None);
    assert_eq!(chooser.status, 200);
    assert!(
        chooser.body.contains(&format!("url=/sso/{a}/start")),
        "{}",
        chooser.body
    );
    let unknown = browser.send("GET", "/admin/sso?email=nobody@a.example", None);
    assert!(
        unknown.body.contains("We could not tell which organization"),
        "{}",
        unknown.body
    );
}

scimd_store::backend_tests!(
    a_provisioned_member_signs_in_and_deprovisioning_ends_it,
    an_allowed_unsolicited_response_works_once,
    the_sp_metadata_and_the_entry_points,
);
