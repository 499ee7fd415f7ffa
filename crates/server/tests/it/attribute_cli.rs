//! `scimd attribute define|list` as operators script them: the `--json` fields are a contract, names and
//! types are checked, a name is declared once, and an org sees its own attributes and the deployment's.

use crate::harness::{CREATE_ACME, scimd, stderr, url_backend_tests};
use serde_json::json;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn attributes_speak_json(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| scimd(dir.path(), Some(database_url), args);
    let org = json(&run(CREATE_ACME))["id"].as_str().unwrap().to_owned();
    let other = json(&run(&["org", "create", "--name", "Other", "--json"]))["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let defined = json(&run(&[
        "attribute",
        "define",
        "--org",
        &org,
        "--name",
        "costCenter",
        "--type",
        "string",
        "--filterable",
        "--json",
    ]));
    assert!(defined["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(defined["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let mut stable = defined.clone();
    stable.as_object_mut().unwrap().remove("id");
    stable.as_object_mut().unwrap().remove("created_at");
    assert_eq!(
        stable,
        json!({
            "org_id": org, "name": "costCenter", "type": "string", "multi_valued": false,
            "case_exact": false, "filterable": true, "claim": null,
            "scim_path": "urn:ietf:params:scim:schemas:extension:scimd:2.0:User:costCenter",
        })
    );
    json(&run(&[
        "attribute",
        "define",
        "--deployment",
        "--name",
        "badges",
        "--type",
        "dateTime",
        "--multi-valued",
        "--json",
    ]));

    for (args, says) in [
        (
            vec!["--org", &org, "--name", "COSTCENTER", "--type", "string"],
            "already declared",
        ),
        (
            vec!["--org", &other, "--name", "badges", "--type", "string"],
            "already declared",
        ),
        (
            vec!["--org", &org, "--name", "1x", "--type", "string"],
            "not an attribute name",
        ),
        (
            vec!["--org", &org, "--name", "x", "--type", "binary"],
            "one of string",
        ),
        (
            vec!["--org", "nope", "--name", "x", "--type", "string"],
            "--org nope",
        ),
        (vec!["--name", "x", "--type", "string"], "--org"),
    ] {
        let out = run(&[&["attribute", "define"][..], &args].concat());
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }

    let listed = json(&run(&["attribute", "list", "--org", &org, "--json"]));
    let names: Vec<(&str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["org_id"].is_null()))
        .collect();
    assert_eq!(names, [("badges", true), ("costCenter", false)]);
    let theirs = json(&run(&["attribute", "list", "--org", &other, "--json"]));
    assert_eq!(theirs.as_array().unwrap().len(), 1, "{theirs}");
    let lines = run(&["attribute", "list", "--org", &org]);
    let text = String::from_utf8(lines.stdout).unwrap();
    assert!(text.contains("costCenter  string,filterable  org"), "{text}");
}

url_backend_tests!(attributes_speak_json: attribute_commands_on_sqlite, attribute_commands_on_postgres);
