//! When the database goes away: units of work fail fast with an unavailability error (not after the pool's
//! full wait), the store says so once, and it comes back by itself with every acknowledged write kept.
//! PostgreSQL is cut by a TCP proxy in the test (the shared server is never stopped); SQLite is made to refuse
//! writes the way a full disk or a read-only file does.

use diesel::connection::SimpleConnection;
use scimd_store::models::organizations;
use scimd_store::testing::TestDb;
use scimd_store::testing::proxy::{self, Mode, Proxy};
use scimd_store::{DbConnection, OrgId, Store, StoreError, StoreOptions};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the tests configure as the fail-fast bound (the pool's wait; the connect timeout).
const CHECKOUT: Duration = Duration::from_secs(2);
/// The wait the store had before: no unit of work may take this long during an outage.
const FORMER_WAIT: Duration = Duration::from_secs(10);

fn insert_org(conn: &mut DbConnection, id: &OrgId) -> Result<(), StoreError> {
    organizations::insert(
        conn,
        &organizations::NewOrganization {
            id: id.as_str(),
            name: "outage",
            created_at: chrono::Utc::now().naive_utc(),
        },
    )
    .map(drop)
}

fn write_org(store: &Store) -> Result<OrgId, StoreError> {
    let id = OrgId::generate();
    let unit = id.clone();
    store.write_owned(move |conn| insert_org(conn, &unit))?;
    Ok(id)
}

/// A store on the test's PostgreSQL schema through a proxy, with the fail-fast settings.
fn proxied(db: &TestDb) -> (Proxy, Store) {
    let proxy = Proxy::start(proxy::upstream_of(&db.url));
    let store = Store::connect(
        &proxy.url(&db.url),
        StoreOptions {
            max_connections: 4,
            connection_timeout: CHECKOUT,
            connect_timeout: CHECKOUT,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    (proxy, store)
}

/// Polls until `f` succeeds, returning how long it took (panics after a minute).
fn until_ok<T>(mut f: impl FnMut() -> Result<T, StoreError>) -> (T, Duration) {
    let started = Instant::now();
    loop {
        match f() {
            Ok(v) => return (v, started.elapsed()),
            Err(e) => {
                assert!(e.is_unavailable(), "{e}");
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "never came back: {e}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn postgres_writers_fail_fast_during_an_outage_and_every_acknowledged_write_survives() {
    let Some(db) = TestDb::postgres() else { return };
    let (proxy, store) = proxied(&db);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let refusals = Arc::new(Mutex::new(Vec::<(Duration, String)>::new()));
    let outage = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (store, acknowledged, refusals, outage, stop) = (
                store.clone(),
                acknowledged.clone(),
                refusals.clone(),
                outage.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    match write_org(&store) {
                        Ok(id) => acknowledged.lock().unwrap().push(id),
                        Err(e) => {
                            assert!(e.is_unavailable(), "an outage is 503, never a 500: {e}");
                            if outage.load(Ordering::SeqCst) {
                                refusals.lock().unwrap().push((started.elapsed(), e.to_string()));
                            }
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = acknowledged.lock().unwrap().len();
    assert!(before > 0, "writes go through the proxy");

    outage.store(true, Ordering::SeqCst);
    proxy.cut(Mode::Refuse);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !store.availability().is_reachable(),
        "the store knows the database is away"
    );
    assert!(store.ping().is_err());
    assert_eq!(store.availability().outages(), 1, "one outage, said once");

    let returned = Instant::now();
    proxy.restore();
    let (_, first_write) = until_ok(|| write_org(&store));
    outage.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    assert!(store.availability().is_reachable());

    let refusals = refusals.lock().unwrap().clone();
    assert!(
        refusals.len() > 8,
        "writes during the outage were refused: {refusals:?}"
    );
    let longest = refusals.iter().map(|(d, _)| *d).max().unwrap();
    assert!(
        longest < FORMER_WAIT,
        "no write waited out the pool's former 10 s: {longest:?}"
    );
    eprintln!(
        "outage (refuse): {} refusals, longest {longest:?}; first write {first_write:?} after the return \
         ({:?} since)",
        refusals.len(),
        returned.elapsed()
    );

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > before, "writes resumed after the outage");
    let check = db.reopen();
    for id in &acknowledged {
        let found = check.read(|conn| organizations::find(conn, id)).unwrap();
        assert!(found.is_some(), "acknowledged write {id} is lost");
    }
}

#[test]
fn postgres_connects_into_a_blackhole_are_bounded_by_the_connect_timeout() {
    let Some(db) = TestDb::postgres() else { return };
    let (proxy, store) = proxied(&db);
    write_org(&store).unwrap();
    // The pooled connections are cut and new ones are accepted but never answered.
    proxy.cut(Mode::Blackhole);
    let mut longest = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let err = write_org(&store).unwrap_err();
        longest = longest.max(started.elapsed());
        assert!(matches!(err, StoreError::Unreachable(_)), "{err}");
    }
    assert!(longest < FORMER_WAIT, "{longest:?}");
    eprintln!("outage (blackhole): longest write {longest:?}");
    proxy.restore();
    let (_, back) = until_ok(|| write_org(&store));
    eprintln!("outage (blackhole): first write {back:?} after the return");
}

#[test]
fn postgres_probe_follows_the_database() {
    let Some(db) = TestDb::postgres() else { return };
    let (proxy, store) = proxied(&db);
    store.probe(Duration::from_secs(1)).unwrap();
    assert!(store.availability().is_ready(Duration::from_secs(1)));
    proxy.cut(Mode::Refuse);
    let started = Instant::now();
    assert!(store.probe(Duration::from_secs(1)).is_err());
    assert!(started.elapsed() < FORMER_WAIT);
    assert!(!store.availability().is_ready(Duration::from_secs(1)));
    proxy.restore();
    until_ok(|| store.probe(Duration::from_secs(1)));
    assert!(store.availability().is_ready(Duration::from_secs(1)));
}

#[test]
fn postgres_a_connection_on_a_read_only_server_is_replaced() {
    let Some(db) = TestDb::postgres() else { return };
    let store = Store::connect(
        &db.url,
        StoreOptions {
            max_connections: 1,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    write_org(&store).unwrap();
    // The one pooled connection now behaves as one on a standby after a failover (SQLSTATE 25006).
    store
        .read(|conn| {
            Ok::<_, StoreError>(conn.batch_execute("SET SESSION default_transaction_read_only = on")?)
        })
        .unwrap();
    let err = write_org(&store).unwrap_err();
    assert!(matches!(err, StoreError::Unwritable(_)), "{err}");
    assert!(err.is_unavailable());
    assert!(!store.availability().is_writable());
    // That connection was dropped; the next write gets a new one, on a server that takes writes.
    let id = write_org(&store).unwrap();
    assert!(store.availability().is_writable());
    assert!(
        store
            .read(|conn| organizations::find(conn, &id))
            .unwrap()
            .is_some()
    );
}

#[test]
fn postgres_a_multi_host_url_finds_the_server_that_takes_writes() {
    let Some(db) = TestDb::postgres() else { return };
    // A primary and a standby in one URL, as after a failover: the first host refuses connections (nothing
    // listens on port 1), so libpq moves on to the next one that answers and takes writes.
    let (scheme_user, rest) = db.url.split_once('@').unwrap();
    let url = format!("{scheme_user}@127.0.0.1:1,{rest}&target_session_attrs=read-write");
    let store = Store::open(&url, StoreOptions::default()).unwrap();
    let id = write_org(&store).unwrap();
    assert!(
        store
            .read(|conn| organizations::find(conn, &id))
            .unwrap()
            .is_some()
    );
}

/// A second store on the SQLite file with one connection, on which `pragma` is set.
fn sqlite_with(db: &TestDb, pragma: &str) -> Store {
    let store = Store::connect(
        &db.url,
        StoreOptions {
            max_connections: 1,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    store
        .read(|conn| Ok::<_, StoreError>(conn.batch_execute(pragma)?))
        .unwrap();
    store
}

fn assert_unwritable(store: &Store, words: &str) {
    for result in [
        write_org(store),
        store.write(|conn| {
            let id = OrgId::generate();
            insert_org(conn, &id).map(|()| id)
        }),
    ] {
        let err = result.unwrap_err();
        assert!(err.is_unavailable(), "a 503, not a 500: {err}");
        assert!(err.to_string().contains(words), "the reason is given: {err}");
    }
    assert!(!store.availability().is_writable());
    assert!(store.availability().reason().unwrap().contains(words));
    // Reads still work.
    store
        .read(|conn| organizations::find(conn, &OrgId::generate()))
        .unwrap();
}

#[test]
fn sqlite_a_read_only_file_refuses_writes_with_a_reason() {
    let db = TestDb::sqlite();
    let store = sqlite_with(&db, "PRAGMA query_only = ON");
    assert_unwritable(&store, "readonly database");
    store
        .read(|conn| Ok::<_, StoreError>(conn.batch_execute("PRAGMA query_only = OFF")?))
        .unwrap();
    write_org(&store).unwrap();
    assert!(store.availability().is_writable());
}

#[test]
fn sqlite_a_full_disk_refuses_writes_with_a_reason() {
    let db = TestDb::sqlite();
    let pages: i64 = db
        .with_conn(|conn| {
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                page_count: i64,
            }
            use diesel::RunQueryDsl;
            diesel::sql_query("PRAGMA page_count")
                .get_result::<Count>(conn)
                .unwrap()
                .page_count
        })
        .unwrap();
    let store = sqlite_with(&db, &format!("PRAGMA max_page_count = {pages}"));
    // Fill what is left of the "disk".
    let filled = (0..10_000).any(|_| write_org(&store).is_err());
    assert!(filled, "the file filled up");
    assert_unwritable(&store, "full");
}
