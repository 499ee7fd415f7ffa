//! Provisioning activity: recorded in batches for every authenticated request under an existing org's SCIM
//! URL, under the org the router saw (a percent-encoded org id is the same org: M7); requests refused with 401
//! are only counted on `/metrics` (M4), and URLs of orgs that do not exist record nothing. Nor does any other
//! answer to a request without a valid token: an unknown path's 404, a wrong method's 405, a NUL's 400, the
//! 429 of an org's empty bucket before the token is checked (M4 residual).

use crate::test_app::TestApp;
use scimd_store::OrgId;
use scimd_store::models::org_limits::{self, LimitsChange};
use scimd_store::models::scim_activity;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, SystemClock};
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

fn requests_without_a_valid_token_leave_no_row_whatever_their_status(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.client_a();
    // Every stranger's request says so in its query, which a row would keep.
    let strangers = [a.with_token(None), a.with_token(Some("scimd_not-a-token"))];
    for stranger in &strangers {
        let long = format!("/{}?by=stranger", "x".repeat(600));
        assert_eq!(stranger.get(&long).status, 404);
        assert_eq!(
            stranger.send("DELETE", "/Users?by=stranger", None, &[]).status,
            405
        );
        assert_eq!(stranger.get("/Users/%00?by=stranger").status, 400);
    }
    // With the token, the same misdirected requests are the IdP's own, and recorded.
    assert_eq!(a.get("/nowhere").status, 404);
    assert_eq!(a.send("DELETE", "/Users", None, &[]).status, 405);

    // Org A's bucket emptied by its IdP: a stranger's request is refused (429) before its token is checked.
    let change = LimitsChange {
        rate: Some(1),
        burst: Some(1),
        in_flight: None,
    };
    env.store
        .write(|c| org_limits::set(c, &env.a.id, change, SystemClock.now_naive()))
        .unwrap();
    let mut stranger_limited = 0;
    for _ in 0..50 {
        a.get("/Users");
        if strangers[0].get("/Users?by=stranger").status == 429 {
            stranger_limited += 1;
            if stranger_limited == 3 {
                break;
            }
        }
    }
    assert_eq!(
        stranger_limited, 3,
        "the stranger was never refused before its token was checked"
    );

    // The last request of the IdP is recorded: with the channel first in, first out, every earlier row is
    // stored by then.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(a.get("/Users?last").status, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let rows = loop {
        let rows = wait_for_rows(db, &env.a.id, 1);
        if rows.iter().any(|r| r.path.ends_with("?last")) || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(rows.iter().any(|r| r.path.ends_with("?last")), "{rows:?}");
    let statuses: Vec<i32> = rows.iter().map(|r| r.status).collect();
    for status in [404, 405, 200] {
        assert!(
            statuses.contains(&status),
            "the IdP's own {status} is recorded: {rows:?}"
        );
    }
    let stray: Vec<_> = rows.iter().filter(|r| r.path.contains("stranger")).collect();
    assert!(stray.is_empty(), "a stranger's request was recorded: {stray:?}");
}

scimd_store::backend_tests!(
    requests_without_a_valid_token_leave_no_row_whatever_their_status,
    authenticated_requests_are_recorded_and_401s_only_counted,
    a_percent_encoded_org_id_is_recorded_under_the_org,
);
