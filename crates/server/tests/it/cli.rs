//! The binary as operators run it: migrate, org create/list with `--json`, and configuration errors that name
//! the setting.

use crate::harness::{CREATE_ACME, scimd, stderr, stdout, url_backend_tests};

#[test]
fn migrate_twice_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let first = scimd(dir.path(), Some("sqlite://m.db"), &["migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("applied"), "{}", stdout(&first));
    let second = scimd(dir.path(), Some("sqlite://m.db"), &["migrate"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(stdout(&second).contains("up to date"), "{}", stdout(&second));
}

#[test]
fn a_bad_database_url_exits_non_zero_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "mysql://root@localhost/scimd",
        "postgres://nobody@127.0.0.1:1/none",
        "/nonexistent/dir/x.db",
    ] {
        let out = scimd(dir.path(), Some(url), &["migrate"]);
        assert!(!out.status.success(), "{url} should fail");
        assert!(stderr(&out).contains("DATABASE_URL"), "{url}: {}", stderr(&out));
    }
}

#[test]
fn bad_serve_settings_name_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::harness::SCIMD)
        .current_dir(dir.path())
        .env("SCIMD_PUBLIC_URL", "not a url")
        .env("SCIMD_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("SCIMD_PUBLIC_URL"), "{}", stderr(&out));
}

fn org_create_and_list_speak_json(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let created = scimd(dir.path(), Some(database_url), CREATE_ACME);
    assert!(created.status.success(), "{}", stderr(&created));
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Acme");
    assert_eq!(created["owner_email"], "it@acme.example");

    let listed = scimd(dir.path(), Some(database_url), &["org", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert!(ids.contains(&id.as_str()), "{listed}");

    let bad = scimd(
        dir.path(),
        Some(database_url),
        &["org", "create", "--name", "X", "--owner-email", "nope"],
    );
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("--owner-email"), "{}", stderr(&bad));
}

fn safety_valve_is_shown_and_set(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let created = scimd(
        dir.path(),
        Some(database_url),
        &["org", "create", "--name", "Acme", "--json"],
    );
    let org: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let org = org["id"].as_str().unwrap();
    let valve = |args: &[&str]| {
        let mut all = vec!["org", "safety-valve", "--org", org, "--json"];
        all.extend_from_slice(args);
        let out = scimd(dir.path(), Some(database_url), &all);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let shown = valve(&[]);
    assert_eq!(
        (
            shown["enabled"].as_bool(),
            shown["percent"].as_i64(),
            shown["min"].as_i64()
        ),
        (Some(true), Some(20), Some(10))
    );
    let set = valve(&["--set", "off", "--percent", "30"]);
    assert_eq!(
        (
            set["enabled"].as_bool(),
            set["percent"].as_i64(),
            set["held"].as_bool()
        ),
        (Some(false), Some(30), Some(false))
    );
    let bad = scimd(
        dir.path(),
        Some(database_url),
        &["org", "safety-valve", "--org", org, "--percent", "0"],
    );
    assert!(
        !bad.status.success() && stderr(&bad).contains("--percent"),
        "{}",
        stderr(&bad)
    );
    let unknown = scimd(
        dir.path(),
        Some(database_url),
        &["org", "safety-valve", "--org", "nope"],
    );
    assert!(
        !unknown.status.success() && stderr(&unknown).contains("no such org"),
        "{}",
        stderr(&unknown)
    );
}

url_backend_tests!(safety_valve_is_shown_and_set: safety_valve_cli_on_sqlite, safety_valve_cli_on_postgres);

url_backend_tests!(org_create_and_list_speak_json: org_commands_on_sqlite, org_commands_on_postgres);
