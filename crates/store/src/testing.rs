//! Test support for every crate's tests (feature `testing`): a store on a fresh SQLite file, and, when
//! `SCIMD_TEST_POSTGRES_URL` is set, a store on a fresh PostgreSQL schema that is dropped afterwards.
//!
//! `backend_tests!` turns functions `fn name(db: &TestDb)` into one test per backend. Without the variable the
//! PostgreSQL half prints that it was skipped; with the variable set and the server unreachable it fails.

pub mod proxy;
pub mod statements;

use crate::connection::DbConnection;
use crate::store::{Store, StoreOptions};
use diesel::Connection;
use diesel::connection::SimpleConnection;

pub const POSTGRES_ENV: &str = "SCIMD_TEST_POSTGRES_URL";

/// Waits until every committed event of the feed has its position, for a test that reads the feed right
/// after a write. On PostgreSQL `events::catch_up` returns at once while another sequencer (a server's
/// worker in the same test, or another process) holds the feed's lock mid-batch, and a read then misses the
/// events that sequencer has not positioned yet; they come with a later read, which a test does not make.
/// On SQLite an event's position is its rowid.
#[expect(
    clippy::panic,
    reason = "test support: a feed that never settles must fail the test"
)]
pub fn settle_feed(store: &Store) -> Result<(), crate::StoreError> {
    use crate::schema::events;
    use diesel::prelude::*;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        crate::models::events::catch_up(store)?;
        if store.backend() != crate::Backend::Postgres {
            return Ok(());
        }
        let waiting: i64 = store.read(|conn| {
            events::table
                .filter(events::position.is_null())
                .count()
                .get_result(conn)
                .map_err(crate::StoreError::from)
        })?;
        if waiting == 0 {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            panic!("{waiting} committed events were never positioned");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A live, active member of `org` whose userName and email are `email`, as other crates' tests set one up
/// (the admin pages' and the token service's): with `role`, SCIM-managed or not, created at `now`.
pub struct TestMember<'a> {
    pub org: &'a crate::OrgId,
    pub email: &'a str,
    pub role: &'a str,
    pub display_name: Option<&'a str>,
    pub scim_managed: bool,
    pub now: chrono::NaiveDateTime,
}

impl TestMember<'_> {
    /// Inserts the member in a write of its own.
    pub fn insert(&self, store: &Store) -> Result<crate::MemberId, crate::StoreError> {
        let id = crate::MemberId::generate();
        store.write(|conn| {
            crate::models::members::insert(
                conn,
                &crate::models::members::NewMember {
                    id: id.as_str(),
                    org_id: self.org.as_str(),
                    user_name: self.email,
                    user_name_norm: crate::user_name::normalize(self.email),
                    external_id: None,
                    role: self.role,
                    active: true,
                    scim_managed: self.scim_managed,
                    display_name: self.display_name,
                    given_name: None,
                    family_name: None,
                    email: Some(self.email),
                    document: "{}",
                    version: 1,
                    created_at: self.now,
                    updated_at: self.now,
                },
            )
        })?;
        Ok(id)
    }
}

/// A migrated store on an isolated database, cleaned up on drop.
pub struct TestDb {
    pub store: Store,
    /// The URL a second process (or a second `Store`) can use to reach the same database.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite file in a temporary directory.
    #[expect(
        clippy::expect_used,
        reason = "test support: a broken temp dir must fail the test loudly"
    )]
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("scimd-test.db").display());
        let store = Store::open(&url, StoreOptions::default()).expect("open the SQLite test database");
        TestDb {
            store,
            url,
            _dir: Some(dir),
            pg_schema: None,
        }
    }

    /// A fresh schema on the PostgreSQL server named by `SCIMD_TEST_POSTGRES_URL`; `None` (and a line saying
    /// so) when the variable is unset. Panics when it is set but the server cannot be used.
    #[expect(
        clippy::expect_used,
        reason = "test support: a set but unreachable server must fail the test"
    )]
    pub fn postgres() -> Option<TestDb> {
        let Ok(base) = std::env::var(POSTGRES_ENV) else {
            eprintln!("skipped: PostgreSQL half of this test ({POSTGRES_ENV} is not set)");
            return None;
        };
        let schema = format!("scimd_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&base)
            .expect("connect to the PostgreSQL server named by SCIMD_TEST_POSTGRES_URL");
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create a test schema");
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        let store = Store::open(
            &url,
            StoreOptions {
                max_connections: 8,
                ..StoreOptions::default()
            },
        )
        .expect("open the PostgreSQL test schema");
        Some(TestDb {
            store,
            url,
            _dir: None,
            pg_schema: Some((base, schema)),
        })
    }

    /// A second, independent store on the same database (as a second process would have).
    #[expect(clippy::expect_used, reason = "test support")]
    pub fn reopen(&self) -> Store {
        Store::connect(&self.url, StoreOptions::default()).expect("reopen the test database")
    }

    pub fn conn_backend_name(&self) -> &'static str {
        match self.store.backend() {
            crate::Backend::Sqlite => "sqlite",
            crate::Backend::Postgres => "postgres",
        }
    }

    /// Runs `f` on a plain connection outside the store's transaction helpers.
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> Option<T> {
        self.store.read(|conn| Ok::<_, crate::StoreError>(f(conn))).ok()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg_schema.take()
            && let Ok(mut admin) = diesel::PgConnection::establish(&base)
        {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// One `#[test]` per backend for each named function `fn name(db: &TestDb)` in scope.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&$crate::testing::TestDb::sqlite());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = $crate::testing::TestDb::postgres() {
                        super::$name(&db);
                    }
                }
            )*
        }
    };
}
