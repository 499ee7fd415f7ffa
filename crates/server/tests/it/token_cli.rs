//! `scimd sso`, `scimd token` and `scimd admin login-link` as operators script them: the `--json` fields are a
//! contract, the client secret comes from standard input, and no listing ever shows a token.

use crate::harness::{CREATE_ACME, SCIMD, scimd, stderr, stdout, url_backend_tests};
use std::io::Write;
use std::process::{Command, Stdio};

const SECRET: &str = "cli-test-client-secret~42";

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn set_azure_from_stdin(dir: &std::path::Path, database_url: &str, org: &str) -> std::process::Output {
    let mut cmd = Command::new(SCIMD);
    crate::harness::keys_for_postgres(&mut cmd, Some(database_url));
    let mut child = cmd
        .args(["sso", "set-azure", "--org", org, "--json"])
        .args(["--tenant-id", "6f9619ff-8b86-d011-b42d-00c04fc964ff"])
        .args(["--client-id", "0b5e1c3a-2d4f-4e6a-8b9c-1d2e3f4a5b6c"])
        .current_dir(dir)
        .env("DATABASE_URL", database_url)
        .env_remove("SCIMD_AZURE_CLIENT_SECRET")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{SECRET}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn tokens_sso_and_login_links_speak_json(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| scimd(dir.path(), Some(database_url), args);
    let org = json(&run(CREATE_ACME));
    let org = org["id"].as_str().unwrap().to_owned();

    let early = run(&["token", "generate", "--org", &org]);
    assert!(!early.status.success());
    assert!(stderr(&early).contains("set up SSO first"), "{}", stderr(&early));

    let cert = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../signin/tests/it/fixtures/idp-signing.pem"
    );
    let saml = json(&run(&[
        "sso",
        "set-saml",
        "--org",
        &org,
        "--entity-id",
        "https://idp.example.com",
        "--sso-url",
        "https://idp.example.com/sso",
        "--cert",
        cert,
        "--json",
    ]));
    assert_eq!(saml["kind"], "saml");
    assert!(
        saml["certificate"]["fingerprint_sha256"]
            .as_str()
            .unwrap()
            .starts_with("AA:A5:88")
    );

    let azure = set_azure_from_stdin(dir.path(), database_url, &org);
    let azure = json(&azure);
    assert_eq!(
        (&azure["kind"], &azure["client_secret_set"]),
        (&"azure_ad".into(), &true.into())
    );
    let shown = run(&["sso", "show", "--org", &org, "--json"]);
    assert!(!stdout(&shown).contains(SECRET));

    let first = json(&run(&[
        "token",
        "generate",
        "--org",
        &org,
        "--expires",
        "90d",
        "--json",
    ]));
    assert_eq!(
        first["endpoint_url"],
        format!("http://127.0.0.1:8080/scim/v2/{org}")
    );
    let first_token = first["token"].as_str().unwrap().to_owned();
    assert!(
        first_token.starts_with("scimd_") && first_token.len() == 55,
        "{first_token}"
    );
    assert!(first["expires_at"].is_string());
    let second = json(&run(&[
        "token", "generate", "--org", &org, "--grace", "1h", "--json",
    ]));
    assert!(second["previous_valid_until"].is_string(), "{second}");
    let second_token = second["token"].as_str().unwrap().to_owned();

    let listed = run(&["token", "list", "--org", &org, "--json"]);
    for token in [&first_token, &second_token] {
        assert!(!stdout(&listed).contains(&token[6..]), "a listing shows a token");
    }
    let statuses: Vec<String> = json(&listed)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["active", "grace"]);
    assert_eq!(
        json(&run(&["token", "revoke", "--org", &org, "--json"]))["revoked"],
        2
    );

    let link = json(&run(&[
        "admin",
        "login-link",
        "--org",
        &org,
        "--email",
        "IT@acme.example",
        "--json",
    ]));
    assert!(
        link["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:8080/admin/login?token="),
        "{link}"
    );
    let nobody = run(&[
        "admin",
        "login-link",
        "--org",
        &org,
        "--email",
        "nobody@acme.example",
    ]);
    assert!(!nobody.status.success());
}

url_backend_tests!(tokens_sso_and_login_links_speak_json: token_commands_on_sqlite, token_commands_on_postgres);
