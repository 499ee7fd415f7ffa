//! Group commit on SQLite: writes queued behind a running one share its transaction and its one COMMIT,
//! each is rolled back alone when it fails, and none returns before the COMMIT that holds it. (PostgreSQL
//! commits each write on its own; these tests are SQLite's.)
//!
//! The batches here are made deterministic, not left to timing: the first write waits, inside its
//! transaction, until the store reports the other writers queued behind it.

use crate::fixtures;
use diesel::connection::SimpleConnection;
use scimd_store::models::members;
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, Store, StoreError};
use std::sync::mpsc;

fn wait_for_queue(store: &Store, writers: usize) {
    while store.writers_queued() < writers {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn exists(store: &Store, org: &OrgId, name: &str) -> bool {
    store
        .read(|conn| members::find_by_user_name(conn, org, name))
        .unwrap()
        .is_some()
}

/// Inside a write: adds the member `name`, says so on `inside`, then holds the writer until one more writer
/// is queued behind it.
fn add_then_hold(
    conn: &mut scimd_store::DbConnection,
    store: &Store,
    org: &OrgId,
    name: &str,
    inside: &mpsc::Sender<()>,
) -> Result<(), StoreError> {
    fixtures::member(conn, org, name)?;
    inside.send(()).unwrap();
    wait_for_queue(store, 1);
    Ok(())
}

/// The writer is usable again: a write after it is saved.
fn assert_the_writer_works(store: &Store, org: &OrgId) {
    store
        .write(|conn| fixtures::member(conn, org, "after@example.com"))
        .unwrap();
    assert!(exists(store, org, "after@example.com"));
}

/// A unit of work of these tests.
type Work<'a, T> = Box<dyn FnOnce(&mut scimd_store::DbConnection) -> Result<T, StoreError> + Send + 'a>;

/// Runs `first` (which holds the writer until `behind.len()` writers are queued), then the `behind` writes
/// queued after it; returns every result, `first`'s first.
fn batch<T: Send>(
    store: &Store,
    first: impl FnOnce(&mut scimd_store::DbConnection) -> Result<T, StoreError> + Send,
    behind: Vec<Work<'_, T>>,
) -> Vec<Result<T, StoreError>> {
    let queued = behind.len();
    std::thread::scope(|scope| {
        let (inside, started) = mpsc::channel();
        let head = scope.spawn(move || {
            store.write(|conn| {
                let value = first(conn)?;
                inside.send(()).unwrap();
                wait_for_queue(store, queued);
                Ok(value)
            })
        });
        started.recv().unwrap();
        let tail: Vec<_> = behind
            .into_iter()
            .map(|w| scope.spawn(move || store.write(w)))
            .collect();
        std::iter::once(head)
            .chain(tail)
            .map(|h| h.join().unwrap())
            .collect()
    })
}

#[test]
fn queued_writes_share_one_commit_and_a_failing_one_is_rolled_back_alone() {
    let db = TestDb::sqlite();
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let before = store.sqlite_commits().unwrap();
    let o = &org;
    let results = batch(
        store,
        |conn| fixtures::member(conn, o, "a@example.com").map(|_| ()),
        vec![
            Box::new(|conn| fixtures::member(conn, o, "b@example.com").map(|_| ())),
            Box::new(|conn| {
                fixtures::member(conn, o, "c@example.com")?;
                Err(StoreError::Refused("the caller changed its mind".into()))
            }),
            Box::new(|conn| fixtures::member(conn, o, "d@example.com").map(|_| ())),
        ],
    );
    assert!(
        results[0].is_ok() && results[1].is_ok() && results[3].is_ok(),
        "{results:?}"
    );
    assert!(matches!(results[2], Err(StoreError::Refused(_))), "{results:?}");
    assert_eq!(
        store.sqlite_commits().unwrap() - before,
        1,
        "four writes, one COMMIT"
    );
    for (name, saved) in [("a", true), ("b", true), ("c", false), ("d", true)] {
        assert_eq!(
            exists(store, &org, &format!("{name}@example.com")),
            saved,
            "{name}"
        );
    }
}

#[test]
fn a_write_returns_only_after_the_commit_that_holds_it() {
    let db = TestDb::sqlite();
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let o = &org;
    let seen_after_return = std::thread::scope(|scope| {
        let (inside, started) = mpsc::channel();
        let head = scope.spawn(move || {
            store
                .write(|conn| add_then_hold(conn, store, o, "first@example.com", &inside))
                .unwrap();
            // Another pooled connection (a reader outside the batch) sees it the moment write returns.
            exists(store, o, "first@example.com")
        });
        started.recv().unwrap();
        store
            .write(|conn| fixtures::member(conn, o, "second@example.com"))
            .unwrap();
        head.join().unwrap()
    });
    assert!(seen_after_return);
    assert!(exists(store, &org, "second@example.com"));
}

#[test]
fn a_failed_commit_fails_every_write_of_its_batch() {
    let db = TestDb::sqlite();
    let store = &db.store;
    let org = store
        .write(|conn| {
            // A deferred foreign key is checked only at COMMIT: the way to make a COMMIT fail on purpose.
            conn.batch_execute(
                "CREATE TABLE t_parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE t_child (parent INTEGER REFERENCES t_parent (id) DEFERRABLE INITIALLY DEFERRED);",
            )?;
            Ok::<_, scimd_store::StoreError>(fixtures::org(conn, "Acme"))
        })
        .unwrap();
    let o = &org;
    let results = batch(
        store,
        |conn| fixtures::member(conn, o, "a@example.com").map(|_| ()),
        vec![Box::new(|conn| {
            conn.batch_execute("INSERT INTO t_child (parent) VALUES (42)")?;
            Ok(())
        })],
    );
    assert!(results.iter().all(Result::is_err), "{results:?}");
    assert!(!exists(store, &org, "a@example.com"));
    // The writer is usable again.
    assert_the_writer_works(store, &org);
}

#[test]
fn a_panicking_write_loses_its_batch_but_not_the_writer() {
    let db = TestDb::sqlite();
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let o = &org;
    let head = std::thread::scope(|scope| {
        let (inside, started) = mpsc::channel();
        let head =
            scope.spawn(move || store.write(|conn| add_then_hold(conn, store, o, "a@example.com", &inside)));
        started.recv().unwrap();
        let panicked = scope
            .spawn(move || {
                store.write(|conn| -> Result<(), StoreError> {
                    fixtures::member(conn, o, "b@example.com")?;
                    panic!("a bug in a unit of work");
                })
            })
            .join();
        assert!(panicked.is_err(), "the panic reaches its own caller");
        head.join().unwrap()
    });
    assert!(head.is_err(), "the write that shared the lost batch is told so");
    assert!(!exists(store, &org, "a@example.com"));
    assert!(!exists(store, &org, "b@example.com"));
    assert_the_writer_works(store, &org);
}

#[test]
fn owned_writes_sent_while_the_writer_is_busy_form_one_batch() {
    const SENT: usize = 12;
    let db = TestDb::sqlite();
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let before = store.sqlite_commits().unwrap();
    let results = std::thread::scope(|scope| {
        let (inside, started) = mpsc::channel();
        let o = org.clone();
        let head = scope.spawn(move || {
            store.write(|conn| {
                fixtures::member(conn, &o, "head@example.com")?;
                inside.send(()).unwrap();
                // The writer thread waits for the gate, and every owned write is sent and not started.
                while store.writers_queued() < 1 || store.owned_writes_pending() < SENT {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Ok(())
            })
        });
        started.recv().unwrap();
        let sent: Vec<_> = (0..SENT)
            .map(|i| {
                let o = org.clone();
                scope.spawn(move || {
                    store.write_owned(move |conn| {
                        fixtures::member(conn, &o, &format!("owned-{i}@example.com"))?;
                        if i % 4 == 3 {
                            return Err(StoreError::Refused("every fourth one changes its mind".into()));
                        }
                        Ok(i)
                    })
                })
            })
            .collect();
        let mut results = vec![head.join().unwrap().map(|()| usize::MAX)];
        results.extend(sent.into_iter().map(|h| h.join().unwrap()));
        results
    });
    assert_eq!(
        store.sqlite_commits().unwrap() - before,
        1,
        "the head write and the {SENT} owned writes share one COMMIT"
    );
    assert!(results[0].is_ok());
    for i in 0..SENT {
        let saved = i % 4 != 3;
        assert_eq!(results[i + 1].is_ok(), saved, "{i}: {:?}", results[i + 1]);
        assert_eq!(
            exists(store, &org, &format!("owned-{i}@example.com")),
            saved,
            "{i}"
        );
    }
    assert!(exists(store, &org, "head@example.com"));
}

#[test]
fn owned_writes_under_load_are_all_saved_exactly_once() {
    let db = TestDb::sqlite();
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let before = store.sqlite_commits().unwrap();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let o = org.clone();
            scope.spawn(move || {
                for n in 0..100 {
                    let o = o.clone();
                    store
                        .write_owned(move |conn| fixtures::member(conn, &o, &format!("u{t}-{n}@example.com")))
                        .unwrap();
                }
            });
        }
    });
    let count = store.read(|conn| members::count_live(conn, &org)).unwrap();
    assert_eq!(count, 800);
    let commits = store.sqlite_commits().unwrap() - before;
    assert!((1..=800).contains(&commits), "{commits} commits");
}
