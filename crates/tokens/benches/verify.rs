//! What verifying a SCIM bearer token costs: the offline part (format, checksum, SHA-256) and the whole
//! service call with its indexed lookup, on SQLite and (with `SCIMD_TEST_POSTGRES_URL`) PostgreSQL.
//!
//! `cargo bench -p scimd-tokens --bench verify`

#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use scimd_store::models::organizations;
use scimd_store::models::sso_connections::{self, SsoConnectionRow};
use scimd_store::testing::TestDb;
use scimd_store::{Clock, FixedClock};
use scimd_tokens::bearer::format::check_format;
use scimd_tokens::{Expiry, PlaintextToken, TokenHash, TokenService};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

fn offline(c: &mut Criterion) {
    let token = PlaintextToken::generate().unwrap().expose_once();
    let mut bad = token.clone();
    bad.replace_range(10..11, if &token[10..11] == "x" { "y" } else { "x" });
    c.bench_function("token/format+checksum+sha256", |b| {
        b.iter(|| {
            check_format(black_box(&token)).unwrap();
            black_box(TokenHash::of(black_box(&token)))
        })
    });
    c.bench_function("token/refuse bad checksum", |b| {
        b.iter(|| check_format(black_box(&bad)).is_err())
    });
    c.bench_function("token/generate", |b| {
        b.iter(|| PlaintextToken::generate().unwrap())
    });
}

fn service(c: &mut Criterion, name: &str, db: &TestDb) {
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap());
    let dyn_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let now = clock.now_naive();
    let org = db
        .store
        .write(|conn| organizations::create_with_owner(conn, "Bench", None, now))
        .unwrap()
        .0
        .org_id();
    // SCIM tokens need an SSO connection; its service is above this crate (`scimd_signin`), so the row is
    // written directly (verifying never reads it).
    let connection = SsoConnectionRow {
        org_id: org.as_str().to_owned(),
        kind: "azure_ad".into(),
        settings: r#"{"tenant_id":"6f9619ff-8b86-d011-b42d-00c04fc964ff","client_id":"6f9619ff-8b86-d011-b42d-00c04fc964fe"}"#.into(),
        secret_ciphertext: Some(b"bench".to_vec()),
        created_at: now,
        updated_at: now,
    };
    db.store
        .write(|conn| sso_connections::upsert(conn, &connection))
        .unwrap();
    let tokens = TokenService::new(db.store.clone(), dyn_clock, "https://scimd.test".into());
    let header = format!(
        "Bearer {}",
        tokens
            .generate_blocking(&org, "bench", Expiry::Never)
            .unwrap()
            .token
            .expose_once()
    );
    // The first use writes last_used_at; with the clock standing still every later one is a pure read, as
    // are all but one request a minute in production.
    tokens.verify_blocking(&org, Some(&header)).unwrap();
    c.bench_function(&format!("verify/{name} (lookup by hash)"), |b| {
        b.iter(|| tokens.verify_blocking(&org, Some(black_box(&header))).unwrap())
    });
}

fn services(c: &mut Criterion) {
    service(c, "sqlite", &TestDb::sqlite());
    if let Some(db) = TestDb::postgres() {
        service(c, "postgres", &db);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = offline, services
}
criterion_main!(benches);
