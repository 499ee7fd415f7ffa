//! Test harness: run the `scimd` binary, start the real server, and speak plain HTTP/1.1 to it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub const SCIMD: &str = env!("CARGO_BIN_EXE_scimd");

/// `scimd org create` of Acme, owned by it@acme.example, answering in JSON.
pub const CREATE_ACME: &[&str] = &[
    "org",
    "create",
    "--name",
    "Acme",
    "--owner-email",
    "it@acme.example",
    "--json",
];

/// Two `#[test]`s of `body(database_url)`: `sqlite` on a fresh SQLite file and `postgres` on a fresh PostgreSQL
/// schema (skipped without `SCIMD_TEST_POSTGRES_URL`), for tests of the binary where the database matters.
macro_rules! url_backend_tests {
    ($body:ident: $sqlite:ident, $postgres:ident) => {
        #[test]
        fn $sqlite() {
            let db = scimd_store::testing::TestDb::sqlite();
            $body(&db.url);
        }

        #[test]
        fn $postgres() {
            if let Some(db) = scimd_store::testing::TestDb::postgres() {
                $body(&db.url);
            }
        }
    };
}
pub(crate) use url_backend_tests;

/// The keys a PostgreSQL deployment gives every process (`serve` refuses to start there without them): the
/// harness sets them for a `postgres://` database unless the test's own settings name them (an empty value
/// unsets one).
pub const TEST_SECRET_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";
pub const TEST_SESSION_SIGNING_KEY: &str = "test-session-signing-key-of-at-least-32-bytes";

pub fn keys_for_postgres(cmd: &mut Command, database_url: Option<&str>) {
    if database_url.is_some_and(|url| url.starts_with("postgres")) {
        cmd.env("SCIMD_SECRET_KEY", TEST_SECRET_KEY)
            .env("SCIMD_SESSION_SIGNING_KEY", TEST_SESSION_SIGNING_KEY);
    }
}

/// Runs `scimd ARGS` with the given database and working directory, no other scimd settings inherited.
pub fn scimd(dir: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    scimd_with(dir, database_url, args, &[])
}

/// The `scimd` command as [`scimd`] runs it, before its arguments (for a child the test waits on or kills).
pub fn scimd_command(dir: &Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(SCIMD);
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    for (key, _) in std::env::vars() {
        if key.starts_with("SCIMD_") {
            cmd.env_remove(key);
        }
    }
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    keys_for_postgres(&mut cmd, database_url);
    cmd
}

/// As [`scimd`], with the given scimd settings.
pub fn scimd_with(dir: &Path, database_url: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = scimd_command(dir, database_url);
    cmd.args(args);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("run scimd")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A `scimd serve` child process, killed on drop.
pub struct ServerProcess {
    pub child: Child,
    pub addr: SocketAddr,
    pub banner: Vec<String>,
    /// Where its stderr (the log) goes, when started with [`ServerProcess::start_logging_to`].
    pub log: Option<std::path::PathBuf>,
}

impl ServerProcess {
    /// Starts `scimd` (no subcommand: serve is the default) on a free port and waits for its banner.
    pub fn start(dir: &Path, database_url: Option<&str>) -> ServerProcess {
        ServerProcess::start_with(dir, database_url, &[])
    }

    /// As [`ServerProcess::start`], with more environment.
    pub fn start_with(dir: &Path, database_url: Option<&str>, env: &[(&str, &str)]) -> ServerProcess {
        ServerProcess::spawn(dir, database_url, env, None)
    }

    /// As [`ServerProcess::start`], with more environment, and the log written to `log` (read it with
    /// [`ServerProcess::log_text`]) instead of the test's stderr.
    pub fn start_logging_to(
        dir: &Path,
        database_url: Option<&str>,
        env: &[(&str, &str)],
        log: &Path,
    ) -> ServerProcess {
        ServerProcess::spawn(dir, database_url, env, Some(log))
    }

    fn spawn(
        dir: &Path,
        database_url: Option<&str>,
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> ServerProcess {
        let mut cmd = Command::new(SCIMD);
        cmd.current_dir(dir)
            .env_remove("DATABASE_URL")
            .env("SCIMD_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped());
        match log {
            Some(path) => cmd.stderr(std::fs::File::create(path).expect("create the log file")),
            None => cmd.stderr(Stdio::inherit()),
        };
        keys_for_postgres(&mut cmd, database_url);
        for (key, value) in env {
            cmd.env(key, value);
        }
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        let mut child = cmd.spawn().expect("spawn scimd");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut banner = Vec::new();
        let mut addr = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read scimd stdout");
            if let Some(rest) = line.strip_prefix("scimd listening on http://") {
                addr = rest.split_whitespace().next().and_then(|a| a.parse().ok());
                banner.push(line);
                break;
            }
            banner.push(line);
        }
        assert!(addr.is_some(), "scimd never said where it listens: {banner:?}");
        let addr = addr.unwrap();
        ServerProcess {
            child,
            addr,
            banner,
            log: log.map(Path::to_path_buf),
        }
    }

    /// Everything logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.as_ref().expect("started with a log file")).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response as the tests need it: the one HTTP client of these tests is `scim_client`.
pub use crate::scim_client::Reply as Response;

/// One GET over a fresh connection, without credentials.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    crate::scim_client::Client {
        addr,
        base: String::new(),
        token: None,
    }
    .get(path)
}
