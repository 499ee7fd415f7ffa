//! Provisioning activity: batched inserts, pages by outcome, the hourly chart grouped in the database, and the
//! 30-day retention.

use crate::fixtures;
use chrono::{Duration, NaiveDateTime};
use scimd_store::OrgId;
use scimd_store::models::scim_activity::{self, NewActivity, Outcome};
use scimd_store::testing::TestDb;

fn at(hour: u32, minute: u32) -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
        .unwrap()
        .and_hms_opt(hour, minute, 0)
        .unwrap()
}

fn row(org: &OrgId, occurred_at: NaiveDateTime, status: i32) -> NewActivity {
    NewActivity {
        org_id: org.to_string(),
        occurred_at,
        method: "PATCH".into(),
        path: "/scim/v2/x/Users/1".into(),
        status,
        duration_us: 1500,
        scim_type: (status == 400).then(|| "invalidValue".to_owned()),
        dialects: r#"["Entra string boolean"]"#.into(),
        detail: (status == 400).then(|| "active must be a boolean".to_owned()),
    }
}

fn activity_pages_by_outcome_and_charts_by_hour(db: &TestDb) {
    let (org, other) = db
        .store
        .write(|conn| Ok::<_, scimd_store::StoreError>((fixtures::org(conn, "A"), fixtures::org(conn, "B"))))
        .unwrap();
    let rows = vec![
        row(&org, at(9, 5), 200),
        row(&org, at(9, 40), 400),
        row(&org, at(10, 1), 201),
        row(&org, at(10, 2), 503),
        row(&org, at(10, 59), 204),
        row(&other, at(10, 30), 500),
    ];
    assert_eq!(
        db.store
            .write(|conn| scim_activity::insert_batch(conn, &rows))
            .unwrap(),
        6
    );

    let page = db
        .store
        .read(|conn| scim_activity::list(conn, &org, None, None, 3))
        .unwrap();
    assert_eq!(
        page.iter().map(|a| a.status).collect::<Vec<_>>(),
        [204, 503, 201],
        "newest first, own org only"
    );
    let rest = db
        .store
        .read(|conn| scim_activity::list(conn, &org, None, Some(page[2].seq), 10))
        .unwrap();
    assert_eq!(rest.iter().map(|a| a.status).collect::<Vec<_>>(), [400, 200]);
    let failed = db
        .store
        .read(|conn| scim_activity::list(conn, &org, Some(Outcome::ClientError), None, 10))
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].scim_type.as_deref(), Some("invalidValue"));
    assert_eq!(failed[0].dialect_labels(), ["Entra string boolean"]);

    let chart = db
        .store
        .read(|conn| scim_activity::hourly(conn, &org, at(9, 0)))
        .unwrap();
    let summary: Vec<(NaiveDateTime, i64, i64, i64)> = chart
        .iter()
        .map(|b| (b.hour, b.success, b.client_error, b.server_error))
        .collect();
    assert_eq!(summary, [(at(9, 0), 1, 1, 0), (at(10, 0), 2, 0, 1)]);
}

fn activity_older_than_thirty_days_is_purged(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "A");
    let now = at(12, 0);
    let rows = vec![
        row(&org, now - Duration::days(31), 200),
        row(&org, now - Duration::days(29), 200),
        row(&org, now, 200),
    ];
    db.store
        .write(|conn| scim_activity::insert_batch(conn, &rows))
        .unwrap();
    assert_eq!(
        db.store
            .write(|conn| scim_activity::purge_expired(conn, now))
            .unwrap(),
        1
    );
    assert_eq!(
        db.store
            .read(|conn| scim_activity::list(conn, &org, None, None, 10))
            .unwrap()
            .len(),
        2
    );
}

scimd_store::backend_tests!(
    activity_pages_by_outcome_and_charts_by_hour,
    activity_older_than_thirty_days_is_purged
);
