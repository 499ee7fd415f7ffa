//! The promise scimd is sold on, end to end over HTTP with the real app: a member with a live admin session
//! is deprovisioned through the SCIM API, in every shape an IdP uses; their very next admin request fails and
//! the audit trail has exactly one event for it. And the token's side: a revocation made by one process (the
//! CLI) is the very next request's 401 on every other (the app and a second `scimd` process), with one 401
//! for every kind of bad token.

use crate::harness::{ServerProcess, get, scimd};
use crate::scim_client::Client;
use crate::test_app::TestApp;
use scimd_store::models::audit_events;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, OrgId, Store, SystemClock};
use scimd_tokens::{PlaintextToken, SessionService};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

/// A session cookie for the member, made the way the admin pages make one (login link, then exchange).
fn admin_session(env: &TestApp, org: &OrgId, email: &str) -> String {
    let store = &env.store;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = env.session_key.clone();
    let sessions = SessionService::new(store.clone(), clock, key, "http://unused".into());
    let link = sessions.issue_login_link_blocking(org, email, "test").unwrap();
    let token = link.url.split("token=").nth(1).unwrap().to_owned();
    sessions
        .exchange_login_link_blocking(&token, None)
        .unwrap()
        .cookie_value
}

/// The status of one admin page request carrying the session cookie.
fn admin_status(addr: SocketAddr, org: &OrgId, cookie: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /admin/orgs/{org}/sso HTTP/1.1\r\nHost: {addr}\r\nCookie: scimd_session={cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    raw.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap()
}

fn events_for(store: &Store, org: &OrgId, action: &str, target: &str) -> usize {
    store
        .read(|conn| audit_events::list(conn, org, Some(action), None, 1000))
        .unwrap()
        .iter()
        .filter(|e| e.target.as_deref() == Some(target))
        .count()
}

/// Each deprovisioning shape: the request, and the audit action it must leave exactly once.
fn shapes() -> Vec<(&'static str, &'static str, serde_json::Value, &'static str)> {
    let patch = |ops: serde_json::Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    vec![
        (
            "PATCH with a path",
            "PATCH",
            patch(json!([{"op": "replace", "path": "active", "value": false}])),
            "member.deactivated",
        ),
        (
            "Okta path-less PATCH",
            "PATCH",
            patch(json!([{"op": "replace", "value": {"active": false}}])),
            "member.deactivated",
        ),
        (
            "Entra \"False\"",
            "PATCH",
            patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            "member.deactivated",
        ),
        ("PUT active false", "PUT", json!({}), "member.deactivated"),
        ("DELETE", "DELETE", json!(null), "member.deleted"),
    ]
}

fn every_deprovisioning_shape_ends_the_session_at_once(db: &TestDb) {
    let env = &TestApp::init(db);
    let client = env.client_a();
    let store = &env.store;
    for (i, (label, method, body, action)) in shapes().into_iter().enumerate() {
        let email = format!("leaver{i}@a.example");
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": email, "name": {"givenName": "Lea", "familyName": "Ver"},
            "emails": [{"value": email, "type": "work", "primary": true}], "active": true
        });
        let created = client.send("POST", "/Users", Some(&user.to_string()), &[]);
        assert_eq!(created.status, 201, "{label}: {}", created.body);
        let id = created.json()["id"].as_str().unwrap().to_owned();
        let cookie = admin_session(env, &env.a.id, &email);
        assert_eq!(
            admin_status(env.addr, &env.a.id, &cookie),
            200,
            "{label}: the session works before"
        );

        let body = if method == "PUT" {
            let mut replaced = user.clone();
            replaced["active"] = json!(false);
            Some(replaced.to_string())
        } else if body.is_null() {
            None
        } else {
            Some(body.to_string())
        };
        let reply = client.send(method, &format!("/Users/{id}"), body.as_deref(), &[]);
        assert!(
            matches!(reply.status, 200 | 204),
            "{label}: {} {}",
            reply.status,
            reply.body
        );

        assert_eq!(
            admin_status(env.addr, &env.a.id, &cookie),
            401,
            "{label}: the very next request fails"
        );
        assert_eq!(
            events_for(store, &env.a.id, action, &id),
            1,
            "{label}: exactly one {action} event"
        );

        // The IdP retries: still 2xx (or 404 after a delete), and still one event.
        let again = client.send(method, &format!("/Users/{id}"), body.as_deref(), &[]);
        assert!(
            matches!(again.status, 200 | 204 | 404),
            "{label} retried: {}",
            again.status
        );
        assert_eq!(
            events_for(store, &env.a.id, action, &id),
            1,
            "{label}: a retry writes no second event"
        );
    }
}

/// Status, the headers a client could tell apart by, and the body: what must not differ between bad tokens.
fn fingerprint(
    client: &Client,
    authorization: Option<&str>,
) -> (u16, Option<String>, Option<String>, String) {
    let extra: Vec<(&str, &str)> = authorization.map(|a| ("Authorization", a)).into_iter().collect();
    let reply = client.with_token(None).send("GET", "/Users", None, &extra);
    (
        reply.status,
        reply.header("www-authenticate").map(str::to_owned),
        reply.header("content-type").map(str::to_owned),
        reply.body,
    )
}

fn revocation_reaches_every_process_and_bad_tokens_look_alike(db: &TestDb) {
    let env = &TestApp::init(db);
    let dir = tempfile::tempdir().unwrap();
    let second = ServerProcess::start(dir.path(), Some(&db.url));
    let through_first = env.client_a();
    let through_second = Client {
        addr: second.addr,
        ..env.client_a()
    };
    assert_eq!(through_first.get("/Users").status, 200);
    assert_eq!(through_second.get("/Users").status, 200);

    // Bad tokens of every kind, while the real one is still live.
    let good = env.a.token.clone();
    let mut bad_checksum = good.clone();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == 'A' { 'B' } else { 'A' });
    let unknown = PlaintextToken::generate().unwrap().expose_once();
    let wrong_org = format!("Bearer {}", env.b.token);
    let classes = [
        None,
        Some("Bearer ".to_owned()),
        Some("Bearer not-a-token".to_owned()),
        Some(format!("Bearer {bad_checksum}")),
        Some(format!("Bearer {unknown}")),
        Some(wrong_org),
    ];
    let prints: Vec<_> = classes
        .iter()
        .map(|c| fingerprint(&through_second, c.as_deref()))
        .collect();

    // Revoked by another process (the CLI), refused by both servers on their very next request.
    let revoke = scimd(
        dir.path(),
        Some(&db.url),
        &["token", "revoke", "--org", env.a.id.as_str()],
    );
    assert!(
        revoke.status.success(),
        "{}",
        String::from_utf8_lossy(&revoke.stderr)
    );
    assert_eq!(through_second.get("/Users").status, 401);
    assert_eq!(through_first.get("/Users").status, 401);
    let revoked = fingerprint(&through_second, Some(&format!("Bearer {good}")));

    assert_eq!(prints[0].0, 401);
    assert!(
        prints[0].1.as_deref().is_some_and(|h| h.starts_with("Bearer")),
        "{:?}",
        prints[0]
    );
    for (class, print) in prints.iter().chain([&revoked]).enumerate() {
        assert_eq!(
            print, &prints[0],
            "bad-token class {class} differs from a missing token"
        );
    }
    assert_eq!(get(second.addr, "/healthz").status, 200);
}

scimd_store::backend_tests!(
    every_deprovisioning_shape_ends_the_session_at_once,
    revocation_reaches_every_process_and_bad_tokens_look_alike,
);
