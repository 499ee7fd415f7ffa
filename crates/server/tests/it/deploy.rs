//! No Docker engine runs here, so the deployment files are checked by what can be checked: the compose file
//! parses, every command it and the Dockerfile give scimd exists in the binary, and every SCIMD_ setting they
//! set is one the binary reads.

use crate::harness::{SCIMD, stdout};
use std::path::PathBuf;
use std::process::Command;
use yaml_rust2::{Yaml, YamlLoader};

fn repo_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(name);
    std::fs::read_to_string(path).expect("a file at the repository root")
}

/// `scimd ARGS --help` succeeds only for commands that exist.
fn assert_command_exists(args: &[String]) {
    let out = Command::new(SCIMD).args(args).arg("--help").output().unwrap();
    assert!(
        out.status.success(),
        "`scimd {}` is not a command of the binary",
        args.join(" ")
    );
}

/// Every `SCIMD_*` variable the binary reads appears in some `--help` as `[env: NAME=`.
fn known_settings() -> String {
    ["serve", "migrate"]
        .iter()
        .map(|cmd| stdout(&Command::new(SCIMD).args([cmd, "--help"]).output().unwrap()))
        .collect()
}

#[test]
fn compose_file_parses_and_its_commands_and_settings_exist() {
    let docs =
        YamlLoader::load_from_str(&repo_file("docker-compose.yml")).expect("docker-compose.yml is YAML");
    let services = docs[0]["services"].as_hash().expect("a services map");
    assert!(services.contains_key(&Yaml::from_str("postgres")));
    let help = known_settings();
    let mut scimd_services = 0;
    for (name, service) in services {
        let is_scimd = service["image"].as_str().is_some_and(|i| i.starts_with("scimd"));
        if !is_scimd {
            continue;
        }
        scimd_services += 1;
        let command: Vec<String> = service["command"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        assert_command_exists(&command);
        let env = service["environment"].as_hash().unwrap();
        assert!(
            env.contains_key(&Yaml::from_str("DATABASE_URL")),
            "{name:?} needs DATABASE_URL"
        );
        for key in env
            .keys()
            .filter_map(Yaml::as_str)
            .filter(|k| k.starts_with("SCIMD_"))
        {
            assert!(
                help.contains(&format!("[env: {key}")),
                "{name:?} sets {key}, which scimd does not read"
            );
        }
    }
    assert_eq!(scimd_services, 2, "a migrate job and the scalable server");
    // The server's keys come from outside the database, as files of declared secrets.
    let server = &docs[0]["services"]["scimd"];
    let declared = docs[0]["secrets"].as_hash().expect("a secrets map");
    for (key, secret) in [
        ("SCIMD_SECRET_KEY_FILE", "scimd_secret_key"),
        ("SCIMD_SESSION_SIGNING_KEY_FILE", "scimd_session_signing_key"),
    ] {
        assert_eq!(
            server["environment"][key].as_str(),
            Some(format!("/run/secrets/{secret}").as_str()),
            "{key}"
        );
        assert!(
            declared.contains_key(&Yaml::from_str(secret)),
            "{secret} is declared"
        );
        assert!(
            server["secrets"]
                .as_vec()
                .unwrap()
                .contains(&Yaml::from_str(secret)),
            "the server mounts {secret}"
        );
    }
    assert_eq!(
        docs[0]["services"]["scimd"]["deploy"]["replicas"].as_i64(),
        Some(2)
    );
}

#[test]
fn dockerfile_runs_an_existing_command_as_a_non_root_user() {
    let dockerfile = repo_file("Dockerfile");
    let cmd_line = dockerfile
        .lines()
        .find(|l| l.starts_with("CMD "))
        .expect("a CMD line");
    let cmd: Vec<String> = serde_json::from_str(cmd_line.trim_start_matches("CMD ")).unwrap();
    assert_command_exists(&cmd);
    assert!(
        dockerfile
            .lines()
            .any(|l| l.starts_with("USER ") && !l.contains("root")),
        "runs as non-root"
    );
    let help = known_settings();
    for key in dockerfile
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("SCIMD_"))
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            format!("SCIMD_{name}")
        })
    {
        assert!(
            help.contains(&format!("[env: {key}")),
            "the Dockerfile sets {key}, which scimd does not read"
        );
    }
}
