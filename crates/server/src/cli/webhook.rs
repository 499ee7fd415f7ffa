//! `scimd webhook create|list|delete|deliveries|replay`: where the event feed is pushed. The signing secret is
//! printed once, at creation; it is kept encrypted under the server's secret key (it must be read back to
//! sign).

use super::output::{outln, print_json, rfc3339};
use super::token::{CLI_ACTOR, open};
use crate::error::ServerError;
use clap::Subcommand;
use scimd_store::models::webhooks::{Delivery, Endpoint};
use scimd_tokens::KeySettings;
use scimd_webhooks::{WebhookLimits, WebhookService};
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Create an endpoint for the events that commit from now on (every org's, or --org's; every type, or
    /// --types). Prints its signing secret once.
    Create {
        /// The receiver's URL (https; loopback and private addresses only with SCIMD_WEBHOOK_ALLOW_PRIVATE).
        #[arg(long)]
        url: String,
        /// Only this org's events (its id: `scimd org list`); without it, every org's.
        #[arg(long)]
        org: Option<String>,
        /// Comma-separated event types (default: all).
        #[arg(long, default_value = "")]
        types: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// List the endpoints and their delivery state (never their secrets).
    List {
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Delete an endpoint and its delivery log.
    Delete {
        /// The endpoint's id (`scimd webhook list`).
        #[arg(long)]
        id: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// The endpoint's recent delivery attempts, newest first.
    Deliveries {
        /// The endpoint's id (`scimd webhook list`).
        #[arg(long)]
        id: String,
        /// The most attempts to print.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Send the endpoint every retained event after CURSOR again, in order (and re-enable it).
    Replay {
        /// The endpoint's id (`scimd webhook list`).
        #[arg(long)]
        id: String,
        /// A feed cursor: the events after it are sent again.
        #[arg(long)]
        after: i64,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn endpoint_json(e: &Endpoint) -> Value {
    let state = match (e.disabled_at, e.failing_since) {
        (Some(_), _) => "disabled",
        (None, Some(_)) => "failing",
        (None, None) => "active",
    };
    json!({
        "id": e.id,
        "url": e.url,
        "org_id": e.org_id,
        "types": e.type_list(),
        "state": state,
        "cursor": e.cursor.to_string(),
        "attempts": e.attempts,
        "next_attempt_at": rfc3339(e.next_attempt_at),
        "failing_since": e.failing_since.map(rfc3339),
        "disabled_at": e.disabled_at.map(rfc3339),
        "created_at": rfc3339(e.created_at),
    })
}

fn delivery_json(d: &Delivery) -> Value {
    json!({
        "event_id": d.event_id,
        "event_type": d.event_type,
        "org_id": d.org_id,
        "cursor": d.position.map(|p| p.to_string()),
        "attempt": d.attempt,
        "delivered": d.delivered,
        "status_code": d.status_code,
        "error": d.error,
        "latency_ms": d.latency_ms,
        "attempted_at": rfc3339(d.attempted_at),
    })
}

pub(super) fn run(
    database_url: &str,
    keys: &KeySettings,
    limits: WebhookLimits,
    command: WebhookCommand,
) -> Result<(), ServerError> {
    let (store, clock) = open(database_url)?;
    let keys = super::keys(&store, keys)?;
    let hooks = WebhookService::new(store.clone(), clock, keys.sso_secret, limits.policy)
        .with_max_endpoints_per_org(limits.max_endpoints_per_org);
    match command {
        WebhookCommand::Create {
            url,
            org,
            types,
            json,
        } => {
            let types = WebhookService::parse_types(&types)?;
            let org = org.map(|o| super::existing_org(&store, &o)).transpose()?;
            let created = hooks.create_blocking(&url, org.as_ref(), &types, CLI_ACTOR)?;
            if json {
                return print_json(&json!({
                    "id": created.endpoint.id,
                    "secret": created.secret.expose(),
                    "url": created.endpoint.url,
                    "org_id": created.endpoint.org_id,
                    "types": types,
                }));
            }
            outln!("{}", created.secret.expose());
            outln!(
                "(endpoint {}; the signing secret is shown once: store it now)",
                created.endpoint.id
            );
            Ok(())
        }
        WebhookCommand::List { json } => {
            let all: Vec<Value> = hooks.list_blocking(None)?.iter().map(endpoint_json).collect();
            if json {
                return print_json(&all);
            }
            for e in &all {
                outln!(
                    "{}  {}  {}  {}  cursor {}",
                    e["id"].as_str().unwrap_or(""),
                    e["state"].as_str().unwrap_or(""),
                    e["org_id"].as_str().unwrap_or("(every org)"),
                    e["url"].as_str().unwrap_or(""),
                    e["cursor"].as_str().unwrap_or(""),
                );
            }
            Ok(())
        }
        WebhookCommand::Delete { id, json } => {
            hooks.delete_blocking(&id, None, CLI_ACTOR)?;
            if json {
                return print_json(&json!({ "id": id, "deleted": true }));
            }
            outln!("deleted {id}");
            Ok(())
        }
        WebhookCommand::Deliveries { id, limit, json } => {
            hooks.get_blocking(&id, None)?;
            let all: Vec<Value> = hooks
                .deliveries_blocking(&id, limit)?
                .iter()
                .map(delivery_json)
                .collect();
            if json {
                return print_json(&all);
            }
            for d in &all {
                outln!(
                    "{}  {}  attempt {}  {}  {} ms  {}",
                    d["attempted_at"].as_str().unwrap_or(""),
                    d["event_type"].as_str().unwrap_or(""),
                    d["attempt"],
                    d["status_code"],
                    d["latency_ms"],
                    d["error"].as_str().unwrap_or("delivered"),
                );
            }
            Ok(())
        }
        WebhookCommand::Replay { id, after, json } => {
            hooks.replay_blocking(&id, None, after, CLI_ACTOR)?;
            if json {
                return print_json(&json!({ "id": id, "after": after.to_string() }));
            }
            outln!("{id}: the events after cursor {after} will be sent again, in order");
            Ok(())
        }
    }
}
