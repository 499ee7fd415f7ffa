//! Provisioning activity: recorded in batches for every authenticated request under an existing org's SCIM
//! URL, under the org the router saw (a percent-encoded org id is the same org: M7); requests refused with 401
//! are only counted on `/metrics` (M4), and URLs of orgs that do not exist record nothing.

use crate::test_app::TestApp;
use scimd_store::OrgId;
use scimd_store::models::scim_activity;
use scimd_store::testing::TestDb;
use std::time::{Duration, Instant};

fn wait_for_rows(db: &TestDb, org: &OrgId, at_least: usize) -> Vec<scim_activity::Activity> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = db
            .store
            .read(|conn| scim_activity::list(conn, org, None, None, 100))
            .unwrap();
        if rows.len() >= at_least || Instant::now() > deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn authenticated_requests_are_recorded_and_401s_only_counted(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.client_a();
    let anonymous = a.with_token(None);
    for _ in 0..5 {
        assert_eq!(anonymous.get("/Users").status, 401);
    }
    let lookup = "/Users?filter=userName eq \"ada@acme.example\"";
    let statuses: Vec<u16> = (0..3).map(|_| a.get(lookup).status).collect();
    assert_eq!(statuses, vec![200, 200, 200]);
    a.with_base("/scim/v2/00000000-0000-0000-0000-000000000000".into())
        .get("/Users");
    env.get("/healthz");

    // The channel is first in, first out: once the last lookup's row is stored, so would the 401s be.
    let rows = wait_for_rows(db, &env.a.id, 3);
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        assert_eq!((row.method.as_str(), row.status), ("GET", 200));
        assert!(
            row.path.contains("filter=userName"),
            "path and query are kept: {}",
            row.path
        );
    }
    let metrics = env.get("/metrics").body;
    assert!(
        metrics.contains("scimd_scim_unauthenticated_total 6"),
        "five anonymous requests and one with another org's URL: {metrics}"
    );
    let unknown = OrgId::new("00000000-0000-0000-0000-000000000000");
    let stray = db
        .store
        .read(|conn| scim_activity::list(conn, &unknown, None, None, 10))
        .unwrap();
    assert!(
        stray.is_empty(),
        "nothing recorded for an org that does not exist"
    );
}

/// M7: `/scim/v2/%36f0e…/Users` is routed, and its token checked, as org `6f0e…`: so is its activity.
fn a_percent_encoded_org_id_is_recorded_under_the_org(db: &TestDb) {
    let env = &TestApp::init(db);
    let id = env.a.id.as_str();
    let first = id.as_bytes()[0];
    let encoded = format!("/scim/v2/%{first:02X}{}", &id[1..]);
    let reply = env.client_a().with_base(encoded).get("/Users");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let rows = wait_for_rows(db, &env.a.id, 1);
    assert_eq!(rows.len(), 1, "the read left an activity row");
    assert_eq!(rows[0].status, 200);
}

scimd_store::backend_tests!(
    authenticated_requests_are_recorded_and_401s_only_counted,
    a_percent_encoded_org_id_is_recorded_under_the_org,
);
