//! The limits card on the SSO page: the SCIM API's per-org limits (the server's defaults until the org sets
//! its own, blank for the default again) and whether SCIM may link the org's owner; saved by owners and
//! admins only, audited, with per-field errors.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::models::{org_limits, owner_link};
use scimd_store::testing::TestDb;

/// The org's own (rate, burst, in-flight), if any.
type Own = Option<(Option<i32>, Option<i32>, Option<i32>)>;

fn stored(db: &TestDb, ctx: &Ctx) -> (Own, bool) {
    db.store
        .read(|conn| {
            let limits = org_limits::get(conn, &ctx.org)?.map(|l| (l.rate, l.burst, l.in_flight));
            Ok::<_, scimd_store::StoreError>((limits, owner_link::allowed(conn, &ctx.org)?))
        })
        .unwrap()
}

fn the_card_shows_the_defaults_and_saves_the_orgs_own_limits(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let admin = login(&app, &ctx, ADMIN).await;
        let sso = get(&app, Some(&admin), &url(&ctx, "sso")).await;
        assert_eq!(sso.status, StatusCode::OK);
        assert_eq!(text_of(&sso.body, "limits-rate"), "50");
        assert_eq!(text_of(&sso.body, "limits-burst"), "200");
        assert_eq!(text_of(&sso.body, "limits-in-flight"), "8");
        assert_eq!(text_of(&sso.body, "limits-owner-link"), "No");
        assert_eq!(text_of(&sso.body, "limits-identity-changes"), "No");
        assert!(
            sso.body
                .contains(r#"id="limits_rate" name="rate" type="text" inputmode="numeric" value="""#)
        );
        assert!(text_of(&sso.body, "valve-title").contains("Deprovisioning safety valve"));
        assert!(
            sso.body
                .contains("Members your IdP created within the hour do not count")
        );

        let res = post(
            &app,
            &admin,
            &url(&ctx, "limits"),
            &[
                ("rate", "500"),
                ("burst", ""),
                ("in_flight", " 16 "),
                ("owner_link", "on"),
                ("identity_changes", "on"),
            ],
        )
        .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let identity_changes = db
            .store
            .read(|conn| owner_link::privileged_identity_changes_allowed(conn, &ctx.org))
            .unwrap();
        assert!(identity_changes, "the checkbox allows it (L-10)");
        assert_eq!(stored(db, &ctx), (Some((Some(500), None, Some(16))), true));
        let actions = audit_actions(db, &ctx.org);
        assert!(
            actions.contains(&"org.limits_configured".to_owned()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"org.owner_link_configured".to_owned()),
            "{actions:?}"
        );
        let page = get(&app, Some(&admin), res.location()).await;
        assert!(page.body.contains("Limits saved."));
        assert_eq!(text_of(&page.body, "limits-rate"), "500");
        assert_eq!(
            text_of(&page.body, "limits-burst"),
            "200",
            "blank keeps the default"
        );
        assert_eq!(text_of(&page.body, "limits-in-flight"), "16");
        assert_eq!(text_of(&page.body, "limits-owner-link"), "Yes");
        assert_eq!(text_of(&page.body, "limits-identity-changes"), "Yes");
        assert!(audit_actions(db, &ctx.org).contains(&"org.privileged_identity_configured".to_owned()));

        // Saving the same values again changes nothing and audits nothing; blanks go back to the defaults.
        let before = audit_actions(db, &ctx.org).len();
        let same = [
            ("rate", "500"),
            ("burst", ""),
            ("in_flight", "16"),
            ("owner_link", "on"),
            ("identity_changes", "on"),
        ];
        assert_eq!(
            post(&app, &admin, &url(&ctx, "limits"), &same).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(audit_actions(db, &ctx.org).len(), before);
        let blank = [("rate", ""), ("burst", ""), ("in_flight", "")];
        assert_eq!(
            post(&app, &admin, &url(&ctx, "limits"), &blank).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(stored(db, &ctx), (None, false));
    });
}

fn each_invalid_limit_is_refused_next_to_it_and_nothing_is_saved(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let owner = login(&app, &ctx, OWNER).await;
        let cases: [(&str, &str, &str, &[&str]); 4] = [
            ("0", "", "", &["limits_rate-error"]),
            ("", "lots", "", &["limits_burst-error"]),
            ("", "", "1000001", &["limits_in_flight-error"]),
            ("-1", "2.5", "", &["limits_rate-error", "limits_burst-error"]),
        ];
        for (rate, burst, in_flight, errors) in cases {
            let form = [
                ("rate", rate),
                ("burst", burst),
                ("in_flight", in_flight),
                ("owner_link", "on"),
            ];
            let res = post(&app, &owner, &url(&ctx, "limits"), &form).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
            for id in [
                "limits_rate-error",
                "limits_burst-error",
                "limits_in_flight-error",
            ] {
                assert_eq!(
                    res.body.contains(&format!(r#"id="{id}""#)),
                    errors.contains(&id),
                    "{id} for {form:?}"
                );
            }
            let expected = if errors.len() == 1 {
                "One field needs"
            } else {
                "2 fields need"
            };
            assert!(text_of(&res.body, "limits-errors").contains(expected));
            assert!(res.body.contains(&format!(
                r#"name="rate" type="text" inputmode="numeric" value="{rate}""#
            )));
            assert!(
                res.body
                    .contains(r#"name="owner_link" type="checkbox" value="on" checked"#),
                "as typed"
            );
            assert_eq!(text_of(&res.body, "limits-owner-link"), "No", "nothing was saved");
            assert!(
                res.body.contains(r#"id="safety-valve""#),
                "the rest of the page is there"
            );
        }
        assert_eq!(stored(db, &ctx), (None, false));
        assert!(!audit_actions(db, &ctx.org).contains(&"org.limits_configured".to_owned()));
    });
}

fn a_member_sees_the_limits_but_cannot_change_them(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let member = login(&app, &ctx, MEMBER).await;
        let sso = get(&app, Some(&member), &url(&ctx, "sso")).await;
        assert_eq!(text_of(&sso.body, "limits-rate"), "50");
        assert!(!sso.body.contains(r#"id="limits-form""#));
        let res = post(
            &app,
            &member,
            &url(&ctx, "limits"),
            &[("rate", "1000"), ("owner_link", "on")],
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(stored(db, &ctx), (None, false));
    });
}

fn a_limits_post_without_the_csrf_token_is_refused(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let owner = login(&app, &ctx, OWNER).await;
        let res = post_raw(
            &app,
            Some(&owner),
            &url(&ctx, "limits"),
            &[("rate", "1000")],
            Some(ORIGIN),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(stored(db, &ctx), (None, false));
    });
}

scimd_store::backend_tests!(
    the_card_shows_the_defaults_and_saves_the_orgs_own_limits,
    each_invalid_limit_is_refused_next_to_it_and_nothing_is_saved,
    a_member_sees_the_limits_but_cannot_change_them,
    a_limits_post_without_the_csrf_token_is_refused,
);
