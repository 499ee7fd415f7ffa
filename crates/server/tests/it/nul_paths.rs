//! A NUL (`%00`) anywhere in a URL is 400 on both backends (PostgreSQL refuses NUL in text, which made these
//! 500s there): on the SCIM API with a SCIM error body, in the org, a User's or a Group's id and a filter; on
//! the platform API in its error shape, in the org and the ids.

use crate::test_app::TestApp;
use scimd_store::testing::TestDb;

fn a_nul_in_a_url_is_400_not_500(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.client_a();
    let scim_paths = [
        "/Users/%00",
        "/Users/abc%00def",
        "/Groups/%00",
        "/Users?filter=userName%20eq%20%22a%00b%22",
    ];
    for path in scim_paths {
        for method in ["GET", "DELETE"] {
            let r = a.send(method, path, None, &[]);
            assert_eq!(r.status, 400, "{method} {path}: {}", r.body);
            let body = r.json();
            assert_eq!(
                body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
                "{body}"
            );
            assert_eq!(body["status"], "400", "{body}");
        }
    }
    let nul_org = a.with_base("/scim/v2/%00".into()).get("/Users");
    assert_eq!(nul_org.status, 400, "{}", nul_org.body);

    let org = env.a.id.as_str();
    let api = env.client(String::new(), Some(&env.api_key(None)));
    for path in [
        format!("/api/v1/orgs/{org}/users/%00"),
        format!("/api/v1/orgs/{org}/groups/%00"),
        format!("/api/v1/orgs/{org}/groups/%00/members"),
        "/api/v1/orgs/%00/users".to_owned(),
    ] {
        let r = api.get(&path);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.json()["error"], "bad_request", "{path}: {}", r.body);
    }
}

scimd_store::backend_tests!(a_nul_in_a_url_is_400_not_500);
