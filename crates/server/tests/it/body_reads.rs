//! Request bodies are read only after the bearer token is accepted, and within a read timeout: a client that
//! announces a body and never sends it cannot hold a worker or reach the database. (The backend does not
//! matter here: SQLite.)

use crate::test_app::TestApp;
use scimd_store::testing::TestDb;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends the request head announcing `length` body bytes, then only `sent` of them, and reads the answer
/// while keeping the connection open.
fn send_partial(env: &TestApp, token: &str, length: usize, sent: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(env.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /scim/v2/{}/Users HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {length}\r\n\r\n{sent}",
        env.a.id, env.addr
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the response's body is complete (the server closes or the JSON ends).
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&raw);
        if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn a_body_is_not_read_before_the_token_is_accepted() {
    let db = TestDb::sqlite();
    let env = TestApp::init(&db);
    // Fifty kilobytes announced and never sent: the answer is the token's 401, not a wait for the body.
    let (status, text) = send_partial(&env, "scimd_not-a-token", 50_000, "");
    assert_eq!(status, 401, "{text}");
    assert!(
        text.contains("urn:ietf:params:scim:api:messages:2.0:Error"),
        "{text}"
    );
}

#[test]
fn a_body_that_stops_arriving_is_refused_after_the_read_timeout() {
    let db = TestDb::sqlite();
    let env = TestApp::init(&db);
    let token = env.a.token.clone();
    let (status, text) = send_partial(&env, &token, 100, r#"{"schemas":"#);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("invalidSyntax"), "{text}");
    assert!(text.contains("10 seconds"), "{text}");
    // Nothing was created.
    let users = env.client_a().get("/Users").json();
    assert_eq!(users["totalResults"], 0, "{users}");
}
