//! The member page and the group page: what they show, the lists linking to them, and who may open them
//! (owners and admins of the org; another org's member or group is a 404).

use crate::support::*;
use actix_web::http::StatusCode;
use chrono::Utc;
use diesel::prelude::*;
use scimd_store::models::groups::{self, GroupMember, NewGroup};
use scimd_store::models::organizations;
use scimd_store::testing::TestDb;
use scimd_store::{GroupId, MemberId, OrgId};

/// A group of the org with these members.
fn add_group(db: &TestDb, org: &OrgId, name: &str, members: &[MemberId]) -> GroupId {
    let id = GroupId::generate();
    let now = Utc::now().naive_utc();
    db.store
        .write(|conn| {
            groups::insert(
                conn,
                &NewGroup {
                    id: id.as_str(),
                    org_id: org.as_str(),
                    display_name: name,
                    display_name_norm: name.to_lowercase(),
                    external_id: Some("ext-eng"),
                    document: "{}",
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            for m in members {
                diesel::insert_into(scimd_store::schema::group_members::table)
                    .values(GroupMember {
                        group_id: id.as_str().to_owned(),
                        member_id: m.as_str().to_owned(),
                        org_id: org.as_str().to_owned(),
                        created_at: now,
                    })
                    .execute(conn)?;
            }
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
    id
}

/// Sets the member's stored SCIM document, as a provisioning write would.
fn set_document(db: &TestDb, id: &MemberId, document: &str) {
    use scimd_store::schema::members;
    db.store
        .write(|conn| {
            diesel::update(members::table.filter(members::id.eq(id.as_str())))
                .set(members::document.eq(document))
                .execute(conn)?;
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
}

fn member_id_of(db: &TestDb, email: &str) -> MemberId {
    use scimd_store::schema::members;
    let id: String = db
        .store
        .read(|conn| {
            Ok::<_, scimd_store::StoreError>(
                members::table
                    .filter(members::user_name.eq(email))
                    .select(members::id)
                    .first(conn)?,
            )
        })
        .unwrap();
    MemberId::new(id)
}

fn a_member_page_shows_attributes_groups_sessions_and_history(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let alice = add_scim_member(db, &ctx.org, "alice@acme.test", "Alice Smith");
        set_document(
            db,
            &alice,
            r#"{"userName":"alice@acme.test","name":{"givenName":"Alice","familyName":"<b>Smith</b>"},"title":"Engineer"}"#,
        );
        let group = add_group(db, &ctx.org, "Engineering", std::slice::from_ref(&alice));
        let browser = login(&app, &ctx, ADMIN).await;

        // The list links to the page.
        let list = get(&app, Some(&browser), &url(&ctx, "members")).await;
        let href = url(&ctx, &format!("members/{alice}"));
        assert!(
            list.body.contains(&format!(r#"href="{href}""#)),
            "the row links to the member"
        );

        let page = get(&app, Some(&browser), &href).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(text_of(&page.body, "member-title"), "Alice Smith");
        assert_eq!(text_of(&page.body, "member-user-name"), "alice@acme.test");
        // The attributes as sent, pretty-printed and escaped.
        let document = text_of(&page.body, "member-document");
        assert!(
            document.contains("&#34;title&#34;: &#34;Engineer&#34;"),
            "{document}"
        );
        assert!(!page.body.contains("<b>Smith</b>"));
        // Groups, linked to their pages.
        assert!(page.body.contains(&format!(
            r#"<a href="{}">Engineering</a>"#,
            url(&ctx, &format!("groups/{group}"))
        )));
        assert!(page.body.contains("No live session."));
        assert!(page.body.contains("Nothing recorded about this member."));

        // The admin's own page: one live session (this one) and the sign-in in the history.
        let admin = member_id_of(db, ADMIN);
        let own = get(&app, Some(&browser), &url(&ctx, &format!("members/{admin}"))).await;
        assert_eq!(own.status, StatusCode::OK);
        assert_eq!(
            table_body(own.body.split("member-sessions-table").nth(1).unwrap())
                .matches("<tr>")
                .count(),
            1
        );
        let history = text_of(&own.body, "member-history-table");
        assert!(history.contains("admin@acme.test signed in"), "{history}");
        assert!(own.body.contains("No SCIM attributes"), "added by hand");
    });
}

fn a_group_page_lists_its_members_in_pages_with_links(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let members: Vec<MemberId> = (0..57)
            .map(|i| add_scim_member(db, &ctx.org, &format!("m{i:02}@acme.test"), &format!("M {i}")))
            .collect();
        let group = add_group(db, &ctx.org, "Everyone <script>", &members);
        let browser = login(&app, &ctx, OWNER).await;
        let list = get(&app, Some(&browser), &url(&ctx, "groups")).await;
        let href = url(&ctx, &format!("groups/{group}"));
        assert!(
            list.body.contains(&format!(r#"href="{href}""#)),
            "the row links to the group"
        );

        let first = get(&app, Some(&browser), &href).await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(text_of(&first.body, "group-member-total"), "57 members");
        assert!(!first.body.contains("Everyone <script>"));
        let rows = |body: &str| {
            table_body(body.split("group-members-table").nth(1).unwrap())
                .matches("<tr>")
                .count()
        };
        assert_eq!(rows(&first.body), 50);
        // Each member links to its page.
        let links = format!(r#"href="{}/"#, url(&ctx, "members"));
        assert_eq!(table_body(&first.body).matches(&links).count(), 50);
        let next = unescape_amp(href_with(&first.body, "?after="));
        let second = get(&app, Some(&browser), &next).await;
        assert_eq!(second.status, StatusCode::OK);
        assert_eq!(rows(&second.body), 7);
        assert!(second.body.contains(r#"id="first""#));
        assert!(!second.body.contains("?after="), "no page after the last");
    });
}

fn member_and_group_pages_are_for_editors_of_their_org_only(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let now = Utc::now().naive_utc();
        let (other, _) = db
            .store
            .write(|conn| organizations::create_with_owner(conn, "Other", Some("boss@other.test"), now))
            .unwrap();
        let other = other.org_id();
        let stranger = add_scim_member(db, &other, "stranger@other.test", "Stranger");
        let their_group = add_group(db, &other, "Theirs", std::slice::from_ref(&stranger));
        let ours = add_scim_member(db, &ctx.org, "ours@acme.test", "Ours");
        let our_group = add_group(db, &ctx.org, "Ours", std::slice::from_ref(&ours));

        let owner = login(&app, &ctx, OWNER).await;
        // Another org's ids under this org's URL: not found, exactly like ids that do not exist.
        for path in [
            format!("members/{stranger}"),
            format!("groups/{their_group}"),
            "members/nope".to_owned(),
            "groups/nope".to_owned(),
        ] {
            let res = get(&app, Some(&owner), &url(&ctx, &path)).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
            assert!(!res.body.contains("stranger@other.test") && !res.body.contains("Theirs"));
        }
        // Another org's URL: refused before any read.
        let res = get(
            &app,
            Some(&owner),
            &format!("/admin/orgs/{other}/members/{stranger}"),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(!res.body.contains("stranger@other.test"));

        // A member (the role) may not open the directory.
        let member = login(&app, &ctx, MEMBER).await;
        for path in [format!("members/{ours}"), format!("groups/{our_group}")] {
            let res = get(&app, Some(&member), &url(&ctx, &path)).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
            assert!(!res.body.contains("ours@acme.test"));
        }
        let anonymous = get(&app, None, &url(&ctx, &format!("members/{ours}"))).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    });
}

scimd_store::backend_tests!(
    a_member_page_shows_attributes_groups_sessions_and_history,
    a_group_page_lists_its_members_in_pages_with_links,
    member_and_group_pages_are_for_editors_of_their_org_only,
);
