//! The custom attributes card on the SSO page: lists the org's declarations (and the deployment's) with the
//! SCIM path an IdP maps to; owners and admins declare one more (CSRF-checked, audited), a bad name or a
//! duplicate comes back next to the field; a member only looks.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::models::attributes;
use scimd_store::testing::TestDb;

fn declared(db: &TestDb, ctx: &Ctx) -> Vec<(String, String, bool, Option<String>)> {
    db.store
        .read(|conn| attributes::list(conn, &ctx.org))
        .unwrap()
        .into_iter()
        .map(|d| (d.name, d.ty, d.filterable, d.claim))
        .collect()
}

fn admins_declare_attributes_on_the_sso_page(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let admin = login(&app, &ctx, ADMIN).await;
        let sso = get(&app, Some(&admin), &url(&ctx, "sso")).await;
        assert_eq!(sso.status, StatusCode::OK);
        assert!(sso.body.contains(r#"id="attributes-empty""#));
        assert!(sso.body.contains(r#"id="attributes-form""#));

        let res = post(
            &app,
            &admin,
            &url(&ctx, "attributes"),
            &[
                ("name", "costCenter"),
                ("ty", "string"),
                ("filterable", "on"),
                ("claim", "cost_center"),
            ],
        )
        .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            declared(db, &ctx),
            [(
                "costCenter".into(),
                "string".into(),
                true,
                Some("cost_center".into())
            )]
        );
        assert!(audit_actions(db, &ctx.org).contains(&"attribute.defined".to_owned()));
        let page = get(&app, Some(&admin), res.location()).await;
        assert!(page.body.contains("Attribute declared."));
        assert!(
            page.body
                .contains("urn:ietf:params:scim:schemas:extension:scimd:2.0:User:costCenter")
        );

        for (name, says) in [
            ("COSTCENTER", "already declared"),
            ("1x", "not an attribute name"),
        ] {
            let res = post(
                &app,
                &admin,
                &url(&ctx, "attributes"),
                &[("name", name), ("ty", "string")],
            )
            .await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
            assert!(res.body.contains(r#"id="attribute_name-error""#), "{name}");
            assert!(res.body.contains(says), "{name}: {}", res.body);
            assert!(
                res.body.contains(&format!(r#"value="{name}""#)),
                "typed value kept"
            );
        }
        assert_eq!(declared(db, &ctx).len(), 1);
    });
}

fn a_member_cannot_declare_and_csrf_is_checked(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let member = login(&app, &ctx, MEMBER).await;
        let sso = get(&app, Some(&member), &url(&ctx, "sso")).await;
        assert!(!sso.body.contains(r#"id="attributes-form""#));
        let form = [("name", "x"), ("ty", "string")];
        let res = post(&app, &member, &url(&ctx, "attributes"), &form).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let owner = login(&app, &ctx, OWNER).await;
        let res = post_raw(&app, Some(&owner), &url(&ctx, "attributes"), &form, Some(ORIGIN)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(declared(db, &ctx).is_empty());
    });
}

scimd_store::backend_tests!(
    admins_declare_attributes_on_the_sso_page,
    a_member_cannot_declare_and_csrf_is_checked,
);
