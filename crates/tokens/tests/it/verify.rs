//! `verify`: every bad credential is the same `Unauthorized`; garbage never reaches the database; a token works
//! only at its own org's endpoint; revocation through one process is seen by the next request of another.

use crate::fixtures::{self, Process, bearer};
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, StoreError};
use scimd_tokens::{Expiry, Grace, PlaintextToken, TokenError};

fn six_bad_token_classes_get_identical_errors(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let revoked = w.token("cli", Expiry::Never);
    w.p.tokens.revoke_all_blocking(&w.org, "cli").unwrap();
    let expired = w.token("cli", Expiry::Days90);
    w.clock.advance(chrono::Duration::days(90));

    let valid_shape_unknown = PlaintextToken::generate().unwrap().expose_once();
    let mut bad_checksum = valid_shape_unknown.clone();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == 'a' { 'b' } else { 'a' });

    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("empty bearer", Some("Bearer ".into())),
        ("malformed", Some(bearer("not-a-token"))),
        ("other scheme", Some(format!("Basic {valid_shape_unknown}"))),
        ("bad checksum", Some(bearer(&bad_checksum))),
        ("unknown", Some(bearer(&valid_shape_unknown))),
        ("revoked", Some(bearer(&revoked))),
        ("expired", Some(bearer(&expired))),
    ];
    let mut rendered = Vec::new();
    for (class, header) in &cases {
        let err = w.p.tokens.verify_blocking(&w.org, header.as_deref()).unwrap_err();
        assert!(matches!(err, TokenError::Unauthorized), "{class}: {err:?}");
        rendered.push((class, format!("{err}"), format!("{err:?}")));
    }
    for (class, display, debug) in &rendered {
        assert_eq!(
            (display.as_str(), debug.as_str()),
            ("unauthorized", "Unauthorized"),
            "{class}"
        );
    }
}

fn a_bad_checksum_or_malformed_token_never_reaches_the_database(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let valid_shape_unknown = PlaintextToken::generate().unwrap().expose_once();
    let mut bad_checksum = valid_shape_unknown.clone();
    bad_checksum.replace_range(10..11, if &bad_checksum[10..11] == "x" { "y" } else { "x" });

    fixtures::take_scim_tokens_away(&db.store);
    let lookup =
        w.p.tokens
            .verify_blocking(&w.org, Some(&bearer(&valid_shape_unknown)));
    assert!(
        matches!(lookup, Err(TokenError::Store(StoreError::Database(_)))),
        "{lookup:?}"
    );

    for header in [
        None,
        Some(String::new()),
        Some(bearer("scimd_short")),
        Some(bearer(&bad_checksum)),
    ] {
        let result = w.p.tokens.verify_blocking(&w.org, header.as_deref());
        assert!(
            matches!(result, Err(TokenError::Unauthorized)),
            "{header:?}: {result:?}"
        );
    }
}

fn a_database_failure_is_not_reported_as_a_bad_token(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let token = w.token("cli", Expiry::Never);
    fixtures::take_scim_tokens_away(&db.store);
    let err =
        w.p.tokens
            .verify_blocking(&w.org, Some(&bearer(&token)))
            .unwrap_err();
    assert!(!matches!(err, TokenError::Unauthorized));
    assert!(err.is_unavailable(), "{err:?}");
}

fn a_token_works_only_at_its_own_orgs_endpoint(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let (other, _) = fixtures::new_org(&db.store, &w.clock, "Globex", "owner@globex.example");
    let token = w.generate("cli", Expiry::Never).unwrap();
    assert_eq!(token.endpoint_url, w.endpoint());
    let header = bearer(&token.token.expose_once());
    let ok = w.p.tokens.verify_blocking(&w.org, Some(&header)).unwrap();
    assert_eq!((ok.org_id, ok.token_id), (w.org.clone(), token.token_id));
    let wrong = w.p.tokens.verify_blocking(&other, Some(&header));
    assert!(matches!(wrong, Err(TokenError::Unauthorized)));
    let nowhere =
        w.p.tokens
            .verify_blocking(&OrgId::new("no-such-org"), Some(&header));
    assert!(matches!(nowhere, Err(TokenError::Unauthorized)));
}

fn the_bearer_scheme_is_case_insensitive(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let token = w.token("cli", Expiry::Never);
    for header in [
        format!("bearer {token}"),
        format!("BEARER  {token}"),
        format!("Bearer\t{token}"),
    ] {
        assert!(
            w.p.tokens.verify_blocking(&w.org, Some(&header)).is_ok(),
            "{header:?}"
        );
    }
    assert!(
        w.p.tokens
            .verify_blocking(&w.org, Some(&format!("Bearer {token} extra")))
            .is_err()
    );
}

fn revocation_through_one_process_is_seen_by_the_next_request_of_another(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let other_store = db.reopen();
    let b = Process::on(&other_store, &w.clock);
    let token = w.token("admin", Expiry::Never);
    let header = bearer(&token);
    // Warm every path on the second process first: nothing it remembers may outlive the revocation.
    for _ in 0..3 {
        b.tokens.verify_blocking(&w.org, Some(&header)).unwrap();
    }
    assert_eq!(w.p.tokens.revoke_all_blocking(&w.org, "admin").unwrap(), 1);
    let next = b.tokens.verify_blocking(&w.org, Some(&header));
    assert!(matches!(next, Err(TokenError::Unauthorized)), "{next:?}");
}

fn grace_after_regenerate_holds_on_another_process_until_it_ends(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let b = Process::on(&db.reopen(), &w.clock);
    let old = w.token("admin", Expiry::Never);
    let new =
        w.p.tokens
            .regenerate_blocking(&w.org, "admin", Grace::OneHour, Expiry::Never)
            .unwrap();
    assert_eq!(
        new.previous_valid_until,
        Some(fixtures::start() + chrono::Duration::hours(1))
    );
    let new = new.token.expose_once();
    w.clock.advance(chrono::Duration::minutes(59));
    assert!(b.tokens.verify_blocking(&w.org, Some(&bearer(&old))).is_ok());
    assert!(b.tokens.verify_blocking(&w.org, Some(&bearer(&new))).is_ok());
    w.clock.advance(chrono::Duration::minutes(1));
    assert!(matches!(
        b.tokens.verify_blocking(&w.org, Some(&bearer(&old))),
        Err(TokenError::Unauthorized)
    ));
    assert!(b.tokens.verify_blocking(&w.org, Some(&bearer(&new))).is_ok());
}

fn the_async_form_verifies_too(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let token = w.token("cli", Expiry::Never);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let header = bearer(&token);
    let ok = runtime
        .block_on(w.p.tokens.verify(&w.org, Some(&header)))
        .unwrap();
    assert_eq!(ok.org_id, w.org);
    let bad = runtime.block_on(w.p.tokens.verify(&w.org, Some("Bearer nope")));
    assert!(matches!(bad, Err(TokenError::Unauthorized)));
}

/// L7: the first request to notice an expiry records it; later ones find it recorded in the row they read and
/// open no write transaction (on SQLite that would take the one writer of the file).
fn an_expiry_already_recorded_is_not_written_again(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let token = w.token("cli", Expiry::Days90);
    w.clock.advance(chrono::Duration::days(91));
    let header = bearer(&token);
    assert!(w.p.tokens.verify_blocking(&w.org, Some(&header)).is_err());
    assert_eq!(fixtures::events(&db.store, &w.org, "token.expired").len(), 1);
    let writes = db.store.sqlite_writes();
    for _ in 0..3 {
        let err = w.p.tokens.verify_blocking(&w.org, Some(&header)).unwrap_err();
        assert!(matches!(err, TokenError::Unauthorized));
    }
    assert_eq!(
        db.store.sqlite_writes(),
        writes,
        "no write transaction after the first"
    );
    assert_eq!(fixtures::events(&db.store, &w.org, "token.expired").len(), 1);
}

scimd_store::backend_tests!(
    an_expiry_already_recorded_is_not_written_again,
    six_bad_token_classes_get_identical_errors,
    a_bad_checksum_or_malformed_token_never_reaches_the_database,
    a_database_failure_is_not_reported_as_a_bad_token,
    a_token_works_only_at_its_own_orgs_endpoint,
    the_bearer_scheme_is_case_insensitive,
    revocation_through_one_process_is_seen_by_the_next_request_of_another,
    grace_after_regenerate_holds_on_another_process_until_it_ends,
    the_async_form_verifies_too,
);
