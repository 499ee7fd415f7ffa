//! The deprovisioning safety valve in the admin pages: the hold banner on every page of the org, its release
//! (owners and admins only, with CSRF, audited), and the settings card with per-field errors.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_scim::PatchRequest;
use scimd_scim::resources::validate;
use scimd_scim::schema::USER;
use scimd_store::Clock;
use scimd_store::models::safety_valve;
use scimd_store::provisioning::{ScimStoreError, WriteCtx, users};
use scimd_store::testing::TestDb;

/// What an IdP unassigning 21 members within the hour of a 100-member org does, through the SCIM path: 20
/// deactivations go through (20 % of the 100 who were active when the hour began) and the 21st trips the
/// valve. The members were provisioned a day earlier, so they count.
fn trip(db: &TestDb, ctx: &Ctx) {
    let now = ctx.clock.now_naive();
    let write = |at| WriteCtx {
        org: ctx.org.clone(),
        actor: "idp:okta".into(),
        now: at,
    };
    let ids: Vec<String> = (0..100)
        .map(|i| {
            let doc = validate(
                &serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("user{i}@acme.test")}),
                &USER,
            )
            .unwrap()
            .doc;
            db.store
                .write(|conn| users::create(conn, &write(now - chrono::Duration::days(1)), &doc, &[]))
                .unwrap()
                .user
                .row
                .id
        })
        .collect();
    let off = PatchRequest::from_value(serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    }))
    .unwrap();
    for id in &ids[..20] {
        db.store
            .write(|conn| users::patch(conn, &write(now), id, None, &off))
            .unwrap();
    }
    let held = db
        .store
        .write(|conn| users::patch(conn, &write(now), &ids[20], None, &off));
    assert!(matches!(held, Err(ScimStoreError::Held { .. })), "{held:?}");
}

fn held(db: &TestDb, ctx: &Ctx) -> bool {
    let now = ctx.clock.now_naive();
    db.store
        .read(|conn| safety_valve::status(conn, &ctx.org, now))
        .unwrap()
        .held
}

fn no_banner_by_default_and_the_card_shows_the_window(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, ADMIN).await;
        for page in ["sso", "members", "groups", "activity", "audit"] {
            let res = get(&app, Some(&browser), &url(&ctx, page)).await;
            assert_eq!(res.status, StatusCode::OK, "{page}");
            assert!(!res.body.contains(r#"id="hold-banner""#), "{page}");
        }
        let sso = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        // Below SCIM provisioning.
        let scim_at = sso.body.find(r#"id="scim""#).unwrap();
        let valve_at = sso.body.find(r#"id="safety-valve""#).unwrap();
        assert!(scim_at < valve_at);
        assert_eq!(text_of(&sso.body, "valve-status"), "On");
        assert_eq!(text_of(&sso.body, "valve-count"), "0");
        assert_eq!(text_of(&sso.body, "valve-threshold"), "10", "at least 10");
        assert!(sso.body.contains(r#"<meter min="0" max="10""#));
        assert!(
            sso.body
                .contains(r#"<input id="valve_enabled" name="enabled" type="checkbox" value="on" checked"#)
        );
        for field in ["valve_enabled", "valve_percent", "valve_min"] {
            assert!(
                sso.body.contains(&format!(r#"<label for="{field}">"#)),
                "{field} has a label"
            );
        }
        assert!(
            sso.body
                .contains(r#"id="valve_percent" name="percent" type="text" inputmode="numeric" value="20""#)
        );
        assert!(
            sso.body
                .contains(r#"id="valve_min" name="min" type="text" inputmode="numeric" value="10""#)
        );
        // A member sees the settings, not the form.
        let member = login(&app, &ctx, MEMBER).await;
        let sso = get(&app, Some(&member), &url(&ctx, "sso")).await;
        assert!(!sso.body.contains(r#"id="valve-form""#));
        assert!(sso.body.contains("<dd>20&nbsp;%</dd>"));
    });
}

fn a_tripped_valve_shows_a_banner_on_every_page_until_an_admin_releases_it(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        trip(db, &ctx);
        let admin = login(&app, &ctx, ADMIN).await;
        let sso = get(&app, Some(&admin), &url(&ctx, "sso")).await;
        assert_eq!(sso.status, StatusCode::OK);
        let banner = text_of(&sso.body, "hold-banner");
        assert!(banner.contains("Deprovisioning is on hold"), "{banner}");
        assert!(
            banner.contains("20 members were deprovisioned in the last hour (threshold 20)"),
            "{banner}"
        );
        assert!(banner.contains("503"), "{banner}");
        assert!(
            banner.contains("Releasing lets the held deactivations and deletions through"),
            "{banner}"
        );
        assert_eq!(text_of(&sso.body, "hold-count"), "20");
        assert_eq!(text_of(&sso.body, "hold-threshold"), "20");
        assert!(sso.body.contains(r#"id="release-hold""#));
        // The banner comes first in the page's content.
        let main = sso.body.split(r#"<main id="main""#).nth(1).unwrap();
        assert!(main.find("hold-banner").unwrap() < main.find("page-header").unwrap());
        assert_eq!(text_of(&sso.body, "valve-status"), "Holding");
        assert_eq!(text_of(&sso.body, "valve-count"), "20");
        for page in ["members", "groups", "activity", "audit"] {
            let res = get(&app, Some(&admin), &url(&ctx, page)).await;
            assert!(res.body.contains(r#"id="hold-banner""#), "{page}");
        }

        let res = post(&app, &admin, &url(&ctx, "safety-valve/release"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            res.location(),
            format!("{}?notice=valve_released#safety-valve", url(&ctx, "sso"))
        );
        assert!(!held(db, &ctx));
        assert_eq!(
            audit_actions(db, &ctx.org).last().map(String::as_str),
            Some("safety_valve.released")
        );
        let after = get(&app, Some(&admin), res.location()).await;
        assert!(!after.body.contains(r#"id="hold-banner""#));
        assert!(after.body.contains("Hold released."));
        assert_eq!(text_of(&after.body, "valve-status"), "On");
        assert_eq!(text_of(&after.body, "valve-count"), "0", "counting afresh");

        // Releasing again changes nothing and says so.
        let again = post(&app, &admin, &url(&ctx, "safety-valve/release"), &[]).await;
        assert!(again.location().contains("notice=valve_not_held"));
        assert_eq!(
            audit_actions(db, &ctx.org)
                .iter()
                .filter(|a| *a == "safety_valve.released")
                .count(),
            1
        );
    });
}

fn a_member_sees_the_hold_but_cannot_release_it(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        trip(db, &ctx);
        let member = login(&app, &ctx, MEMBER).await;
        let sso = get(&app, Some(&member), &url(&ctx, "sso")).await;
        assert!(sso.body.contains(r#"id="hold-banner""#));
        assert!(!sso.body.contains(r#"id="release-hold""#));
        assert!(text_of(&sso.body, "hold-banner").contains("An owner or admin can release the hold"));
        let before = audit_actions(db, &ctx.org).len();
        let res = post(&app, &member, &url(&ctx, "safety-valve/release"), &[]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.body.contains("Read-only access"));
        assert!(held(db, &ctx));
        assert_eq!(audit_actions(db, &ctx.org).len(), before);
    });
}

fn a_release_without_the_csrf_token_or_from_elsewhere_is_refused(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        trip(db, &ctx);
        let owner = login(&app, &ctx, OWNER).await;
        let uri = url(&ctx, "safety-valve/release");
        let no_token = post_raw(&app, Some(&owner), &uri, &[], Some(ORIGIN)).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let csrf = owner.csrf();
        let elsewhere = post_raw(
            &app,
            Some(&owner),
            &uri,
            &[("csrf_token", csrf.as_str())],
            Some("https://evil.test"),
        )
        .await;
        assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
        assert!(held(db, &ctx));
        assert!(!audit_actions(db, &ctx.org).contains(&"safety_valve.released".to_owned()));
    });
}

fn the_settings_save_and_each_invalid_field_is_refused_next_to_it(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let admin = login(&app, &ctx, ADMIN).await;
        let uri = url(&ctx, "safety-valve");

        let cases: [(&str, &str, &[&str]); 5] = [
            ("0", "10", &["valve_percent-error"]),
            ("101", "10", &["valve_percent-error"]),
            ("20", "0", &["valve_min-error"]),
            ("20", "ten", &["valve_min-error"]),
            ("", "-3", &["valve_percent-error", "valve_min-error"]),
        ];
        for (percent, min, errors) in cases {
            let res = post(&app, &admin, &uri, &[("percent", percent), ("min", min)]).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{percent} {min}");
            for id in ["valve_percent-error", "valve_min-error"] {
                assert_eq!(
                    res.body.contains(&format!(r#"id="{id}""#)),
                    errors.contains(&id),
                    "{id} for {percent:?} {min:?}"
                );
            }
            let expected = if errors.len() == 1 {
                "One field needs"
            } else {
                "2 fields need"
            };
            assert!(text_of(&res.body, "valve-errors").contains(expected));
            // What was typed stays, the unchecked box stays unchecked, and the rest of the page is intact.
            assert!(res.body.contains(&format!(
                r#"name="percent" type="text" inputmode="numeric" value="{percent}""#
            )));
            assert!(res.body.contains(&format!(
                r#"name="min" type="text" inputmode="numeric" value="{min}""#
            )));
            assert!(res.body.contains(r#"value="on" aria-describedby"#), "unchecked");
            assert!(res.body.contains(r#"id="scim""#));
            assert_eq!(text_of(&res.body, "valve-status"), "On", "nothing was saved");
        }
        let percent_error = post(
            &app,
            &admin,
            &uri,
            &[("percent", "0"), ("min", "10"), ("enabled", "on")],
        )
        .await;
        assert!(
            percent_error
                .body
                .contains("<span>The share must be a whole number from 1 to 100.</span>")
        );
        assert!(percent_error.body.contains(r#"value="on" checked"#));
        let min_error = post(
            &app,
            &admin,
            &uri,
            &[("percent", "20"), ("min", "0"), ("enabled", "on")],
        )
        .await;
        assert!(
            min_error
                .body
                .contains("<span>The minimum must be a whole number from 1 to 1000000.</span>")
        );
        assert!(!audit_actions(db, &ctx.org).contains(&"safety_valve.configured".to_owned()));

        // Valid: saved, audited, shown.
        let res = post(&app, &admin, &uri, &[("percent", "30"), ("min", "5")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let settings = db
            .store
            .read(|conn| safety_valve::settings(conn, &ctx.org, ctx.clock.now_naive()))
            .unwrap();
        assert!(!settings.safety_valve_enabled);
        assert_eq!(
            (settings.safety_valve_percent, settings.safety_valve_min),
            (30, 5)
        );
        assert_eq!(
            audit_actions(db, &ctx.org).last().map(String::as_str),
            Some("safety_valve.configured")
        );
        let page = get(&app, Some(&admin), res.location()).await;
        assert!(page.body.contains("Safety valve settings saved."));
        assert_eq!(text_of(&page.body, "valve-status"), "Off");
        assert!(page.body.contains(r#"value="30""#) && page.body.contains(r#"value="5""#));

        let res = post(
            &app,
            &admin,
            &uri,
            &[("percent", "25 %"), ("min", " 12 "), ("enabled", "on")],
        )
        .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = get(&app, Some(&admin), res.location()).await;
        assert_eq!(text_of(&page.body, "valve-status"), "On");
        assert!(
            page.body
                .contains("The threshold is the larger of 25&nbsp;% of active members and 12.")
        );
    });
}

fn a_member_cannot_change_the_settings(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let member = login(&app, &ctx, MEMBER).await;
        let before = audit_actions(db, &ctx.org).len();
        let res = post(
            &app,
            &member,
            &url(&ctx, "safety-valve"),
            &[("percent", "90"), ("min", "1")],
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let settings = db
            .store
            .read(|conn| safety_valve::settings(conn, &ctx.org, ctx.clock.now_naive()))
            .unwrap();
        assert!(settings.safety_valve_enabled);
        assert_eq!(
            (settings.safety_valve_percent, settings.safety_valve_min),
            (20, 10)
        );
        assert_eq!(audit_actions(db, &ctx.org).len(), before);
    });
}

scimd_store::backend_tests!(
    no_banner_by_default_and_the_card_shows_the_window,
    a_tripped_valve_shows_a_banner_on_every_page_until_an_admin_releases_it,
    a_member_sees_the_hold_but_cannot_release_it,
    a_release_without_the_csrf_token_or_from_elsewhere_is_refused,
    the_settings_save_and_each_invalid_field_is_refused_next_to_it,
    a_member_cannot_change_the_settings,
);
