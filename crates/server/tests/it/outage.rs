//! The database goes away under load and comes back (PostgreSQL, cut by a TCP proxy in the test: the shared
//! server is never stopped): every surface answers 503 with `Retry-After` at once instead of hanging,
//! `/readyz` says 503 while `/healthz` stays 200, `/metrics` counts it, the log says it once each way, writes
//! resume without a restart, every acknowledged write is kept, and a feed consumer and a webhook receiver see
//! every event once, in order.
//!
//! Self-contained (its own process start and HTTP client), so that it does not depend on the shared harness.

use crate::webhook_receiver::Receiver;
use scimd_store::testing::TestDb;
use scimd_store::testing::proxy::{self, Mode, Proxy};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SCIMD: &str = env!("CARGO_BIN_EXE_scimd");
/// The client's timeout: far above the fail-fast bound (2 s), so that a request that hangs fails the test
/// instead of passing slowly.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(9);

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
    took: Duration,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = token {
        req.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(body) = body {
        req.push_str(&format!(
            "Content-Type: application/scim+json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{method} {path} did not answer within {CLIENT_TIMEOUT:?}: {e}"));
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
        took: started.elapsed(),
    }
}

fn cli(url: &str, args: &[&str]) -> Value {
    let mut cmd = Command::new(SCIMD);
    crate::harness::keys_for_postgres(&mut cmd, Some(url));
    let out = cmd
        .args(args)
        .env("DATABASE_URL", url)
        .env("SCIMD_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("SCIMD_AZURE_CLIENT_SECRET", "outage-test-secret")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

struct Server {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Server {
    fn start(url: &str, log: std::path::PathBuf) -> Server {
        let mut cmd = Command::new(SCIMD);
        crate::harness::keys_for_postgres(&mut cmd, Some(url));
        let mut child = cmd
            .env("DATABASE_URL", url)
            .env("SCIMD_BIND", "127.0.0.1:0")
            .env("SCIMD_NO_BOOTSTRAP", "true")
            .env("SCIMD_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("SCIMD_ORG_RATE", "10000")
            .env("SCIMD_ORG_BURST", "10000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let addr = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("scimd listening on http://")
                    .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            })
            .expect("scimd says where it listens");
        Server { child, addr, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn user(name: &str) -> String {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}).to_string()
}

fn assert_unavailable(r: &Reply, what: &str) {
    assert_eq!(r.status, 503, "{what}: {}", r.body);
    assert!(r.headers.contains_key("retry-after"), "{what} has Retry-After");
}

#[test]
fn postgres_an_outage_is_answered_at_once_and_survived() {
    let Some(db) = TestDb::postgres() else { return };
    let proxy = Proxy::start(proxy::upstream_of(&db.url));
    let url = proxy.url(&db.url);
    let org = cli(&url, &["org", "create", "--name", "Acme", "--json"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    cli(
        &url,
        &[
            "sso",
            "set-azure",
            "--org",
            &org,
            "--tenant-id",
            "11111111-2222-3333-4444-555555555555",
            "--client-id",
            "66666666-7777-8888-9999-000000000000",
        ],
    );
    let token = cli(&url, &["token", "generate", "--org", &org, "--json"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = cli(&url, &["api-key", "create", "--name", "Feed", "--json"])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let receiver = Receiver::start();
    cli(
        &url,
        &[
            "webhook",
            "create",
            "--url",
            &receiver.url(),
            "--types",
            "user.created",
            "--json",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&url, dir.path().join("scimd.log"));
    let addr = server.addr;
    let scim = format!("/scim/v2/{org}/Users");
    assert_eq!(request(addr, "GET", "/readyz", None, None).status, 200);

    // Writers create users throughout; a feed consumer reads along.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, acknowledged, refused) = (stop.clone(), acknowledged.clone(), refused.clone());
            let (token, scim) = (token.clone(), scim.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let r = request(
                        addr,
                        "POST",
                        &scim,
                        Some(&token),
                        Some(&user(&format!("u{w}-{i}@acme.example"))),
                    );
                    match r.status {
                        201 => acknowledged
                            .lock()
                            .unwrap()
                            .push(r.json()["id"].as_str().unwrap().to_owned()),
                        503 => {
                            assert!(r.headers.contains_key("retry-after"), "503 without Retry-After");
                            assert!(
                                r.body.contains("urn:ietf:params:scim:api:messages:2.0:Error"),
                                "{}",
                                r.body
                            );
                            refused.lock().unwrap().push(r.took);
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        other => panic!("a create during an outage is 201 or 503, not {other}: {}", r.body),
                    }
                }
            })
        })
        .collect();
    let feed = Arc::new(Mutex::new(Vec::<Value>::new()));
    let consumer = {
        let (stop, feed, key) = (stop.clone(), feed.clone(), key.clone());
        std::thread::spawn(move || {
            let mut cursor = "0".to_owned();
            let mut idle_after_stop = 0;
            while idle_after_stop < 20 {
                let r = request(
                    addr,
                    "GET",
                    &format!("/api/v1/events?after={cursor}&types=user.created&limit=200"),
                    Some(&key),
                    None,
                );
                match r.status {
                    200 => {
                        let body = r.json();
                        let page = body["events"].as_array().unwrap().clone();
                        if page.is_empty() && stop.load(Ordering::SeqCst) {
                            idle_after_stop += 1;
                        }
                        cursor = body["next_cursor"].as_str().unwrap().to_owned();
                        feed.lock().unwrap().extend(page);
                    }
                    503 => assert!(r.headers.contains_key("retry-after")),
                    other => panic!("the feed answers 200 or 503, not {other}: {}", r.body),
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    std::thread::sleep(Duration::from_secs(1));

    // The database goes away.
    proxy.cut(Mode::Refuse);
    std::thread::sleep(Duration::from_millis(1500));
    let ready = request(addr, "GET", "/readyz", None, None);
    assert_unavailable(&ready, "/readyz");
    assert_eq!(
        request(addr, "GET", "/healthz", None, None).status,
        200,
        "the process is alive"
    );
    let feed_down = request(addr, "GET", "/api/v1/events?after=0", Some(&key), None);
    assert_unavailable(&feed_down, "the platform API");
    assert_eq!(feed_down.json()["error"], "unavailable");
    let page = request(addr, "GET", &format!("/sso/{org}/start"), None, None);
    assert_unavailable(&page, "the sign-in page");
    assert!(page.body.contains("Temporarily unavailable"), "{}", page.body);
    let metrics = request(addr, "GET", "/metrics", None, None).body;
    assert!(metrics.contains("scimd_database_up 0"), "{metrics}");
    assert!(metrics.contains("scimd_database_outages_total 1"), "{metrics}");
    std::thread::sleep(Duration::from_secs(2));

    // It comes back.
    let back = Instant::now();
    proxy.restore();
    let first_write = loop {
        let r = request(
            addr,
            "POST",
            &scim,
            Some(&token),
            Some(&user(&format!(
                "first-{}@acme.example",
                back.elapsed().as_nanos()
            ))),
        );
        if r.status == 201 {
            acknowledged
                .lock()
                .unwrap()
                .push(r.json()["id"].as_str().unwrap().to_owned());
            break back.elapsed();
        }
        assert_unavailable(&r, "a create just after the return");
        assert!(back.elapsed() < Duration::from_secs(30), "writes never resumed");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(request(addr, "GET", "/readyz", None, None).status, 200);
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    consumer.join().unwrap();

    let refused = refused.lock().unwrap().clone();
    assert!(!refused.is_empty(), "creates during the outage were refused");
    let longest = refused.iter().max().copied().unwrap_or_default();
    eprintln!(
        "outage over HTTP: {} creates refused, the longest took {longest:?}; first create {first_write:?} \
         after the database's return",
        refused.len()
    );

    // Every acknowledged create is there, and the feed has each once, in order.
    let acknowledged = acknowledged.lock().unwrap().clone();
    for id in &acknowledged {
        let r = request(addr, "GET", &format!("{scim}/{id}"), Some(&token), None);
        assert_eq!(r.status, 200, "acknowledged user {id} is lost");
    }
    let feed = feed.lock().unwrap().clone();
    let positions: Vec<i64> = feed
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "the feed is in order: {positions:?}"
    );
    let ids: BTreeSet<&str> = feed.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), feed.len(), "no event twice");
    let created = |events: &[Value], id: &str| {
        events
            .iter()
            .filter(|e| e["data"].to_string().contains(id))
            .count()
    };
    for id in &acknowledged {
        assert_eq!(created(&feed, id), 1, "the feed has user {id} once");
    }

    // The webhook receiver gets the same events once each, in the feed's order.
    let got = receiver.wait_for("every event of the feed", |got| {
        got.iter().filter(|r| r.delivered()).count() >= feed.len()
    });
    let delivered: Vec<Value> = got.iter().filter(|r| r.delivered()).map(|r| r.json()).collect();
    let delivered_ids: Vec<&str> = delivered.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let feed_ids: Vec<&str> = feed.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(delivered_ids, feed_ids, "webhooks: every event once, in order");

    // The log says it once each way.
    let log = server.log();
    assert_eq!(log.matches("the database cannot be reached").count(), 1, "{log}");
    assert_eq!(log.matches("the database answers again").count(), 1, "{log}");
    assert!(!log.contains("SCIM request failed"), "no line per request: {log}");
}
