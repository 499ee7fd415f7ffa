//! Admin sessions: a login link works once, for 10 minutes, for an active member; the session it opens is
//! checked against its row and the member on every request, on every process.

use crate::fixtures::{self, Process};
use chrono::Duration;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, OrgId};
use scimd_tokens::{Role, SessionService, SigningKey, TokenError};
use std::sync::Arc;

fn link_token(url: &str) -> String {
    let (base, token) = url.split_once("?token=").unwrap();
    assert_eq!(base, "https://scimd.test/admin/login");
    token.to_owned()
}

fn a_login_link_opens_one_session(db: &TestDb) {
    let w = fixtures::world(db);
    let link =
        w.p.sessions
            .issue_login_link_blocking(&w.org, "Owner@ACME.example", "cli")
            .unwrap();
    assert_eq!(link.member_id, w.owner);
    assert_eq!(link.expires_at, fixtures::start() + Duration::minutes(10));
    let token = link_token(&link.url);
    let session = w.p.sessions.exchange_login_link_blocking(&token).unwrap();
    assert_eq!(
        (&session.org_id, &session.member_id, session.role),
        (&w.org, &w.owner, Role::Owner)
    );
    assert_eq!(session.expires_at, fixtures::start() + Duration::hours(12));
    let again = w.p.sessions.exchange_login_link_blocking(&token);
    assert!(
        matches!(again, Err(TokenError::Unauthorized)),
        "a link works once"
    );

    let info =
        w.p.sessions
            .verify_session_blocking(&session.cookie_value)
            .unwrap();
    assert_eq!(info.session_id, session.session_id);
    assert_eq!(info.email, fixtures::OWNER_EMAIL);
    assert!(info.can_edit());
    assert_eq!(
        fixtures::events(&db.store, &w.org, "admin.login_link_issued").len(),
        1
    );
    let login = &fixtures::events(&db.store, &w.org, "admin.login")[0];
    assert_eq!(login.actor, format!("member:{}", w.owner));
    assert!(!login.details.contains(&session.cookie_value));
}

fn a_login_link_expires_after_ten_minutes(db: &TestDb) {
    let w = fixtures::world(db);
    let link =
        w.p.sessions
            .issue_login_link_blocking(&w.org, fixtures::OWNER_EMAIL, "cli")
            .unwrap();
    w.clock.advance(Duration::minutes(10));
    let late = w.p.sessions.exchange_login_link_blocking(&link_token(&link.url));
    assert!(matches!(late, Err(TokenError::Unauthorized)));
}

fn links_are_only_for_active_members_of_the_org(db: &TestDb) {
    let w = fixtures::world(db);
    let viewer = fixtures::add_member(&db.store, &w.clock, &w.org, "viewer@acme.example", "member");
    let unknown =
        w.p.sessions
            .issue_login_link_blocking(&w.org, "nobody@acme.example", "cli");
    assert!(matches!(unknown, Err(TokenError::MemberNotFound)));
    let no_org =
        w.p.sessions
            .issue_login_link_blocking(&OrgId::new("nope"), fixtures::OWNER_EMAIL, "cli");
    assert!(matches!(no_org, Err(TokenError::OrgNotFound)));
    let (globex, _) = fixtures::new_org(&db.store, &w.clock, "Globex", "owner@globex.example");
    let elsewhere =
        w.p.sessions
            .issue_login_link_blocking(&globex, fixtures::OWNER_EMAIL, "cli");
    assert!(matches!(elsewhere, Err(TokenError::MemberNotFound)));

    // A plain member logs in and sees the pages read-only.
    let link =
        w.p.sessions
            .issue_login_link_blocking(&w.org, "viewer@acme.example", "cli")
            .unwrap();
    let session =
        w.p.sessions
            .exchange_login_link_blocking(&link_token(&link.url))
            .unwrap();
    let info =
        w.p.sessions
            .verify_session_blocking(&session.cookie_value)
            .unwrap();
    assert_eq!((info.role, info.can_edit()), (Role::Member, false));

    fixtures::deactivate(&db.store, &viewer);
    let inactive =
        w.p.sessions
            .issue_login_link_blocking(&w.org, "viewer@acme.example", "cli");
    assert!(matches!(inactive, Err(TokenError::MemberInactive)));
}

fn deprovisioning_ends_a_session_at_once_on_every_process(db: &TestDb) {
    let w = fixtures::world(db);
    let admin = fixtures::add_member(&db.store, &w.clock, &w.org, "admin@acme.example", "admin");
    let other = Process::on(&db.reopen(), &w.clock);
    let link =
        w.p.sessions
            .issue_login_link_blocking(&w.org, "admin@acme.example", "cli")
            .unwrap();
    let pending =
        w.p.sessions
            .issue_login_link_blocking(&w.org, "admin@acme.example", "cli")
            .unwrap();
    let session =
        w.p.sessions
            .exchange_login_link_blocking(&link_token(&link.url))
            .unwrap();
    assert_eq!(
        other
            .sessions
            .verify_session_blocking(&session.cookie_value)
            .unwrap()
            .role,
        Role::Admin
    );
    fixtures::deactivate(&db.store, &admin);
    let refused = other.sessions.verify_session_blocking(&session.cookie_value);
    assert!(matches!(refused, Err(TokenError::Unauthorized)));
    let late_link =
        w.p.sessions
            .exchange_login_link_blocking(&link_token(&pending.url));
    assert!(
        matches!(late_link, Err(TokenError::Unauthorized)),
        "an unused link dies with the member"
    );
}

fn logout_and_expiry_end_a_session(db: &TestDb) {
    let w = fixtures::world(db);
    let open = |w: &fixtures::World| {
        let link =
            w.p.sessions
                .issue_login_link_blocking(&w.org, fixtures::OWNER_EMAIL, "cli")
                .unwrap();
        w.p.sessions
            .exchange_login_link_blocking(&link_token(&link.url))
            .unwrap()
    };
    let first = open(&w);
    assert!(w.p.sessions.logout_blocking(&first.session_id).unwrap());
    assert!(!w.p.sessions.logout_blocking(&first.session_id).unwrap());
    assert!(w.p.sessions.verify_session_blocking(&first.cookie_value).is_err());
    assert_eq!(fixtures::events(&db.store, &w.org, "admin.logout").len(), 1);

    let second = open(&w);
    w.clock.advance(Duration::hours(12) - Duration::seconds(1));
    assert!(w.p.sessions.verify_session_blocking(&second.cookie_value).is_ok());
    w.clock.advance(Duration::seconds(1));
    assert!(matches!(
        w.p.sessions.verify_session_blocking(&second.cookie_value),
        Err(TokenError::Unauthorized)
    ));
}

fn forged_and_misused_jwts_are_refused(db: &TestDb) {
    let w = fixtures::world(db);
    let link =
        w.p.sessions
            .issue_login_link_blocking(&w.org, fixtures::OWNER_EMAIL, "cli")
            .unwrap();
    let link_jwt = link_token(&link.url);
    // A login link is not a session cookie.
    assert!(w.p.sessions.verify_session_blocking(&link_jwt).is_err());
    let session = w.p.sessions.exchange_login_link_blocking(&link_jwt).unwrap();
    // A session cookie is not a login link.
    assert!(
        w.p.sessions
            .exchange_login_link_blocking(&session.cookie_value)
            .is_err()
    );
    // A changed signature, or a key scimd does not hold, is refused.
    let mut tampered = session.cookie_value.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(w.p.sessions.verify_session_blocking(&tampered).is_err());
    let clock: Arc<dyn Clock> = Arc::new(w.clock.clone());
    let stranger = SessionService::new(
        db.store.clone(),
        clock,
        SigningKey::from_config("another key, configured elsewhere, 32+ bytes").unwrap(),
        fixtures::PUBLIC_URL.into(),
    );
    assert!(stranger.verify_session_blocking(&session.cookie_value).is_err());
    for garbage in ["", "x", "a.b.c"] {
        assert!(matches!(
            w.p.sessions.verify_session_blocking(garbage),
            Err(TokenError::Unauthorized)
        ));
    }
}

fn every_process_shares_the_stored_signing_key(db: &TestDb) {
    let w = fixtures::world(db);
    let other = Process::on(&db.reopen(), &w.clock);
    let link =
        w.p.sessions
            .issue_login_link_blocking(&w.org, fixtures::OWNER_EMAIL, "cli")
            .unwrap();
    let session = other
        .sessions
        .exchange_login_link_blocking(&link_token(&link.url))
        .unwrap();
    assert!(
        w.p.sessions
            .verify_session_blocking(&session.cookie_value)
            .is_ok()
    );
    assert!(SigningKey::from_config("too short").is_err());
    assert_eq!(
        format!("{:?}", SigningKey::load_or_create(&db.store).unwrap()),
        "SigningKey(..)"
    );
}

scimd_store::backend_tests!(
    a_login_link_opens_one_session,
    a_login_link_expires_after_ten_minutes,
    links_are_only_for_active_members_of_the_org,
    deprovisioning_ends_a_session_at_once_on_every_process,
    logout_and_expiry_end_a_session,
    forged_and_misused_jwts_are_refused,
    every_process_shares_the_stored_signing_key,
);
