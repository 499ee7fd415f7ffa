//! Roles: a member sees the SSO page read-only, and neither the directory (members, groups, review 3 L-7) nor
//! the logs; every write (and every write's dialog) is refused with 403
//! and changes nothing.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::testing::TestDb;

fn a_member_sees_the_pages_read_only(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        ctx.state
            .tokens
            .generate_blocking(&ctx.org, "test", scimd_tokens::Expiry::Never)
            .unwrap();
        let browser = login(&app, &ctx, MEMBER).await;
        let res = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.body.contains(r#"id="read-only-banner""#));
        for tab in ["audit", "activity", "members", "groups"] {
            assert!(!res.body.contains(&url(&ctx, tab)), "no {tab} tab");
        }
        // Least privilege (review 3, L-7): the directory of colleagues is the owners' and admins'.
        for page in ["members", "groups"] {
            let res = get(&app, Some(&browser), &url(&ctx, page)).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{page}");
            assert!(!res.body.contains(OWNER), "{page}: nobody listed");
        }
        let sso = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert!(
            sso.body.contains(&format!("/scim/v2/{}", ctx.org)),
            "the configuration is visible"
        );
        for control in [
            "sso-edit",
            "sso-remove",
            "regenerate",
            "delete-scim",
            "azure-form",
            "saml-form",
        ] {
            assert!(
                !sso.body.contains(&format!(r#"id="{control}""#)),
                "{control} is hidden for a member"
            );
        }
        let edit = get(&app, Some(&browser), &url(&ctx, "sso?edit=1")).await;
        assert!(!edit.body.contains(r#"id="azure-form""#));
        // Owners and admins get no banner.
        let owner = login(&app, &ctx, OWNER).await;
        let res = get(&app, Some(&owner), &url(&ctx, "sso")).await;
        assert!(!res.body.contains(r#"id="read-only-banner""#));
    });
}

fn every_write_by_a_member_is_refused_with_403_and_changes_nothing(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        let token = ctx
            .state
            .tokens
            .generate_blocking(&ctx.org, "test", scimd_tokens::Expiry::Never)
            .unwrap()
            .token
            .expose_once();
        let browser = login(&app, &ctx, MEMBER).await;
        let audit_before = audit_actions(db, &ctx.org).len();
        let sso_before = ctx.state.connection.get_blocking(&ctx.org).unwrap();
        let writes: [(&str, Vec<(&str, &str)>); 7] = [
            (
                "sso/saml",
                vec![
                    ("entity_id", "https://idp.test"),
                    ("sso_url", "https://idp.test/sso"),
                    ("certificate", CERT_PEM),
                ],
            ),
            (
                "sso/azure",
                vec![
                    ("tenant_id", TENANT),
                    ("client_id", CLIENT),
                    ("client_secret", "x"),
                ],
            ),
            ("sso/remove", vec![]),
            ("scim/token", vec![("expires", "never")]),
            ("scim/regenerate", vec![("grace", "none"), ("expires", "never")]),
            ("scim/delete", vec![]),
            ("sso/saml", vec![]),
        ];
        for (path, form) in &writes {
            let res = post(&app, &browser, &url(&ctx, path), form).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "POST {path}");
            assert!(res.body.contains("Read-only access"), "POST {path}");
        }
        for dialog in ["sso/remove", "scim/regenerate", "scim/delete"] {
            let res = get(&app, Some(&browser), &url(&ctx, dialog)).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "GET {dialog}");
        }
        assert_eq!(ctx.state.connection.get_blocking(&ctx.org).unwrap(), sso_before);
        let header = format!("Bearer {token}");
        assert!(ctx.state.tokens.verify_blocking(&ctx.org, Some(&header)).is_ok());
        assert_eq!(ctx.state.tokens.list_blocking(&ctx.org).unwrap().len(), 1);
        // Only the member's own login was recorded meanwhile... and nothing else.
        assert_eq!(audit_actions(db, &ctx.org).len(), audit_before);
    });
}

/// L4: the audit trail and the activity log name sessions, login links, token hints and the IdP's lookups
/// (emails in URLs): editors only, as in the JSON API.
fn a_member_cannot_open_the_audit_or_activity_pages(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let member = login(&app, &ctx, MEMBER).await;
        for page in [
            "audit",
            "activity",
            "audit?action=admin.login",
            "activity?outcome=success",
        ] {
            let res = get(&app, Some(&member), &url(&ctx, page)).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{page}");
            assert!(res.body.contains("Read-only access"), "{page}");
            assert!(!res.body.contains("session_id"), "{page}");
        }
        let admin = login(&app, &ctx, ADMIN).await;
        for page in ["audit", "activity"] {
            let res = get(&app, Some(&admin), &url(&ctx, page)).await;
            assert_eq!(res.status, StatusCode::OK, "{page}");
            assert!(
                res.body.contains(&url(&ctx, "audit")),
                "{page}: the audit tab is shown"
            );
        }
    });
}

scimd_store::backend_tests!(
    a_member_sees_the_pages_read_only,
    a_member_cannot_open_the_audit_or_activity_pages,
    every_write_by_a_member_is_refused_with_403_and_changes_nothing,
);
