//! userName uniqueness is the database's: concurrent creates of one name in different case and width give
//! exactly one row, and the rest a `Conflict`.

use crate::fixtures;
use scimd_store::models::members;
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, StoreError};
use std::sync::Barrier;

fn fifty_concurrent_creates_of_one_name_make_one_row(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "Acme");
    let spellings = [
        "JSmith@example.com",
        "jsmith@example.com",
        "ＪＳｍｉｔｈ@example.com",
        "JSMITH@EXAMPLE.COM",
    ];
    let barrier = Barrier::new(50);
    let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let (store, org, barrier) = (db.store.clone(), org.clone(), &barrier);
                let name = spellings[i % spellings.len()];
                scope.spawn(move || {
                    barrier.wait();
                    store.write(|conn| fixtures::member(conn, &org, name).map(|_| ()))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
        .count();
    assert_eq!((created, conflicts), (1, 49), "{results:?}");
    assert_eq!(db.store.read(|conn| members::count_live(conn, &org)).unwrap(), 1);
}

fn the_same_name_in_another_org_is_another_member(db: &TestDb) {
    db.store
        .write(|conn| {
            let (a, b) = (fixtures::org(conn, "A"), fixtures::org(conn, "B"));
            fixtures::member(conn, &a, "ada@example.com")?;
            fixtures::member(conn, &b, "ADA@example.com")?;
            assert!(matches!(
                fixtures::member(conn, &a, "Ada@Example.com"),
                Err(StoreError::Conflict(_))
            ));
            let found = members::find_by_user_name(conn, &b, "ａｄａ@example.com")?.unwrap();
            assert_eq!(
                (found.org_id.as_str(), found.user_name.as_str()),
                (b.as_str(), "ADA@example.com")
            );
            assert!(members::find_by_user_name(conn, &OrgId::generate(), "ada@example.com")?.is_none());
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
}

fn a_failed_write_leaves_nothing_behind(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "Acme");
    let result = db.store.write(|conn| {
        fixtures::member(conn, &org, "first@example.com")?;
        fixtures::member(conn, &org, "FIRST@example.com")
    });
    assert!(matches!(result, Err(StoreError::Conflict(_))));
    assert_eq!(
        db.store.read(|conn| members::count_live(conn, &org)).unwrap(),
        0,
        "rolled back whole"
    );
    // The connection went back to the pool usable.
    db.store
        .write(|conn| fixtures::member(conn, &org, "first@example.com"))
        .unwrap();
}

scimd_store::backend_tests!(
    fifty_concurrent_creates_of_one_name_make_one_row,
    the_same_name_in_another_org_is_another_member,
    a_failed_write_leaves_nothing_behind
);
