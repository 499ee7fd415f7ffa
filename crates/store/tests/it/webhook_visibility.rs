//! What an org sees of webhook deliveries (`webhooks::org_deliveries`), on both backends: the attempts of its
//! own endpoints only, never those of the operator's endpoints for all orgs nor of another org's.

use crate::fixtures;
use scimd_store::OrgId;
use scimd_store::models::webhooks::{self, Endpoint, NewDelivery};
use scimd_store::testing::TestDb;

fn endpoint(org: Option<&OrgId>, id: &str) -> Endpoint {
    let now = fixtures::now();
    Endpoint {
        id: id.into(),
        org_id: org.map(|o| o.as_str().to_owned()),
        url: "https://hooks.example.com/x".into(),
        types: String::new(),
        secret_sealed: vec![1, 2, 3],
        created_at: now,
        cursor: 0,
        attempts: 0,
        next_attempt_at: now,
        failing_since: None,
        disabled_at: None,
        leased_until: None,
        lease_owner: None,
    }
}

/// An attempt of `endpoint` to deliver an event of `org`.
fn attempt(endpoint: &str, org: &OrgId) -> NewDelivery {
    NewDelivery {
        endpoint_id: endpoint.into(),
        org_id: org.as_str().into(),
        event_id: format!("evt-{endpoint}"),
        event_type: "user.created".into(),
        position: Some(1),
        attempt: 1,
        status_code: None,
        error: Some("connection refused".into()),
        latency_ms: 0,
        delivered: false,
        attempted_at: fixtures::now(),
    }
}

fn an_org_sees_the_deliveries_of_its_own_endpoints_only(db: &TestDb) {
    let a = fixtures::new_org(&db.store, "A");
    let b = fixtures::new_org(&db.store, "B");
    db.store
        .write(|conn| {
            webhooks::insert(conn, &endpoint(Some(&a), "a-own"))?;
            webhooks::insert(conn, &endpoint(Some(&b), "b-own"))?;
            webhooks::insert(conn, &endpoint(None, "operator"))?;
            webhooks::record(
                conn,
                &[
                    attempt("a-own", &a),
                    attempt("operator", &a),
                    attempt("b-own", &b),
                    attempt("operator", &b),
                ],
            )
        })
        .unwrap();
    let seen = |org: &OrgId| -> Vec<String> {
        db.store
            .read(|conn| webhooks::org_deliveries(conn, org, 50))
            .unwrap()
            .into_iter()
            .map(|d| d.endpoint_id)
            .collect()
    };
    assert_eq!(seen(&a), ["a-own"]);
    assert_eq!(seen(&b), ["b-own"]);
}

scimd_store::backend_tests!(an_org_sees_the_deliveries_of_its_own_endpoints_only);
