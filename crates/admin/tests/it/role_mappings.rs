//! The SSO page's Roles card (issue #26): the catalog, a mapping previewed before it is saved, the explanation
//! of a member's roles, the admin-share confirmation, and that only owners map to admin; CSRF-checked and
//! audited.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::Clock;
use scimd_store::provisioning::roles;
use scimd_store::provisioning::{WriteCtx, groups};
use scimd_store::testing::TestDb;
use serde_json::json;

/// A group of `members`, created as SCIM creates one; its id.
fn group(db: &TestDb, ctx: &Ctx, name: &str, members: &[String]) -> String {
    let w = WriteCtx {
        org: ctx.org.clone(),
        actor: "idp:test".into(),
        now: ctx.clock.now_naive(),
    };
    let doc = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name});
    db.store
        .write(|c| groups::create(c, &w, &doc, members, &[]))
        .unwrap()
        .row
        .id
}

fn effective(db: &TestDb, ctx: &Ctx, id: &str) -> Vec<String> {
    let ids = [id.to_owned()];
    db.store
        .read(|c| roles::effective_of(c, &ctx.org, &ids))
        .unwrap()
        .remove(id)
        .unwrap()
}

fn the_card_previews_saves_and_explains(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let ada = add_scim_member(db, &ctx.org, "ada@acme.test", "Ada")
            .as_str()
            .to_owned();
        let g = group(db, &ctx, "Deployers", std::slice::from_ref(&ada));
        let admin = login(&app, &ctx, ADMIN).await;

        let created = post(&app, &admin, &url(&ctx, "roles"), &[("name", "deployer")]).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        let bad = post(&app, &admin, &url(&ctx, "roles"), &[("name", "Not A Name")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text_of(&bad.body, "roles-error").contains("A role name is"));

        // The preview saves nothing and says who gains what.
        let form = [
            ("group", "Deployers"),
            ("role", "deployer"),
            ("action", "preview"),
        ];
        let preview = post(&app, &admin, &url(&ctx, "roles/map"), &form).await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
        let said = text_of(&preview.body, "roles-preview");
        assert!(
            said.contains("changes 1 member(s)") && said.contains("+1 deployer"),
            "{said}"
        );
        assert_eq!(effective(db, &ctx, &ada), ["member"]);

        let save = [("group", "Deployers"), ("role", "deployer"), ("action", "save")];
        let saved = post(&app, &admin, &url(&ctx, "roles/map"), &save).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_eq!(effective(db, &ctx, &ada), ["member", "deployer"]);
        assert!(audit_actions(db, &ctx.org).contains(&"role.mapped".to_owned()));

        let page = get(&app, Some(&admin), &format!("{}?explain={ada}", url(&ctx, "sso"))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(text_of(&page.body, "roles-table").contains("Deployers"));
        let why = text_of(&page.body, "roles-explanation");
        assert!(
            why.contains("deployer") && why.contains("group Deployers"),
            "{why}"
        );
        assert!(page.body.contains(&format!("/groups/{g}")), "the group is linked");

        // An admin may not map to admin; the form does not even offer it.
        assert!(!page.body.contains(r#"<option value="admin""#));
        let to_admin = [("group", "Deployers"), ("role", "admin"), ("action", "save")];
        let refused = post(&app, &admin, &url(&ctx, "roles/map"), &to_admin).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text_of(&refused.body, "roles-error").contains("Only an owner"));
        let to_owner = [("group", "Deployers"), ("role", "owner"), ("action", "save")];
        let refused = post(&app, &admin, &url(&ctx, "roles/map"), &to_owner).await;
        assert!(text_of(&refused.body, "roles-error").contains("Nothing grants"));
    });
}

fn an_unmap_taking_admin_from_many_needs_a_confirmation(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let ids: Vec<String> = (0..3)
            .map(|i| {
                add_scim_member(db, &ctx.org, &format!("a{i}@acme.test"), "A")
                    .as_str()
                    .to_owned()
            })
            .collect();
        group(db, &ctx, "Admins", &ids);
        let owner = login(&app, &ctx, OWNER).await;
        let save = [("group", "Admins"), ("role", "admin"), ("action", "save")];
        assert_eq!(
            post(&app, &owner, &url(&ctx, "roles/map"), &save).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(effective(db, &ctx, &ids[0]), ["admin"]);
        // The admin pages honour it: a member made admin by the group may edit.
        let mapped_admin = login(&app, &ctx, "a0@acme.test").await;
        let page = get(&app, Some(&mapped_admin), &url(&ctx, "sso")).await;
        assert!(
            page.body.contains(r#"id="roles-map-form""#),
            "an admin sees the forms"
        );

        let unmap = post(&app, &owner, &url(&ctx, "roles/unmap"), &save).await;
        assert_eq!(unmap.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text_of(&unmap.body, "roles-error").contains("confirm"));
        assert!(unmap.body.contains(r#"id="roles_confirm""#));
        assert_eq!(effective(db, &ctx, &ids[0]), ["admin"], "nothing changed");

        let confirmed = [
            ("group", "Admins"),
            ("role", "admin"),
            ("action", "save"),
            ("confirm", "on"),
        ];
        let done = post(&app, &owner, &url(&ctx, "roles/unmap"), &confirmed).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert_eq!(effective(db, &ctx, &ids[0]), ["member"]);
        assert!(audit_actions(db, &ctx.org).contains(&"role.unmapped".to_owned()));
        let page = get(&app, Some(&mapped_admin), &url(&ctx, "sso")).await;
        assert!(
            !page.body.contains(r#"id="roles-map-form""#),
            "back to read-only at once"
        );
    });
}

fn the_forms_need_the_csrf_token_and_an_editor(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let owner = login(&app, &ctx, OWNER).await;
        let no_token = post_raw(
            &app,
            Some(&owner),
            &url(&ctx, "roles"),
            &[("name", "x")],
            Some(ORIGIN),
        )
        .await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let member = login(&app, &ctx, MEMBER).await;
        let res = post(&app, &member, &url(&ctx, "roles"), &[("name", "x")]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let catalog = db.store.read(|c| roles::catalog(c, &ctx.org)).unwrap();
        assert_eq!(catalog.len(), 3, "only scimd's own roles");
        let page = get(&app, Some(&member), &url(&ctx, "sso")).await;
        assert!(page.body.contains(r#"id="roles-table""#) && !page.body.contains(r#"id="roles-map-form""#));
    });
}

scimd_store::backend_tests!(
    the_card_previews_saves_and_explains,
    an_unmap_taking_admin_from_many_needs_a_confirmation,
    the_forms_need_the_csrf_token_and_an_editor,
);
