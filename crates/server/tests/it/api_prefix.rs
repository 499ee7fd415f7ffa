//! Everything under `/api/v1` is the platform API's, with an API key: the directory, the events, the audit
//! trail and the provisioning activity. Each path is asked without credentials and must be refused by the
//! platform API (its error code and `WWW-Authenticate`), never by the admin pages' scope, whose security
//! headers those pages keep.

use crate::harness::{ServerProcess, get};

const ORG: &str = "00000000-0000-0000-0000-000000000000";

#[test]
fn every_path_under_api_v1_reaches_the_platform_api() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), None);
    let under_org = [
        "users",
        "users/u1",
        "groups",
        "groups/g1",
        "groups/g1/members",
        "audit",
        "activity",
    ]
    .map(|p| format!("/api/v1/orgs/{ORG}/{p}"));
    for path in under_org
        .iter()
        .map(String::as_str)
        .chain(["/api/v1/orgs", "/api/v1/events"])
    {
        let r = get(server.addr, path);
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert_eq!(r.json()["error"], "unauthorized", "{path}: the platform API");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{path}");
        assert!(
            r.header("content-security-policy").is_none(),
            "{path}: not through the admin crate's scope"
        );
    }
    let admin = get(server.addr, "/admin");
    assert!(
        admin.header("content-security-policy").is_some(),
        "the admin pages keep their security headers"
    );
}
