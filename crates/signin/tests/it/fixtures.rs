//! A world per test: an org with its owner, the services on one `FixedClock`, and small helpers.

use chrono::{DateTime, TimeZone, Utc};
use scimd_signin::ConnectionService;
use scimd_signin::connection::{AzureInput, ClientSecret};
use scimd_store::models::audit_events::{self, AuditEvent};
use scimd_store::models::organizations;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, FixedClock, MemberId, OrgId, Store};
use scimd_tokens::{Expiry, GeneratedToken, TokenError, TokenService};
use std::sync::Arc;

pub const PUBLIC_URL: &str = "https://scimd.test";
pub const OWNER_EMAIL: &str = "owner@acme.example";
pub const AZURE_SECRET: &str = "Az~very-secret-client-value_42";

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

pub struct World {
    pub clock: FixedClock,
    pub org: OrgId,
    pub connection: ConnectionService,
    pub tokens: TokenService,
}

/// An org named Acme with its owner, without SSO.
pub fn world(db: &TestDb) -> World {
    let clock = FixedClock::new(start());
    let (org, _owner) = new_org(&db.store, &clock, "Acme", OWNER_EMAIL);
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    World {
        connection: ConnectionService::new(db.store.clone(), shared.clone()),
        tokens: TokenService::new(db.store.clone(), shared, PUBLIC_URL.into()),
        clock,
        org,
    }
}

/// An org named Acme with its owner and an Azure AD SSO connection.
pub fn world_with_sso(db: &TestDb) -> World {
    let w = world(db);
    set_azure(&w.connection, &w.org);
    w
}

impl World {
    /// Generates the org's SCIM token.
    pub fn generate(&self, actor: &str, expiry: Expiry) -> Result<GeneratedToken, TokenError> {
        self.tokens.generate_blocking(&self.org, actor, expiry)
    }

    /// The plaintext of a fresh SCIM token of the org.
    pub fn token(&self, actor: &str, expiry: Expiry) -> String {
        self.generate(actor, expiry).unwrap().token.expose_once()
    }
}

pub fn new_org(store: &Store, clock: &FixedClock, name: &str, owner_email: &str) -> (OrgId, MemberId) {
    let now = clock.now_naive();
    let (org, owner) = store
        .write(|conn| organizations::create_with_owner(conn, name, Some(owner_email), now))
        .unwrap();
    (org.org_id(), owner.unwrap().member_id())
}

pub fn set_azure(connection: &ConnectionService, org: &OrgId) {
    connection
        .set_azure_blocking(
            org,
            "cli",
            &AzureInput {
                tenant_id: "6f9619ff-8b86-d011-b42d-00c04fc964ff".into(),
                client_id: "0b5e1c3a-2d4f-4e6a-8b9c-1d2e3f4a5b6c".into(),
                client_secret: Some(ClientSecret::new(AZURE_SECRET.into())),
            },
        )
        .unwrap();
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub fn events(store: &Store, org: &OrgId, action: &str) -> Vec<AuditEvent> {
    store
        .read(|conn| audit_events::list(conn, org, Some(action), None, 100))
        .unwrap()
}

pub fn all_events(store: &Store, org: &OrgId) -> Vec<AuditEvent> {
    store
        .read(|conn| audit_events::list(conn, org, None, None, 1000))
        .unwrap()
}
