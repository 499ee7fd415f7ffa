//! Generate, regenerate with grace, expiry, revoke, list and status; each change audited with its actor and
//! never with the token.

use crate::fixtures::{self, bearer};
use chrono::Duration;
use scimd_store::OrgId;
use scimd_store::testing::TestDb;
use scimd_tokens::{Expiry, Grace, TokenError, TokenStatus};

fn generate_needs_an_sso_connection_and_an_org(db: &TestDb) {
    let w = fixtures::world(db);
    let err = w.generate("cli", Expiry::Never).unwrap_err();
    assert!(matches!(err, TokenError::SsoRequired), "{err:?}");
    assert!(err.to_string().starts_with("set up SSO first"), "{err}");
    let missing =
        w.p.tokens
            .generate_blocking(&OrgId::new("nope"), "cli", Expiry::Never);
    assert!(matches!(missing, Err(TokenError::OrgNotFound)));
    assert!(w.p.tokens.list_blocking(&w.org).unwrap().is_empty());
}

fn generate_returns_the_endpoint_and_the_token_once(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let generated = w.generate("admin@acme", Expiry::OneYear).unwrap();
    assert_eq!(generated.endpoint_url, w.endpoint());
    assert_eq!(generated.created_at, fixtures::start());
    assert_eq!(
        generated.expires_at,
        Some(fixtures::start() + Duration::days(365))
    );
    let hint = generated.hint.clone();
    let token = generated.token.expose_once();
    assert!(hint.as_str().starts_with("scimd_") && hint.as_str().ends_with(&token[51..]));
    let verified = w.p.tokens.verify_blocking(&w.org, Some(&bearer(&token))).unwrap();
    assert_eq!(verified.hint, hint.as_str());

    let again = w.generate("admin@acme", Expiry::Never);
    assert!(matches!(again, Err(TokenError::AlreadyConfigured)), "{again:?}");

    let status = w.p.tokens.scim_status_blocking(&w.org).unwrap().unwrap();
    assert_eq!(status.endpoint_url, generated.endpoint_url);
    assert_eq!(status.created_by, "admin@acme");
    assert_eq!(status.hint, hint.as_str());
    assert_eq!(status.previous, None);

    let event = &fixtures::events(&db.store, &w.org, "token.generated")[0];
    assert_eq!(event.actor, "admin@acme");
    assert_eq!(event.target.as_deref(), Some(generated.token_id.as_str()));
    assert!(event.details.contains(hint.as_str()) && !event.details.contains(&token[6..]));
}

fn regenerate_needs_a_token_to_replace(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let err =
        w.p.tokens
            .regenerate_blocking(&w.org, "cli", Grace::OneHour, Expiry::Never);
    assert!(matches!(err, Err(TokenError::NotConfigured)), "{err:?}");
}

fn each_grace_keeps_the_old_token_exactly_as_long_as_chosen(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    for grace in Grace::ALL {
        w.clock.set(fixtures::start());
        w.p.tokens.revoke_all_blocking(&w.org, "cli").unwrap();
        let old = w.token("cli", Expiry::Never);
        let new =
            w.p.tokens
                .regenerate_blocking(&w.org, "cli", grace, Expiry::Never)
                .unwrap();
        assert_eq!(
            new.previous_valid_until,
            Some(fixtures::start() + grace.duration())
        );
        let new = new.token.expose_once();
        let works = |token: &str| w.works(token);
        assert!(works(&new), "{grace}");
        if grace == Grace::None {
            assert!(!works(&old), "grace none: the old token stops at once");
            continue;
        }
        assert!(works(&old), "{grace}: both work at first");
        let status = w.p.tokens.scim_status_blocking(&w.org).unwrap().unwrap();
        assert_eq!(
            status.previous.unwrap().valid_until,
            fixtures::start() + grace.duration()
        );
        w.clock
            .set(fixtures::start() + grace.duration() - Duration::seconds(1));
        assert!(works(&old) && works(&new), "{grace}: both work until the end");
        w.clock.set(fixtures::start() + grace.duration());
        assert!(!works(&old), "{grace}: the old token stops when the grace ends");
        assert!(works(&new));
        assert_eq!(
            w.p.tokens.scim_status_blocking(&w.org).unwrap().unwrap().previous,
            None
        );
    }
}

fn there_are_never_more_than_two_live_tokens(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let a = w.token("cli", Expiry::Never);
    w.clock.advance(Duration::minutes(1));
    let b = w.rotate("cli", Grace::OneDay, Expiry::Never);
    w.clock.advance(Duration::minutes(1));
    let c = w.rotate("cli", Grace::OneDay, Expiry::Never);
    let works = |token: &str| w.works(token);
    assert_eq!((works(&a), works(&b), works(&c)), (false, true, true));
    let statuses: Vec<TokenStatus> =
        w.p.tokens
            .list_blocking(&w.org)
            .unwrap()
            .iter()
            .map(|t| t.status)
            .collect();
    assert_eq!(
        statuses,
        [TokenStatus::Active, TokenStatus::Grace, TokenStatus::Revoked]
    );
    let superseded = fixtures::events(&db.store, &w.org, "token.revoked");
    assert_eq!(superseded.len(), 1);
    assert!(superseded[0].details.contains("superseded"));
    assert_eq!(fixtures::events(&db.store, &w.org, "token.regenerated").len(), 2);
}

fn an_expired_token_is_refused_and_its_expiry_audited_once(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let token = w.token("cli", Expiry::Days90);
    let header = bearer(&token);
    w.clock.advance(Duration::days(90) - Duration::seconds(1));
    assert!(w.p.tokens.verify_blocking(&w.org, Some(&header)).is_ok());
    w.clock.advance(Duration::seconds(1));
    let other = fixtures::Process::on(&db.reopen(), &w.clock);
    for tokens in [&w.p.tokens, &other.tokens, &w.p.tokens] {
        let refused = tokens.verify_blocking(&w.org, Some(&header));
        assert!(matches!(refused, Err(TokenError::Unauthorized)), "{refused:?}");
    }
    let expired = fixtures::events(&db.store, &w.org, "token.expired");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].actor, "system");
    let list = w.p.tokens.list_blocking(&w.org).unwrap();
    assert_eq!(list[0].status, TokenStatus::Expired);
    assert_eq!(w.p.tokens.scim_status_blocking(&w.org).unwrap(), None);
    // With nothing active, the admin generates a fresh token.
    assert!(w.generate("cli", Expiry::Never).is_ok());
}

fn an_expiry_nobody_used_is_audited_by_the_next_change(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    w.generate("cli", Expiry::Days90).unwrap();
    w.clock.advance(Duration::days(100));
    w.generate("cli", Expiry::Never).unwrap();
    assert_eq!(fixtures::events(&db.store, &w.org, "token.expired").len(), 1);
}

fn revoke_all_stops_every_token_including_one_in_grace(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let old = w.token("cli", Expiry::Never);
    let new = w.rotate("cli", Grace::OneDay, Expiry::Never);
    assert_eq!(w.p.tokens.revoke_all_blocking(&w.org, "admin@acme").unwrap(), 2);
    for token in [&old, &new] {
        assert!(w.p.tokens.verify_blocking(&w.org, Some(&bearer(token))).is_err());
    }
    assert_eq!(w.p.tokens.scim_status_blocking(&w.org).unwrap(), None);
    let revoked = fixtures::events(&db.store, &w.org, "token.revoked");
    assert_eq!(revoked.len(), 2);
    assert!(
        revoked
            .iter()
            .all(|e| e.actor == "admin@acme" && e.details.contains("scim_configuration_deleted"))
    );
    assert_eq!(w.p.tokens.revoke_all_blocking(&w.org, "admin@acme").unwrap(), 0);
}

fn last_used_is_written_at_most_once_a_minute(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let other = fixtures::Process::on(&db.reopen(), &w.clock);
    let token = w.token("cli", Expiry::Never);
    let header = bearer(&token);
    let last_used = || {
        w.p.tokens
            .scim_status_blocking(&w.org)
            .unwrap()
            .unwrap()
            .last_used_at
    };
    assert_eq!(last_used(), None);
    w.p.tokens.verify_blocking(&w.org, Some(&header)).unwrap();
    let t0 = fixtures::start();
    assert_eq!(last_used(), Some(t0));
    w.clock.advance(Duration::seconds(30));
    w.p.tokens.verify_blocking(&w.org, Some(&header)).unwrap();
    // The other process has not written yet, but the row says a write happened within the minute.
    other.tokens.verify_blocking(&w.org, Some(&header)).unwrap();
    assert_eq!(last_used(), Some(t0));
    w.clock.advance(Duration::seconds(31));
    w.p.tokens.verify_blocking(&w.org, Some(&header)).unwrap();
    assert_eq!(last_used(), Some(t0 + Duration::seconds(61)));
}

scimd_store::backend_tests!(
    generate_needs_an_sso_connection_and_an_org,
    generate_returns_the_endpoint_and_the_token_once,
    regenerate_needs_a_token_to_replace,
    each_grace_keeps_the_old_token_exactly_as_long_as_chosen,
    there_are_never_more_than_two_live_tokens,
    an_expired_token_is_refused_and_its_expiry_audited_once,
    an_expiry_nobody_used_is_audited_by_the_next_change,
    revoke_all_stops_every_token_including_one_in_grace,
    last_used_is_written_at_most_once_a_minute,
);
