//! The `scimd` command line. Operators script these commands, so their names and `--json` fields are a
//! contract (see DESIGN.md). Every command reads `DATABASE_URL` (default `./scimd.db`).

mod admin;
mod api_key;
mod attribute;
mod keys;
mod migrate;
mod oauth;
mod org;
mod output;
mod owner_link;
mod role;
mod serve;
mod sso;
mod token;
mod webhook;

pub use keys::seal_context;

use crate::config::{DEFAULT_DATABASE_URL, KeyArgs, LogFormat, ServeArgs};
use crate::error::ServerError;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use scimd_store::{Store, StoreOptions};
use scimd_tokens::{KeySettings, Keys};
use std::process::ExitCode;

/// The top-level help: what scimd is, its commands and where the rest is. Its options (the database, the log,
/// the keys: accepted by every command) are listed by each command's `--help`, so this stays a page.
const ROOT_HELP: &str = "\
{before-help}{about-with-newline}
{usage-heading} {usage}

Commands:
{subcommands}{after-help}";

/// Below the top-level help's list of commands: where the rest is.
const AFTER_HELP: &str = "\
Without a command, scimd serves: `scimd serve --help` lists the server's settings (address, limits,
timeouts, sign-in throttles) and the options every command takes (the database, the log, the keys).

The settings most deployments give, as environment variables:
  DATABASE_URL                     ./scimd.db (SQLite), or a postgres:// URL
  SCIMD_PUBLIC_URL                 the URL IdPs and browsers reach (login links, SCIM endpoint URLs)
  SCIMD_BIND                       the listening address (127.0.0.1:8080)
  SCIMD_SECRET_KEY_FILE            the key that seals stored secrets (required on PostgreSQL)
  SCIMD_SESSION_SIGNING_KEY_FILE   the key that signs sessions and links (required on PostgreSQL)
  RUST_LOG, SCIMD_LOG_FORMAT       the log's filter (info) and format (human or json)
`scimd keys generate` makes a key. docs/OPERATIONS.md lists every setting.";

#[derive(Debug, Parser)]
#[command(
    name = "scimd",
    version,
    about = "SCIM 2.0 provisioning service",
    help_template = ROOT_HELP,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The database: a SQLite file path (or sqlite://PATH), or a postgres:// URL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// Log format.
    #[arg(long, env = "SCIMD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,

    /// Settings of `serve`, which runs when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,

    /// Allow webhooks to loopback, link-local and private addresses (tests, a receiver on the same host).
    #[arg(long, env = "SCIMD_WEBHOOK_ALLOW_PRIVATE", global = true)]
    pub webhook_allow_private: bool,

    /// The most webhook endpoints one organization may have (each receives every event of the org).
    #[arg(long, env = "SCIMD_WEBHOOK_MAX_ENDPOINTS_PER_ORG", default_value_t = scimd_webhooks::service::DEFAULT_MAX_ENDPOINTS_PER_ORG, global = true)]
    pub webhook_max_endpoints_per_org: usize,

    /// The server keys, from outside the database.
    #[command(flatten)]
    pub keys: KeyArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default). Bootstraps a demo org on an empty database.
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Manage an organization's SSO connection.
    #[command(subcommand)]
    Sso(sso::SsoCommand),
    /// Manage an organization's SCIM bearer tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Custom attributes the IdP may send (a SCIM schema extension).
    #[command(subcommand)]
    Attribute(attribute::AttributeCommand),
    /// Admin access: login links.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// The platform API's keys.
    #[command(subcommand)]
    ApiKey(api_key::ApiKeyCommand),
    /// Webhooks: endpoints the event feed is pushed to, and their deliveries.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// "Sign in with scimd": the platform's OAuth clients.
    #[command(subcommand)]
    OauthClient(oauth::OAuthClientCommand),
    /// "Sign in with scimd": the ID token signing key.
    #[command(subcommand)]
    OauthKey(oauth::OAuthKeyCommand),
    /// The server keys: make one; re-seal every stored secret under a new secret key.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Roles from the directory: the catalog, group mappings, explanations.
    #[command(subcommand)]
    Role(role::RoleCommand),
}

/// Parses the command line and runs it; errors are printed as one line naming what to fix.
pub fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
    crate::telemetry::init(cli.log_format);
    match run(cli) {
        // A reader that stopped reading (`| head`) got what it wanted.
        Ok(()) | Err(ServerError::StdoutClosed) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The command line as clap reads it, with `serve`'s settings (flattened into the top level, since serving is
/// the default) listed by `scimd serve --help` only: the top-level help stays a page.
pub fn command() -> clap::Command {
    let serve_settings: Vec<clap::Id> = ServeArgs::augment_args(clap::Command::new("serve"))
        .get_arguments()
        .map(|a| a.get_id().clone())
        .collect();
    Cli::command().mut_args(|arg| {
        if serve_settings.contains(arg.get_id()) {
            arg.hide(true)
        } else {
            arg
        }
    })
}

fn run(cli: Cli) -> Result<(), ServerError> {
    let policy = scimd_webhooks::WebhookLimits {
        policy: scimd_webhooks::AddressPolicy {
            allow_private: cli.webhook_allow_private,
        },
        max_endpoints_per_org: cli.webhook_max_endpoints_per_org,
    };
    let keys = cli.keys.settings();
    match cli.command {
        None => serve::run(&cli.database_url, &cli.serve, &keys, policy),
        Some(Command::Serve(args)) => serve::run(&cli.database_url, &args, &keys, policy),
        Some(Command::Migrate) => migrate::run(&cli.database_url),
        Some(Command::Org(command)) => org::run(&cli.database_url, command),
        Some(Command::Sso(command)) => sso::run(&cli.database_url, &keys, command),
        Some(Command::Token(command)) => token::run(&cli.database_url, command),
        Some(Command::Attribute(command)) => attribute::run(&cli.database_url, command),
        Some(Command::Admin(command)) => admin::run(&cli.database_url, &keys, command),
        Some(Command::ApiKey(command)) => api_key::run(&cli.database_url, command),
        Some(Command::Webhook(command)) => webhook::run(&cli.database_url, &keys, policy, command),
        Some(Command::OauthClient(command)) => oauth::run_client(&cli.database_url, &keys, command),
        Some(Command::OauthKey(command)) => oauth::run_key(&cli.database_url, &keys, command),
        Some(Command::Keys(command)) => keys::run(&cli.database_url, &keys, command),
        Some(Command::Role(command)) => role::run(&cli.database_url, command),
    }
}

/// The org of `--org`, which must exist: a list or a key for an org that does not would answer nothing and
/// hide the mistake (usually the org's name where its id belongs).
pub(crate) fn existing_org(store: &Store, org: &str) -> Result<scimd_store::OrgId, ServerError> {
    let id = scimd_store::OrgId::new(org);
    let found = store.read(|conn| scimd_store::models::organizations::find(conn, &id))?;
    found.map(|_| id).ok_or_else(|| ServerError::no_such_org(org))
}

/// Opens the database and brings its schema up to date; every error names DATABASE_URL.
pub(crate) fn open_store(database_url: &str, options: StoreOptions) -> Result<Store, ServerError> {
    Store::open(database_url, options).map_err(ServerError::Database)
}

/// The keys every process uses (`scimd_tokens::keys`): the configured ones, else the ones kept in the
/// database. A key that cannot be used is `ServerError::Keys`, naming the setting.
pub(crate) fn keys(store: &Store, settings: &KeySettings) -> Result<Keys, ServerError> {
    settings.resolve(store).map_err(|e| match e {
        scimd_tokens::TokenError::InvalidInput(problem) => ServerError::Keys(problem),
        other => ServerError::from(other),
    })
}
