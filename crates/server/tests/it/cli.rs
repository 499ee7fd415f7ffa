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
        !unknown.status.success()
            && stderr(&unknown).contains("--org nope: no organization has this id")
            && stderr(&unknown).contains("`scimd org list`"),
        "{}",
        stderr(&unknown)
    );
    // The same for a command that reaches the org through a service, with the name where the id belongs.
    let by_name = scimd(
        dir.path(),
        Some(database_url),
        &["token", "list", "--org", "Demo Org"],
    );
    assert!(
        !by_name.status.success() && stderr(&by_name).contains("takes the org's id, not its name"),
        "{}",
        stderr(&by_name)
    );
}

url_backend_tests!(safety_valve_is_shown_and_set: safety_valve_cli_on_sqlite, safety_valve_cli_on_postgres);

url_backend_tests!(org_create_and_list_speak_json: org_commands_on_sqlite, org_commands_on_postgres);

/// `scimd --help` is a page: the commands, the settings most deployments give and where the rest is; the
/// server's many settings are under `scimd serve --help`. Every flag of every command says what it takes.
#[test]
fn the_help_is_short_at_the_top_and_every_flag_is_described() {
    let mut command = scimd_server::cli::command();
    command.build();
    let top = command.render_long_help().to_string();
    for expected in [
        "scimd serve --help",
        "DATABASE_URL",
        "SCIMD_SECRET_KEY_FILE",
        "SCIMD_SESSION_SIGNING_KEY_FILE",
        "SCIMD_PUBLIC_URL",
        "scimd keys generate",
    ] {
        assert!(top.contains(expected), "{expected} is not in:\n{top}");
    }
    assert!(
        !top.contains("--org-rate"),
        "serve's settings are listed at the top:\n{top}"
    );
    assert!(top.lines().count() <= 40, "{} lines:\n{top}", top.lines().count());
    assert!(top.contains("keys      "), "the commands are listed:\n{top}");
    let serve = command
        .find_subcommand_mut("serve")
        .unwrap()
        .render_long_help()
        .to_string();
    for expected in [
        "--org-rate",
        "SCIMD_ORG_RATE",
        "--database-url",
        "SCIMD_SECRET_KEY_FILE",
    ] {
        assert!(serve.contains(expected), "{expected} is not in:\n{serve}");
    }

    fn undescribed(command: &clap::Command, path: &str, found: &mut Vec<String>) {
        for arg in command.get_arguments() {
            if arg.get_help().is_none() && !arg.is_hide_set() {
                found.push(format!("{path} --{}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            undescribed(sub, &format!("{path} {}", sub.get_name()), found);
        }
    }
    let mut found = Vec::new();
    undescribed(&command, "scimd", &mut found);
    assert_eq!(found, Vec::<String>::new(), "flags without a description");
}

/// A reader that stops reading (`scimd org list | head -1`) ends the command quietly: no panic, exit 0.
#[test]
fn a_closed_stdout_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let created = scimd(dir.path(), Some("sqlite://p.db"), CREATE_ACME);
    assert!(created.status.success(), "{}", stderr(&created));
    // The read end is closed before the command starts, so its first write fails with EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(crate::harness::SCIMD)
        .args(["org", "list"])
        .current_dir(dir.path())
        .env("DATABASE_URL", "sqlite://p.db")
        .env("RUST_LOG", "warn")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{:?}: {err}", out.status);
}
