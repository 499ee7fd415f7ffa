//! Secrets never rest anywhere: after tokens are generated, rotated and used, neither the SQLite files nor a
//! dump of every PostgreSQL table holds a plaintext token (or the Azure AD client secret), and no log line
//! does either.

use crate::fixtures::{self, bearer};
use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use scimd_store::Backend;
use scimd_store::testing::TestDb;
use scimd_tokens::{Expiry, Grace};
use std::sync::{Arc, Mutex};

/// Generates, rotates and uses tokens and a login link; returns every secret that was handed out.
fn hand_out_secrets(db: &TestDb) -> Vec<String> {
    let w = fixtures::world_with_sso(db);
    let mut secrets = vec![fixtures::AZURE_SECRET.to_owned()];
    let first = w.token("cli", Expiry::OneYear);
    let second = w.rotate("cli", Grace::OneDay, Expiry::Never);
    for token in [&first, &second] {
        w.p.tokens.verify_blocking(&w.org, Some(&bearer(token))).unwrap();
    }
    let link =
        w.p.sessions
            .issue_login_link_blocking(&w.org, fixtures::OWNER_EMAIL, "cli")
            .unwrap();
    let link_token = link.url.split_once("token=").unwrap().1.to_owned();
    let session =
        w.p.sessions
            .exchange_login_link_blocking(&link_token, None)
            .unwrap();
    for token in [first, second] {
        // The whole token, and its secret part alone.
        secrets.push(token[6..49].to_owned());
        secrets.push(token);
    }
    secrets.push(link_token);
    secrets.push(session.cookie_value);
    secrets
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every row of every table of the test schema, as JSON text.
fn postgres_dump(db: &TestDb) -> String {
    db.store
        .read(|conn| {
            let tables: Vec<Line> = diesel::sql_query(
                "SELECT table_name::text AS line FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            )
            .load(conn)?;
            assert!(tables.len() >= 10, "the dump sees the schema's tables");
            let mut dump = String::new();
            for table in tables {
                let rows: Vec<Line> = diesel::sql_query(format!(
                    "SELECT row_to_json(t)::text AS line FROM \"{}\" t",
                    table.line
                ))
                .load(conn)?;
                for row in rows {
                    dump.push_str(&row.line);
                    dump.push('\n');
                }
            }
            Ok::<_, scimd_store::StoreError>(dump)
        })
        .unwrap()
}

fn sqlite_files(db: &TestDb) -> Vec<u8> {
    let path = db.url.strip_prefix("sqlite://").unwrap();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(content) = std::fs::read(format!("{path}{suffix}")) {
            bytes.extend(content);
        }
    }
    bytes
}

fn no_plaintext_secret_rests_in_the_database(db: &TestDb) {
    let secrets = hand_out_secrets(db);
    let haystack = match db.store.backend() {
        Backend::Sqlite => sqlite_files(db),
        Backend::Postgres => postgres_dump(db).into_bytes(),
    };
    // The dump is real: it holds the hints and audit trail that were written.
    assert!(
        haystack.windows(9).any(|w| w == b"scimd_\xe2\x80\xa6"),
        "the hints are stored"
    );
    assert!(haystack.windows(15).any(|w| w == b"token.generated"));
    for secret in &secrets {
        assert!(
            !haystack.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "a secret of {} bytes rests in the database",
            secret.len()
        );
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn no_log_line_holds_a_secret(db: &TestDb) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let secrets = tracing::subscriber::with_default(subscriber, || {
        let mut secrets = hand_out_secrets(db);
        // Refusals are logged too (at debug, with their class).
        let w = fixtures::world_with_sso(db);
        let token = w.token("cli", Expiry::Never);
        w.p.tokens.revoke_all_blocking(&w.org, "cli").unwrap();
        let mut bad = token.clone();
        bad.replace_range(20..21, if &token[20..21] == "A" { "B" } else { "A" });
        for header in [bearer(&token), bearer(&bad), format!("Basic {token}")] {
            assert!(w.p.tokens.verify_blocking(&w.org, Some(&header)).is_err());
        }
        secrets.push(token[6..49].to_owned());
        secrets.push(bad[6..49].to_owned());
        secrets
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "SCIM token generated",
        "class=\"revoked\"",
        "class=\"bad_checksum\"",
        "admin logged in",
    ] {
        assert!(
            logs.contains(expected),
            "expected {expected:?} in the logs:\n{logs}"
        );
    }
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret reached the logs:\n{logs}"
        );
    }
    assert!(
        !logs.contains(fixtures::OWNER_EMAIL),
        "an e-mail address reached the logs"
    );
}

scimd_store::backend_tests!(
    no_plaintext_secret_rests_in_the_database,
    no_log_line_holds_a_secret
);
