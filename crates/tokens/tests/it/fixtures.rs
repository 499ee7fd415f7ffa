//! A world per test: an org with its owner, the three services on one `FixedClock`, and small helpers.

use chrono::{DateTime, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use scimd_store::models::audit_events::{self, AuditEvent};
use scimd_store::models::organizations;
use scimd_store::models::sso_connections::{self, SsoConnectionRow};
use scimd_store::schema;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, FixedClock, MemberId, OrgId, Store};
use scimd_tokens::cipher::SecretCipher;
use scimd_tokens::{
    Expiry, GeneratedToken, Grace, SecretKey, SessionService, SigningKey, TokenError, TokenService,
};
use std::sync::Arc;

pub const PUBLIC_URL: &str = "https://scimd.test";
pub const OWNER_EMAIL: &str = "owner@acme.example";
pub const AZURE_SECRET: &str = "Az~very-secret-client-value_42";

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

/// The services of one scimd process.
pub struct Process {
    pub tokens: TokenService,
    pub sessions: SessionService,
}

impl Process {
    pub fn on(store: &Store, clock: &FixedClock) -> Process {
        let clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let key = SigningKey::load_or_create(store).unwrap();
        Process {
            tokens: TokenService::new(store.clone(), clock.clone(), PUBLIC_URL.into()),
            sessions: SessionService::new(store.clone(), clock, key, PUBLIC_URL.into()),
        }
    }
}

pub struct World {
    pub clock: FixedClock,
    pub org: OrgId,
    pub owner: MemberId,
    pub p: Process,
}

/// An org named Acme with its owner, without SSO.
pub fn world(db: &TestDb) -> World {
    let clock = FixedClock::new(start());
    let (org, owner) = new_org(&db.store, &clock, "Acme", OWNER_EMAIL);
    World {
        p: Process::on(&db.store, &clock),
        clock,
        org,
        owner,
    }
}

/// An org named Acme with its owner and an Azure AD SSO connection.
pub fn world_with_sso(db: &TestDb) -> World {
    let w = world(db);
    set_sso(&db.store, &w.clock, &w.org, None);
    w
}

impl World {
    /// Generates the org's SCIM token.
    pub fn generate(&self, actor: &str, expiry: Expiry) -> Result<GeneratedToken, TokenError> {
        self.p.tokens.generate_blocking(&self.org, actor, expiry)
    }

    /// The plaintext of a fresh SCIM token of the org.
    pub fn token(&self, actor: &str, expiry: Expiry) -> String {
        self.generate(actor, expiry).unwrap().token.expose_once()
    }

    /// The plaintext of the token that replaces the current one (which stays valid for `grace`).
    pub fn rotate(&self, actor: &str, grace: Grace, expiry: Expiry) -> String {
        self.p
            .tokens
            .regenerate_blocking(&self.org, actor, grace, expiry)
            .unwrap()
            .token
            .expose_once()
    }

    /// The org's SCIM endpoint.
    pub fn endpoint(&self) -> String {
        format!("https://scimd.test/scim/v2/{}", self.org)
    }

    /// Whether `token` opens the org's SCIM endpoint.
    pub fn works(&self, token: &str) -> bool {
        self.p
            .tokens
            .verify_blocking(&self.org, Some(&bearer(token)))
            .is_ok()
    }
}

pub fn new_org(store: &Store, clock: &FixedClock, name: &str, owner_email: &str) -> (OrgId, MemberId) {
    let now = clock.now_naive();
    let (org, owner) = store
        .write(|conn| organizations::create_with_owner(conn, name, Some(owner_email), now))
        .unwrap();
    (org.org_id(), owner.unwrap().member_id())
}

/// Gives the org an Azure AD SSO connection, which SCIM tokens need. The connection's service lives above this
/// crate (`scimd_signin::connection`), so the row is written here directly, its client secret sealed with
/// `key` (`None`: the stored key) as that service seals it.
pub fn set_sso(store: &Store, clock: &FixedClock, org: &OrgId, key: Option<&SecretKey>) {
    let now = clock.now_naive();
    store
        .write(|conn| {
            let cipher = SecretCipher::load(key, conn, now)?;
            let sealed = cipher.encrypt(org, "azure_ad_client_secret", AZURE_SECRET.as_bytes())?;
            let row = SsoConnectionRow {
                org_id: org.as_str().to_owned(),
                kind: "azure_ad".into(),
                settings: r#"{"tenant_id":"6f9619ff-8b86-d011-b42d-00c04fc964ff","client_id":"0b5e1c3a-2d4f-4e6a-8b9c-1d2e3f4a5b6c"}"#.into(),
                secret_ciphertext: Some(sealed),
                created_at: now,
                updated_at: now,
            };
            sso_connections::upsert(conn, &row)?;
            Ok::<_, TokenError>(())
        })
        .unwrap();
}

/// Adds an active member with the given role.
pub fn add_member(store: &Store, clock: &FixedClock, org: &OrgId, email: &str, role: &str) -> MemberId {
    scimd_store::testing::TestMember {
        org,
        email,
        role,
        display_name: None,
        scim_managed: true,
        now: clock.now_naive(),
    }
    .insert(store)
    .unwrap()
}

/// What deprovisioning does to the member row (the SCIM API owns the real path).
pub fn deactivate(store: &Store, member: &MemberId) {
    store
        .write(|conn| {
            Ok::<_, scimd_store::StoreError>(
                diesel::update(schema::members::table.filter(schema::members::id.eq(member.as_str())))
                    .set(schema::members::active.eq(false))
                    .execute(conn)?,
            )
        })
        .unwrap();
}

/// Takes the token table away: from then on any token lookup fails with a database error.
pub fn take_scim_tokens_away(store: &Store) {
    store
        .write(|conn| {
            Ok::<_, scimd_store::StoreError>(
                conn.batch_execute("ALTER TABLE scim_tokens RENAME TO scim_tokens_away")?,
            )
        })
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
