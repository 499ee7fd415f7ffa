//! The server as a newcomer meets it: `scimd` with no arguments on an empty directory creates `./scimd.db`,
//! bootstraps the demo org, and serves the probes and metrics. Any other database gets no demo org unless
//! `--demo` says so, and PostgreSQL never does (L11).

use crate::harness::{ServerProcess, get};
use scimd_store::testing::TestDb;

#[test]
fn serve_on_an_empty_directory_creates_the_database_and_answers_health() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), None);
    assert!(
        dir.path().join("scimd.db").exists(),
        "the default database is ./scimd.db"
    );
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.contains("Bootstrapped a demo organization")),
        "{:?}",
        server.banner
    );

    let public = format!("(public URL http://{})", server.addr);
    assert!(
        server.banner.iter().any(|l| l.contains(&public)),
        "port 0 resolves in the public URL: {:?}",
        server.banner
    );
    let link = server
        .banner
        .iter()
        .find(|l| l.contains("login link"))
        .expect("serve prints the admin login link");
    assert!(
        link.contains(&format!("http://{}/admin/login?token=", server.addr)),
        "{link}"
    );

    let health = get(server.addr, "/healthz");
    assert_eq!(health.status, 200);
    assert!(
        health.header("x-request-id").is_some_and(|id| id.len() >= 32),
        "{:?}",
        health.headers
    );
    assert_eq!(get(server.addr, "/readyz").status, 200);

    let metrics = get(server.addr, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains(r#"scimd_http_requests_total{endpoint="/healthz",method="GET",status="200"} 1"#),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains("scimd_http_requests_duration_seconds_bucket")
    );
    // The demo org's bootstrap wrote to the SQLite file through the group commit: its figures are served.
    let figure = |name: &str| -> u64 {
        metrics
            .body
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} is not on /metrics:\n{}", metrics.body))
    };
    let (writes, commits) = (
        figure("scimd_sqlite_writes_total"),
        figure("scimd_sqlite_commits_total"),
    );
    assert!(
        commits >= 1 && writes >= commits,
        "writes {writes}, commits {commits}"
    );
}

#[test]
fn a_second_start_does_not_bootstrap_again() {
    let dir = tempfile::tempdir().unwrap();
    drop(ServerProcess::start(dir.path(), None));
    let again = ServerProcess::start(dir.path(), None);
    assert!(
        !again.banner.iter().any(|l| l.contains("Bootstrapped")),
        "{:?}",
        again.banner
    );
    // The first link was printed once; the second start says how to get another (issue #25).
    assert!(
        again
            .banner
            .iter()
            .any(|l| l.trim_start().starts_with("scimd admin login-link --org ")
                && l.ends_with("--email owner@demo.example")),
        "{:?}",
        again.banner
    );
}

#[test]
fn unknown_paths_do_not_grow_the_metric_labels() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), None);
    assert_eq!(get(server.addr, "/no/such/path/123").status, 404);
    let metrics = get(server.addr, "/metrics").body;
    assert!(!metrics.contains("/no/such/path"), "{metrics}");
    assert!(metrics.contains(r#"endpoint="UNMATCHED""#), "{metrics}");
}

fn bootstrapped(server: &ServerProcess) -> bool {
    server.banner.iter().any(|l| l.contains("Bootstrapped"))
}

#[test]
fn only_the_default_file_or_demo_gets_a_demo_org() {
    let dir = tempfile::tempdir().unwrap();
    let other = format!("sqlite://{}", dir.path().join("prod.db").display());
    let plain = ServerProcess::start(dir.path(), Some(&other));
    assert!(!bootstrapped(&plain), "{:?}", plain.banner);
    assert!(
        !plain.banner.iter().any(|l| l.contains("/admin/login?token=")),
        "no way in is printed: {:?}",
        plain.banner
    );
    // Only the commands that make one (issue #25).
    assert!(
        plain
            .banner
            .iter()
            .any(|l| l.trim() == "scimd admin login-link --org ORG_ID --email you@example.com"),
        "{:?}",
        plain.banner
    );
    drop(plain);
    let demo = ServerProcess::start_with(dir.path(), Some(&other), &[("SCIMD_DEMO", "true")]);
    assert!(
        bootstrapped(&demo),
        "--demo bootstraps an empty file: {:?}",
        demo.banner
    );
    drop(demo);

    let fresh = tempfile::tempdir().unwrap();
    let opted_out = ServerProcess::start_with(fresh.path(), None, &[("SCIMD_NO_BOOTSTRAP", "true")]);
    assert!(!bootstrapped(&opted_out), "{:?}", opted_out.banner);
}

/// Not even with `--demo`, and not when two processes start together on it.
#[test]
fn an_empty_postgres_gets_no_demo_org() {
    let Some(db) = TestDb::postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| ServerProcess::start(dir.path(), Some(&db.url)));
        let b = s.spawn(|| ServerProcess::start_with(dir.path(), Some(&db.url), &[("SCIMD_DEMO", "true")]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(
        !bootstrapped(&a) && !bootstrapped(&b),
        "{:?} {:?}",
        a.banner,
        b.banner
    );
    let orgs = db.store.read(scimd_store::models::organizations::list).unwrap();
    assert!(orgs.is_empty(), "{orgs:?}");
    assert_eq!(get(a.addr, "/readyz").status, 200);
    assert_eq!(get(b.addr, "/readyz").status, 200);
}
