//! The two server keys from files (`SCIMD_SESSION_SIGNING_KEY_FILE`, `SCIMD_SECRET_KEY_FILE`), as the
//! README's production section tells operators to give them: every command uses them, and a key that cannot
//! be used stops the command with the setting's name and never the key.

use crate::harness::{CREATE_ACME, SCIMD, ServerProcess, get, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output};

const SESSION_KEY: &str = "a-session-signing-key-of-more-than-32-bytes";
const OTHER_SESSION_KEY: &str = "another-session-signing-key-also-long-enough";
const SECRET_KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// `scimd ARGS` with only the given SCIMD_* settings.
fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(SCIMD);
    cmd.args(args)
        .current_dir(dir)
        .env("DATABASE_URL", "sqlite://k.db")
        .env("RUST_LOG", "warn");
    for (key, _) in std::env::vars() {
        if key.starts_with("SCIMD_") {
            cmd.env_remove(key);
        }
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("run scimd")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn keys_from_files_sign_and_encrypt_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let session = write(dir.path(), "session.key", &format!("{SESSION_KEY}\n"));
    let other = write(dir.path(), "other.key", OTHER_SESSION_KEY);
    let secret = write(dir.path(), "secret.key", &format!("{SECRET_KEY_HEX}\n"));
    let keys = [
        ("SCIMD_SESSION_SIGNING_KEY_FILE", session.as_str()),
        ("SCIMD_SECRET_KEY_FILE", secret.as_str()),
    ];
    let org = run(dir.path(), &keys, CREATE_ACME);
    assert!(org.status.success(), "{}", stderr(&org));
    let org: serde_json::Value = serde_json::from_str(&stdout(&org)).unwrap();
    let org = org["id"].as_str().unwrap();
    let mut with_secret = keys.to_vec();
    with_secret.push(("SCIMD_AZURE_CLIENT_SECRET", "the-azure-client-secret"));
    let sso = run(
        dir.path(),
        &with_secret,
        &[
            "sso",
            "set-azure",
            "--org",
            org,
            "--tenant-id",
            "11111111-2222-3333-4444-555555555555",
            "--client-id",
            "11111111-2222-3333-4444-666666666666",
        ],
    );
    assert!(sso.status.success(), "{}", stderr(&sso));
    let link = run(
        dir.path(),
        &keys,
        &[
            "admin",
            "login-link",
            "--org",
            org,
            "--email",
            "it@acme.example",
            "--json",
        ],
    );
    assert!(link.status.success(), "{}", stderr(&link));
    let link: serde_json::Value = serde_json::from_str(&stdout(&link)).unwrap();
    let url = link["url"].as_str().unwrap();
    let path = &url[url.find("/admin/").unwrap()..];

    // A server with another session key cannot read the link; one with the file's key can.
    let wrong = ServerProcess::start_with(
        dir.path(),
        Some("sqlite://k.db"),
        &[
            ("SCIMD_SESSION_SIGNING_KEY_FILE", other.as_str()),
            ("SCIMD_SECRET_KEY_FILE", secret.as_str()),
        ],
    );
    let refused = get(wrong.addr, path);
    assert_ne!(refused.status, 200, "{}", refused.body);
    drop(wrong);
    let right = ServerProcess::start_with(dir.path(), Some("sqlite://k.db"), &keys);
    let page = get(right.addr, path);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Acme"), "{}", page.body);
    drop(right);

    // The SSO connection set with the secret key from its file reads back (never its secret).
    let shown = run(dir.path(), &keys, &["sso", "show", "--org", org, "--json"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(
        stdout(&shown).contains("11111111-2222-3333-4444-666666666666"),
        "{}",
        stdout(&shown)
    );
    assert!(
        !stdout(&shown).contains("the-azure-client-secret"),
        "{}",
        stdout(&shown)
    );
}

#[test]
fn unusable_keys_name_their_setting_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let short = write(dir.path(), "short.key", "too-short");
    let bad_secret = write(dir.path(), "bad-secret.key", "not-32-bytes-of-anything");
    // (settings, what the error names, what it must not print)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 4] = [
        (
            &[("SCIMD_SESSION_SIGNING_KEY_FILE", short.as_str())],
            "SCIMD_SESSION_SIGNING_KEY",
            "too-short",
        ),
        (
            &[("SCIMD_SESSION_SIGNING_KEY_FILE", "/nonexistent/session.key")],
            "SCIMD_SESSION_SIGNING_KEY_FILE",
            "\u{0}",
        ),
        (
            &[
                ("SCIMD_SESSION_SIGNING_KEY", SESSION_KEY),
                ("SCIMD_SESSION_SIGNING_KEY_FILE", short.as_str()),
            ],
            "not both",
            SESSION_KEY,
        ),
        (
            &[("SCIMD_SECRET_KEY_FILE", bad_secret.as_str())],
            "SCIMD_SECRET_KEY",
            "not-32-bytes-of-anything",
        ),
    ];
    for (env, named, secret) in cases {
        let out = run(
            dir.path(),
            env,
            &["admin", "login-link", "--org", "o", "--email", "a@b.example"],
        );
        assert!(!out.status.success(), "{env:?} should fail");
        let err = stderr(&out);
        assert!(err.contains(named), "{env:?}: {err}");
        assert!(!err.contains(secret), "{env:?} printed its key: {err}");
    }
}
