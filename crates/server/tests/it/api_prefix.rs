//! `/api/v1/orgs/{org}` is two surfaces: the admin pages' JSON API (`audit`, `activity`, with the session
//! cookie) and the platform's directory API (`users`, `groups`, ..., with an API key). Which one answers a
//! path depends on the order the server registers them (docs/ARCHITECTURE.md, "One prefix, two surfaces"), so
//! each path is asked without credentials and must be refused by its own surface, recognised by its error
//! code and headers.

use crate::harness::{ServerProcess, get};

const ORG: &str = "00000000-0000-0000-0000-000000000000";

#[test]
fn each_path_under_the_shared_prefix_reaches_its_own_surface() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), None);
    for path in ["audit", "activity"] {
        let r = get(server.addr, &format!("/api/v1/orgs/{ORG}/{path}"));
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert_eq!(r.json()["error"], "not_signed_in", "{path}: the admin JSON API");
        assert!(
            r.header("content-security-policy").is_some(),
            "{path}: the admin crate's security headers"
        );
    }
    let platform = ["users", "users/u1", "groups", "groups/g1", "groups/g1/members"]
        .map(|p| format!("/api/v1/orgs/{ORG}/{p}"));
    for path in platform
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
}
