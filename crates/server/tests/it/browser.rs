//! The admin pages in a real browser: headless Chromium driven over WebDriver (chromedriver + fantoccini)
//! against the real `scimd` binary. One walk through the life of a SCIM configuration, with a screenshot of
//! each state in `target/screenshots/`; at the end an IdP deactivates too many members at once, and the
//! provisioning activity, the safety valve's hold banner and its release are checked in the browser.
//!
//! Needs `/usr/bin/chromedriver` and Chromium (`apt-get install -y chromium chromium-driver`; `.ci/run`
//! installs them). Without them the test fails saying so, unless `SCIMD_SKIP_BROWSER_TESTS=1`.

use crate::harness::{SCIMD, stdout};
use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const SKIP_ENV: &str = "SCIMD_SKIP_BROWSER_TESTS";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// `scimd serve` on a port chosen first, so that its public URL (login links, the endpoint URL) is the
/// address the browser uses. Killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub(crate) fn start(dir: &Path, db: &str) -> Server {
        let bind = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(SCIMD);
        crate::harness::keys_for_postgres(&mut cmd, Some(db));
        let mut child = cmd
            .current_dir(dir)
            .env("DATABASE_URL", db)
            .env("SCIMD_BIND", &bind)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn scimd");
        let out = child.stdout.take().unwrap();
        let mut lines = BufReader::new(out).lines();
        let listening = lines
            .by_ref()
            .take(50)
            .map_while(Result::ok)
            .any(|line| line.starts_with("scimd listening on"));
        assert!(listening, "scimd did not start");
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base: format!("http://{bind}"),
        }
    }
}

/// A chromedriver child on a free port, killed on drop.
pub(crate) struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub(crate) fn start() -> Driver {
        let port = free_port();
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let out = child.stdout.take().unwrap();
        let mut lines = BufReader::new(out).lines();
        let started = lines
            .by_ref()
            .take(20)
            .map_while(Result::ok)
            .any(|line| line.contains("started successfully"));
        assert!(started, "chromedriver did not start");
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Driver { child, port }
    }
}

#[expect(
    clippy::panic,
    reason = "a missing browser must fail the test with how to install it"
)]
pub(crate) fn browser_available() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("skipped: the browser test ({SKIP_ENV}=1 and no {CHROMEDRIVER})");
        return false;
    }
    panic!(
        "the browser test needs Chromium and chromedriver: run `apt-get update && apt-get install -y chromium \
         chromium-driver` (or set {SKIP_ENV}=1 to skip it outside CI)"
    );
}

pub(crate) fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

pub(crate) async fn connect(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("open a WebDriver session")
}

/// Takes a full-height screenshot at `width` pixels.
pub(crate) async fn shot(c: &Client, dir: &Path, name: &str, width: u32) -> PathBuf {
    c.set_window_size(width, 1000).await.unwrap();
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    let height = c
        .execute(
            "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(900)
        .clamp(600, 4000);
    c.set_window_size(width, u32::try_from(height).unwrap() + 140)
        .await
        .unwrap();
    let png = c.screenshot().await.unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    c.set_window_size(1440, 1000).await.unwrap();
    path
}

/// The tables of the page that do not fit their card: wider than the card, or scrolling inside it.
const TABLES_THAT_DO_NOT_FIT: &str = r#"
const out = [];
for (const t of document.querySelectorAll('table')) {
  const card = t.closest('.card') || t.parentElement;
  const wrap = t.parentElement;
  const name = t.id || 'a table';
  const width = Math.ceil(t.getBoundingClientRect().width);
  if (width > card.clientWidth + 1 || t.scrollWidth > card.clientWidth + 1) {
    out.push(`${name}: ${Math.max(width, t.scrollWidth)} px in a card of ${card.clientWidth} px`);
  }
  if (t.scrollWidth > t.clientWidth + 1) out.push(`${name}: content ${t.scrollWidth} px in ${t.clientWidth} px`);
  if (wrap.scrollWidth > wrap.clientWidth + 1) out.push(`${name}: scrolls (${wrap.scrollWidth} px in ${wrap.clientWidth} px)`);
}
return out;
"#;

/// Checks at 1280 and 375 px that every table of the page fits its card, and screenshots the page at both.
pub(crate) async fn fits_and_shots(c: &Client, dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for width in [1280, 375] {
        c.set_window_size(width, 1000).await.unwrap();
        let offenders = c.execute(TABLES_THAT_DO_NOT_FIT, vec![]).await.unwrap();
        let offenders: Vec<String> = serde_json::from_value(offenders).unwrap();
        assert!(offenders.is_empty(), "{name} at {width} px: {offenders:?}");
        paths.push(shot(c, dir, &format!("{name}-{width}"), width).await);
    }
    paths
}

/// One GET with a bearer token, through the tests' one HTTP client; returns the status and body.
fn scim_get(url: &str, token: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let reply = crate::scim_client::Client {
        addr: authority.parse().unwrap(),
        base: String::new(),
        token: Some(token.to_owned()),
    }
    .get(path);
    (reply.status, reply.body)
}

pub(crate) fn cli(dir: &Path, db: &str, args: &[&str]) -> serde_json::Value {
    let mut cmd = Command::new(SCIMD);
    crate::harness::keys_for_postgres(&mut cmd, Some(db));
    let out = cmd
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scimd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout(&out)).unwrap()
}

pub(crate) async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// Clicks, then waits until the page that follows shows `then` (a click may return before the navigation it
/// starts has finished). While the navigation runs, chromedriver may answer a lookup with "aborted by
/// navigation" rather than "no such element": both mean "not yet", until the deadline.
pub(crate) async fn click(c: &Client, css: &str, then: &str) {
    c.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if c.find(Locator::Css(then)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.find(Locator::Css(then))
        .await
        .map_err(|e| format!("after clicking {css}, {then} never appeared: {e}"))
        .unwrap();
}

pub(crate) async fn fill(c: &Client, css: &str, value: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

#[tokio::test]
async fn an_admin_sets_up_sso_and_scim_in_a_browser() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("scimd.db").display());
    let org = cli(
        dir.path(),
        &db,
        &[
            "org",
            "create",
            "--name",
            "Acme <img src=x onerror=alert(1)>",
            "--owner-email",
            "owner@acme.test",
            "--json",
        ],
    );
    let org_id = org["id"].as_str().unwrap().to_owned();
    let server = Server::start(dir.path(), &db);
    let base = server.base.clone();
    let link = cli(
        dir.path(),
        &db,
        &[
            "admin",
            "login-link",
            "--org",
            &org_id,
            "--email",
            "owner@acme.test",
            "--public-url",
            &base,
            "--json",
        ],
    );
    let link = link["url"].as_str().unwrap().to_owned();

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = connect(&driver, profile.path()).await;
    c.set_window_size(1440, 1000).await.unwrap();
    let shots = screenshots_dir();
    let mut saved = Vec::new();

    // The login link lands on a one-click page; continuing sets the session cookie.
    c.goto(&link).await.unwrap();
    saved.push(shot(&c, &shots, "01-login-link", 1440).await);
    click(&c, "#continue", "#sso-title").await;
    let landed = c.current_url().await.unwrap();
    assert!(
        landed.path().ends_with("/sso"),
        "{landed}: {}",
        c.source().await.unwrap()
    );
    assert_eq!(text_of(&c, "#scim-status").await, "Unavailable");
    assert!(
        text_of(&c, "#scim-disabled")
            .await
            .contains("needs an SSO connection")
    );
    // The org's name came from outside: it is shown as text, never as markup.
    assert!(
        text_of(&c, ".org-name")
            .await
            .contains("<img src=x onerror=alert(1)>")
    );
    assert!(c.find(Locator::Css(".org-name img")).await.is_err());
    saved.push(shot(&c, &shots, "02-sso-not-connected", 1440).await);

    // Azure AD, first with mistakes: each error shows next to its field, and what was typed stays.
    click(&c, "#kind-azure", "#azure-form").await;
    fill(&c, "#tenant_id", "contoso").await;
    fill(&c, "#client_id", "7b0e2d6c-52a4-4c47-9b8c-2f1f0f4c8a11").await;
    click(&c, "#save-azure", "#tenant_id-error").await;
    assert!(text_of(&c, "#tenant_id-error").await.contains("must be a UUID"));
    assert!(text_of(&c, "#client_secret-error").await.contains("required"));
    let kept = c
        .find(Locator::Css("#client_id"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("7b0e2d6c-52a4-4c47-9b8c-2f1f0f4c8a11"));
    saved.push(shot(&c, &shots, "03-sso-field-errors", 1440).await);
    fill(&c, "#tenant_id", "4d6f1a2b-9c3e-4f5a-8b7c-1d2e3f4a5b6c").await;
    fill(&c, "#client_secret", "s3cr3t~value-never-shown").await;
    click(&c, "#save-azure", "#sso-summary").await;
    assert_eq!(text_of(&c, "#sso-status").await, "Connected");
    assert!(!c.source().await.unwrap().contains("s3cr3t~value-never-shown"));
    saved.push(shot(&c, &shots, "04-sso-connected", 1440).await);

    // Generate SCIM Token: the dialog shows the endpoint URL and the token, once.
    click(&c, "#generate", "#scim-token").await;
    let endpoint = text_of(&c, "#endpoint-url").await;
    let token = text_of(&c, "#scim-token").await;
    assert_eq!(endpoint, format!("{base}/scim/v2/{org_id}"));
    assert!(token.starts_with("scimd_") && token.len() == 55, "{token}");
    assert!(text_of(&c, "#shown-once").await.contains("shown only once"));
    saved.push(shot(&c, &shots, "05-token-reveal", 1440).await);
    saved.push(shot(&c, &shots, "05-token-reveal-375", 375).await);

    // The IdP's first request: a lookup that must succeed.
    let users = format!("{endpoint}/Users?filter=userName%20eq%20%22nobody%40acme.test%22");
    let (status, body) = scim_get(&users, &token);
    assert_eq!(status, 200, "{body}");

    // Back on the page, the token is gone for good; the configuration is shown instead.
    click(&c, "#done", "#scim-summary").await;
    c.refresh().await.unwrap();
    assert!(!c.source().await.unwrap().contains(&token));
    assert_eq!(text_of(&c, "#scim-status").await, "Active");
    assert_eq!(text_of(&c, "#configured-endpoint-url").await, endpoint);
    assert!(text_of(&c, "#token-created").await.contains("owner@acme.test"));
    assert!(!text_of(&c, "#token-last-used").await.contains("Not used"));
    saved.push(shot(&c, &shots, "06-scim-configured", 1440).await);
    saved.push(shot(&c, &shots, "06-scim-configured-375", 375).await);

    // Regenerate with no grace: a new token; the old one stops at once.
    click(&c, "#regenerate", "#regenerate-form").await;
    saved.push(shot(&c, &shots, "07-regenerate-dialog", 1440).await);
    c.find(Locator::Css("#grace-none"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "#confirm-regenerate", "#scim-token").await;
    let second = text_of(&c, "#scim-token").await;
    assert_ne!(second, token);
    assert_eq!(scim_get(&users, &token).0, 401);
    assert_eq!(scim_get(&users, &second).0, 200);
    saved.push(shot(&c, &shots, "08-regenerated-reveal", 1440).await);

    // Delete the SCIM configuration, after a confirmation; the token is refused from then on.
    click(&c, "#done", "#delete-scim").await;
    click(&c, "#delete-scim", "#delete-form").await;
    saved.push(shot(&c, &shots, "09-delete-confirm", 1440).await);
    click(&c, "#confirm-delete", ".toast").await;
    assert!(text_of(&c, ".toast").await.contains("SCIM configuration deleted"));
    assert_eq!(text_of(&c, "#scim-status").await, "Not configured");
    saved.push(shot(&c, &shots, "10-scim-deleted", 1440).await);
    assert_eq!(scim_get(&users, &second).0, 401);

    // The other pages, wide and narrow.
    c.goto(&format!("{base}/admin/orgs/{org_id}/members"))
        .await
        .unwrap();
    assert!(text_of(&c, "#members-table").await.contains("owner@acme.test"));
    saved.push(shot(&c, &shots, "11-members", 1440).await);
    saved.push(shot(&c, &shots, "11-members-375", 375).await);
    c.goto(&format!("{base}/admin/orgs/{org_id}/audit"))
        .await
        .unwrap();
    let audit = text_of(&c, "#audit-table").await;
    for action in [
        "admin.login",
        "sso.azure_set",
        "token.generated",
        "token.regenerated",
        "token.revoked",
    ] {
        assert!(audit.contains(action), "{action} missing from the audit trail");
    }
    saved.push(shot(&c, &shots, "12-audit", 1440).await);

    // Webhooks: an endpoint added through the form, its signing secret shown once, then the page.
    c.goto(&format!("{base}/admin/orgs/{org_id}/webhooks"))
        .await
        .unwrap();
    fill(&c, "#webhook_url", "https://hooks.example.com/scimd").await;
    for t in ["user.deactivated", "user.deleted"] {
        let css = format!(r#"input[name="event:{t}"]"#);
        c.find(Locator::Css(&css)).await.unwrap().click().await.unwrap();
    }
    click(&c, "#webhook-form button[type=submit]", "#webhook-secret").await;
    assert!(text_of(&c, "#webhook-secret").await.starts_with("whsec_"));
    saved.push(shot(&c, &shots, "12b-webhook-secret", 1440).await);
    click(&c, "#done", "#endpoints-table").await;
    let endpoints = text_of(&c, "#endpoints-table").await;
    assert!(endpoints.contains("hooks.example.com"), "{endpoints}");
    assert!(
        endpoints.contains("user.deactivated, user.deleted"),
        "the checked types: {endpoints}"
    );
    saved.push(shot(&c, &shots, "12c-webhooks", 1440).await);
    saved.push(shot(&c, &shots, "12c-webhooks-375", 375).await);

    // The IdP at work with a new token: it has 12 users, provisioned yesterday, and deactivates 11 of them the
    // Okta way. The 11th trips the deprovisioning safety valve (at least 10 within an hour): 503 with
    // Retry-After. (Users created within the valve's hour would not count: test users come and go.)
    c.goto(&format!("{base}/admin/orgs/{org_id}/sso")).await.unwrap();
    click(&c, "#generate", "#scim-token").await;
    let third = text_of(&c, "#scim-token").await;
    click(&c, "#done", "#scim-summary").await;
    let idp = crate::scim_client::Client {
        addr: base.trim_start_matches("http://").parse().unwrap(),
        base: format!("/scim/v2/{org_id}"),
        token: Some(third),
    };
    let deactivate = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}"#;
    let mut ids = Vec::new();
    for i in 0..12 {
        let user = format!(
            r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user{i}@acme.test","active":true}}"#
        );
        let created = idp.send("POST", "/Users", Some(&user), &[]);
        assert_eq!(created.status, 201, "{}", created.body);
        ids.push(created.json()["id"].as_str().unwrap().to_owned());
    }
    {
        use diesel::RunQueryDsl;
        let store = scimd_store::Store::connect(&db, scimd_store::StoreOptions::default()).unwrap();
        let yesterday = "UPDATE members SET created_at = datetime(created_at, '-1 day')";
        store
            .write(|conn| Ok::<_, scimd_store::StoreError>(diesel::sql_query(yesterday).execute(conn)?))
            .unwrap();
    }
    for id in &ids[..10] {
        let r = idp.send("PATCH", &format!("/Users/{id}"), Some(deactivate), &[]);
        assert!(r.status == 200 || r.status == 204, "{}: {}", r.status, r.body);
    }
    let held = idp.send("PATCH", &format!("/Users/{}", ids[10]), Some(deactivate), &[]);
    assert_eq!(held.status, 503, "{}", held.body);
    assert!(held.header("retry-after").is_some());

    // Provisioning activity: the test's SCIM requests, under the chart and the hold banner. The recorder
    // writes in batches every 250 ms, so reload until the last request's row is there (a bounded number of
    // times).
    let activity = format!("{base}/admin/orgs/{org_id}/activity");
    let held_row =
        Locator::XPath("//table[@id='activity-table']//span[contains(@class, 'pill') and .='503']");
    let mut found = false;
    for _ in 0..50 {
        c.goto(&activity).await.unwrap();
        if c.find(held_row).await.is_ok() {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        found,
        "the held request never appeared: {}",
        c.source().await.unwrap()
    );
    assert!(
        c.find(Locator::Css("#activity-chart svg.activity-chart"))
            .await
            .is_ok()
    );
    let table = text_of(&c, "#activity-table").await;
    assert!(table.contains("/Users/{id}"), "{table}");
    assert!(table.contains("Okta path-less replace"), "{table}");
    let lookups = c
        .find_all(Locator::XPath(
            "//table[@id='activity-table']//code[contains(., 'filter=userName eq \"nobody@acme.test\"')]",
        ))
        .await
        .unwrap();
    assert!(!lookups.is_empty(), "the first lookup is listed");
    assert!(c.find(Locator::Css("#hold-banner")).await.is_ok());
    saved.push(shot(&c, &shots, "14-activity", 1440).await);
    saved.push(shot(&c, &shots, "14-activity-375", 375).await);

    // The SSO page says the same, with the counts; releasing the hold clears the banner.
    c.goto(&format!("{base}/admin/orgs/{org_id}/sso")).await.unwrap();
    assert_eq!(text_of(&c, "#hold-count").await, "10");
    assert_eq!(text_of(&c, "#hold-threshold").await, "10");
    assert_eq!(text_of(&c, "#valve-status").await, "Holding");
    saved.push(shot(&c, &shots, "15-hold-banner", 1440).await);
    saved.push(shot(&c, &shots, "15-hold-banner-375", 375).await);
    click(&c, "#release-hold", ".toast").await;
    assert!(text_of(&c, ".toast").await.contains("Hold released"));
    assert!(c.find(Locator::Css("#hold-banner")).await.is_err());
    let released = idp.send("PATCH", &format!("/Users/{}", ids[10]), Some(deactivate), &[]);
    assert!(
        released.status == 200 || released.status == 204,
        "{}",
        released.body
    );

    // Sign out: the session is over, and the next page says so.
    click(&c, "#sign-out", "#signed-out").await;
    saved.push(shot(&c, &shots, "13-signed-out", 1440).await);
    c.goto(&format!("{base}/admin/orgs/{org_id}/sso")).await.unwrap();
    assert!(c.source().await.unwrap().contains("Sign in required"));

    c.close().await.unwrap();
    eprintln!("screenshots:");
    for path in saved {
        eprintln!("  {}", path.display());
    }
}

/// `scimd` with no settings but the address, in an empty directory: the README's quickstart. Returns the
/// server, the demo org's id and the login link it printed.
fn start_as_in_the_quickstart(dir: &Path) -> (Server, String, String) {
    let bind = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(SCIMD)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("SCIMD_BIND", &bind)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn scimd");
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref().take(50).map_while(Result::ok) {
        let done = line.starts_with("scimd listening on");
        banner.push(line);
        if done {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let org = banner
        .iter()
        .find_map(|l| l.strip_prefix("Bootstrapped a demo organization: Demo Org (id "))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no demo org in {banner:?}"))
        .to_owned();
    let link = banner
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("admin login link (single use, 10 minutes): ")
        })
        .unwrap_or_else(|| panic!("no login link in {banner:?}"))
        .to_owned();
    let server = Server {
        child,
        base: format!("http://{bind}"),
    };
    (server, org, link)
}

/// README.md "Quickstart" as written: the printed link, the SSO page (the demo's placeholder shown as such),
/// a token, a member provisioned over SCIM and opened from the members list, the audit sentence for it, and
/// the activity row of a refused request with scimd's detail. Every page is screenshot at 1280 and 375 px,
/// and fails if a table is wider than its card.
#[tokio::test]
async fn the_readme_quickstart_in_a_browser() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, org_id, link) = start_as_in_the_quickstart(dir.path());
    let base = server.base.clone();
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = connect(&driver, profile.path()).await;
    let shots = screenshots_dir();
    let mut saved = Vec::new();

    // 2. Open the printed link and Continue: the demo org's SSO page.
    c.goto(&link).await.unwrap();
    saved.extend(fits_and_shots(&c, &shots, "quickstart-01-login-link").await);
    click(&c, "#continue", "#sso-title").await;
    // The demo's Azure AD connection is a placeholder, and says so, with the step that replaces it.
    assert_eq!(text_of(&c, "#sso-status").await, "Placeholder");
    assert!(
        text_of(&c, "#sso-placeholder")
            .await
            .contains("not a real connection")
    );
    assert!(c.find(Locator::Css("#sso-replace-placeholder")).await.is_ok());
    saved.extend(fits_and_shots(&c, &shots, "quickstart-02-sso-placeholder").await);

    // 3. Generate a SCIM token.
    click(&c, "#generate", "#scim-token").await;
    let endpoint = text_of(&c, "#endpoint-url").await;
    let token = text_of(&c, "#scim-token").await;
    assert_eq!(endpoint, format!("{base}/scim/v2/{org_id}"));
    saved.extend(fits_and_shots(&c, &shots, "quickstart-03-token").await);
    click(&c, "#done", "#scim-summary").await;

    // 4. Provision a user as an IdP would; 5. deactivate her the Okta way. And one request scimd refuses.
    let idp = crate::scim_client::Client {
        addr: base.trim_start_matches("http://").parse().unwrap(),
        base: format!("/scim/v2/{org_id}"),
        token: Some(token.clone()),
    };
    let alice = r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice@demo.example",
        "name": {"givenName": "Alice", "familyName": "Smith"}}"#;
    let created = idp.send("POST", "/Users", Some(alice), &[]);
    assert_eq!(created.status, 201, "{}", created.body);
    let alice_id = created.json()["id"].as_str().unwrap().to_owned();
    let deactivate = r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]}"#;
    let patched = idp.send("PATCH", &format!("/Users/{alice_id}"), Some(deactivate), &[]);
    assert_eq!(patched.status, 200, "{}", patched.body);
    let nameless =
        r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "name": {"givenName": "Bob"}}"#;
    let refused = idp.send("POST", "/Users", Some(nameless), &[]);
    assert_eq!(refused.status, 400, "{}", refused.body);
    let detail = refused.json()["detail"].as_str().unwrap().to_owned();

    // Alice on the members list, opened from it.
    c.goto(&format!("{base}/admin/orgs/{org_id}/members"))
        .await
        .unwrap();
    saved.extend(fits_and_shots(&c, &shots, "quickstart-04-members").await);
    c.find(Locator::XPath(
        "//table[@id='members-table']//a[contains(., 'alice@demo.example')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while c.find(Locator::Css("#member-title")).await.is_err() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&format!("/members/{alice_id}"))
    );
    assert_eq!(text_of(&c, "#member-title").await, "Alice Smith");
    assert!(text_of(&c, "#member-status").await.contains("Deactivated"));
    assert!(
        text_of(&c, "#member-document")
            .await
            .contains("\"givenName\": \"Alice\"")
    );
    let tail = &token[token.len() - 4..];
    let history = text_of(&c, "#member-history-table").await;
    assert!(
        history.contains(&format!(
            "Okta (SCIM token …{tail}) deactivated alice@demo.example"
        )),
        "{history}"
    );
    saved.extend(fits_and_shots(&c, &shots, "quickstart-05-member").await);

    // The audit sentence for her.
    c.goto(&format!("{base}/admin/orgs/{org_id}/audit"))
        .await
        .unwrap();
    let sentences: Vec<String> = {
        let mut out = Vec::new();
        for e in c.find_all(Locator::Css("#audit-table .sentence")).await.unwrap() {
            out.push(e.text().await.unwrap());
        }
        out
    };
    let provisioned = format!("Your identity provider (SCIM token …{tail}) provisioned alice@demo.example");
    assert!(sentences.contains(&provisioned), "{sentences:?}");
    let to_member = c
        .find(Locator::XPath(&format!(
            "//table[@id='audit-table']//p[@class='sentence'][contains(., 'provisioned')]/a[contains(@href, '/members/{alice_id}')]"
        )))
        .await;
    assert!(to_member.is_ok(), "the sentence links to her page");
    saved.extend(fits_and_shots(&c, &shots, "quickstart-06-audit").await);

    // The activity row of the refused request, with scimd's detail (the recorder writes every 250 ms).
    let activity = format!("{base}/admin/orgs/{org_id}/activity?outcome=client_error");
    let mut shown = None;
    for _ in 0..50 {
        c.goto(&activity).await.unwrap();
        if let Ok(d) = c.find(Locator::Css("#activity-table .activity-detail")).await {
            shown = Some(d.text().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown.as_deref(), Some(detail.as_str()));
    let row = text_of(&c, "#activity-table tbody tr").await;
    assert!(
        row.contains("POST") && row.contains("/Users") && row.contains("400"),
        "{row}"
    );
    saved.extend(fits_and_shots(&c, &shots, "quickstart-07-activity-refused").await);
    c.goto(&format!("{base}/admin/orgs/{org_id}/activity"))
        .await
        .unwrap();
    saved.extend(fits_and_shots(&c, &shots, "quickstart-08-activity").await);

    // The other pages an admin visits, wide and narrow.
    for (page, name) in [("groups", "09-groups"), ("webhooks", "10-webhooks")] {
        c.goto(&format!("{base}/admin/orgs/{org_id}/{page}"))
            .await
            .unwrap();
        saved.extend(fits_and_shots(&c, &shots, &format!("quickstart-{name}")).await);
    }

    c.close().await.unwrap();
    drop(server);
    eprintln!("screenshots:");
    for path in saved {
        eprintln!("  {}", path.display());
    }
}
