//! SQLite under many concurrent writers: they queue on the writer gate and `busy_timeout`, never failing with
//! "database is locked". The same load runs on PostgreSQL.

use crate::fixtures;
use scimd_store::models::members;
use scimd_store::testing::TestDb;

const WRITERS: usize = 16;
const TRANSACTIONS_EACH: usize = 500;

fn sixteen_writers_five_hundred_transactions_each(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "Acme");
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, org) = (db.store.clone(), org.clone());
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for t in 0..TRANSACTIONS_EACH {
                        let name = format!("user-{w}-{t}@example.com");
                        // Read then write in one transaction: the pattern that deadlocks with plain BEGIN.
                        let result = store.write(|conn| {
                            let existing = members::find_by_user_name(conn, &org, &name)?;
                            assert!(existing.is_none());
                            fixtures::member(conn, &org, &name)
                        });
                        if let Err(e) = result {
                            failures.push(e.to_string());
                        }
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
    let count = db.store.read(|conn| members::count_live(conn, &org)).unwrap();
    assert_eq!(count, (WRITERS * TRANSACTIONS_EACH) as i64);
}

fn two_stores_on_one_file_do_not_lock_each_other_out(db: &TestDb) {
    let other = db.reopen();
    let org = fixtures::new_org(&db.store, "Acme");
    std::thread::scope(|scope| {
        for (i, store) in [db.store.clone(), other].into_iter().enumerate() {
            let org = org.clone();
            scope.spawn(move || {
                for t in 0..200 {
                    store
                        .write(|conn| fixtures::member(conn, &org, &format!("s{i}-{t}@example.com")))
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(
        db.store.read(|conn| members::count_live(conn, &org)).unwrap(),
        400
    );
}

scimd_store::backend_tests!(
    sixteen_writers_five_hundred_transactions_each,
    two_stores_on_one_file_do_not_lock_each_other_out
);
