//! `org_limits`: an org's overrides are stored, merged field by field and reset; and PostgreSQL's
//! `statement_timeout` cancels a long statement as `Unavailable` (503), never a 500.

use crate::fixtures;
use scimd_store::models::org_limits::{self, LimitsChange};
use scimd_store::testing::TestDb;
use scimd_store::{Backend, Store, StoreError, StoreOptions};
use std::time::Duration;

fn set_limits(db: &TestDb, org: &scimd_store::OrgId, change: LimitsChange) {
    db.store
        .write(|c| org_limits::set(c, org, change, fixtures::now()))
        .unwrap();
}

fn limits_are_set_merged_and_reset(db: &TestDb) {
    let org = db.with_conn(|c| fixtures::org(c, "A")).unwrap();
    let none = db.store.read(|c| org_limits::get(c, &org)).unwrap();
    assert_eq!(none, None);
    let first = LimitsChange {
        rate: Some(5),
        ..LimitsChange::default()
    };
    set_limits(db, &org, first);
    let second = LimitsChange {
        in_flight: Some(2),
        ..LimitsChange::default()
    };
    set_limits(db, &org, second);
    let got = db.store.read(|c| org_limits::get(c, &org)).unwrap().unwrap();
    assert_eq!((got.rate, got.burst, got.in_flight), (Some(5), None, Some(2)));
    let zero = LimitsChange {
        burst: Some(0),
        ..LimitsChange::default()
    };
    let refused = db
        .store
        .write(|c| org_limits::set(c, &org, zero, fixtures::now()));
    assert!(matches!(refused, Err(StoreError::Refused(_))), "{refused:?}");
    assert!(db.store.write(|c| org_limits::reset(c, &org)).unwrap());
    assert_eq!(db.store.read(|c| org_limits::get(c, &org)).unwrap(), None);
}

fn a_statement_past_the_timeout_is_unavailable(db: &TestDb) {
    if db.store.backend() != Backend::Postgres {
        return; // SQLite has no statement timeout (see `connection.rs`).
    }
    let store = Store::connect(
        &db.url,
        StoreOptions {
            statement_timeout: Duration::from_millis(50),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let slow = store.read(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT pg_sleep(2)")
            .execute(c)
            .map_err(StoreError::from)
    });
    assert!(matches!(&slow, Err(e) if e.is_unavailable()), "{slow:?}");
    // The pool's default (5 s) lets an ordinary statement through.
    let quick = db.store.read(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT pg_sleep(0.01)")
            .execute(c)
            .map_err(StoreError::from)
    });
    assert!(quick.is_ok(), "{quick:?}");
}

scimd_store::backend_tests!(
    limits_are_set_merged_and_reset,
    a_statement_past_the_timeout_is_unavailable
);
