//! TLS to PostgreSQL: libpq's `sslmode`, `sslrootcert` and friends in `DATABASE_URL` work, the connections are
//! encrypted (`pg_stat_ssl`), and a server certificate that does not verify is a clear error, never a panic.
//! The test server is the machine's PostgreSQL with `ssl = on` and its own self-signed certificate, which the
//! tests use as the root (PostgreSQL only; skipped with a line when `SCIMD_TEST_POSTGRES_URL` is unset).

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use scimd_store::testing::TestDb;
use scimd_store::{Store, StoreError, StoreOptions};
use std::path::PathBuf;

/// A fresh PostgreSQL schema and the path of the server's certificate (its own root: it is self-signed).
fn server_with_tls() -> Option<(TestDb, PathBuf)> {
    let db = TestDb::postgres()?;
    let setting = |name: &str| -> String {
        let query = format!("current_setting('{name}')");
        db.with_conn(|conn| {
            diesel::select(diesel::dsl::sql::<Text>(&query))
                .get_result(conn)
                .unwrap()
        })
        .expect("read a server setting")
    };
    assert_eq!(
        setting("ssl"),
        "on",
        "the test PostgreSQL must have ssl = on (Debian's default, with its snake-oil certificate)"
    );
    // ssl_cert_file is absolute on Debian; a relative one is relative to the data directory.
    let cert = PathBuf::from(setting("data_directory")).join(setting("ssl_cert_file"));
    assert!(
        cert.is_file(),
        "the server certificate {} is readable",
        cert.display()
    );
    Some((db, cert))
}

fn with(url: &str, params: &str) -> String {
    format!("{url}&{params}")
}

/// Whether the store's pooled connection is encrypted, by the server's own account.
fn encrypted(store: &Store) -> bool {
    store
        .read(|conn| {
            Ok::<_, StoreError>(
                diesel::select(diesel::dsl::sql::<Bool>(
                    "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
                ))
                .get_result::<bool>(conn)?,
            )
        })
        .unwrap()
}

#[test]
fn sslmode_require_encrypts_every_connection() {
    let Some((db, _)) = server_with_tls() else { return };
    let store = Store::open(&with(&db.url, "sslmode=require"), StoreOptions::default()).unwrap();
    assert!(encrypted(&store));
    // and sslmode=disable is plaintext, so the check above can tell the two apart
    let plain = Store::open(&with(&db.url, "sslmode=disable"), StoreOptions::default()).unwrap();
    assert!(!encrypted(&plain));
}

#[test]
fn verify_ca_accepts_the_server_signed_by_the_given_root() {
    let Some((db, cert)) = server_with_tls() else {
        return;
    };
    let url = with(
        &db.url,
        &format!("sslmode=verify-ca&sslrootcert={}", cert.display()),
    );
    let store = Store::open(&url, StoreOptions::default()).unwrap();
    assert!(encrypted(&store));
}

#[test]
fn a_wrong_root_is_a_clear_error_naming_the_reason() {
    let Some((db, _)) = server_with_tls() else { return };
    let wrong = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/not-the-server-ca.pem");
    let url = with(
        &db.url,
        &format!("sslmode=verify-ca&sslrootcert={}", wrong.display()),
    );
    let err = Store::open(&url, StoreOptions::default()).expect_err("a wrong root is refused");
    let text = err.to_string();
    assert!(matches!(err, StoreError::Connect(_)), "{err:?}");
    assert!(text.contains("certificate verify failed"), "{text}");
    // a root file that does not exist is also a clear connection error
    let url = with(&db.url, "sslmode=verify-ca&sslrootcert=/nonexistent/root.pem");
    let text = Store::open(&url, StoreOptions::default())
        .expect_err("refused")
        .to_string();
    assert!(text.contains("root.pem"), "{text}");
}

#[test]
fn verify_full_checks_the_host_name() {
    let Some((db, cert)) = server_with_tls() else {
        return;
    };
    // The snake-oil certificate names the machine, never 127.0.0.1: verify-full must refuse it.
    let url = with(
        &db.url,
        &format!("sslmode=verify-full&sslrootcert={}", cert.display()),
    );
    let text = Store::open(&url, StoreOptions::default())
        .expect_err("a host mismatch is refused")
        .to_string();
    assert!(text.contains("does not match host name"), "{text}");
}
