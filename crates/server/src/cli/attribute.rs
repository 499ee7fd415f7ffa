//! `scimd attribute define|list`: custom attributes, declared under
//! `urn:ietf:params:scim:schemas:extension:scimd:2.0:User` for one org (or, with `--deployment`, for every org).
//! The IdP discovers them in `/Schemas`; docs/PLATFORM.md has the Okta and Entra steps.

use super::output::{outln, print_json, rfc3339};
use super::token::open;
use crate::error::ServerError;
use clap::Subcommand;
use scimd_scim::schema::{CUSTOM_USER_URN, CustomType};
use scimd_store::StoreError;
use scimd_store::models::attributes::{self, AttributeDefinition, NewDefinition};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum AttributeCommand {
    /// Declare a custom attribute: the IdP may then send it, and /Schemas advertises it.
    Define {
        /// The org (its id: `scimd org list`).
        #[arg(long, required_unless_present = "deployment", conflicts_with = "deployment")]
        org: Option<String>,
        /// Declare it for every org of this deployment instead of one.
        #[arg(long)]
        deployment: bool,
        /// The attribute's name: a letter, then letters, digits, '-' or '_' (such as costCenter).
        #[arg(long)]
        name: String,
        /// string, boolean, integer, decimal, dateTime or reference.
        #[arg(long = "type", value_parser = parse_type)]
        ty: CustomType,
        /// An array of values rather than one (Entra ID maps single-valued custom attributes only).
        #[arg(long)]
        multi_valued: bool,
        /// Filters may name it (`filter=urn:...:scimd:2.0:User:NAME eq "x"`); its values are indexed.
        #[arg(long)]
        filterable: bool,
        /// Strings compare with case (default: without).
        #[arg(long)]
        case_exact: bool,
        /// Give the value in "Sign in with scimd" ID tokens and userinfo as this claim.
        #[arg(long)]
        claim: Option<String>,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// List the attributes an org may use: its own and the deployment's.
    List {
        /// The org (its id: `scimd org list`).
        #[arg(long)]
        org: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

fn parse_type(s: &str) -> Result<CustomType, String> {
    CustomType::parse(s).ok_or_else(|| {
        let all: Vec<&str> = CustomType::ALL.iter().map(|t| t.as_str()).collect();
        format!("one of {}", all.join(", "))
    })
}

/// One attribute as `--json` prints it (a contract: keep the field names).
#[derive(Debug, Serialize)]
struct AttributeJson {
    id: String,
    /// `null`: declared for every org.
    org_id: Option<String>,
    name: String,
    #[serde(rename = "type")]
    ty: String,
    multi_valued: bool,
    case_exact: bool,
    filterable: bool,
    /// The ID token claim carrying it; `null`: none.
    claim: Option<String>,
    /// The name an IdP maps to (Entra's target attribute; Okta's external namespace and name, joined by `:`).
    scim_path: String,
    created_at: String,
}

impl From<&AttributeDefinition> for AttributeJson {
    fn from(d: &AttributeDefinition) -> Self {
        AttributeJson {
            id: d.id.clone(),
            org_id: d.org_id.clone(),
            name: d.name.clone(),
            ty: d.ty.clone(),
            multi_valued: d.multi_valued,
            case_exact: d.case_exact,
            filterable: d.filterable,
            claim: d.claim.clone(),
            scim_path: format!("{CUSTOM_USER_URN}:{}", d.name),
            created_at: rfc3339(d.created_at),
        }
    }
}

fn line(d: &AttributeDefinition) -> String {
    let mut flags = vec![d.ty.as_str()];
    if d.multi_valued {
        flags.push("multi-valued");
    }
    if d.filterable {
        flags.push("filterable");
    }
    if d.case_exact {
        flags.push("case-exact");
    }
    let claim = d.claim.as_deref().map(|c| format!("claim:{c}"));
    if let Some(c) = &claim {
        flags.push(c);
    }
    let scope = if d.org_id.is_some() { "org" } else { "deployment" };
    format!(
        "{}  {}  {}  {CUSTOM_USER_URN}:{}",
        d.name,
        flags.join(","),
        scope,
        d.name
    )
}

pub(super) fn run(database_url: &str, command: AttributeCommand) -> Result<(), ServerError> {
    let (store, clock) = open(database_url)?;
    match command {
        AttributeCommand::Define {
            org,
            deployment: _,
            name,
            ty,
            multi_valued,
            filterable,
            case_exact,
            claim,
            json,
        } => {
            let org = org.map(|o| super::existing_org(&store, &o)).transpose()?;
            let new = NewDefinition {
                name: &name,
                ty,
                multi_valued,
                case_exact,
                filterable,
                claim: claim.as_deref(),
            };
            let now = clock.now_naive();
            let defined = store
                .write(|conn| attributes::define(conn, org.as_ref(), "cli", &new, now))
                .map_err(|e| match e {
                    StoreError::Refused(why) if why.contains("claim") => {
                        ServerError::Invalid(format!("--claim: {why}"))
                    }
                    StoreError::Refused(why) => ServerError::Invalid(format!("--name: {why}")),
                    StoreError::Conflict(why) => ServerError::Invalid(format!("--name: {why}")),
                    other => ServerError::Store(other),
                })?;
            if json {
                return print_json(&AttributeJson::from(&defined));
            }
            outln!("{}", line(&defined));
            Ok(())
        }
        AttributeCommand::List { org, json } => {
            let org = super::existing_org(&store, &org)?;
            let all = store.read(|conn| attributes::list(conn, &org))?;
            if json {
                let out: Vec<AttributeJson> = all.iter().map(AttributeJson::from).collect();
                return print_json(&out);
            }
            for d in &all {
                outln!("{}", line(d));
            }
            Ok(())
        }
    }
}
