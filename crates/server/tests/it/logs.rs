//! What the log may not hold (L5): query strings (SCIM filters carry e-mail addresses, login links carry their
//! token), a client address the client chose (`X-Forwarded-For`), and an org id that breaks a log line. The
//! real binary at debug level, its stderr captured. One backend: logging does not depend on it.

use crate::harness::{ServerProcess, get};
use crate::scim_client::Client;
use crate::test_app::org_with_token;
use scimd_store::testing::TestDb;
use std::time::{Duration, Instant};

fn wait_for_log(server: &ServerProcess, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = server.log_text();
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn logs_hold_no_query_string_no_forwarded_address_and_no_raw_line_break() {
    let db = TestDb::sqlite();
    let org = org_with_token(&db, "Acme", None);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("scimd.log");
    let server = ServerProcess::start_logging_to(dir.path(), Some(&db.url), &[("RUST_LOG", "debug")], &log);

    assert_ne!(
        get(server.addr, "/admin/login?token=SECRET-LOGIN-TOKEN").status,
        500
    );
    let client = Client {
        addr: server.addr,
        base: format!("/scim/v2/{}", org.id),
        token: Some(org.token.clone()),
    };
    let lookup = "/Users?filter=userName eq \"x@y.example\"";
    assert_eq!(client.get(lookup).status, 200);
    let created = client.send(
        "POST",
        "/Users",
        Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@acme.example"}"#),
        &[],
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    // Entra's string boolean logs an event (info) inside the request's span, with the span's fields.
    let patch = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"Replace","path":"displayName","value":"Ada"},{"op":"Replace","path":"active","value":"True"}]}"#;
    let patched = client.send(
        "PATCH",
        &format!("/Users/{id}?filter=userName eq \"x@y.example\"&token=SECRET-LOGIN-TOKEN"),
        Some(patch),
        &[("X-Forwarded-For", "203.0.113.77")],
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let evil = client
        .with_base("/scim/v2/evil%0Aforged-line".into())
        .with_token(Some("scimd_x"));
    assert_eq!(evil.get("/Users").status, 401);

    let text = wait_for_log(&server, "forged-line");
    assert!(
        text.contains("SCIM bearer token refused"),
        "the events were logged: {text}"
    );
    assert!(text.contains("/Users"), "the path is logged: {text}");
    // One line per request when it ends: method, route, status, duration and request id on it.
    let create_line = text
        .lines()
        .find(|l| l.contains("request finished") && l.contains("status=201"))
        .unwrap_or_else(|| panic!("no line for the create:\n{text}"));
    for field in ["http.method=POST", "http.route=", "request_id=", "duration_ms="] {
        assert!(create_line.contains(field), "{field} is not on {create_line}");
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("request finished") && l.contains("http.method=PATCH"))
            .count(),
        1,
        "one line for the one PATCH:\n{text}"
    );
    for secret in [
        "SECRET-LOGIN-TOKEN",
        "x@y.example",
        "x%40y.example",
        "filter=",
        "203.0.113.77",
    ] {
        assert!(!text.contains(secret), "{secret} is in the log:\n{text}");
    }
    assert!(
        !text.lines().any(|l| l.starts_with("forged-line")),
        "a decoded line break in the org id started a log line:\n{text}"
    );
}
