//! Keys outside the database (issue #24): `serve` on PostgreSQL refuses to start without them unless the
//! operator opts out (warned), SQLite says where they are; `scimd keys rotate` re-seals every sealed secret
//! (SSO client secrets, webhook signing secrets, the OpenID Provider's keys, Shared Signals push authorization
//! headers) under the new key, after which
//! the old key opens none of them; and it moves the secrets off the key kept in the database.

use crate::harness::{CREATE_ACME, SCIMD, ServerProcess, scimd_with, stderr, stdout, url_backend_tests};
use scimd_store::models::sealed::{self, SealedColumn, SealedValue};
use scimd_store::models::server_secrets;
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, Store, StoreOptions};
use scimd_tokens::SecretKey;
use scimd_tokens::cipher::SecretCipher;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OLD: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const NEW: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const SESSION: &str = "a-session-signing-key-of-more-than-32-bytes";

fn ok_json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or(serde_json::Value::Null)
}

/// An org with an Azure AD connection, a webhook endpoint and an OpenID Provider key, sealed under the keys
/// `env` gives (none: the key kept in the database).
fn sealed_secrets(dir: &Path, url: &str, env: &[(&str, &str)]) -> String {
    let org = ok_json(&scimd_with(dir, Some(url), CREATE_ACME, env));
    let org = org["id"].as_str().unwrap().to_owned();
    let mut with_secret = env.to_vec();
    with_secret.push(("SCIMD_AZURE_CLIENT_SECRET", "the-azure-client-secret"));
    ok_json(&scimd_with(
        dir,
        Some(url),
        &[
            "sso",
            "set-azure",
            "--org",
            &org,
            "--tenant-id",
            "11111111-2222-3333-4444-555555555555",
            "--client-id",
            "11111111-2222-3333-4444-666666666666",
            "--json",
        ],
        &with_secret,
    ));
    let mut private = env.to_vec();
    private.push(("SCIMD_WEBHOOK_ALLOW_PRIVATE", "true"));
    ok_json(&scimd_with(
        dir,
        Some(url),
        &[
            "webhook",
            "create",
            "--org",
            &org,
            "--url",
            "http://127.0.0.1:9/hook",
            "--json",
        ],
        &private,
    ));
    ok_json(&scimd_with(
        dir,
        Some(url),
        &["oauth-key", "rotate", "--json"],
        env,
    ));
    ssf_push_stream(url, &org, env);
    org
}

/// A Shared Signals push stream of `org` whose receiver registered an authorization header (sealed).
fn ssf_push_stream(url: &str, org: &str, env: &[(&str, &str)]) {
    let secret = env
        .iter()
        .find(|(k, v)| *k == "SCIMD_SECRET_KEY" && !v.is_empty())
        .map(|(_, v)| SecretKey::parse(v).unwrap());
    let store = Store::open(url, StoreOptions::default()).unwrap();
    let clock: std::sync::Arc<dyn scimd_store::Clock> = std::sync::Arc::new(scimd_store::SystemClock);
    let org = OrgId::new(org);
    let key = scimd_tokens::ApiKeyService::new(store.clone(), clock.clone())
        .create_blocking("ssf receiver", Some(&org))
        .unwrap();
    let owner = scimd_tokens::ApiKeyAuth {
        id: key.id,
        org: Some(org),
    };
    let policy = scimd_webhooks::AddressPolicy { allow_private: true };
    let input = scimd_ssf::service::StreamInput {
        delivery: Some(scimd_ssf::service::DeliveryInput {
            method: scimd_ssf::model::PUSH.to_owned(),
            endpoint_url: Some("http://127.0.0.1:9/ssf".into()),
            authorization_header: Some("Bearer the-receiver-secret".into()),
        }),
        ..Default::default()
    };
    scimd_ssf::SsfService::new(store, clock, "http://127.0.0.1:9", secret, policy)
        .create_blocking(&owner, &input)
        .unwrap();
}

/// Every sealed value, with the org and purpose it was sealed with.
fn every_sealed_value(store: &Store) -> Vec<(SealedColumn, SealedValue, OrgId, String)> {
    let mut all = Vec::new();
    for column in SealedColumn::ALL {
        let context = scimd_server::cli::seal_context(column);
        let values = store.read(|conn| sealed::page(conn, column, "", 1000)).unwrap();
        assert!(!values.is_empty(), "no {column:?}");
        for value in values {
            let (org, purpose) = context(&value);
            all.push((column, value, org, purpose));
        }
    }
    all
}

/// Whether a process given `key` alone opens `value`.
fn opens(store: &Store, key: &str, value: &(SealedColumn, SealedValue, OrgId, String)) -> bool {
    let key = SecretKey::parse(key).unwrap();
    let now = chrono::Utc::now().naive_utc();
    let cipher = store
        .read(|conn| SecretCipher::load(Some(&key), conn, now))
        .unwrap();
    cipher.decrypt(&value.2, &value.3, &value.1.sealed).is_ok()
}

fn resealed(report: &serde_json::Value) -> Vec<(String, u64, u64)> {
    report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["secrets"].as_str().unwrap().to_owned(),
                c["resealed"].as_u64().unwrap(),
                c["already_current"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rotation_reseals_every_secret_and_the_old_key_opens_none(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let old = [("SCIMD_SECRET_KEY", OLD), ("SCIMD_SESSION_SIGNING_KEY", SESSION)];
    sealed_secrets(dir.path(), url, &old);
    let store = Store::open(url, StoreOptions::default()).unwrap();
    let before = every_sealed_value(&store);
    assert!(before.iter().all(|v| opens(&store, OLD, v)));
    assert!(before.iter().all(|v| !opens(&store, NEW, v)));

    // The new key seals; the old one still opens, for the processes and for the rotation.
    let rotating = [
        ("SCIMD_SECRET_KEY", NEW),
        ("SCIMD_SECRET_KEY_PREVIOUS", OLD),
        ("SCIMD_SESSION_SIGNING_KEY", SESSION),
    ];
    let report = ok_json(&scimd_with(
        dir.path(),
        Some(url),
        &["keys", "rotate", "--json"],
        &rotating,
    ));
    for (secrets, moved, current) in resealed(&report) {
        assert!(moved >= 1, "{secrets}: {report}");
        assert_eq!(current, 0, "{secrets}: {report}");
    }
    let after = every_sealed_value(&store);
    assert_eq!(after.len(), before.len());
    assert!(
        after.iter().all(|v| opens(&store, NEW, v)),
        "the new key opens every secret"
    );
    assert!(
        after.iter().all(|v| !opens(&store, OLD, v)),
        "the old key opens none"
    );

    // Run again, nothing is left to move.
    let again = ok_json(&scimd_with(
        dir.path(),
        Some(url),
        &["keys", "rotate", "--json"],
        &rotating,
    ));
    assert!(
        resealed(&again).iter().all(|(_, moved, _)| *moved == 0),
        "{again}"
    );
    assert!(!again.to_string().contains(OLD) && !again.to_string().contains(NEW));
}
url_backend_tests!(rotation_reseals_every_secret_and_the_old_key_opens_none: rotation_sqlite, rotation_postgres);

fn rotation_moves_the_secrets_off_the_key_kept_in_the_database(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    // No secret key given: the one generated and kept in the database seals (the embedded default).
    let unset = [("SCIMD_SECRET_KEY", ""), ("SCIMD_SESSION_SIGNING_KEY", SESSION)];
    sealed_secrets(dir.path(), url, &unset);
    let store = Store::open(url, StoreOptions::default()).unwrap();
    let stored_key = || {
        store
            .read(|conn| server_secrets::get(conn, "sso_secret_key_v1"))
            .unwrap()
    };
    assert!(stored_key().is_some());
    let report = ok_json(&scimd_with(
        dir.path(),
        Some(url),
        &["keys", "rotate", "--json"],
        &[("SCIMD_SECRET_KEY", NEW), ("SCIMD_SESSION_SIGNING_KEY", SESSION)],
    ));
    assert_eq!(report["stored_key_deleted"], true, "{report}");
    assert!(
        resealed(&report).iter().all(|(_, moved, _)| *moved >= 1),
        "{report}"
    );
    assert_eq!(stored_key(), None, "the database no longer holds a key");
    assert!(every_sealed_value(&store).iter().all(|v| opens(&store, NEW, v)));

    // Without a key to rotate to, the command says what to set.
    let refused = scimd_with(dir.path(), Some(url), &["keys", "rotate"], &unset);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("SCIMD_SECRET_KEY"),
        "{}",
        stderr(&refused)
    );
}
url_backend_tests!(rotation_moves_the_secrets_off_the_key_kept_in_the_database: stored_key_sqlite, stored_key_postgres);

/// `scimd serve` with `env`, waited for up to a minute (a server that starts instead is killed, and fails).
fn serve_refused(dir: &Path, url: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(SCIMD);
    cmd.arg("serve")
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("SCIMD_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("SCIMD_") {
            cmd.env_remove(key);
        }
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("scimd serve started without its keys ({env:?})");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    stderr(&out)
}

#[test]
fn serve_on_postgres_refuses_without_its_keys_and_warns_when_told_to_keep_them_inside() {
    let Some(db) = TestDb::postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let none = [("SCIMD_SECRET_KEY", ""), ("SCIMD_SESSION_SIGNING_KEY", "")];
    let err = serve_refused(dir.path(), &db.url, &none);
    for named in [
        "SCIMD_SECRET_KEY (or SCIMD_SECRET_KEY_FILE)",
        "SCIMD_SESSION_SIGNING_KEY (or SCIMD_SESSION_SIGNING_KEY_FILE)",
        "scimd keys generate",
        "SCIMD_ALLOW_KEYS_IN_DATABASE=true",
    ] {
        assert!(err.contains(named), "{named}: {err}");
    }
    // One key given: the message names the other only.
    let err = serve_refused(
        dir.path(),
        &db.url,
        &[("SCIMD_SECRET_KEY", NEW), ("SCIMD_SESSION_SIGNING_KEY", "")],
    );
    assert!(err.contains("SCIMD_SESSION_SIGNING_KEY"), "{err}");
    assert!(!err.contains("SCIMD_SECRET_KEY (or"), "{err}");

    // The explicit opt-out starts, with a warning at start.
    let log = dir.path().join("serve.log");
    let server = ServerProcess::start_logging_to(
        dir.path(),
        Some(&db.url),
        &[
            ("SCIMD_SECRET_KEY", ""),
            ("SCIMD_SESSION_SIGNING_KEY", ""),
            ("SCIMD_ALLOW_KEYS_IN_DATABASE", "true"),
        ],
        &log,
    );
    let health = crate::harness::get(server.addr, "/healthz");
    assert_eq!(health.status, 200);
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("SCIMD_ALLOW_KEYS_IN_DATABASE=true"), "{text}");
}

#[test]
fn serve_on_sqlite_keeps_generating_its_keys_and_says_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let server = ServerProcess::start_logging_to(
        dir.path(),
        Some("sqlite://k.db"),
        &[("SCIMD_NO_BOOTSTRAP", "true"), ("RUST_LOG", "info")],
        &log,
    );
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("keys: ")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("kept in the database"), "{text}");
}
