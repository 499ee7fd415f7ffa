//! The audit trail is append-only in the database itself: UPDATE and DELETE are refused on both backends.

use crate::fixtures;
use diesel::RunQueryDsl;
use scimd_store::models::audit_events::{self, NewAuditEvent};
use scimd_store::testing::TestDb;

/// An event the IdP caused now.
fn event<'a>(
    org: &'a scimd_store::OrgId,
    action: &'a str,
    target: Option<&'a str>,
    details: serde_json::Value,
) -> NewAuditEvent<'a> {
    NewAuditEvent {
        org_id: org,
        occurred_at: fixtures::now(),
        actor: "idp",
        action,
        target,
        details,
    }
}

fn audit_events_cannot_be_changed_or_deleted(db: &TestDb) {
    let org = db
        .store
        .write(|conn| {
            let org = fixtures::org(conn, "Acme");
            audit_events::append(
                conn,
                &event(
                    &org,
                    "member.deactivated",
                    Some("m-1"),
                    serde_json::json!({"active": [true, false]}),
                ),
            )?;
            Ok::<_, scimd_store::StoreError>(org)
        })
        .unwrap();
    for statement in [
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
    ] {
        let result = db
            .store
            .write(|conn| Ok::<_, scimd_store::StoreError>(diesel::sql_query(statement).execute(conn)?));
        let message = result.expect_err(statement).to_string();
        assert!(message.contains("append-only"), "{statement}: {message}");
    }
    let events = db
        .store
        .read(|conn| audit_events::list(conn, &org, None, None, 10))
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "member.deactivated");
}

fn audit_pages_newest_first_by_cursor_and_action(db: &TestDb) {
    let org = db
        .store
        .write(|conn| {
            let org = fixtures::org(conn, "Acme");
            for i in 0..5 {
                let action = if i % 2 == 0 {
                    "member.created"
                } else {
                    "token.generated"
                };
                audit_events::append(conn, &event(&org, action, None, serde_json::json!({"i": i})))?;
            }
            Ok::<_, scimd_store::StoreError>(org)
        })
        .unwrap();
    let first = db
        .store
        .read(|conn| audit_events::list(conn, &org, None, None, 2))
        .unwrap();
    let next = db
        .store
        .read(|conn| audit_events::list(conn, &org, None, Some(first[1].seq), 10))
        .unwrap();
    let details: Vec<String> = first.iter().chain(&next).map(|e| e.details.clone()).collect();
    assert_eq!(
        details,
        ["{\"i\":4}", "{\"i\":3}", "{\"i\":2}", "{\"i\":1}", "{\"i\":0}"]
    );
    let created = db
        .store
        .read(|conn| audit_events::list(conn, &org, Some("member.created"), None, 10))
        .unwrap();
    assert_eq!(created.len(), 3);
}

scimd_store::backend_tests!(
    audit_events_cannot_be_changed_or_deleted,
    audit_pages_newest_first_by_cursor_and_action
);
