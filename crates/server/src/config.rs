//! Settings from flags and environment. clap names the flag and its variable in its own errors; what clap
//! cannot check (a URL's shape, say) is checked here and the error names the setting the same way.

use crate::error::ServerError;
use crate::org_limiter::{self, Limits};
use crate::signin_limiter::{self as signin, SignInLimits};
use clap::{Args, ValueEnum};
use scimd_tokens::KeySettings;
use scimd_tokens::keys::{
    SECRET_KEY_ENV, SECRET_KEY_FILE_ENV, SECRET_KEY_PREVIOUS_ENV, SECRET_KEY_PREVIOUS_FILE_ENV,
    SESSION_SIGNING_KEY_ENV, SESSION_SIGNING_KEY_FILE_ENV,
};
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

pub const DEFAULT_DATABASE_URL: &str = "./scimd.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The two server keys (`scimd_tokens::keys`) given from outside the database; global, since every command
/// that signs a link or reads an encrypted secret needs them. Their values never appear in `--help` or `Debug`.
#[derive(Clone, Args)]
pub struct KeyArgs {
    /// The key signing admin sessions and login links (at least 32 bytes). Unset, one is generated on first
    /// start and kept in the database. Prefer the environment or the file: a flag shows in process lists.
    #[arg(long, env = SESSION_SIGNING_KEY_ENV, global = true, hide_env_values = true)]
    pub session_signing_key: Option<String>,

    /// A file holding the session signing key (its trailing newline is dropped).
    #[arg(long, env = SESSION_SIGNING_KEY_FILE_ENV, global = true)]
    pub session_signing_key_file: Option<OsString>,

    /// The key encrypting SSO and webhook secrets at rest: 32 bytes as 64 hex digits or base64. Unset, a
    /// generated key kept in the database is used. Prefer the environment or the file.
    #[arg(long, env = SECRET_KEY_ENV, global = true, hide_env_values = true)]
    pub secret_key: Option<String>,

    /// A file holding the secret key.
    #[arg(long, env = SECRET_KEY_FILE_ENV, global = true)]
    pub secret_key_file: Option<OsString>,

    /// During a rotation (`scimd keys rotate`): the former secret key(s), which still open what they sealed;
    /// separated by commas. Remove it once `keys rotate` has run.
    #[arg(long, env = SECRET_KEY_PREVIOUS_ENV, global = true, hide_env_values = true)]
    pub secret_key_previous: Option<String>,

    /// A file holding the former secret key(s), one per line.
    #[arg(long, env = SECRET_KEY_PREVIOUS_FILE_ENV, global = true)]
    pub secret_key_previous_file: Option<OsString>,
}

/// As the settings it gives, whose `Debug` prints no key.
impl fmt::Debug for KeyArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.settings().fmt(f)
    }
}

impl KeyArgs {
    /// The settings `scimd_tokens` resolves the keys from; an empty value counts as unset.
    pub fn settings(&self) -> KeySettings {
        let value = |v: &Option<String>| v.clone().filter(|v| !v.is_empty()).map(Zeroizing::new);
        let file = |v: &Option<OsString>| v.clone().filter(|v| !v.is_empty()).map(PathBuf::from);
        KeySettings {
            session_signing_key: value(&self.session_signing_key),
            session_signing_key_file: file(&self.session_signing_key_file),
            secret_key: value(&self.secret_key),
            secret_key_file: file(&self.secret_key_file),
            secret_key_previous: value(&self.secret_key_previous),
            secret_key_previous_file: file(&self.secret_key_previous_file),
        }
    }
}

/// Where `serve` listens and where IdPs and browsers reach it. `token generate` and `admin login-link` read
/// the same two settings, to print the URLs `serve` builds.
#[derive(Debug, Clone, Args)]
pub struct AddressArgs {
    /// Address and port `serve` listens on (the other commands derive the default public URL from it).
    #[arg(long, env = "SCIMD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// The URL IdPs and browsers reach this server at (endpoint URLs and login links are built from it).
    /// Defaults to http://BIND.
    #[arg(long, env = "SCIMD_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl AddressArgs {
    /// The public URL, as `serve` computes it before it binds (`ServeConfig::listen` resolves port 0).
    pub fn public_url(&self) -> Result<String, ServerError> {
        public_url(parse_bind(&self.bind)?, self.public_url.as_deref())
    }
}

/// Settings of `scimd serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub address: AddressArgs,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "SCIMD_WORKERS")]
    pub workers: Option<usize>,

    /// Largest number of database connections this process opens.
    #[arg(long, env = "SCIMD_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// Sustained SCIM requests per second per org, unless the org's own limit says otherwise
    /// (`scimd org limits`). Each process enforces it on its own.
    #[arg(long, env = "SCIMD_ORG_RATE", default_value_t = org_limiter::DEFAULT_RATE, value_parser = clap::value_parser!(u32).range(1..))]
    pub org_rate: u32,

    /// SCIM requests per org allowed at once above the sustained rate (the token bucket's size).
    #[arg(long, env = "SCIMD_ORG_BURST", default_value_t = org_limiter::DEFAULT_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub org_burst: u32,

    /// SCIM requests of one org served at once; more are 429.
    #[arg(long, env = "SCIMD_ORG_IN_FLIGHT", default_value_t = org_limiter::DEFAULT_IN_FLIGHT, value_parser = clap::value_parser!(u32).range(1..))]
    pub org_in_flight: u32,

    /// The longest a request waits for a database connection, in milliseconds (all busy, or one being
    /// opened); past it the request is 503 with Retry-After. While the database is known to be unreachable
    /// requests do not wait at all.
    #[arg(long, env = "SCIMD_DB_CHECKOUT_TIMEOUT_MS", default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub db_checkout_timeout_ms: u64,

    /// The longest one attempt to open a PostgreSQL connection takes, in seconds (libpq's `connect_timeout`,
    /// per host of a multi-host URL; libpq's least is 2). A `connect_timeout` in DATABASE_URL wins.
    #[arg(long, env = "SCIMD_DB_CONNECT_TIMEOUT_SECS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub db_connect_timeout_secs: u64,

    /// PostgreSQL `statement_timeout` of every connection, in milliseconds; a statement cancelled at it is 503.
    #[arg(long, env = "SCIMD_STATEMENT_TIMEOUT_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub statement_timeout_ms: u64,

    /// Days the event feed keeps events; a cursor older than that is 410.
    #[arg(long, env = "SCIMD_EVENT_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..))]
    pub event_retention_days: u32,

    /// Do not create the demo org on an empty database.
    #[arg(long, env = "SCIMD_NO_BOOTSTRAP")]
    pub no_bootstrap: bool,

    /// Create the demo org on an empty SQLite database other than the default ./scimd.db (never on
    /// PostgreSQL).
    #[arg(long, env = "SCIMD_DEMO")]
    pub demo: bool,

    /// The Microsoft Entra ID authority that Azure AD connections sign in through (https; plain http only to
    /// a loopback address, for a test double).
    #[arg(long, env = "SCIMD_ENTRA_AUTHORITY", default_value = scimd_sso::oidc::DEFAULT_AUTHORITY)]
    pub entra_authority: String,

    /// Use the client address from `Forwarded` / `X-Forwarded-For` (only behind a proxy that sets them) in
    /// logs and the sign-in throttle; otherwise the peer address.
    #[arg(long, env = "SCIMD_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// On PostgreSQL, start although SCIMD_SECRET_KEY and SCIMD_SESSION_SIGNING_KEY are not given, keeping
    /// them in the database (a warning at every start): one leaked backup then signs sessions and ID tokens and
    /// opens every SSO and webhook secret.
    #[arg(long, env = "SCIMD_ALLOW_KEYS_IN_DATABASE")]
    pub allow_keys_in_database: bool,

    /// Sustained requests per second per client address to the sign-in pages (`/sso/*`, `/admin/sso`,
    /// `/admin/login`, `/oauth/authorize`); more are 429.
    #[arg(long, env = "SCIMD_SIGNIN_RATE", default_value_t = signin::DEFAULT_ADDR_RATE, value_parser = clap::value_parser!(u32).range(1..))]
    pub signin_rate: u32,

    /// Sign-in page requests per client address allowed at once above the sustained rate.
    #[arg(long, env = "SCIMD_SIGNIN_BURST", default_value_t = signin::DEFAULT_ADDR_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub signin_burst: u32,

    /// Sustained requests per second per org to the sign-in pages that name it (`/sso/{org}/...`).
    #[arg(long, env = "SCIMD_SIGNIN_ORG_RATE", default_value_t = signin::DEFAULT_ORG_RATE, value_parser = clap::value_parser!(u32).range(1..))]
    pub signin_org_rate: u32,

    /// Sign-in page requests per org allowed at once above the sustained rate.
    #[arg(long, env = "SCIMD_SIGNIN_ORG_BURST", default_value_t = signin::DEFAULT_ORG_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub signin_org_burst: u32,

    /// Sustained requests per second per client address to the OpenID Provider's back channel (`/oauth/token`,
    /// `userinfo`, `introspect`, `jwks`, discovery).
    #[arg(long, env = "SCIMD_OAUTH_RATE", default_value_t = signin::DEFAULT_OAUTH_RATE, value_parser = clap::value_parser!(u32).range(1..))]
    pub oauth_rate: u32,

    /// Back-channel requests per client address allowed at once above the sustained rate.
    #[arg(long, env = "SCIMD_OAUTH_BURST", default_value_t = signin::DEFAULT_OAUTH_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub oauth_burst: u32,

    /// Sign-ins of one org started and not yet finished (ten minutes at most) at once; more starts are 429.
    #[arg(long, env = "SCIMD_SIGNIN_PENDING_PER_ORG", default_value_t = scimd_signin::DEFAULT_PENDING_PER_ORG, value_parser = clap::value_parser!(u32).range(1..))]
    pub signin_pending_per_org: u32,
}

/// The checked form of `ServeArgs`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    /// Without a trailing slash.
    pub public_url: String,
    pub workers: Option<usize>,
    pub db_max_connections: u32,
    /// The process-wide defaults of every org's SCIM limits.
    pub org_limits: Limits,
    pub statement_timeout: Duration,
    /// The longest a request waits for a database connection.
    pub db_checkout_timeout: Duration,
    /// The longest one PostgreSQL connection attempt takes.
    pub db_connect_timeout: Duration,
    /// How long the event feed keeps events.
    pub event_retention: chrono::Duration,
    pub bootstrap: bool,
    /// `--demo`: bootstrap on a SQLite database that is not the default file.
    pub demo: bool,
    pub trust_forwarded_for: bool,
    /// `SCIMD_ALLOW_KEYS_IN_DATABASE`: on PostgreSQL, run with the keys kept in the database.
    pub allow_keys_in_database: bool,
    /// The public sign-in endpoints' limits.
    pub signin_limits: SignInLimits,
    /// The Entra ID authority base, without a trailing slash.
    pub entra_authority: String,
    /// Whether `public_url` was configured (else it follows the address actually bound, e.g. with port 0).
    pub explicit_public_url: bool,
}

impl ServeConfig {
    /// Binds the listening socket, so that errors name SCIMD_BIND and port 0 resolves before anything prints
    /// a URL; returns it with the public URL (the configured one, or `http://` + the bound address).
    pub fn listen(&self) -> Result<(std::net::TcpListener, String), ServerError> {
        let listener = std::net::TcpListener::bind(self.bind).map_err(|e| ServerError::Config {
            setting: "SCIMD_BIND (--bind)",
            problem: format!("cannot listen on {}: {e}", self.bind),
        })?;
        let bound = listener.local_addr()?;
        let public_url = if self.explicit_public_url {
            self.public_url.clone()
        } else {
            default_public_url(bound)
        };
        Ok((listener, public_url))
    }
}

impl ServeArgs {
    pub fn validate(&self) -> Result<ServeConfig, ServerError> {
        let bind = parse_bind(&self.address.bind)?;
        let public_url = public_url(bind, self.address.public_url.as_deref())?;
        if self.workers == Some(0) {
            return Err(ServerError::Config {
                setting: "SCIMD_WORKERS (--workers)",
                problem: "must be at least 1".into(),
            });
        }
        if self.db_max_connections == 0 {
            return Err(ServerError::Config {
                setting: "SCIMD_DB_MAX_CONNECTIONS (--db-max-connections)",
                problem: "must be at least 1".into(),
            });
        }
        Ok(ServeConfig {
            bind,
            public_url,
            workers: self.workers,
            db_max_connections: self.db_max_connections,
            org_limits: Limits {
                rate: nonzero(self.org_rate, "SCIMD_ORG_RATE (--org-rate)")?,
                burst: nonzero(self.org_burst, "SCIMD_ORG_BURST (--org-burst)")?,
                in_flight: nonzero(self.org_in_flight, "SCIMD_ORG_IN_FLIGHT (--org-in-flight)")?,
            },
            statement_timeout: Duration::from_millis(self.statement_timeout_ms),
            db_checkout_timeout: Duration::from_millis(self.db_checkout_timeout_ms),
            db_connect_timeout: Duration::from_secs(self.db_connect_timeout_secs),
            event_retention: chrono::Duration::days(i64::from(self.event_retention_days)),
            bootstrap: !self.no_bootstrap,
            demo: self.demo,
            trust_forwarded_for: self.trust_forwarded_for,
            allow_keys_in_database: self.allow_keys_in_database,
            signin_limits: SignInLimits {
                addr_rate: nonzero(self.signin_rate, "SCIMD_SIGNIN_RATE (--signin-rate)")?,
                addr_burst: nonzero(self.signin_burst, "SCIMD_SIGNIN_BURST (--signin-burst)")?,
                org_rate: nonzero(self.signin_org_rate, "SCIMD_SIGNIN_ORG_RATE (--signin-org-rate)")?,
                org_burst: nonzero(
                    self.signin_org_burst,
                    "SCIMD_SIGNIN_ORG_BURST (--signin-org-burst)",
                )?,
                oauth_rate: nonzero(self.oauth_rate, "SCIMD_OAUTH_RATE (--oauth-rate)")?,
                oauth_burst: nonzero(self.oauth_burst, "SCIMD_OAUTH_BURST (--oauth-burst)")?,
                pending_per_org: nonzero(
                    self.signin_pending_per_org,
                    "SCIMD_SIGNIN_PENDING_PER_ORG (--signin-pending-per-org)",
                )?,
            },
            entra_authority: check_authority(&self.entra_authority)?,
            explicit_public_url: self.address.public_url.is_some(),
        })
    }
}

fn parse_bind(raw: &str) -> Result<SocketAddr, ServerError> {
    raw.parse().map_err(|_| ServerError::Config {
        setting: "SCIMD_BIND (--bind)",
        problem: format!("`{raw}` is not an address and port such as 127.0.0.1:8080"),
    })
}

/// The one public-URL resolver: the configured URL (checked, without a trailing slash), else `http://BIND`.
pub fn public_url(bind: SocketAddr, public_url: Option<&str>) -> Result<String, ServerError> {
    match public_url {
        Some(url) => check_public_url(url),
        None => Ok(default_public_url(bind)),
    }
}

fn nonzero(v: u32, setting: &'static str) -> Result<NonZeroU32, ServerError> {
    NonZeroU32::new(v).ok_or_else(|| ServerError::Config {
        setting,
        problem: "must be at least 1".into(),
    })
}

fn check_public_url(raw: &str) -> Result<String, ServerError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.contains(char::is_whitespace) && !host.contains(['?', '#']) =>
        {
            Ok(trimmed.to_owned())
        }
        _ => Err(ServerError::Config {
            setting: "SCIMD_PUBLIC_URL (--public-url)",
            problem: format!("`{raw}` is not an http(s) URL such as https://scim.example.com"),
        }),
    }
}

/// An https URL without query or fragment; plain http only to a loopback host.
fn check_authority(raw: &str) -> Result<String, ServerError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let bad = |problem: String| ServerError::Config {
        setting: "SCIMD_ENTRA_AUTHORITY (--entra-authority)",
        problem,
    };
    let url = url::Url::parse(trimmed).map_err(|e| bad(format!("`{raw}` is not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        _ if url.query().is_some() || url.fragment().is_some() => {
            Err(bad(format!("`{raw}` must not have a query or fragment")))
        }
        "https" => Ok(trimmed.to_owned()),
        "http" if loopback => Ok(trimmed.to_owned()),
        _ => Err(bad(format!(
            "`{raw}` must be https (http only to a loopback address)"
        ))),
    }
}

/// `http://BIND`, with an unspecified address (0.0.0.0, ::) shown as localhost, which at least works locally.
fn default_public_url(bind: SocketAddr) -> String {
    if bind.ip().is_unspecified() {
        format!("http://localhost:{}", bind.port())
    } else {
        format!("http://{bind}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(bind: &str, public_url: Option<&str>) -> ServeArgs {
        ServeArgs {
            address: AddressArgs {
                bind: bind.into(),
                public_url: public_url.map(Into::into),
            },
            workers: None,
            db_max_connections: 4,
            org_rate: org_limiter::DEFAULT_RATE,
            org_burst: org_limiter::DEFAULT_BURST,
            org_in_flight: org_limiter::DEFAULT_IN_FLIGHT,
            statement_timeout_ms: 5_000,
            db_checkout_timeout_ms: 2_000,
            db_connect_timeout_secs: 2,
            event_retention_days: 90,
            no_bootstrap: false,
            demo: false,
            trust_forwarded_for: false,
            entra_authority: scimd_sso::oidc::DEFAULT_AUTHORITY.into(),
            allow_keys_in_database: false,
            signin_rate: signin::DEFAULT_ADDR_RATE,
            signin_burst: signin::DEFAULT_ADDR_BURST,
            signin_org_rate: signin::DEFAULT_ORG_RATE,
            signin_org_burst: signin::DEFAULT_ORG_BURST,
            oauth_rate: signin::DEFAULT_OAUTH_RATE,
            oauth_burst: signin::DEFAULT_OAUTH_BURST,
            signin_pending_per_org: scimd_signin::DEFAULT_PENDING_PER_ORG,
        }
    }

    #[test]
    fn the_entra_authority_is_https_or_loopback() {
        let with = |a: &str| ServeArgs {
            entra_authority: a.into(),
            ..args("127.0.0.1:9000", None)
        };
        assert_eq!(
            with("https://login.microsoftonline.com/")
                .validate()
                .unwrap()
                .entra_authority,
            "https://login.microsoftonline.com"
        );
        assert!(with("http://127.0.0.1:4000").validate().is_ok());
        for bad in [
            "http://login.example.com",
            "ftp://127.0.0.1",
            "https://x.example/?a=1",
            "not a url",
        ] {
            assert!(
                matches!(with(bad).validate(), Err(ServerError::Config { setting, .. }) if setting.starts_with("SCIMD_ENTRA_AUTHORITY")),
                "{bad}"
            );
        }
    }

    #[test]
    fn public_url_defaults_to_the_bind_address() {
        assert_eq!(
            args("127.0.0.1:9000", None).validate().unwrap().public_url,
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            args("0.0.0.0:8080", None).validate().unwrap().public_url,
            "http://localhost:8080"
        );
        let given = args("0.0.0.0:8080", Some("https://scim.example.com/"))
            .validate()
            .unwrap();
        assert_eq!(given.public_url, "https://scim.example.com");
    }

    #[test]
    fn port_zero_resolves_to_the_bound_port_in_the_public_url() {
        let (listener, url) = args("127.0.0.1:0", None).validate().unwrap().listen().unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_ne!(port, 0);
        assert_eq!(url, format!("http://127.0.0.1:{port}"));
        let (_, given) = args("127.0.0.1:0", Some("https://scim.example.com"))
            .validate()
            .unwrap()
            .listen()
            .unwrap();
        assert_eq!(given, "https://scim.example.com");
    }

    #[test]
    fn other_commands_resolve_the_public_url_as_serve_does() {
        let address = |bind: &str, public_url: Option<&str>| AddressArgs {
            bind: bind.into(),
            public_url: public_url.map(Into::into),
        };
        assert_eq!(
            address("0.0.0.0:8080", None).public_url().unwrap(),
            "http://localhost:8080"
        );
        assert_eq!(
            address("0.0.0.0:8080", Some("https://scim.example.com/"))
                .public_url()
                .unwrap(),
            "https://scim.example.com"
        );
        let bad = address("localhost", None).public_url().unwrap_err().to_string();
        assert!(bad.starts_with("SCIMD_BIND"), "{bad}");
    }

    #[test]
    fn empty_key_settings_are_unset_and_key_values_never_print() {
        let args = KeyArgs {
            session_signing_key: Some("a-session-key-of-at-least-32-bytes!!".into()),
            session_signing_key_file: Some(OsString::new()),
            secret_key: Some(String::new()),
            secret_key_file: Some("/run/secrets/scimd".into()),
            secret_key_previous: Some("a-previous-key-value".into()),
            secret_key_previous_file: None,
        };
        let settings = args.settings();
        assert!(settings.session_signing_key.is_some());
        assert_eq!(settings.session_signing_key_file, None);
        assert!(settings.secret_key.is_none());
        assert_eq!(
            settings.secret_key_file,
            Some(PathBuf::from("/run/secrets/scimd"))
        );
        let printed = format!("{args:?} {settings:?}");
        assert!(!printed.contains("a-session-key"), "{printed}");
        assert!(!printed.contains("a-previous-key"), "{printed}");
    }

    #[test]
    fn errors_name_the_setting() {
        let bad_bind = args("localhost", None).validate().unwrap_err().to_string();
        assert!(bad_bind.starts_with("SCIMD_BIND"), "{bad_bind}");
        let bad_url = args("127.0.0.1:1", Some("ftp://x"))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(bad_url.starts_with("SCIMD_PUBLIC_URL"), "{bad_url}");
    }
}
