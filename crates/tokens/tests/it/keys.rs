//! M6: the session-signing key and the SSO-secret key can come from files or the environment instead of the
//! database; without them the stored keys stay the default.

use crate::fixtures::{self, PUBLIC_URL};
use scimd_store::Clock;
use scimd_store::models::server_secrets;
use scimd_store::testing::TestDb;
use scimd_tokens::{KeySettings, SecretKey, SessionService, TokenError};
use std::sync::Arc;
use zeroize::Zeroizing;

const SESSION_KEY: &str = "a-session-signing-key-of-at-least-32-bytes";
const SECRET_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SECRET_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn stored(db: &TestDb, name: &str) -> bool {
    db.store
        .read(|conn| server_secrets::get(conn, name))
        .unwrap()
        .is_some()
}

fn keys_from_files_sign_for_every_process_and_stay_out_of_the_database(db: &TestDb) {
    let w = fixtures::world(db);
    let dir = tempfile::tempdir().unwrap();
    let session_file = dir.path().join("session.key");
    let secret_file = dir.path().join("secret.key");
    std::fs::write(&session_file, format!("{SESSION_KEY}\n")).unwrap();
    std::fs::write(&secret_file, format!("{SECRET_B64}\n")).unwrap();
    let settings = KeySettings {
        session_signing_key_file: Some(session_file),
        secret_key_file: Some(secret_file),
        ..KeySettings::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(w.clock.clone());
    let process = |store: &scimd_store::Store| {
        let keys = settings.resolve(store).unwrap();
        (
            SessionService::new(store.clone(), clock.clone(), keys.session, PUBLIC_URL.into()),
            keys.sso_secret,
        )
    };
    let (a, sso_secret) = process(&db.store);
    let (b, _) = process(&db.reopen());
    let link = a
        .issue_login_link_blocking(&w.org, fixtures::OWNER_EMAIL, "cli")
        .unwrap();
    let token = link.url.split_once("token=").unwrap().1;
    let session = b.exchange_login_link_blocking(token, None).unwrap();
    assert!(a.verify_session_blocking(&session.cookie_value).is_ok());
    // The same key given directly verifies it too; the database's stored key does not.
    let direct = KeySettings {
        session_signing_key: Some(Zeroizing::new(SESSION_KEY.into())),
        ..KeySettings::default()
    };
    let c = SessionService::new(
        db.store.clone(),
        clock.clone(),
        direct.resolve(&db.store).unwrap().session,
        PUBLIC_URL.into(),
    );
    assert!(c.verify_session_blocking(&session.cookie_value).is_ok());
    let stored_key = KeySettings::default().resolve(&db.store).unwrap().session;
    let d = SessionService::new(db.store.clone(), clock.clone(), stored_key, PUBLIC_URL.into());
    assert!(matches!(
        d.verify_session_blocking(&session.cookie_value),
        Err(TokenError::Unauthorized)
    ));
    fixtures::set_sso(&db.store, &w.clock, &w.org, sso_secret.as_ref());
    assert!(
        !stored(db, "sso_secret_key_v1"),
        "a configured SSO key is never stored"
    );
}

fn without_configured_keys_the_stored_ones_are_generated(db: &TestDb) {
    let w = fixtures::world(db);
    let keys = KeySettings::default().resolve(&db.store).unwrap();
    assert!(keys.sso_secret.is_none());
    assert!(stored(db, scimd_tokens::keys::STORED_KEY_NAME));
    fixtures::set_sso(&db.store, &w.clock, &w.org, None);
    assert!(stored(db, "sso_secret_key_v1"));
}

fn bad_key_settings_are_refused_by_name_never_by_value(db: &TestDb) {
    let both = KeySettings {
        secret_key: Some(Zeroizing::new(SECRET_HEX.into())),
        secret_key_file: Some("/nonexistent".into()),
        ..KeySettings::default()
    };
    let short = KeySettings {
        session_signing_key: Some(Zeroizing::new("short-secret".into())),
        ..KeySettings::default()
    };
    let wrong_length = KeySettings {
        secret_key: Some(Zeroizing::new("c2hvcnQtc2VjcmV0".into())),
        ..KeySettings::default()
    };
    let missing_file = KeySettings {
        session_signing_key_file: Some("/nonexistent/session.key".into()),
        ..KeySettings::default()
    };
    for (settings, says) in [
        (both, "SCIMD_SECRET_KEY or SCIMD_SECRET_KEY_FILE"),
        (short, "SCIMD_SESSION_SIGNING_KEY"),
        (wrong_length, "SCIMD_SECRET_KEY"),
        (missing_file, "SCIMD_SESSION_SIGNING_KEY_FILE"),
    ] {
        let debug = format!("{settings:?}");
        assert!(
            !debug.contains("short-secret") && !debug.contains(SECRET_HEX),
            "{debug}"
        );
        match settings.resolve(&db.store) {
            Err(TokenError::InvalidInput(message)) => {
                assert!(message.contains(says), "{message}");
                assert!(
                    !message.contains("short-secret") && !message.contains("c2hvcnQ"),
                    "{message}"
                );
            }
            other => panic!("{says}: {other:?}"),
        }
    }
}

#[test]
fn the_secret_key_is_hex_or_base64_of_32_bytes() {
    let hex = SecretKey::parse(SECRET_HEX).unwrap();
    let b64 = SecretKey::parse(SECRET_B64).unwrap();
    let unpadded = SecretKey::parse(SECRET_B64.trim_end_matches('=')).unwrap();
    assert!(hex == b64 && b64 == unpadded, "the same key three ways");
    assert_eq!(format!("{hex:?}"), "SecretKey(..)", "Debug shows no byte");
    assert!(SecretKey::parse(&SECRET_HEX[2..]).is_err(), "31 bytes");
    assert!(SecretKey::parse("zz".repeat(32).as_str()).is_err());
    assert!(SecretKey::parse("").is_err());
}

scimd_store::backend_tests!(
    keys_from_files_sign_for_every_process_and_stay_out_of_the_database,
    without_configured_keys_the_stored_ones_are_generated,
    bad_key_settings_are_refused_by_name_never_by_value,
);
