//! One connection type over both backends (`diesel::MultiConnection`), the backend chosen by the URL scheme,
//! and the per-connection settings SQLite needs.

use crate::error::StoreError;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::CustomizeConnection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A connection to either backend. Queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection, for the reads every SCIM request makes (the
/// token check, the IdP's lookup, a GET by id). The multi-backend connection hands a query to its backend as
/// SQL text that it builds again on every run, prepared statement or not; on the backend's own connection a
/// query of static type is found in the statement cache by its type and only binds its values (measured: a
/// fifth of a lookup's CPU on SQLite went to building text that was thrown away). The query is written once
/// and compiled for each backend.
macro_rules! on_own_connection {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::connection::DbConnection::Sqlite($c) => $body,
            $crate::connection::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_own_connection;

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file: `sqlite://path`, `sqlite:path`, or a bare path.
    Sqlite(PathBuf),
    /// A PostgreSQL URL: `postgres://...` or `postgresql://...`, passed to libpq unchanged.
    Postgres(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(StoreError::InvalidUrl("it is empty".into()));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = if let Some(rest) = raw.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = raw.strip_prefix("sqlite:") {
            rest
        } else if let Some((scheme, _)) = raw.split_once("://") {
            return Err(StoreError::InvalidUrl(format!(
                "the scheme `{scheme}://` is not supported; use postgres://..., sqlite://PATH or a file path"
            )));
        } else {
            raw
        };
        if path.is_empty() || path == ":memory:" {
            return Err(StoreError::InvalidUrl(
                "a SQLite database needs a file path (WAL mode does not work in memory)".into(),
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// What diesel's `establish` takes.
    pub(crate) fn connection_string(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// The URL with any password replaced, for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The libpq settings a PostgreSQL URL gets unless it sets them itself, so that a database that goes away is
/// noticed in seconds: `connect_timeout` bounds each connection attempt (per host of a multi-host URL; libpq's
/// least is 2 s); TCP keepalives make the kernel notice an idle connection to a server that vanished (about
/// 8 s), so that the pool's check-out test fails at once instead of hanging; `tcp_user_timeout` ends a
/// connection whose sent data stays unacknowledged (a query sent to a server that vanished mid-use) after 5 s
/// instead of the kernel's 15 minutes.
pub(crate) fn postgres_with_defaults(url: &str, connect_timeout: Duration) -> String {
    let secs = connect_timeout.as_secs().max(1).to_string();
    let defaults = [
        ("connect_timeout", secs.as_str()),
        ("keepalives", "1"),
        ("keepalives_idle", "5"),
        ("keepalives_interval", "1"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "5000"),
    ];
    let given: Vec<&str> = url
        .split_once('?')
        .map(|(_, query)| {
            query
                .split('&')
                .map(|kv| kv.split('=').next().unwrap_or(kv))
                .collect()
        })
        .unwrap_or_default();
    let mut out = url.to_owned();
    for (key, value) in defaults {
        if !given.contains(&key) {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// The pool's error handler: a failed connection attempt is noted for the store's fail-fast checkout
/// (`Availability`) instead of logged, since the pool retries every half second while the database is away
/// and the outage is logged once, by its start and end. A failed check-out test only means that connection
/// is gone (the pool replaces it); only a failed connect says the database is away.
#[derive(Debug)]
pub(crate) struct ConnectFailures(pub(crate) std::sync::Arc<crate::availability::Availability>);

impl r2d2::HandleError<diesel::r2d2::Error> for ConnectFailures {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        if let diesel::r2d2::Error::ConnectionError(e) = &error {
            self.0.connect_failed(e.to_string().trim().to_owned());
        }
    }
}

/// Opens one connection directly, so that a wrong URL fails at once with the driver's own message instead of
/// after the pool's connection timeout.
pub(crate) fn establish(url: &DatabaseUrl, target: &str) -> Result<DbConnection, StoreError> {
    let conn = match url {
        DatabaseUrl::Sqlite(_) => diesel::SqliteConnection::establish(target).map(DbConnection::Sqlite),
        DatabaseUrl::Postgres(_) => diesel::PgConnection::establish(target).map(DbConnection::Postgres),
    };
    conn.map_err(|e| StoreError::Connect(format!("{}: {e}", url.redacted())))
}

/// Runs an insert that a unique index may refuse, so that the caller's transaction stays usable after a
/// refusal (to look up the row that won, for example). PostgreSQL aborts the whole transaction on an error,
/// so the insert gets its own savepoint there; SQLite undoes just the failed statement, and a savepoint would
/// only cost a copy of every page the insert touches.
pub(crate) fn insert_may_conflict<T>(
    conn: &mut DbConnection,
    insert: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    match conn {
        DbConnection::Sqlite(_) => insert(conn),
        DbConnection::Postgres(_) => conn.transaction(insert),
    }
}

/// Settings applied to every SQLite connection the pool hands out. `busy_timeout` comes first so that the
/// statements after it already wait instead of failing while another process holds the write lock;
/// `synchronous=FULL` because an acknowledged deprovisioning must survive a power cut; `temp_store=MEMORY` so
/// that the savepoint journal of a batch of writes (`group_commit`) stays in memory instead of spilling to a
/// temporary file past 64 KiB (that spill was a fifth of the writer's time in the create benchmark).
pub(crate) const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;";

/// The default bound on one PostgreSQL statement (`statement_timeout`).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings applied to every pooled connection. On PostgreSQL `statement_timeout` bounds every statement, so
/// that one org's expensive filter is cancelled (503, retry later) instead of holding a pooled connection
/// for as long as it likes. SQLite has no such setting, and diesel's `SqliteConnection` gives safe code no
/// way to install a progress handler or call `sqlite3_interrupt` (the workspace forbids `unsafe`): there the
/// work of a statement is bounded by the shapes of the queries the SCIM API can send (the filter's node and
/// length limits, the page size) and the per-org concurrency cap.
///
/// Each PostgreSQL connection also gets its row of the sharded counters (`org_tallies`, the safety valve's
/// minutes), which [`shard_sql!`] reads. The connections of one pool take the shards in turn, so that up to
/// [`SHARDS`] of them never share a row lock; `pg_backend_pid() % 16` did, for
/// about a third of a pool of 16 (backend ids are not consecutive under concurrent connects). The turn is the
/// pool's own, not the process's, so that other pools connecting at the same time (tests, tools) cannot
/// interleave with it; it starts at the process id, so that the processes of one deployment start at
/// different rows.
#[derive(Debug)]
pub(crate) struct ConnectionSettings {
    statement_timeout: Duration,
    next_turn: AtomicU32,
}

impl ConnectionSettings {
    pub(crate) fn new(statement_timeout: Duration) -> ConnectionSettings {
        ConnectionSettings {
            statement_timeout,
            next_turn: AtomicU32::new(std::process::id()),
        }
    }

    pub(crate) fn apply(&self, conn: &mut DbConnection) -> QueryResult<()> {
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(SQLITE_CONNECTION_PRAGMAS),
            DbConnection::Postgres(c) => c.batch_execute(&format!(
                "SET TIME ZONE 'UTC'; SET statement_timeout = {}; SET scimd.shard = {}",
                self.statement_timeout.as_millis(),
                self.next_shard()
            )),
        }
    }

    fn next_shard(&self) -> u32 {
        let turn = self.next_turn.fetch_add(1, Ordering::Relaxed);
        turn % SHARDS.unsigned_abs()
    }
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Rows per org of the sharded counters on PostgreSQL (`org_tallies`, the safety valve's minutes): the
/// connections' shards, read by [`shard_sql!`].
pub const SHARDS: i32 = 16;

/// The connection's shard in SQL, for `concat!` into the statements of the sharded counters (set by
/// [`ConnectionSettings`] on every PostgreSQL connection of a `Store`).
macro_rules! shard_sql {
    () => {
        "current_setting('scimd.shard')::INTEGER"
    };
}
pub(crate) use shard_sql;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("./scimd.db").unwrap(),
            DatabaseUrl::Sqlite("./scimd.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:x.db").unwrap(),
            DatabaseUrl::Sqlite("x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let err = DatabaseUrl::parse("mysql://root@localhost/x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mysql://"), "{err}");
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse(":memory:").is_err());
    }

    #[test]
    fn postgres_urls_get_timeouts_and_keepalives_unless_they_set_them() {
        let url = postgres_with_defaults("postgres://u@h1:5432,h2:5432/db", Duration::from_secs(3));
        assert_eq!(
            url,
            "postgres://u@h1:5432,h2:5432/db?connect_timeout=3&keepalives=1&keepalives_idle=5\
             &keepalives_interval=1&keepalives_count=3&tcp_user_timeout=5000"
        );
        let given = postgres_with_defaults(
            "postgres://u@h/db?target_session_attrs=read-write&connect_timeout=10",
            Duration::from_secs(2),
        );
        assert!(given.starts_with(
            "postgres://u@h/db?target_session_attrs=read-write&connect_timeout=10&keepalives=1"
        ));
        assert_eq!(given.matches("connect_timeout").count(), 1, "{given}");
    }

    #[test]
    fn passwords_never_reach_messages() {
        let url = DatabaseUrl::parse("postgres://scimd:hunter2@db:5432/scimd").unwrap();
        assert_eq!(url.redacted(), "postgres://scimd:***@db:5432/scimd");
    }
}
