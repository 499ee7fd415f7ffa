//! Admin sessions: a login link works once, for 10 minutes, for an active member; the session it opens is
//! checked against its row and the member on every request, on every process.

use crate::fixtures::{self, Process};
use chrono::Duration;
use scimd_store::models::admin_sessions;
use scimd_store::models::members::Role;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, OrgId};
use scimd_tokens::{LoginLink, Session, SessionService, SessionSettings, SigningKey, TokenError};
use std::sync::Arc;

fn link_token(url: &str) -> String {
    let (base, token) = url.split_once("?token=").unwrap();
    assert_eq!(base, "https://scimd.test/admin/login");
    token.to_owned()
}

/// A login link for the member `email` of the world's org, issued through the CLI.
fn issue_link(w: &fixtures::World, email: &str) -> LoginLink {
    w.p.sessions
        .issue_login_link_blocking(&w.org, email, "cli")
        .unwrap()
}

/// The session `link` opens on `sessions` (in a browser without one).
fn exchange(sessions: &SessionService, link: &LoginLink) -> Session {
    sessions
        .exchange_login_link_blocking(&link_token(&link.url), None)
        .unwrap()
}

fn a_login_link_opens_one_session(db: &TestDb) {
    let w = fixtures::world(db);
    let link = issue_link(&w, "Owner@ACME.example");
    assert_eq!(link.member_id, w.owner);
    assert_eq!(link.expires_at, fixtures::start() + Duration::minutes(10));
    let token = link_token(&link.url);
    let session = w.p.sessions.exchange_login_link_blocking(&token, None).unwrap();
    assert_eq!(
        (&session.org_id, &session.member_id, session.role),
        (&w.org, &w.owner, Role::Owner)
    );
    assert_eq!(session.expires_at, fixtures::start() + Duration::hours(12));
    let again = w.p.sessions.exchange_login_link_blocking(&token, None);
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
    let link = issue_link(&w, fixtures::OWNER_EMAIL);
    w.clock.advance(Duration::minutes(10));
    let late =
        w.p.sessions
            .exchange_login_link_blocking(&link_token(&link.url), None);
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
    let link = issue_link(&w, "viewer@acme.example");
    let session = exchange(&w.p.sessions, &link);
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
    let link = issue_link(&w, "admin@acme.example");
    let pending = issue_link(&w, "admin@acme.example");
    let session = exchange(&w.p.sessions, &link);
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
            .exchange_login_link_blocking(&link_token(&pending.url), None);
    assert!(
        matches!(late_link, Err(TokenError::Unauthorized)),
        "an unused link dies with the member"
    );
}

fn logout_and_expiry_end_a_session(db: &TestDb) {
    let w = fixtures::world(db);
    let open = |w: &fixtures::World| open_session(w, &w.p.sessions, fixtures::OWNER_EMAIL);
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
    let link = issue_link(&w, fixtures::OWNER_EMAIL);
    let link_jwt = link_token(&link.url);
    // A login link is not a session cookie.
    assert!(w.p.sessions.verify_session_blocking(&link_jwt).is_err());
    let session =
        w.p.sessions
            .exchange_login_link_blocking(&link_jwt, None)
            .unwrap();
    // A session cookie is not a login link.
    assert!(
        w.p.sessions
            .exchange_login_link_blocking(&session.cookie_value, None)
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
    let link = issue_link(&w, fixtures::OWNER_EMAIL);
    let session = other
        .sessions
        .exchange_login_link_blocking(&link_token(&link.url), None)
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

fn open_session(w: &fixtures::World, sessions: &SessionService, email: &str) -> Session {
    let link = sessions.issue_login_link_blocking(&w.org, email, "cli").unwrap();
    exchange(sessions, &link)
}

fn last_seen(db: &TestDb, session: &scimd_tokens::Session) -> chrono::NaiveDateTime {
    db.store
        .read(|conn| admin_sessions::find(conn, &session.session_id))
        .unwrap()
        .unwrap()
        .last_seen_at
}

/// L9: a session ends after an idle period without a request, even inside its lifetime; each request keeps it
/// alive.
fn a_session_ends_after_its_idle_timeout(db: &TestDb) {
    let w = fixtures::world(db);
    let sessions = w.p.sessions.clone().with_settings(SessionSettings {
        lifetime: Duration::hours(24),
        idle_timeout: Duration::hours(2),
    });
    let session = open_session(&w, &sessions, fixtures::OWNER_EMAIL);
    for _ in 0..3 {
        w.clock.advance(Duration::minutes(110));
        assert!(sessions.verify_session_blocking(&session.cookie_value).is_ok());
    }
    w.clock.advance(Duration::hours(2));
    assert!(matches!(
        sessions.verify_session_blocking(&session.cookie_value),
        Err(TokenError::Unauthorized)
    ));
    // The default: 12 hours idle, as long as the lifetime.
    assert_eq!(SessionSettings::default().idle_timeout, Duration::hours(12));
}

/// L9: `last_seen_at` follows use, written at most once a minute per session (not on every request).
fn last_seen_is_kept_and_written_at_most_once_a_minute(db: &TestDb) {
    let w = fixtures::world(db);
    let session = open_session(&w, &w.p.sessions, fixtures::OWNER_EMAIL);
    let opened = last_seen(db, &session);
    w.clock.advance(Duration::seconds(30));
    let writes = db.store.sqlite_writes();
    for _ in 0..5 {
        w.p.sessions
            .verify_session_blocking(&session.cookie_value)
            .unwrap();
    }
    assert_eq!(
        last_seen(db, &session),
        opened,
        "within the minute: nothing written"
    );
    assert_eq!(db.store.sqlite_writes(), writes);
    w.clock.advance(Duration::seconds(31));
    w.p.sessions
        .verify_session_blocking(&session.cookie_value)
        .unwrap();
    w.p.sessions
        .verify_session_blocking(&session.cookie_value)
        .unwrap();
    assert_eq!(last_seen(db, &session), w.clock.now_naive());
    assert_eq!(
        db.store.sqlite_writes().map(|n| n - writes.unwrap_or(0)),
        writes.map(|_| 1),
        "one write for the two requests"
    );
}

/// L8: the landing page can say whom a link signs in, without using it; a used link shows nothing.
fn a_login_link_preview_names_the_org_and_the_member(db: &TestDb) {
    let w = fixtures::world(db);
    let link = issue_link(&w, fixtures::OWNER_EMAIL);
    let token = link_token(&link.url);
    let preview = w.p.sessions.preview_login_link_blocking(&token).unwrap();
    assert_eq!(
        (
            preview.org_id.clone(),
            preview.org_name.as_str(),
            preview.email.as_str()
        ),
        (w.org.clone(), "Acme", fixtures::OWNER_EMAIL)
    );
    assert_eq!(w.p.sessions.preview_login_link_blocking(&token).unwrap(), preview);
    w.p.sessions.exchange_login_link_blocking(&token, None).unwrap();
    assert!(matches!(
        w.p.sessions.preview_login_link_blocking(&token),
        Err(TokenError::Unauthorized)
    ));
    assert!(matches!(
        w.p.sessions.preview_login_link_blocking("not-a-jwt"),
        Err(TokenError::Unauthorized)
    ));
}

/// L8: logging in through a link ends the session the browser had, even in another org, with its audit event.
fn a_login_through_a_link_revokes_the_browsers_previous_session(db: &TestDb) {
    let w = fixtures::world(db);
    let (other_org, _) = fixtures::new_org(&db.store, &w.clock, "Evil", "mallory@evil.example");
    let own = open_session(&w, &w.p.sessions, fixtures::OWNER_EMAIL);
    let link =
        w.p.sessions
            .issue_login_link_blocking(&other_org, "mallory@evil.example", "cli")
            .unwrap();
    let swapped =
        w.p.sessions
            .exchange_login_link_blocking(&link_token(&link.url), Some(&own.cookie_value))
            .unwrap();
    assert_eq!(swapped.org_id, other_org);
    assert!(matches!(
        w.p.sessions.verify_session_blocking(&own.cookie_value),
        Err(TokenError::Unauthorized)
    ));
    assert!(
        w.p.sessions
            .verify_session_blocking(&swapped.cookie_value)
            .is_ok()
    );
    let ended = fixtures::events(&db.store, &w.org, "admin.logout");
    assert_eq!(ended.len(), 1);
    assert!(
        ended[0].details.contains("replaced_by_login"),
        "{}",
        ended[0].details
    );
    // A cookie that is not a session of ours changes nothing.
    let third = issue_link(&w, fixtures::OWNER_EMAIL);
    w.p.sessions
        .exchange_login_link_blocking(&link_token(&third.url), Some("garbage"))
        .unwrap();
    assert!(
        w.p.sessions
            .verify_session_blocking(&swapped.cookie_value)
            .is_ok()
    );
}

scimd_store::backend_tests!(
    a_session_ends_after_its_idle_timeout,
    last_seen_is_kept_and_written_at_most_once_a_minute,
    a_login_link_preview_names_the_org_and_the_member,
    a_login_through_a_link_revokes_the_browsers_previous_session,
    a_login_link_opens_one_session,
    a_login_link_expires_after_ten_minutes,
    links_are_only_for_active_members_of_the_org,
    deprovisioning_ends_a_session_at_once_on_every_process,
    logout_and_expiry_end_a_session,
    forged_and_misused_jwts_are_refused,
    every_process_shares_the_stored_signing_key,
);
