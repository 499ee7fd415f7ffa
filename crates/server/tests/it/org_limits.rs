//! Per-org limits over HTTP, on both backends: org A far above its rate gets 429s with `Retry-After` and a
//! SCIM error body, while org B at the same time gets none; unauthenticated requests at A's URL spend none
//! of A's budget. Counts and statuses only, no timings.

use crate::test_app::TestApp;
use scimd_store::models::org_limits::{self, LimitsChange};
use scimd_store::testing::TestDb;
use scimd_store::{Clock, SystemClock};

/// Org A's bucket: 5 at once, then one a second.
const A_BURST: i32 = 5;

fn limit_a(env: &TestApp) {
    let change = LimitsChange {
        rate: Some(1),
        burst: Some(A_BURST),
        in_flight: None,
    };
    env.store
        .write(|c| org_limits::set(c, &env.a.id, change, SystemClock.now_naive()))
        .unwrap();
}

fn a_flood_is_refused_and_b_is_not(db: &TestDb) {
    let env = &TestApp::init(db);
    limit_a(env);
    let (a, b) = (env.client_a(), env.client_b());
    // Nobody's token: 401 every time, and none of A's tokens spent.
    let stranger = a.with_token(Some("scimd_not-a-token"));
    for _ in 0..20 {
        assert_eq!(stranger.get("/Users").status, 401);
    }
    let (mut a_ok, mut a_limited, mut b_limited) = (0, 0, 0);
    for i in 0..40 {
        let r = a.get("/Users");
        match r.status {
            200 => a_ok += 1,
            429 => {
                a_limited += 1;
                let secs: u64 = r.header("Retry-After").unwrap().parse().unwrap();
                assert!(secs >= 1, "Retry-After {secs}");
                let body = r.json();
                assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
                assert_eq!(body["status"], "429");
                assert!(body.get("scimType").is_none(), "{body}");
            }
            other => panic!("A got {other}: {}", r.body),
        }
        if i % 4 == 0 {
            let r = b.get("/Users");
            if r.status == 429 {
                b_limited += 1;
            }
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }
    // The 20 refused credentials spent nothing: A's whole burst was served.
    assert!(a_ok >= A_BURST, "A served {a_ok}");
    assert!(a_limited > 0, "A was never limited");
    assert_eq!(b_limited, 0);
}

scimd_store::backend_tests!(a_flood_is_refused_and_b_is_not);
