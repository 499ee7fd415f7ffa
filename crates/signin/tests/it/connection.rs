//! The org's SSO connection: SAML and Azure AD settings validated field by field, the certificate summarised, the
//! client secret encrypted and never read back, every change audited; removing it revokes SCIM tokens.

use crate::fixtures::{self, bearer};
use chrono::{Datelike, TimeZone, Utc};
use scimd_signin::ConnectionError;
use scimd_signin::connection::{AzureInput, ClientSecret, FieldError, SamlInput, SettingsSummary};
use scimd_store::OrgId;
use scimd_store::models::sso_connections;
use scimd_store::testing::TestDb;
use scimd_tokens::{Expiry, TokenError};

const CERT: &str = include_str!("fixtures/idp-signing.pem");
const CERT_SHA256: &str =
    "AA:A5:88:93:BE:A1:81:61:FC:9C:F9:CB:13:A4:5C:AE:2A:14:B7:25:FE:7A:37:D2:6C:02:4D:7C:9C:6F:4A:36";

fn saml() -> SamlInput {
    SamlInput {
        entity_id: "https://idp.example.com/metadata".into(),
        sso_url: "https://idp.example.com/sso/saml".into(),
        certificate_pem: CERT.into(),
        ..SamlInput::default()
    }
}

fn saml_settings_are_validated_and_summarised(db: &TestDb) {
    let w = fixtures::world(db);
    let summary = w
        .connection
        .set_saml_blocking(&w.org, "owner@acme", &saml())
        .unwrap();
    let SettingsSummary::Saml {
        entity_id,
        sso_url,
        certificate,
        ..
    } = &summary.settings
    else {
        panic!("expected SAML, got {summary:?}");
    };
    assert_eq!(entity_id, "https://idp.example.com/metadata");
    assert_eq!(sso_url, "https://idp.example.com/sso/saml");
    assert!(
        certificate.subject.contains("CN=idp.example.com"),
        "{}",
        certificate.subject
    );
    assert_eq!(certificate.fingerprint_sha256, CERT_SHA256);
    assert!(certificate.not_after.year() >= 2126);
    assert_eq!(w.connection.get_blocking(&w.org).unwrap(), Some(summary));
    let event = &fixtures::events(&db.store, &w.org, "sso.saml_set")[0];
    assert_eq!(event.actor, "owner@acme");
    assert!(event.details.contains(CERT_SHA256));
}

fn every_bad_field_is_reported_next_to_its_name(db: &TestDb) {
    let w = fixtures::world(db);
    let bad = SamlInput {
        entity_id: " ".into(),
        sso_url: "http://idp.example.com/sso".into(),
        certificate_pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
        ..SamlInput::default()
    };
    let Err(ConnectionError::Invalid(errors)) = w.connection.set_saml_blocking(&w.org, "cli", &bad) else {
        panic!("expected field errors");
    };
    let fields: Vec<&str> = errors.0.iter().map(FieldError::field).collect();
    assert_eq!(fields, ["entity_id", "sso_url", "certificate"]);
    assert!(errors.for_field("sso_url").unwrap().message().contains("https"));

    let azure = AzureInput {
        tenant_id: "contoso.onmicrosoft.com".into(),
        client_id: "12345".into(),
        client_secret: Some(ClientSecret::new("line\nbreak".into())),
    };
    let Err(ConnectionError::Invalid(errors)) = w.connection.set_azure_blocking(&w.org, "cli", &azure) else {
        panic!("expected field errors");
    };
    let fields: Vec<&str> = errors.0.iter().map(FieldError::field).collect();
    assert_eq!(fields, ["tenant_id", "client_id", "client_secret"]);
    assert_eq!(
        w.connection.get_blocking(&w.org).unwrap(),
        None,
        "nothing was stored"
    );
    assert!(
        fixtures::all_events(&db.store, &w.org)
            .iter()
            .all(|e| !e.action.starts_with("sso."))
    );
}

fn an_expired_certificate_is_refused(db: &TestDb) {
    let w = fixtures::world(db);
    w.clock.set(Utc.with_ymd_and_hms(2200, 1, 1, 0, 0, 0).unwrap());
    let Err(ConnectionError::Invalid(errors)) = w.connection.set_saml_blocking(&w.org, "cli", &saml()) else {
        panic!("expected a certificate error");
    };
    assert!(
        errors
            .for_field("certificate")
            .unwrap()
            .message()
            .starts_with("expired on 21")
    );
}

fn the_azure_secret_is_encrypted_and_never_read_back(db: &TestDb) {
    let w = fixtures::world(db);
    fixtures::set_azure(&w.connection, &w.org);
    let summary = w.connection.get_blocking(&w.org).unwrap().unwrap();
    assert_eq!(
        summary.settings,
        SettingsSummary::AzureAd {
            tenant_id: "6f9619ff-8b86-d011-b42d-00c04fc964ff".into(),
            client_id: "0b5e1c3a-2d4f-4e6a-8b9c-1d2e3f4a5b6c".into(),
            client_secret_set: true,
        }
    );
    assert!(
        !serde_json::to_string(&summary)
            .unwrap()
            .contains(fixtures::AZURE_SECRET)
    );
    let row = db
        .store
        .read(|conn| sso_connections::find(conn, &w.org))
        .unwrap()
        .unwrap();
    let sealed = row.secret_ciphertext.clone().unwrap();
    let secret = fixtures::AZURE_SECRET.as_bytes();
    assert!(sealed.len() > secret.len() + 24 && !sealed.windows(secret.len()).any(|s| s == secret));
    assert!(!row.settings.contains(fixtures::AZURE_SECRET));
    assert!(!format!("{row:?}").contains(fixtures::AZURE_SECRET));

    // Saving without a new secret keeps the stored one.
    let keep = AzureInput {
        tenant_id: "6f9619ff-8b86-d011-b42d-00c04fc964ff".into(),
        client_id: "11111111-2222-3333-4444-555555555555".into(),
        client_secret: None,
    };
    w.connection.set_azure_blocking(&w.org, "cli", &keep).unwrap();
    let kept = db
        .store
        .read(|conn| sso_connections::find(conn, &w.org))
        .unwrap()
        .unwrap();
    assert_eq!(kept.secret_ciphertext, Some(sealed));
    let events = fixtures::events(&db.store, &w.org, "sso.azure_set");
    assert_eq!(events.len(), 2);
    assert!(events[0].details.contains("\"client_secret_changed\":false"));
    assert!(events.iter().all(|e| !e.details.contains(fixtures::AZURE_SECRET)));

    // Switching from SAML to Azure AD needs a secret.
    let (globex, _) = fixtures::new_org(&db.store, &w.clock, "Globex", "owner@globex.example");
    w.connection.set_saml_blocking(&globex, "cli", &saml()).unwrap();
    let Err(ConnectionError::Invalid(errors)) = w.connection.set_azure_blocking(&globex, "cli", &keep) else {
        panic!("expected the secret to be required");
    };
    assert!(errors.for_field("client_secret").is_some());
}

fn removing_sso_revokes_scim_tokens(db: &TestDb) {
    let w = fixtures::world_with_sso(db);
    let token = w.token("cli", Expiry::Never);
    assert!(w.connection.remove_blocking(&w.org, "owner@acme").unwrap());
    assert!(!w.connection.remove_blocking(&w.org, "owner@acme").unwrap());
    assert_eq!(w.connection.get_blocking(&w.org).unwrap(), None);
    assert!(w.tokens.verify_blocking(&w.org, Some(&bearer(&token))).is_err());
    assert!(matches!(
        w.generate("cli", Expiry::Never),
        Err(TokenError::SsoRequired)
    ));
    let removed = &fixtures::events(&db.store, &w.org, "sso.removed")[0];
    assert!(removed.details.contains("\"scim_tokens_revoked\":1"));
    let missing = w
        .connection
        .set_saml_blocking(&OrgId::new("nope"), "cli", &saml());
    assert!(matches!(missing, Err(ConnectionError::OrgNotFound)));
}

scimd_store::backend_tests!(
    saml_settings_are_validated_and_summarised,
    every_bad_field_is_reported_next_to_its_name,
    an_expired_certificate_is_refused,
    the_azure_secret_is_encrypted_and_never_read_back,
    removing_sso_revokes_scim_tokens,
);
