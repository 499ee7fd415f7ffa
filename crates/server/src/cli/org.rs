//! `scimd org create`, `scimd org list`, `scimd org safety-valve` and `scimd org limits` (`org owner-link` is in
//! `owner_link.rs`).

use super::output::{outln, print_json, rfc3339};
use crate::error::ServerError;
use crate::org_limiter::Limits;
use clap::Subcommand;
use scimd_store::models::{org_limits, organizations, safety_valve};
use scimd_store::{Clock, OrgId, Store, StoreError, SystemClock};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization, optionally with its owner (a member, not managed by SCIM).
    Create {
        /// The org's display name.
        #[arg(long)]
        name: String,
        /// The owner's e-mail address: a member who may edit the org's settings (`scimd admin login-link` lets them in).
        #[arg(long)]
        owner_email: Option<String>,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// List every organization.
    List {
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show or change the org's deprovisioning safety valve (as on the admin pages' SSO page).
    SafetyValve {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// Turn the valve on or off.
        #[arg(long, value_parser = ["on", "off"])]
        set: Option<String>,
        /// The share of active members (1-100 %) deprovisioned within an hour that trips it.
        #[arg(long)]
        percent: Option<i32>,
        /// Never trip below this many deprovisionings within an hour.
        #[arg(long)]
        min: Option<i32>,
        /// Release a hold, letting held deprovisioning through on the IdP's next retry.
        #[arg(long)]
        release: bool,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show or change whether SCIM may link the org's owner (off by default).
    OwnerLink(super::owner_link::OwnerLinkArgs),
    /// Show or change whether SCIM may change the userName or externalId of an owner or admin (off by default).
    IdentityChanges(super::owner_link::IdentityChangesArgs),
    /// Show or change the org's SCIM API limits; a running server applies a change within 10 seconds.
    Limits {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// Sustained requests per second.
        #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
        rate: Option<i32>,
        /// Requests allowed at once above the sustained rate (the token bucket's size).
        #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
        burst: Option<i32>,
        /// Requests of the org served at once.
        #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
        in_flight: Option<i32>,
        /// Forget the org's own limits: the server's defaults apply again.
        #[arg(long, conflicts_with_all = ["rate", "burst", "in_flight"])]
        reset: bool,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Serialize)]
struct OrgOutput {
    id: String,
    name: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_email: Option<String>,
}

pub(super) fn run(database_url: &str, command: OrgCommand) -> Result<(), ServerError> {
    let (store, _) = super::token::open(database_url)?;
    match command {
        OrgCommand::Create {
            name,
            owner_email,
            json,
        } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(ServerError::Invalid("--name must be 1 to 200 characters".into()));
            }
            if let Some(email) = &owner_email
                && !looks_like_email(email)
            {
                return Err(ServerError::Invalid(format!(
                    "--owner-email `{email}` is not an e-mail address"
                )));
            }
            let now = SystemClock.now_naive();
            let (org, owner) = store
                .write(|conn| organizations::create_with_owner(conn, &name, owner_email.as_deref(), now))?;
            let out = OrgOutput {
                id: org.id,
                name: org.name,
                created_at: rfc3339(org.created_at),
                owner_email: owner.map(|m| m.user_name),
            };
            if json {
                print_json(&out)
            } else {
                outln!("created org {} ({})", out.id, out.name);
                Ok(())
            }
        }
        OrgCommand::List { json } => {
            let orgs: Vec<OrgOutput> = store
                .read(organizations::list)?
                .into_iter()
                .map(|o| OrgOutput {
                    id: o.id,
                    name: o.name,
                    created_at: rfc3339(o.created_at),
                    owner_email: None,
                })
                .collect();
            if json {
                print_json(&orgs)
            } else {
                for org in &orgs {
                    outln!("{}  {}  {}", org.id, org.created_at, org.name);
                }
                Ok(())
            }
        }
        OrgCommand::SafetyValve {
            org,
            set,
            percent,
            min,
            release,
            json,
        } => safety_valve(
            &store,
            &OrgId::new(org),
            set.as_deref(),
            percent,
            min,
            release,
            json,
        ),
        OrgCommand::OwnerLink(args) => super::owner_link::run(&store, &args),
        OrgCommand::IdentityChanges(args) => super::owner_link::run_identity_changes(&store, &args),
        OrgCommand::Limits {
            org,
            rate,
            burst,
            in_flight,
            reset,
            json,
        } => limits(
            &store,
            &OrgId::new(org),
            org_limits::LimitsChange {
                rate,
                burst,
                in_flight,
            },
            reset,
            json,
        ),
    }
}

#[derive(Debug, Serialize)]
struct LimitsOutput {
    rate: i32,
    burst: i32,
    in_flight: i32,
    /// The limits the org has set itself; the others are the server's defaults.
    own: Vec<&'static str>,
}

fn limits(
    store: &Store,
    org: &OrgId,
    change: org_limits::LimitsChange,
    reset: bool,
    json: bool,
) -> Result<(), ServerError> {
    let now = SystemClock.now_naive();
    let stored = store.write(|conn| {
        organizations::get(conn, org)?;
        if reset {
            org_limits::reset(conn, org)?;
        } else if change != org_limits::LimitsChange::default() {
            org_limits::set(conn, org, change, now)?;
        }
        org_limits::get(conn, org)
    });
    let stored = match stored {
        Err(StoreError::NotFound) => return Err(ServerError::no_such_org(org.as_str())),
        other => other?,
    };
    // The compiled defaults: a server started with SCIMD_ORG_RATE and the like uses its own.
    let effective = Limits::default().over(stored.as_ref());
    let own = stored
        .iter()
        .flat_map(|r| {
            [
                r.rate.map(|_| "rate"),
                r.burst.map(|_| "burst"),
                r.in_flight.map(|_| "in_flight"),
            ]
        })
        .flatten()
        .collect();
    let out = LimitsOutput {
        rate: i32::try_from(effective.rate.get()).unwrap_or(i32::MAX),
        burst: i32::try_from(effective.burst.get()).unwrap_or(i32::MAX),
        in_flight: i32::try_from(effective.in_flight.get()).unwrap_or(i32::MAX),
        own,
    };
    if json {
        return print_json(&out);
    }
    let mark = |name: &str| if out.own.contains(&name) { "" } else { " (default)" };
    outln!(
        "rate {}/s{}, burst {}{}, in flight {}{}",
        out.rate,
        mark("rate"),
        out.burst,
        mark("burst"),
        out.in_flight,
        mark("in_flight")
    );
    Ok(())
}

#[derive(Debug, Serialize)]
struct ValveOutput {
    enabled: bool,
    percent: i32,
    min: i32,
    held: bool,
    deprovisioned_in_window: i64,
    threshold: i64,
}

fn safety_valve(
    store: &Store,
    org: &OrgId,
    set: Option<&str>,
    percent: Option<i32>,
    min: Option<i32>,
    release: bool,
    json: bool,
) -> Result<(), ServerError> {
    let now = SystemClock.now_naive();
    let status = store.write(|conn| {
        organizations::get(conn, org)?;
        let current = safety_valve::settings(conn, org, now)?;
        if set.is_some() || percent.is_some() || min.is_some() {
            safety_valve::configure(
                conn,
                org,
                "cli",
                set.map_or(current.safety_valve_enabled, |s| s == "on"),
                percent.unwrap_or(current.safety_valve_percent),
                min.unwrap_or(current.safety_valve_min),
                now,
            )?;
        }
        if release {
            safety_valve::release(conn, org, "cli", now)?;
        }
        safety_valve::status(conn, org, now)
    });
    let status = match status {
        Err(StoreError::NotFound) => return Err(ServerError::no_such_org(org.as_str())),
        Err(StoreError::Refused(why)) => return Err(ServerError::Invalid(format!("--percent/--min: {why}"))),
        other => other?,
    };
    let out = ValveOutput {
        enabled: status.settings.safety_valve_enabled,
        percent: status.settings.safety_valve_percent,
        min: status.settings.safety_valve_min,
        held: status.held,
        deprovisioned_in_window: status.deprovisioned_in_window,
        threshold: status.threshold,
    };
    if json {
        return print_json(&out);
    }
    outln!(
        "safety valve {} ({}% of active members, at least {}); {}; {} deprovisioned in the window, threshold {}",
        if out.enabled { "on" } else { "off" },
        out.percent,
        out.min,
        if out.held {
            "HOLDING deprovisioning"
        } else {
            "not holding"
        },
        out.deprovisioned_in_window,
        out.threshold
    );
    Ok(())
}

/// A light check: the real proof of an address is mail reaching it, which is not ours to do.
pub(crate) fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}
