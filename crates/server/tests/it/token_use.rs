//! A SCIM read checks its token on the read's own connection (`TokenService::verify_on`), and the token's
//! coalesced `last_used_at` is written after that connection is given back: the read still records the use,
//! and a write, which checks its token on its own, does too.

use crate::test_app::TestApp;
use scimd_store::models::scim_tokens;
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, Store};

fn last_used(store: &Store, org: &OrgId) -> Vec<bool> {
    store
        .read(|conn| scim_tokens::list(conn, org))
        .unwrap()
        .iter()
        .map(|t| t.last_used_at.is_some())
        .collect()
}

fn a_read_records_its_tokens_use(db: &TestDb) {
    let app = TestApp::init(db);
    assert_eq!(
        last_used(&app.store, &app.a.id),
        [false],
        "a fresh token is unused"
    );
    let reply = app
        .client_a()
        .get(r#"/Users?filter=userName eq "nobody@a.example""#);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        last_used(&app.store, &app.a.id),
        [true],
        "the lookup recorded the token's use"
    );
    assert_eq!(
        last_used(&app.store, &app.b.id),
        [false],
        "org B's token was not used"
    );
    let wrong = app
        .client(format!("/scim/v2/{}", app.b.id), Some(&app.a.token))
        .get("/Users");
    assert_eq!(
        wrong.status, 401,
        "A's token at B's URL is refused on the read path"
    );
    assert_eq!(last_used(&app.store, &app.b.id), [false]);
}

scimd_store::backend_tests!(a_read_records_its_tokens_use);
