//! `TestApp`: the real app (every service of `app::state`, the middleware of `serve::start`, the sequencer,
//! the activity writer and the webhook worker) on a test database, served on 127.0.0.1:0 by an actix system
//! of the test's own, with orgs A and B, each with an SSO connection and a SCIM token. One call per test:
//! `TestApp::init(db)` inside a body that `backend_tests!` runs on SQLite and PostgreSQL. Its clients speak
//! HTTP/1.1 over a real socket, as an IdP would.

use crate::scim_client::{Client, Reply};
use clap::Parser;
use scimd_server::cli::Cli;
use scimd_server::telemetry::ClientAddr;
use scimd_signin::ConnectionService;
use scimd_signin::connection::{AzureInput, ClientSecret};
use scimd_store::models::organizations;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, OrgId, Store, StoreOptions, SystemClock};
use scimd_tokens::{Expiry, KeySettings, TokenService};
use std::net::SocketAddr;
use std::sync::{Arc, mpsc};

pub struct Org {
    pub id: OrgId,
    pub token: String,
}

/// The app started on a test database; stopped (and its threads joined) on drop.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The test's own handle on the database, apart from the app's (as another process would have).
    pub store: Store,
    /// The database's URL, for `scimd` commands run beside the app.
    pub db_url: String,
    /// The key the app signs admin sessions with (the CLI's login links beside it use the same).
    pub session_key: scimd_tokens::SigningKey,
    /// Owned by owner@a.example.
    pub a: Org,
    pub b: Org,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestApp {
    /// The app on `db` as `scimd serve` runs it (webhooks may go to loopback, where the tests' receivers
    /// listen), with orgs A and B.
    pub fn init(db: &TestDb) -> TestApp {
        TestApp::init_with(db, &[])
    }

    /// As [`TestApp::init`], with more of `scimd serve`'s flags (`--entra-authority URL`, ...).
    pub fn init_with(db: &TestDb, flags: &[&str]) -> TestApp {
        let a = org_with_token(db, "A", Some("owner@a.example"));
        let b = org_with_token(db, "B", None);
        let mut args = vec!["scimd", "--bind", "127.0.0.1:0", "--webhook-allow-private"];
        args.extend_from_slice(flags);
        let cli = Cli::try_parse_from(args).unwrap();
        let config = cli.serve.validate().unwrap();
        let (listener, public_url) = config.listen().unwrap();
        // The app's own store, opened as `scimd serve` opens it.
        let app_store = Store::open(
            &db.url,
            StoreOptions {
                max_connections: config.db_max_connections,
                statement_timeout: config.statement_timeout,
                ..StoreOptions::default()
            },
        )
        .unwrap();
        let keys = key_settings(&db.url).resolve(&app_store).unwrap();
        let session_key = keys.session.clone();
        let policy = scimd_webhooks::AddressPolicy {
            allow_private: cli.webhook_allow_private,
        };
        let state = scimd_server::app::state(
            &app_store,
            Arc::new(SystemClock),
            &public_url,
            keys,
            &config,
            policy,
        );
        let client_addr = if config.trust_forwarded_for {
            ClientAddr::Forwarded
        } else {
            ClientAddr::Peer
        };
        let (started, on_start) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let running = scimd_server::serve::start(
                    listener,
                    config.workers,
                    client_addr,
                    config.event_retention,
                    state,
                )
                .unwrap();
                started.send((running.addr, running.server.handle())).unwrap();
                running.run_to_end().await.unwrap();
            });
        });
        let (addr, server) = on_start.recv().expect("the app started");
        TestApp {
            addr,
            store: db.store.clone(),
            db_url: db.url.clone(),
            session_key,
            a,
            b,
            server,
            thread: Some(thread),
        }
    }

    /// A client of org A's SCIM endpoint with org A's token.
    pub fn client_a(&self) -> Client {
        self.client(format!("/scim/v2/{}", self.a.id), Some(&self.a.token))
    }

    pub fn client_b(&self) -> Client {
        self.client(format!("/scim/v2/{}", self.b.id), Some(&self.b.token))
    }

    /// A client of the paths under `base`, with `token` as its bearer.
    pub fn client(&self, base: String, token: Option<&str>) -> Client {
        Client {
            addr: self.addr,
            base,
            token: token.map(str::to_owned),
        }
    }

    /// One GET without credentials.
    pub fn get(&self, path: &str) -> Reply {
        self.client(String::new(), None).get(path)
    }

    /// A new platform API key for `org` (every org with `None`).
    pub fn api_key(&self, org: Option<&OrgId>) -> String {
        scimd_tokens::ApiKeyService::new(self.store.clone(), Arc::new(SystemClock))
            .create_blocking("platform", org)
            .unwrap()
            .key
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop at once; the future only reports it done.
        drop(self.server.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An org made through the store and the token service as an admin would: an SSO connection (Azure, with a
/// client secret) and a SCIM token.
pub fn org_with_token(db: &TestDb, name: &str, owner: Option<&str>) -> Org {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (org, _) = db
        .store
        .write(|conn| organizations::create_with_owner(conn, name, owner, SystemClock.now_naive()))
        .unwrap();
    let id = org.org_id();
    ConnectionService::new(db.store.clone(), clock.clone())
        .set_azure_blocking(
            &id,
            "test",
            &AzureInput {
                tenant_id: "11111111-2222-3333-4444-555555555555".into(),
                client_id: "11111111-2222-3333-4444-666666666666".into(),
                client_secret: Some(ClientSecret::new("a-client-secret-value".into())),
            },
        )
        .unwrap();
    let generated = TokenService::new(db.store.clone(), clock, "http://unused".into())
        .generate_blocking(&id, "test", Expiry::Never)
        .unwrap();
    Org {
        id,
        token: generated.token.expose_once(),
    }
}

/// The keys `scimd serve` is given on `url`: on PostgreSQL the harness's (as the `scimd` commands run beside
/// the app get them), on SQLite none (kept in the database).
pub fn key_settings(url: &str) -> KeySettings {
    if url.starts_with("postgres") {
        KeySettings {
            secret_key: Some(crate::harness::TEST_SECRET_KEY.to_owned().into()),
            session_signing_key: Some(crate::harness::TEST_SESSION_SIGNING_KEY.to_owned().into()),
            ..KeySettings::default()
        }
    } else {
        KeySettings::default()
    }
}
