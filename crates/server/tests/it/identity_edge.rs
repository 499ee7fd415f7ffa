//! Identity by stable keys only (issue #23; review 3 M-1, L-10), as the attacks, against the real app on
//! both backends: a correctly signed SAML assertion naming the owner's (or a member's) e-mail signs nobody
//! in; neither does an Entra ID token with a stranger's `oid` and the owner's `email`; a member the IdP never
//! provisioned (the CLI-made owner) signs in through SSO only once SCIM has linked it; and SCIM cannot re-point
//! an admin's `userName` or `externalId` unless the org allows it, every attempt and change audited.

use crate::harness::{scimd, stdout};
use crate::sso_entra;
use crate::sso_signin::{self, Browser};
use crate::test_app::TestApp;
use diesel::prelude::*;
use scimd_sso::testing::keys;
use scimd_store::models::audit_events;
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, schema};
use serde_json::{Value, json};

const OWNER: &str = "owner@a.example";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn refusal_reasons(env: &TestApp, org: &OrgId) -> Vec<String> {
    actions(env, org, "sso.signin_refused")
        .iter()
        .map(|d| d["reason"].as_str().unwrap().to_owned())
        .collect()
}

/// The details of the org's audit events of `action`, oldest first.
fn actions(env: &TestApp, org: &OrgId, action: &str) -> Vec<Value> {
    env.store
        .read(|conn| audit_events::list(conn, org, Some(action), None, 100))
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect()
}

/// One SAML sign-in at org `a`: a signed response naming `name_id` (e-mail format), with the objectidentifier
/// `object_id` and the e-mail attribute `email`. The ACS's reply.
fn saml_sign_in(
    env: &TestApp,
    a: &OrgId,
    name_id: &str,
    object_id: Option<&str>,
    email: Option<&str>,
) -> (u16, String, bool) {
    let mut browser = Browser::new(env);
    let request = sso_signin::start(&mut browser, a);
    let mut spec = sso_signin::response(&request, Some(&request.id), name_id, object_id);
    spec.email = email.map(str::to_owned);
    let reply = sso_signin::post_acs(
        &mut browser,
        a,
        &sso_signin::signed_by(&spec, keys::idp()),
        Some(&request.relay_state),
    );
    let signed_in = browser.cookies.contains_key("scimd_session");
    (reply.status, reply.body, signed_in)
}

fn a_signed_assertion_naming_an_email_signs_nobody_in(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.a.id.clone();
    sso_signin::saml_connection(env, &a, keys::idp(), false);
    sso_signin::create_user(&env.client_a(), "ada@a.example", "oid-ada");

    // The owner's address as the NameID: the owner is not the IdP's (SCIM never provisioned it).
    let (status, body, signed_in) = saml_sign_in(env, &a, OWNER, Some("oid-mallory"), None);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("You do not have access yet"), "{body}");
    assert!(!signed_in);
    // The owner's address, and a provisioned member's, as the e-mail attribute of a stranger.
    for victim in [OWNER, "ada@a.example"] {
        let (status, _, signed_in) =
            saml_sign_in(env, &a, "mallory@idp.example", Some("oid-mallory"), Some(victim));
        assert_eq!((status, signed_in), (403, false), "{victim}");
    }
    // The stable keys still work: the objectidentifier, and the NameID as a SCIM-provisioned userName.
    assert_eq!(
        saml_sign_in(env, &a, "x@idp.example", Some("oid-ada"), None).0,
        303
    );
    assert_eq!(saml_sign_in(env, &a, "ADA@a.example", None, None).0, 303);

    // Once SCIM has linked the owner (the org allows it), the owner signs in by its externalId.
    let dir = tempfile::tempdir().unwrap();
    let set = scimd(
        dir.path(),
        Some(&db.url),
        &["org", "owner-link", "--org", a.as_str(), "--set", "on"],
    );
    assert!(set.status.success(), "{set:?}");
    sso_signin::create_user(&env.client_a(), OWNER, "oid-owner");
    let (status, body, signed_in) = saml_sign_in(env, &a, "someone@idp.example", Some("oid-owner"), None);
    assert_eq!((status, signed_in), (303, true), "{body}");
    assert_eq!(
        refusal_reasons(env, &a),
        ["not_provisioned", "not_provisioned", "not_provisioned"]
    );
}

fn an_entra_token_with_a_strangers_oid_and_the_owners_email_is_refused(db: &TestDb) {
    let fake = &sso_entra::start_fake();
    let env = &TestApp::init_with(db, &["--entra-authority", &fake.base]);
    let a = env.a.id.clone();
    sso_entra::create_user(&env.client_a(), "ada@a.example", "oid-ada");
    let sign_in = |oid: &str, upn: &str, email: &str| {
        let mut browser = sso_entra::Browser::new(env);
        let auth = sso_entra::start(&mut browser, fake, &a);
        let reply =
            sso_entra::sign_in_at_entra_with_email(&mut browser, fake, &a, &auth, oid, upn, email, None);
        (reply.status, browser.cookies.contains_key("scimd_session"))
    };
    // A guest whose unverified e-mail claim is the owner's, or a provisioned member's.
    assert_eq!(
        sign_in("oid-mallory", "mallory@guest.example", OWNER),
        (403, false)
    );
    assert_eq!(
        sign_in("oid-mallory", "mallory@guest.example", "ada@a.example"),
        (403, false)
    );
    // The owner's address as preferred_username: the owner is not SCIM-managed, so it is not the IdP's name.
    assert_eq!(sign_in("oid-mallory", OWNER, OWNER), (403, false));
    // The object id, and preferred_username among SCIM-provisioned members, still sign in.
    assert_eq!(
        sign_in("oid-ada", "other@a.example", "other@a.example"),
        (303, true)
    );
    assert_eq!(
        sign_in("oid-new", "ADA@a.example", "mallory@guest.example"),
        (303, true)
    );
    assert_eq!(
        sso_entra::reasons(env, &a),
        ["not_provisioned", "not_provisioned", "not_provisioned"]
    );
}

fn patch_identity(env: &TestApp, id: &str, value: Value) -> crate::scim_client::Reply {
    let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": value}]});
    env.client_a()
        .send("PATCH", &format!("/Users/{id}"), Some(&body.to_string()), &[])
}

fn scim_cannot_re_point_an_admins_identity(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.a.id.clone();
    let grace = sso_signin::create_user(&env.client_a(), "grace@a.example", "oid-grace");
    db.store
        .write(|conn| {
            diesel::update(schema::members::table.filter(schema::members::id.eq(&grace)))
                .set(schema::members::role.eq("admin"))
                .execute(conn)
                .map_err(scimd_store::StoreError::from)
        })
        .unwrap();

    // The attack: the SCIM caller points the admin at its own IdP identity.
    for value in [
        json!({"externalId": "oid-mallory"}),
        json!({"userName": "mallory@a.example"}),
    ] {
        let refused = patch_identity(env, &grace, value.clone());
        assert_eq!(refused.status, 403, "{value}: {}", refused.body);
        assert!(
            refused.json()["detail"]
                .as_str()
                .unwrap()
                .contains("scimd org identity-changes"),
            "{}",
            refused.body
        );
    }
    let put = json!({"schemas": [USER], "userName": "grace@a.example", "externalId": "oid-mallory", "active": true});
    let replaced = env
        .client_a()
        .send("PUT", &format!("/Users/{grace}"), Some(&put.to_string()), &[]);
    assert_eq!(replaced.status, 403, "{}", replaced.body);
    let user = env.client_a().get(&format!("/Users/{grace}")).json();
    assert_eq!(
        (user["userName"].as_str(), user["externalId"].as_str()),
        (Some("grace@a.example"), Some("oid-grace"))
    );
    // Other attributes of the admin still change, and an ordinary member's identity too.
    assert_eq!(
        patch_identity(env, &grace, json!({"displayName": "Grace H."})).status,
        200
    );
    let ada = sso_signin::create_user(&env.client_a(), "ada@a.example", "oid-ada");
    assert_eq!(
        patch_identity(env, &ada, json!({"externalId": "oid-ada-2"})).status,
        200
    );
    let refused = actions(env, &a, "member.privileged_identity_change_refused");
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert_eq!(refused[0]["role"], "admin");
    assert_eq!(refused[0]["changed"], json!(["externalId"]));

    // The org allows it: the change goes through, audited under its own action.
    let dir = tempfile::tempdir().unwrap();
    let set = scimd(
        dir.path(),
        Some(&db.url),
        &[
            "org",
            "identity-changes",
            "--org",
            a.as_str(),
            "--set",
            "on",
            "--json",
        ],
    );
    assert!(set.status.success(), "{set:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&set)).unwrap()["allowed"],
        true
    );
    assert_eq!(
        patch_identity(env, &grace, json!({"externalId": "oid-grace-2"})).status,
        200
    );
    let changed = actions(env, &a, "member.privileged_identity_changed");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["changed"], json!(["externalId"]));
    assert_eq!(actions(env, &a, "org.privileged_identity_configured").len(), 1);
}

scimd_store::backend_tests!(
    a_signed_assertion_naming_an_email_signs_nobody_in,
    an_entra_token_with_a_strangers_oid_and_the_owners_email_is_refused,
    scim_cannot_re_point_an_admins_identity,
);
