//! Members and Groups: status, source, search by name or email, keyset paging that visits every row once.

use crate::support::*;
use actix_web::http::StatusCode;
use chrono::Utc;
use diesel::prelude::*;
use scimd_store::models::groups::{self, GroupMember, NewGroup};
use scimd_store::testing::TestDb;
use scimd_store::{GroupId, OrgId};

fn members_show_status_source_and_last_change(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        add_scim_member(db, &ctx.org, "gone@acme.test", "Gone Person");
        deactivate(db, "gone@acme.test");
        let browser = login(&app, &ctx, ADMIN).await;
        let res = get(&app, Some(&browser), &url(&ctx, "members")).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(text_of(&res.body, "member-total"), "4 members");
        let row = |email: &str| row_from(&res.body, email);
        assert!(row("gone@acme.test").contains("Deactivated") && row("gone@acme.test").contains(">SCIM<"));
        assert!(row("owner@acme.test").contains("Active") && row("owner@acme.test").contains(">Manual<"));
        assert!(res.body.contains("Max Member"));
        assert!(res.body.contains(r#"<th scope="col">Last change</th>"#));
        assert!(
            res.body
                .contains(r#"<label for="q" class="sr-only">Search members by name or email</label>"#)
        );
    });
}

fn search_matches_names_and_emails_in_any_case_and_wildcards_literally(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        add_scim_member(db, &ctx.org, "jane.doe@acme.test", "Jane Doe");
        add_member(db, &ctx.org, "percent%sign@acme.test", "member", None, true);
        let browser = login(&app, &ctx, OWNER).await;
        let search = |q: &str| format!("{}?q={q}", url(&ctx, "members"));
        let by_name = get(&app, Some(&browser), &search("jANE")).await;
        assert!(table_body(&by_name.body).contains("jane.doe@acme.test"));
        assert!(!table_body(&by_name.body).contains("owner@acme.test"));
        assert!(
            !by_name.body.contains(r#"id="member-total""#),
            "no count of matches"
        );
        let by_email = get(&app, Some(&browser), &search("ADMIN%40ACME")).await;
        assert!(table_body(&by_email.body).contains("admin@acme.test"));
        assert!(!table_body(&by_email.body).contains("jane.doe"));
        let literal = get(&app, Some(&browser), &search("%25")).await;
        assert!(table_body(&literal.body).contains("percent%sign@acme.test"));
        assert!(
            !table_body(&literal.body).contains("jane.doe@acme.test"),
            "% matches only a percent sign"
        );
        let underscore = get(&app, Some(&browser), &search("_")).await;
        assert!(underscore.body.contains("No members match"));
    });
}

/// Members inserted directly, many at once.
fn bulk_members(db: &TestDb, org: &OrgId, n: usize, prefix: &str) {
    let now = Utc::now().naive_utc();
    db.store
        .write(|conn| {
            use scimd_store::schema::members;
            let rows: Vec<_> = (0..n)
                .map(|i| {
                    let email = format!("{prefix}{i:06}@acme.test");
                    (
                        members::id.eq(uuid_like(prefix, i)),
                        members::org_id.eq(org.as_str().to_owned()),
                        members::user_name.eq(email.clone()),
                        members::user_name_norm.eq(email.clone()),
                        members::role.eq("member"),
                        members::active.eq(true),
                        members::scim_managed.eq(true),
                        members::email.eq(Some(email)),
                        members::document.eq("{}"),
                        members::version.eq(1_i64),
                        members::created_at.eq(now),
                        members::updated_at.eq(now),
                    )
                })
                .collect();
            // MultiConnection has no multi-row INSERT: one statement per row, in one transaction.
            for row in rows {
                diesel::insert_into(members::table).values(row).execute(conn)?;
            }
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
}

fn uuid_like(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i:012}")
}

/// Follows "Older" links from the first page; returns every email seen, in order.
async fn walk<S, B>(app: &S, browser: &Browser, first: &str) -> (Vec<String>, usize)
where
    S: TestApp<B>,
    B: actix_web::body::MessageBody,
{
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut next = Some(first.to_owned());
    while let Some(uri) = next {
        let res = get(app, Some(browser), &uri).await;
        assert_eq!(res.status, StatusCode::OK);
        pages += 1;
        seen.extend(
            res.body
                .split("<span class=\"person-email\">")
                .skip(1)
                .map(|s| s.split('<').next().unwrap().to_owned()),
        );
        next = res
            .body
            .split("rel=\"next\"")
            .next()
            .filter(|_| res.body.contains("id=\"older\""))
            .and_then(|before| before.rsplit("href=\"").next())
            .map(|h| unescape_amp(h.split('"').next().unwrap()));
    }
    (seen, pages)
}

fn keyset_paging_visits_every_member_once_and_goes_back(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        bulk_members(db, &ctx.org, 117, "m");
        let browser = login(&app, &ctx, OWNER).await;
        let (seen, pages) = walk(&app, &browser, &url(&ctx, "members")).await;
        assert_eq!(pages, 3, "120 members in pages of 50");
        assert_eq!(seen.len(), 120);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 120, "no member twice");
        assert_eq!(seen[0], "m000116@acme.test", "newest first");

        // Page 2, then "Newer" back to page 1.
        let first = get(&app, Some(&browser), &url(&ctx, "members")).await;
        assert!(!first.body.contains(r#"id="newer""#));
        let page2_uri = href_with(&first.body, "after=").to_owned();
        let page2 = get(&app, Some(&browser), &page2_uri).await;
        let back_uri = href_with(&page2.body, "before=").to_owned();
        let back = get(&app, Some(&browser), &back_uri).await;
        let emails = |body: &str| -> Vec<String> {
            body.split("<span class=\"person-email\">")
                .skip(1)
                .map(|s| s.split('<').next().unwrap().to_owned())
                .collect()
        };
        assert_eq!(emails(&back.body), emails(&first.body));

        // Search results page too.
        let (found, _) = walk(&app, &browser, &url(&ctx, "members?q=m0000")).await;
        assert_eq!(found.len(), 100, "m000000..m000099");
    });
}

fn groups_show_their_member_counts(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let now = Utc::now().naive_utc();
        let member_ids: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|n| add_member(db, &ctx.org, &format!("{n}@acme.test"), "member", None, true).into_string())
            .collect();
        for (name, size) in [("Engineering <script>", 3usize), ("Empty", 0)] {
            let id = GroupId::generate();
            db.store
                .write(|conn| {
                    groups::insert(
                        conn,
                        &NewGroup {
                            id: id.as_str(),
                            org_id: ctx.org.as_str(),
                            display_name: name,
                            display_name_norm: name.to_lowercase(),
                            external_id: Some("ext-1"),
                            document: "{}",
                            version: 1,
                            created_at: now,
                            updated_at: now,
                        },
                    )?;
                    for m in member_ids.iter().take(size) {
                        diesel::insert_into(scimd_store::schema::group_members::table)
                            .values(GroupMember {
                                group_id: id.as_str().to_owned(),
                                member_id: m.clone(),
                                org_id: ctx.org.as_str().to_owned(),
                                created_at: now,
                            })
                            .execute(conn)?;
                    }
                    Ok::<_, scimd_store::StoreError>(())
                })
                .unwrap();
        }
        let browser = login(&app, &ctx, ADMIN).await;
        let res = get(&app, Some(&browser), &url(&ctx, "groups")).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(text_of(&res.body, "group-total"), "2 groups");
        let row = |name: &str| row_from(&res.body, name);
        assert!(
            row("Engineering &#60;script&#62;").contains(r#"<span class="member-count">3</span>"#)
                || row("Engineering &lt;script&gt;").contains(r#"<span class="member-count">3</span>"#)
        );
        assert!(row(">Empty<").contains(r#"<span class="member-count">0</span>"#));
        assert!(!res.body.contains("Engineering <script>"));
    });
}

scimd_store::backend_tests!(
    members_show_status_source_and_last_change,
    search_matches_names_and_emails_in_any_case_and_wildcards_literally,
    keyset_paging_visits_every_member_once_and_goes_back,
    groups_show_their_member_counts,
);

/// 100,000 members: a page deep in the list is found through the index, and is right (SQLite; the measured
/// time is in the admin notes, not asserted).
#[test]
fn a_deep_page_of_100_000_members_is_correct() {
    let db = TestDb::sqlite();
    run(async {
        let ctx = ctx(&db);
        let app = app(&ctx).await;
        bulk_members(&db, &ctx.org, 100_000, "x");
        let browser = login(&app, &ctx, OWNER).await;
        let first = get(&app, Some(&browser), &url(&ctx, "members")).await;
        assert_eq!(text_of(&first.body, "member-total"), "100003 members");
        let last_seq: i64 = db
            .store
            .read(|conn| {
                use scimd_store::schema::members;
                Ok::<_, scimd_store::StoreError>(
                    members::table
                        .filter(members::user_name.eq("x000010@acme.test"))
                        .select(members::seq)
                        .first(conn)?,
                )
            })
            .unwrap();
        let deep = get(
            &app,
            Some(&browser),
            &format!("{}?after={last_seq}", url(&ctx, "members")),
        )
        .await;
        assert!(deep.body.contains("x000009@acme.test") && deep.body.contains("x000000@acme.test"));
        assert!(!deep.body.contains("x000010@acme.test"));
        let started = std::time::Instant::now();
        let _ = get(
            &app,
            Some(&browser),
            &format!("{}?after={last_seq}&q=x0000", url(&ctx, "members")),
        )
        .await;
        eprintln!(
            "deep page with a search over 100,000 members: {:?}",
            started.elapsed()
        );
    });
}
