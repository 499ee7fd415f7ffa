//! The programs of `examples/` run against a live scimd (the app in-process, on both backends), each as a
//! subprocess of the Python named by `SCIMD_EXAMPLES_PYTHON` (a venv with `examples/requirements.txt`, made
//! by `.ci/examples.sh`; without it each test prints that it was skipped), so a sample that stops working
//! fails here:
//! - the feed consumer handles a deactivation, stops with a message once its key is revoked, resumes from
//!   its cursor file without repeating an event, and starts again from `latest` on 410;
//! - the webhook receiver handles a signed delivery from scimd, refuses a tampered one, and handles an event
//!   scimd delivers twice (a replay) once;
//! - the sign-in app signs a member in through scimd and the org's IdP (the fake Entra ID), shows who,
//!   signs out, and drops its session once the member is deprovisioned.

use crate::harness;
use crate::oauth_provider::query;
use crate::scim_client::{Client, Reply};
use crate::sso_entra;
use crate::test_app::TestApp;
use scimd_sso::testing::fake_entra::{FakeEntra, Grant};
use scimd_store::SystemClock;
use scimd_store::testing::TestDb;
use scimd_tokens::ApiKeyService;
use scimd_webhooks::SigningSecret;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PYTHON_ENV: &str = "SCIMD_EXAMPLES_PYTHON";
/// The longest an example gets to print what is expected of it.
const PATIENCE: Duration = Duration::from_secs(60);

/// The examples' Python, or `None` (said on stderr) when the variable is not set.
fn python() -> Option<String> {
    match std::env::var(PYTHON_ENV) {
        Ok(python) if !python.is_empty() => Some(python),
        _ => {
            eprintln!("skipped: the examples test ({PYTHON_ENV} is not set; .ci/examples.sh makes it)");
            None
        }
    }
}

/// Lines an example printed, shared with the thread reading them.
type Lines = Arc<Mutex<Vec<String>>>;

/// One example running: its output collected line by line; killed on drop.
struct Example {
    child: Child,
    stdout: Lines,
    stderr: Lines,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Example {
    /// Runs `examples/SCRIPT` in `dir` with `env` (and no other `SCIMD_*` variable of the test's).
    fn start(python: &str, script: &str, dir: &Path, env: &[(&str, &str)]) -> Example {
        let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut cmd = Command::new(python);
        cmd.arg(examples.join(script))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars() {
            if key.starts_with("SCIMD_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("run the examples' Python");
        let (stdout, stderr) = (Lines::default(), Lines::default());
        let readers = vec![
            collect(child.stdout.take().unwrap(), stdout.clone()),
            collect(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Example {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until a line of `lines` (the example's stdout or stderr) is `wanted`.
    fn wait_for_line(&self, lines: &Lines, wanted: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !lines.lock().unwrap().iter().any(|l| l == wanted) {
            assert!(
                Instant::now() < deadline,
                "the example never printed {wanted:?}\nstdout: {:#?}\nstderr: {:#?}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the example listens on `port`.
    fn wait_listening(&mut self, port: u16) {
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = self.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "the example does not listen on {port} ({exited:?})\nstderr: {:#?}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the example to exit by itself; its output is then complete.
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the example did not stop\nstdout: {:#?}\nstderr: {:#?}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        status
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(stream: impl Read + Send + 'static, into: Lines) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            into.lock().unwrap().push(line);
        }
    })
}

/// A port nothing listens on now, for an example to listen on.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn set_active(scim: &Client, id: &str, active: bool) {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": active}}]});
    let r = scim.send("PATCH", &format!("/Users/{id}"), Some(&body.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
}

fn create_user(scim: &Client, user_name: &str) -> String {
    sso_entra::create_user(scim, user_name, &format!("ext-{user_name}"))
}

fn the_feed_consumer_follows_the_feed_and_stops_on_a_revoked_key(db: &TestDb) {
    let Some(python) = python() else { return };
    let env = &TestApp::init(db);
    let (a, scim) = (env.a.id.clone(), env.client_a());
    let keys = ApiKeyService::new(env.store.clone(), Arc::new(SystemClock));
    let dir = tempfile::tempdir().unwrap();
    let cursor_file = dir.path().join("cursor.txt");
    let run = |key: &str| {
        let url = format!("http://{}", env.addr);
        let cursor_file = cursor_file.to_str().unwrap();
        let vars = [
            ("SCIMD_URL", url.as_str()),
            ("SCIMD_API_KEY", key),
            ("CURSOR_FILE", cursor_file),
        ];
        Example::start(&python, "feed-consumer/consumer.py", dir.path(), &vars)
    };
    let deactivated =
        |name: &str, id: &str| format!("user.deactivated: {name} (id {id}) of org {a}: revoke their access");
    // A key's revocation is seen at its next request: a write wakes a long poll in progress.
    let revoke = |key: &scimd_tokens::CreatedKey, consumer: &mut Example| {
        assert!(keys.revoke_blocking(&key.id).unwrap());
        create_user(&scim, &format!("{}@a.example", uuid::Uuid::new_v4().simple()));
        let status = consumer.wait_exit();
        assert_eq!(status.code(), Some(1), "{:?}", consumer.stderr());
        let said = consumer.stderr().join("\n");
        assert!(
            said.contains("scimd refused the API key (401") && said.contains("scimd api-key create"),
            "{said}"
        );
    };

    // From the oldest event (no cursor file yet): the deactivation that happened before it started.
    let ada = create_user(&scim, "ada@a.example");
    set_active(&scim, &ada, false);
    let first_key = keys.create_blocking("consumer", Some(&a)).unwrap();
    let mut consumer = run(&first_key.key);
    consumer.wait_for_line(&consumer.stdout, &deactivated("ada@a.example", &ada));
    revoke(&first_key, &mut consumer);
    let saved = std::fs::read_to_string(&cursor_file).unwrap();
    assert!(saved.parse::<i64>().is_ok_and(|c| c > 0), "{saved:?}");

    // Started again, it resumes after the saved cursor: Bea's deactivation, and not Ada's again.
    let bea = create_user(&scim, "bea@a.example");
    set_active(&scim, &bea, false);
    let second_key = keys.create_blocking("consumer", Some(&a)).unwrap();
    let mut consumer = run(&second_key.key);
    consumer.wait_for_line(&consumer.stdout, &deactivated("bea@a.example", &bea));
    revoke(&second_key, &mut consumer);
    let printed = consumer.stdout();
    assert!(
        !printed.iter().any(|l| l.contains("ada@a.example")),
        "an event handled before the restart came again: {printed:#?}"
    );

    // A cursor whose next events were purged (410): it starts again from the latest event.
    std::fs::write(&cursor_file, "1").unwrap();
    let cutoff = chrono::Utc::now().naive_utc() + chrono::Duration::days(1);
    env.store
        .write(|conn| scimd_store::models::events::purge(conn, cutoff))
        .unwrap();
    let cy = create_user(&scim, "cy@a.example");
    let third_key = keys.create_blocking("consumer", Some(&a)).unwrap();
    let consumer = run(&third_key.key);
    consumer.wait_for_line(
        &consumer.stderr,
        "the cursor's events were purged (410 cursor_expired): starting again from the latest event; \
         re-read the directory API for what was missed",
    );
    // Deactivated (again) until the consumer, waiting at the latest event by then, prints it.
    let line = deactivated("cy@a.example", &cy);
    let deadline = Instant::now() + PATIENCE;
    while !consumer.stdout().contains(&line) {
        assert!(Instant::now() < deadline, "{:#?}", consumer.stdout());
        set_active(&scim, &cy, true);
        set_active(&scim, &cy, false);
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn the_webhook_receiver_verifies_deliveries_and_handles_each_event_once(db: &TestDb) {
    let Some(python) = python() else { return };
    let env = &TestApp::init(db);
    let (a, scim) = (env.a.id.clone(), env.client_a());
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let out = harness::scimd_with(
            dir.path(),
            Some(&env.db_url),
            args,
            &[("SCIMD_WEBHOOK_ALLOW_PRIVATE", "true")],
        );
        assert!(out.status.success(), "{args:?}: {}", harness::stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/webhooks/scimd");
    let created = cli(&["webhook", "create", "--url", &url, "--org", a.as_str(), "--json"]);
    let (endpoint, secret) = (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    );
    let seen_db = dir.path().join("seen.db");
    let mut receiver = Example::start(
        &python,
        "webhook-receiver/receiver.py",
        dir.path(),
        &[
            ("SCIMD_WEBHOOK_SECRET", &secret),
            ("SEEN_DB", seen_db.to_str().unwrap()),
            ("PORT", &port.to_string()),
        ],
    );
    receiver.wait_listening(port);

    // A real delivery from scimd: verified, handled, answered 204 (the delivery log says so).
    let ada = create_user(&scim, "ada@a.example");
    set_active(&scim, &ada, false);
    let handled = format!("user.deactivated: ada@a.example (id {ada}) of org {a}: revoke their access");
    receiver.wait_for_line(&receiver.stdout, &handled);
    let deadline = Instant::now() + PATIENCE;
    let delivery = loop {
        let log = cli(&["webhook", "deliveries", "--id", &endpoint, "--json"]);
        let found = log
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["event_type"] == "user.deactivated")
            .cloned();
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "{log}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(delivery["delivered"], true, "{delivery}");
    assert_eq!(delivery["status_code"], 204, "{delivery}");

    // A delivery signed with the endpoint's secret and then changed on the way is refused (400), and so is
    // one without signature headers; the untampered copy is accepted: it is the tampering that was refused.
    let event_id = format!("evt_{}", uuid::Uuid::new_v4().simple());
    let body = json!({"id": event_id, "type": "user.deactivated", "org_id": a.as_str(),
        "occurred_at": "2026-01-01T00:00:00Z", "cursor": "1", "timestamp": "2026-01-01T00:00:00Z",
        "data": {"id": "u-1", "version": 2, "user": {"user_name": "mallory@a.example"}}})
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let signature = SigningSecret::parse(&secret)
        .unwrap()
        .sign(&event_id, now, body.as_bytes())
        .unwrap();
    let post = |body: &str, signed: bool| {
        let now = now.to_string();
        let mut headers = vec![("Content-Type", "application/json")];
        if signed {
            headers.extend([
                ("webhook-id", event_id.as_str()),
                ("webhook-timestamp", now.as_str()),
                ("webhook-signature", signature.as_str()),
            ]);
        }
        let receiver = Client {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            base: String::new(),
            token: None,
        };
        receiver.send("POST", "/webhooks/scimd", Some(body), &headers)
    };
    let tampered = body.replace("mallory@", "eve@");
    assert_eq!(post(&tampered, true).status, 400);
    assert_eq!(post(&body, false).status, 400);
    assert!(
        !receiver
            .stdout()
            .iter()
            .any(|l| l.contains("@a.example (id u-1)")),
        "a refused delivery was acted on: {:#?}",
        receiver.stdout()
    );
    assert_eq!(post(&body, true).status, 204);
    receiver.wait_for_line(
        &receiver.stdout,
        &format!("user.deactivated: mallory@a.example (id u-1) of org {a}: revoke their access"),
    );

    // scimd delivers every event again (a replay): each is acknowledged and not handled twice.
    cli(&["webhook", "replay", "--id", &endpoint, "--after", "0", "--json"]);
    let event = delivery["event_id"].as_str().unwrap();
    receiver.wait_for_line(
        &receiver.stdout,
        &format!("user.deactivated {event}: already handled"),
    );
    let times = receiver.stdout().iter().filter(|l| **l == handled).count();
    assert_eq!(times, 1, "{:#?}", receiver.stdout());
}

/// A browser: one cookie jar for 127.0.0.1 (cookies do not tell ports apart, so scimd's and the app's share
/// it as in a real browser), absolute URLs, redirects followed one at a time.
#[derive(Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A GET, or a POST of `form`.
    fn send(&mut self, url: &str, form: Option<&str>) -> Reply {
        let url = url::Url::parse(url).unwrap();
        let client = Client {
            addr: SocketAddr::from(([127, 0, 0, 1], url.port().unwrap())),
            base: String::new(),
            token: None,
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let cookie = cookie.join("; ");
        let mut headers = Vec::new();
        if !cookie.is_empty() {
            headers.push(("Cookie", cookie.as_str()));
        }
        let method = match form {
            Some(_) => {
                headers.push(("Content-Type", "application/x-www-form-urlencoded"));
                "POST"
            }
            None => "GET",
        };
        let reply = client.send(method, &path, form, &headers);
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

    /// GETs `url` and follows its redirects, until one leads to a URL starting with `stop` (returned).
    fn follow_to(&mut self, url: &str, stop: &str) -> String {
        let mut url = url.to_owned();
        for _ in 0..10 {
            if url.starts_with(stop) {
                return url;
            }
            let reply = self.send(&url, None);
            let location = reply.header("location");
            assert!(
                location.is_some(),
                "{url} answered {}: {}",
                reply.status,
                reply.body
            );
            url = url::Url::parse(&url)
                .unwrap()
                .join(location.unwrap())
                .unwrap()
                .to_string();
        }
        panic!("too many redirects, at {url}");
    }

    /// GETs `url` and follows its redirects to a page: its URL and the page.
    fn follow(&mut self, url: &str) -> (String, Reply) {
        let mut url = url.to_owned();
        for _ in 0..10 {
            let reply = self.send(&url, None);
            let Some(location) = reply.header("location") else {
                return (url, reply);
            };
            url = url::Url::parse(&url).unwrap().join(location).unwrap().to_string();
        }
        panic!("too many redirects, at {url}");
    }
}

/// Entra's sign-in page: a code for the authorize request at `entra_url` (its challenge, nonce and redirect
/// URI), naming the member by object id; returns scimd's callback URL the browser is sent back to.
fn sign_in_at_entra(fake: &FakeEntra, entra_url: &str, oid: &str) -> String {
    let q = query(entra_url);
    assert_eq!(q["code_challenge_method"], "S256");
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "aud": q["client_id"], "sub": "pairwise-sub", "exp": now + 3600, "iat": now, "nbf": now,
        "tid": "11111111-2222-3333-4444-555555555555", "oid": oid, "nonce": q["nonce"], "ver": "2.0",
        "preferred_username": "someone.else@a.example", "name": "Entra User",
    });
    fake.grant(
        &code,
        Grant {
            code_challenge: q["code_challenge"].clone(),
            redirect_uri: q["redirect_uri"].clone(),
            claims,
        },
    );
    let mut callback = url::Url::parse(&q["redirect_uri"]).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &q["state"]);
    callback.to_string()
}

fn the_sign_in_app_signs_a_member_in_through_scimd(db: &TestDb) {
    let Some(python) = python() else { return };
    let fake = &sso_entra::start_fake();
    let env = &TestApp::init_with(db, &["--entra-authority", &fake.base]);
    let a = env.a.id.clone();
    let ada = sso_entra::create_user(&env.client_a(), "ada@a.example", "oid-ada");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let app = format!("http://127.0.0.1:{port}");

    // Registered as its README says, with the app's redirect URI.
    let out = harness::scimd(
        dir.path(),
        Some(&env.db_url),
        &[
            "oauth-client",
            "create",
            "--name",
            "Example",
            "--redirect-uri",
            &format!("{app}/auth/callback"),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", harness::stderr(&out));
    let client: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut example = Example::start(
        &python,
        "sign-in/app.py",
        dir.path(),
        &[
            ("SCIMD_URL", &format!("http://{}", env.addr)),
            ("SCIMD_CLIENT_ID", client["client_id"].as_str().unwrap()),
            ("SCIMD_CLIENT_SECRET", client["client_secret"].as_str().unwrap()),
            ("PORT", &port.to_string()),
        ],
    );
    example.wait_listening(port);

    let mut browser = Browser::default();
    let home = browser.send(&format!("{app}/"), None);
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Sign in with scimd"), "{}", home.body);

    // The app -> scimd's authorize -> the org's sign-in -> Entra ID, which signs Ada in; then Entra ->
    // scimd's callback -> scimd's authorize -> the app's callback -> the app's page.
    let login = format!("{app}/login?email=ada%40a.example");
    let at_entra = browser.follow_to(&login, &format!("{}/", fake.base));
    let callback = sign_in_at_entra(fake, &at_entra, "oid-ada");
    let (url, page) = browser.follow(&callback);
    assert_eq!(
        (url.as_str(), page.status),
        (format!("{app}/").as_str(), 200),
        "{}",
        page.body
    );
    let signed_in = "Signed in as <strong>ada@a.example</strong>";
    assert!(
        page.body.contains(signed_in)
            && page.body.contains(&format!("member {ada}"))
            && page.body.contains(&format!("of org {a}")),
        "{}",
        page.body
    );

    // Signing out: the app asks who again.
    let out = browser.send(&format!("{app}/logout"), Some(""));
    assert_eq!(out.status, 302, "{}", out.body);
    let home = browser.send(&format!("{app}/"), None);
    assert!(!home.body.contains("ada@a.example") && home.body.contains("Sign in with scimd"));

    // Again (scimd's own session holds: no trip to Entra), then deprovisioned over SCIM: at the app's next
    // page, introspection says her access token is no longer active, and she is signed out.
    let (url, page) = browser.follow(&login);
    assert_eq!(url, format!("{app}/"));
    assert!(page.body.contains(signed_in), "{}", page.body);
    set_active(&env.client_a(), &ada, false);
    let home = browser.send(&format!("{app}/"), None);
    assert!(
        !home.body.contains("ada@a.example") && home.body.contains("Sign in with scimd"),
        "{}",
        home.body
    );
}

scimd_store::backend_tests!(
    the_feed_consumer_follows_the_feed_and_stops_on_a_revoked_key,
    the_webhook_receiver_verifies_deliveries_and_handles_each_event_once,
    the_sign_in_app_signs_a_member_in_through_scimd,
);
