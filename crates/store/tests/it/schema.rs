//! The migrations apply on both backends, a second run is harmless, and every table of `schema.rs` loads into
//! its model (so a column missing, misnamed or of the wrong type in either migration fails here).

use crate::fixtures;
use diesel::prelude::*;
use scimd_scim::schema::custom::{IndexValue, IndexedValue};
use scimd_store::models::{
    admin_sessions, attributes, audit_events, groups, login_links, scim_tokens, server_secrets,
    sso_connections,
};
use scimd_store::schema;
use scimd_store::testing::TestDb;
use scimd_store::{GroupId, OrgId};

fn migrations_are_idempotent(db: &TestDb) {
    assert!(
        db.store.migrate().unwrap().is_empty(),
        "a second run finds nothing to apply"
    );
    let again = db.reopen();
    assert!(again.migrate().unwrap().is_empty());
}

fn every_table_round_trips_through_its_model(db: &TestDb) {
    db.store
        .write(|conn| {
            let now = fixtures::now();
            let org = fixtures::org(conn, "Acme");
            let member = fixtures::member(conn, &org, "ada@example.com")?;
            let group_id = GroupId::generate();
            let group = groups::insert(
                conn,
                &groups::NewGroup {
                    id: group_id.as_str(),
                    org_id: org.as_str(),
                    display_name: "Engineering",
                    display_name_norm: "engineering".into(),
                    external_id: Some("ext-1"),
                    document: "{}",
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            assert_eq!(group.display_name, "Engineering");
            let membership = groups::GroupMember {
                group_id: group.id.clone(),
                member_id: member.id.clone(),
                org_id: org.to_string(),
                created_at: now,
            };
            diesel::insert_into(schema::group_members::table)
                .values(&membership)
                .execute(conn)?;
            let loaded: Vec<groups::GroupMember> = schema::group_members::table
                .select(groups::GroupMember::as_select())
                .load(conn)?;
            assert_eq!(loaded, vec![membership]);
            assert_eq!(groups::member_count(conn, &org, &group_id)?, 1);

            scim_tokens::insert(
                conn,
                &scim_tokens::NewScimToken {
                    id: "tok-1",
                    org_id: org.as_str(),
                    token_hash: &[7u8; 32],
                    hint: "scimd_ab…wxyz",
                    created_at: now,
                    created_by: "owner@example.com",
                    expires_at: Some(now),
                },
            )?;
            let token = scim_tokens::find_by_hash(conn, &[7u8; 32])?.unwrap();
            assert_eq!(
                (token.hint.as_str(), token.expires_at),
                ("scimd_ab…wxyz", Some(now))
            );
            assert_eq!(token.token_hash, vec![7u8; 32]);

            let sso = sso_connections::SsoConnectionRow {
                org_id: org.to_string(),
                kind: "azure_ad".into(),
                settings: r#"{"tenant_id":"t"}"#.into(),
                secret_ciphertext: Some(vec![1, 2, 3]),
                created_at: now,
                updated_at: now,
            };
            sso_connections::upsert(conn, &sso)?;
            assert_eq!(sso_connections::find(conn, &org)?, Some(sso));

            let session = admin_sessions::AdminSessionRow {
                id: "sess-1".into(),
                org_id: org.to_string(),
                member_id: member.id.clone(),
                created_at: now,
                expires_at: now,
                last_seen_at: now,
                revoked_at: None,
            };
            admin_sessions::insert(conn, &session)?;
            assert_eq!(
                admin_sessions::find(conn, &scimd_store::SessionId::new("sess-1"))?,
                Some(session)
            );

            let link = login_links::LoginLinkRow {
                id: "link-1".into(),
                org_id: org.to_string(),
                member_id: member.id.clone(),
                created_at: now,
                expires_at: now + chrono::Duration::minutes(10),
                used_at: None,
            };
            login_links::insert(conn, &link)?;
            assert!(
                login_links::consume(conn, "link-1", now)?.is_some(),
                "first use consumes"
            );
            assert!(
                login_links::consume(conn, "link-1", now)?.is_none(),
                "second use finds it used"
            );

            let key = server_secrets::get_or_insert(conn, "session-key", b"first", now)?;
            let again = server_secrets::get_or_insert(conn, "session-key", b"second", now)?;
            assert_eq!((key.as_slice(), again.as_slice()), (&b"first"[..], &b"first"[..]));

            audit_events::append(
                conn,
                &audit_events::NewAuditEvent {
                    org_id: &org,
                    occurred_at: now,
                    actor: "test",
                    action: "member.created",
                    target: Some(&member.id),
                    details: serde_json::json!({"userName": "ada@example.com"}),
                },
            )?;
            let events = audit_events::list(conn, &org, None, None, 10)?;
            assert_eq!(events.len(), 1);
            assert_eq!(
                events[0].occurred_at, now,
                "timestamps round-trip to the microsecond"
            );

            // Custom attributes: a declaration (every column, the claim too) and typed index rows of each kind.
            let defined = attributes::define(
                conn,
                Some(&org),
                "test",
                &attributes::NewDefinition {
                    name: "costCenter",
                    ty: attributes::CustomType::Decimal,
                    multi_valued: true,
                    case_exact: true,
                    filterable: true,
                    claim: Some("cost_center"),
                },
                now,
            )?;
            assert_eq!(attributes::list(conn, &org)?, vec![defined]);
            let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
                .unwrap()
                .with_timezone(&chrono::Utc);
            let values = [
                IndexValue::Text("x".into()),
                IndexValue::Integer(i64::MAX),
                IndexValue::Decimal(2.5),
                IndexValue::DateTime(at),
            ];
            let rows: Vec<IndexedValue> = values
                .into_iter()
                .enumerate()
                .map(|(i, value)| IndexedValue {
                    attribute: "costcenter".into(),
                    position: i32::try_from(i).unwrap(),
                    value,
                })
                .collect();
            attributes::write_values(conn, &org, &member.id, &rows)?;
            let stored = attributes::indexed_values(conn, &org, &member.id)?;
            assert_eq!(stored.len(), 4);
            assert_eq!(stored[1].3, Some(i64::MAX));
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
}

fn orgs_list_in_creation_order(db: &TestDb) {
    let ids: Vec<OrgId> = db
        .store
        .write(|conn| {
            Ok::<_, scimd_store::StoreError>(vec![
                fixtures::org(conn, "First"),
                fixtures::org(conn, "Second"),
            ])
        })
        .unwrap();
    let listed = db.store.read(scimd_store::models::organizations::list).unwrap();
    let listed_ids: Vec<OrgId> = listed.iter().map(|o| o.org_id()).collect();
    assert_eq!(listed_ids, ids);
}

scimd_store::backend_tests!(
    migrations_are_idempotent,
    every_table_round_trips_through_its_model,
    orgs_list_in_creation_order
);
