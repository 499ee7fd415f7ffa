//! The public sign-in endpoints under attack (issue #23, review H-1, M-4, L-8, I-1), against the real app on
//! both backends: a flood of refusals nobody verified leaves the audit trail as it was and is counted on
//! `/metrics`; what follows a used-up pending request stays audited with an actor that says who; the
//! throttle answers 429 with `Retry-After` per address and per org, and another org signs in meanwhile; an
//! org's pending sign-ins are capped; no token request leaves for a callback that is not this browser's live
//! sign-in; the chooser counts live members only; `/oauth/jwks` is a read.

use crate::sso_signin::{self, Browser, post_acs, response, saml_connection, signed_by};
use crate::test_app::{TestApp, org_with_token};
use scimd_sso::testing::fake_entra::FakeEntra;
use scimd_sso::testing::keys;
use scimd_store::models::{audit_events, sso_signin as pending};
use scimd_store::testing::TestDb;
use scimd_store::{Clock, OrgId, SystemClock};
use std::sync::atomic::Ordering;

/// The tenant, client and secret `test_app::org_with_token` gives every org's Azure AD connection.
const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT_ID: &str = "11111111-2222-3333-4444-666666666666";
const CLIENT_SECRET: &str = "a-client-secret-value";

fn audit_rows(env: &TestApp, org: &OrgId) -> usize {
    env.store
        .read(|conn| audit_events::list(conn, org, None, None, 10_000))
        .unwrap()
        .len()
}

/// The value of the `/metrics` sample of `name` whose labels include every one of `labels`, 0 when absent.
fn metric(env: &TestApp, name: &str, labels: &[&str]) -> u64 {
    let page = env.get("/metrics");
    assert_eq!(page.status, 200);
    page.body
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

const UNVERIFIED: &str = "scimd_signin_unverified_refusals_total";

fn a_flood_before_any_verified_message_writes_nothing_and_is_counted(db: &TestDb) {
    let env = &TestApp::init(db);
    let (a, b) = (env.a.id.clone(), env.b.id.clone());
    // Org B takes IdP-initiated responses; org C does not.
    saml_connection(env, &b, keys::idp(), true);
    let c = org_with_token(db, "C", None).id;
    saml_connection(env, &c, keys::idp(), false);
    let before = [audit_rows(env, &a), audit_rows(env, &b), audit_rows(env, &c)];
    let acs = |org: &OrgId| sso_signin::AuthnRequest {
        id: String::new(),
        relay_state: String::new(),
        acs_url: format!("http://{}/sso/saml/{org}/acs", env.addr),
        issuer: format!("http://{}/sso/saml/{org}", env.addr),
    };
    // Correctly shaped, signed by a key org B does not pin: it fails at the signature.
    let forged = signed_by(
        &response(&acs(&b), None, "owner@a.example", None),
        keys::attacker(),
    );
    let anything = signed_by(&response(&acs(&c), None, "owner@a.example", None), keys::idp());
    const N: usize = 15;
    for i in 0..N {
        let mut anonymous = Browser::new(env);
        let no_state = anonymous.send("GET", &format!("/sso/oidc/{a}/callback?code=c{i}"), None);
        assert_eq!(no_state.status, 403, "{}", no_state.body);
        let unknown = format!("/sso/oidc/{a}/callback?code=c{i}&state=made-up-{i}");
        assert_eq!(anonymous.send("GET", &unknown, None).status, 403);
        assert_eq!(post_acs(&mut anonymous, &b, &forged, None).status, 403);
        assert_eq!(post_acs(&mut anonymous, &c, &anything, None).status, 403);
        assert_eq!(
            post_acs(&mut anonymous, &c, &anything, Some(&format!("relay-{i}"))).status,
            403
        );
    }
    // Not one row in any org's audit trail, and every refusal counted by its reason.
    assert_eq!(
        [audit_rows(env, &a), audit_rows(env, &b), audit_rows(env, &c)],
        before
    );
    let n = N as u64;
    assert_eq!(
        metric(
            env,
            UNVERIFIED,
            &[r#"method="oidc""#, r#"reason="oidc_state_mismatch""#]
        ),
        n
    );
    assert_eq!(
        metric(
            env,
            UNVERIFIED,
            &[r#"method="oidc""#, r#"reason="relay_state_unknown""#]
        ),
        n
    );
    assert_eq!(
        metric(
            env,
            UNVERIFIED,
            &[r#"method="saml""#, r#"reason="relay_state_unknown""#]
        ),
        n
    );
    assert_eq!(
        metric(
            env,
            UNVERIFIED,
            &[r#"method="saml""#, r#"reason="saml_untrusted_certificate""#]
        ),
        n
    );
    assert_eq!(
        metric(
            env,
            UNVERIFIED,
            &[r#"method="saml""#, r#"reason="saml_unsolicited""#]
        ),
        n
    );
    assert_eq!(metric(env, UNVERIFIED, &[]), 5 * n);
}

/// `GET /sso/{org}/start` for an Entra connection: the `state` the browser will carry back.
fn entra_start(browser: &mut Browser, org: &OrgId) -> String {
    let started = browser.send("GET", &format!("/sso/{org}/start"), None);
    assert_eq!(started.status, 303, "{}", started.body);
    sso_signin::query_value(started.header("location").unwrap(), "state")
}

fn a_used_up_pending_request_is_audited_and_only_a_live_one_of_this_browser_reaches_entra(db: &TestDb) {
    let fake = FakeEntra::start_for(TENANT, CLIENT_ID, CLIENT_SECRET);
    let env = &TestApp::init_with(db, &["--entra-authority", &fake.base]);
    let a = env.a.id.clone();
    let tokens = || fake.state.token_requests.load(Ordering::SeqCst);

    // No state, a made-up state, another browser's state: refused before any token request (L-8).
    let mut stranger = Browser::new(env);
    stranger.send("GET", &format!("/sso/oidc/{a}/callback?code=x"), None);
    stranger.send(
        "GET",
        &format!("/sso/oidc/{a}/callback?code=x&state=made-up"),
        None,
    );
    let mut victim = Browser::new(env);
    let state = entra_start(&mut victim, &a);
    let stolen = stranger.send(
        "GET",
        &format!("/sso/oidc/{a}/callback?code=x&state={state}"),
        None,
    );
    assert_eq!(stolen.status, 403);
    assert_eq!(tokens(), 0);
    // The victim's own state is used up too: a second try of it is anyone's, and makes no request either.
    let used = victim.send(
        "GET",
        &format!("/sso/oidc/{a}/callback?code=x&state={state}"),
        None,
    );
    assert_eq!(used.status, 403);
    assert_eq!(tokens(), 0);
    // A live pending sign-in of this browser does reach the token endpoint (the bogus code is refused there).
    let state = entra_start(&mut victim, &a);
    let bogus = victim.send(
        "GET",
        &format!("/sso/oidc/{a}/callback?code=bogus&state={state}"),
        None,
    );
    assert_eq!(bogus.status, 403);
    assert_eq!(tokens(), 1);

    // The refusals after a used-up pending request are audited, by an anonymous browser, not by the IdP.
    let refused: Vec<(String, String)> = env
        .store
        .read(|conn| audit_events::list(conn, &a, Some("sso.signin_refused"), None, 100))
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| {
            let reason = serde_json::from_str::<serde_json::Value>(&e.details).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned();
            (e.actor, reason)
        })
        .collect();
    let reasons: Vec<&str> = refused.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(reasons[0], "browser_mismatch");
    assert_eq!(reasons.len(), 2, "{refused:?}");
    assert!(
        refused.iter().all(|(actor, _)| actor == "anonymous"),
        "{refused:?}"
    );
    assert_eq!(metric(env, UNVERIFIED, &[r#"method="oidc""#]), 3);
}

/// Sends `path` from `address` (as a trusted proxy forwards it) until one is refused; the refusal, and how
/// many went through before it.
fn until_refused(
    env: &TestApp,
    path: &str,
    address: &str,
    accept: &str,
) -> (crate::scim_client::Reply, usize) {
    let client = env.client(String::new(), None);
    for passed in 0..50 {
        let reply = client.send(
            "GET",
            path,
            None,
            &[("X-Forwarded-For", address), ("Accept", accept)],
        );
        if reply.status == 429 {
            return (reply, passed);
        }
        assert_ne!(reply.status, 500, "{}", reply.body);
    }
    panic!("{path} from {address} was never refused");
}

fn the_sign_in_endpoints_answer_429_per_address_and_per_org(db: &TestDb) {
    let env = &TestApp::init_with(
        db,
        &[
            "--trust-forwarded-for",
            "--signin-rate",
            "1",
            "--signin-burst",
            "3",
            "--signin-org-rate",
            "1",
            "--signin-org-burst",
            "6",
        ],
    );
    let (a, b) = (env.a.id.clone(), env.b.id.clone());
    let scim_before = env.client_b().get("/Users").status;
    assert_eq!(scim_before, 200);

    // One address: its burst, then 429 with Retry-After; JSON for a script, the site's page for a browser.
    let (json, passed) = until_refused(env, "/admin/sso?email=x%40y.example", "203.0.113.1", "*/*");
    assert!(passed >= 3, "the burst goes through first ({passed})");
    assert!(json.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(json.json()["error"], "too_many_requests");
    let (html, _) = until_refused(env, "/oauth/authorize?client_id=x", "203.0.113.1", "text/html");
    assert!(html.header("content-type").unwrap().starts_with("text/html"));
    assert!(html.body.contains("Too many sign-in attempts"), "{}", html.body);
    assert!(html.header("retry-after").is_some());
    let (_, _) = until_refused(env, "/admin/login?token=t", "203.0.113.1", "*/*");
    // Another address is not affected, nor the same address's OpenID Provider back channel.
    let other = env.client(String::new(), None);
    let fine = other.send("GET", "/admin/sso", None, &[("X-Forwarded-For", "203.0.113.2")]);
    assert_eq!(fine.status, 200);
    let jwks = other.send("GET", "/oauth/jwks", None, &[("X-Forwarded-For", "203.0.113.1")]);
    assert_eq!(jwks.status, 200);

    // One org, from ever new addresses: its own bucket empties; another org still signs in.
    let client = env.client(String::new(), None);
    let mut refused = None;
    for i in 0..50 {
        let address = format!("198.51.100.{i}");
        let reply = client.send(
            "GET",
            &format!("/sso/{a}/start"),
            None,
            &[("X-Forwarded-For", &address)],
        );
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
        assert_eq!(reply.status, 303, "{}", reply.body);
    }
    assert!(refused.is_some(), "org A's bucket never emptied");
    let b_start = client.send(
        "GET",
        &format!("/sso/{b}/start"),
        None,
        &[("X-Forwarded-For", "192.0.2.200")],
    );
    assert_eq!(b_start.status, 303, "{}", b_start.body);
    assert_eq!(env.client_b().get("/Users").status, 200);
    assert!(
        metric(
            env,
            "scimd_signin_throttled_total",
            &[r#"class="browser""#, r#"scope="address""#]
        ) >= 3
    );
    assert_eq!(
        metric(env, "scimd_signin_throttled_total", &[r#"scope="org""#]),
        1
    );
}

fn an_orgs_pending_sign_ins_are_capped_and_return_to_is_short(db: &TestDb) {
    let env = &TestApp::init_with(db, &["--signin-pending-per-org", "3"]);
    let (a, b) = (env.a.id.clone(), env.b.id.clone());
    let mut browser = Browser::new(env);
    for _ in 0..3 {
        entra_start(&mut browser, &a);
    }
    let full = browser.send("GET", &format!("/sso/{a}/start"), None);
    assert_eq!(full.status, 429, "{}", full.body);
    assert_eq!(full.header("retry-after"), Some("60"));
    let now = SystemClock.now_naive();
    let (at_cap, over) = env
        .store
        .read(|conn| {
            Ok::<_, scimd_store::StoreError>((
                pending::live_pending_reaches(conn, &a, now, 3)?,
                pending::live_pending_reaches(conn, &a, now, 4)?,
            ))
        })
        .unwrap();
    assert!(at_cap && !over, "exactly three live pending rows");
    // Another org is not affected.
    entra_start(&mut browser, &b);
    // return_to: a local path, and short.
    let long = format!(
        "/sso/{b}/start?return_to=/{}",
        "a".repeat(scimd_signin::MAX_RETURN_TO + 1)
    );
    assert_eq!(browser.send("GET", &long, None).status, 400);
    let offsite = format!("/sso/{b}/start?return_to=https://evil.example/");
    assert_eq!(browser.send("GET", &offsite, None).status, 400);
}

fn the_chooser_counts_live_members_only(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.a.id.clone();
    let ada = sso_signin::create_user(&env.client_a(), "ada@a.example", "oid-ada");
    let hit = env.get("/admin/sso?email=ada%40a.example");
    assert_eq!(hit.status, 200);
    assert!(hit.body.contains(&format!("/sso/{a}/start")), "{}", hit.body);
    sso_signin::set_active(&env.client_a(), &ada, false);
    let gone = env.get("/admin/sso?email=ada%40a.example");
    let miss = env.get("/admin/sso?email=nobody%40a.example");
    assert_eq!((gone.status, miss.status), (200, 200));
    assert!(
        !gone.body.contains(a.as_str()),
        "a deactivated member leads nowhere"
    );
    // A former member and a stranger get the same page.
    assert_eq!(gone.body, miss.body.replace("nobody@a.example", "ada@a.example"));
}

fn the_jwks_is_a_read(db: &TestDb) {
    let env = &TestApp::init(db);
    assert_eq!(env.get("/oauth/jwks").status, 200);
    let writes = || metric(env, "scimd_sqlite_writes_total", &[]);
    let before = writes();
    for _ in 0..30 {
        assert_eq!(env.get("/oauth/jwks").status, 200);
    }
    // Background work (the purges, the readiness probe's bookkeeping) may write a little; a write per
    // request would add at least thirty.
    assert!(writes() - before < 30, "{} writes", writes() - before);
}

scimd_store::backend_tests!(
    a_flood_before_any_verified_message_writes_nothing_and_is_counted,
    a_used_up_pending_request_is_audited_and_only_a_live_one_of_this_browser_reaches_entra,
    the_sign_in_endpoints_answer_429_per_address_and_per_org,
    an_orgs_pending_sign_ins_are_capped_and_return_to_is_short,
    the_chooser_counts_live_members_only,
    the_jwks_is_a_read
);
