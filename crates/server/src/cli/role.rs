//! `scimd role create|map|unmap|list|explain|scim-roles`: roles from the directory (issue #26). The operator
//! acts as an owner: it may map a group to `admin`; nothing maps to `owner`.

use super::output::{outln, print_json};
use super::token::{CLI_ACTOR, open};
use crate::error::ServerError;
use clap::Subcommand;
use scimd_store::models::members::Role;
use scimd_store::provisioning::WriteCtx;
use scimd_store::provisioning::roles::{self, Acting, Direction, Preview, RoleError};
use scimd_store::{Clock, OrgId, Store};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Add a platform role to the org's catalog (scimd's own owner, admin and member are always there).
    Create {
        /// The org's id (`scimd org list`).
        #[arg(long)]
        org: String,
        /// 1 to 64 characters of a-z, 0-9, '.', '_', ':' and '-' (`deployer`, `billing:viewer`).
        #[arg(long)]
        name: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Map an IdP group to a role: its members have the role while they are in it (the group survives a rename).
    Map {
        /// The org's id (`scimd org list`).
        #[arg(long)]
        org: String,
        /// The group's SCIM id, or its displayName (stored as the id).
        #[arg(long)]
        group: String,
        /// The role's name (`scimd role list`).
        #[arg(long)]
        role: String,
        /// Print how many members would gain and lose each role, and save nothing.
        #[arg(long)]
        dry_run: bool,
        /// Members per transaction when the change is applied to a large group.
        #[arg(long, default_value_t = BATCH, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch_size: u64,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Remove a mapping: the group's members lose the role (unless something else gives it).
    Unmap {
        /// The org's id (`scimd org list`).
        #[arg(long)]
        org: String,
        /// The group's SCIM id, or its displayName (stored as the id).
        #[arg(long)]
        group: String,
        /// The role's name (`scimd role list`).
        #[arg(long)]
        role: String,
        /// Save an unmap that takes `admin` from more than 20% of the org's admins.
        #[arg(long)]
        confirm: bool,
        /// Print how many members would gain and lose each role, and save nothing.
        #[arg(long)]
        dry_run: bool,
        /// Members per transaction when the change is applied to a large group.
        #[arg(long, default_value_t = BATCH, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch_size: u64,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Finish the mapping changes a crash or a kill interrupted (`scimd serve` also does, on its own).
    Resume {
        /// Members per transaction.
        #[arg(long, default_value_t = BATCH, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch_size: u64,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// The org's role catalog and the groups mapped to each role.
    List {
        /// The org's id (`scimd org list`).
        #[arg(long)]
        org: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// A member's roles, and which group or attribute gave each one.
    Explain {
        /// The org's id (`scimd org list`).
        #[arg(long)]
        org: String,
        /// The member's id (its SCIM id).
        #[arg(long)]
        user: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Whether the IdP's SCIM `roles` attribute grants roles (within the catalog; never owner). Off by default.
    ScimRoles {
        /// The org's id (`scimd org list`).
        #[arg(long)]
        org: String,
        /// `on` or `off`.
        #[arg(long, value_parser = ["on", "off"])]
        set: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// The one place a role error becomes the CLI's.
impl From<RoleError> for ServerError {
    fn from(err: RoleError) -> Self {
        match err {
            RoleError::Store(e) => ServerError::Store(e),
            e @ (RoleError::UnknownGroup(_) | RoleError::UnknownRole(_) | RoleError::NotMapped { .. }) => {
                ServerError::NotFound(e.to_string())
            }
            e @ RoleError::NeedsConfirmation { .. } => ServerError::Invalid(format!("{e} (--confirm)")),
            other => ServerError::Invalid(other.to_string()),
        }
    }
}

/// [`roles::JOB_BATCH`], as the flag reads it.
const BATCH: u64 = roles::JOB_BATCH as u64;

fn batch(n: u64) -> usize {
    usize::try_from(n).unwrap_or(roles::JOB_BATCH)
}

fn ctx(org: &OrgId, clock: &dyn Clock) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: CLI_ACTOR.to_owned(),
        now: clock.now_naive(),
    }
}

fn preview(
    store: &Store,
    org: &OrgId,
    group: &str,
    role: &str,
    d: Direction,
) -> Result<Preview, ServerError> {
    Ok(store.read(|c| -> Result<Preview, RoleError> {
        let g = roles::resolve_group(c, org, group)?;
        Ok(roles::preview(c, org, &g, role, d)?)
    })?)
}

fn print_preview(p: &Preview) -> Result<(), ServerError> {
    outln!("{} member(s) of the group", p.members);
    for (role, n) in &p.gain {
        outln!("  +{n} {role}");
    }
    for (role, n) in &p.lose {
        outln!("  -{n} {role}");
    }
    if p.needs_confirmation {
        outln!(
            "takes admin from {} of the org's {} admins: needs --confirm",
            p.admins_losing,
            p.admins
        );
    }
    Ok(())
}

/// Applies the rest of a saved change to a large group, a batch per transaction (a kill leaves the rest to
/// `scimd role resume` or the server).
fn finish(
    store: &Store,
    clock: &dyn Clock,
    out: &mut roles::MappingOutcome,
    batch: usize,
) -> Result<(), ServerError> {
    if let Some(job) = out.job.as_mut().filter(|j| !j.is_finished())
        && let Some(done) = roles::run_job(store, &job.id, batch, clock)?
    {
        *job = done;
    }
    Ok(())
}

fn print_job(group: &str, did: &str, role: &str, job: &roles::Job) -> Result<(), ServerError> {
    if job.is_finished() {
        outln!("{group} {did} {role}; {} member(s) changed", job.changed);
    } else {
        outln!(
            "{group} {did} {role}; {} of {} member(s) done, the rest in batches (job {}, on the SSO page)",
            job.done,
            job.total,
            job.id
        );
    }
    Ok(())
}

pub(super) fn run(database_url: &str, command: RoleCommand) -> Result<(), ServerError> {
    let (store, clock) = open(database_url)?;
    match command {
        RoleCommand::Create { org, name, json } => {
            let org = super::existing_org(&store, &org)?;
            store.write(|c| roles::create_role(c, Some(&org), CLI_ACTOR, &name, clock.now_naive()))?;
            if json {
                return print_json(&json!({ "org_id": org.as_str(), "name": name, "scope": "org" }));
            }
            outln!("role {name} created");
            Ok(())
        }
        RoleCommand::Map {
            org,
            group,
            role,
            dry_run,
            batch_size,
            json,
        } => {
            let org = super::existing_org(&store, &org)?;
            if dry_run {
                let p = preview(&store, &org, &group, &role, Direction::Map)?;
                return if json { print_json(&p) } else { print_preview(&p) };
            }
            let mut out = store.write(|c| {
                roles::map(
                    c,
                    &ctx(&org, &*clock),
                    Acting(Role::Owner),
                    &group,
                    &role,
                    batch(batch_size),
                )
            })?;
            finish(&store, &*clock, &mut out, batch(batch_size))?;
            if json {
                return print_json(&out);
            }
            match &out.job {
                Some(job) => print_job(&out.group.display_name, "mapped to", &out.role, job)?,
                None => outln!("{} was already mapped to {}", out.group.display_name, out.role),
            }
            Ok(())
        }
        RoleCommand::Unmap {
            org,
            group,
            role,
            confirm,
            dry_run,
            batch_size,
            json,
        } => {
            let org = super::existing_org(&store, &org)?;
            if dry_run {
                let p = preview(&store, &org, &group, &role, Direction::Unmap)?;
                return if json { print_json(&p) } else { print_preview(&p) };
            }
            let mut out = store.write(|c| {
                roles::unmap(
                    c,
                    &ctx(&org, &*clock),
                    Acting(Role::Owner),
                    &group,
                    &role,
                    confirm,
                    batch(batch_size),
                )
            })?;
            finish(&store, &*clock, &mut out, batch(batch_size))?;
            if json {
                return print_json(&out);
            }
            if let Some(job) = &out.job {
                print_job(&out.group.display_name, "unmapped from", &out.role, job)?;
            }
            Ok(())
        }
        RoleCommand::Resume { batch_size, json } => {
            let mut finished = Vec::new();
            loop {
                let ids = store.read(|c| roles::unfinished_jobs(c, 100))?;
                if ids.is_empty() {
                    break;
                }
                for id in ids {
                    finished.extend(roles::run_job(&store, &id, batch(batch_size), &*clock)?);
                }
            }
            if json {
                return print_json(&json!({ "finished": finished }));
            }
            outln!("{} mapping change(s) finished", finished.len());
            Ok(())
        }
        RoleCommand::List { org, json } => {
            let org = super::existing_org(&store, &org)?;
            let catalog = store.read(|c| roles::catalog(c, &org))?;
            if json {
                return print_json(&json!({ "org_id": org.as_str(), "roles": catalog }));
            }
            for r in &catalog {
                let groups: Vec<&str> = r.groups.iter().map(|g| g.display_name.as_str()).collect();
                outln!("{}  {}  {}", r.name, r.scope, groups.join(", "));
            }
            Ok(())
        }
        RoleCommand::Explain { org, user, json } => {
            let org = super::existing_org(&store, &org)?;
            let why = store.read(|c| roles::explain(c, &org, &user))?.ok_or_else(|| {
                ServerError::NotFound(format!("--user {user}: no member of the org has this id"))
            })?;
            if json {
                return print_json(&why);
            }
            for r in &why.roles {
                let sources: Vec<String> = r
                    .sources
                    .iter()
                    .map(|s| match s {
                        roles::Source::Assigned => "assigned in scimd".to_owned(),
                        roles::Source::Group { group_id, group } => format!("group {group} ({group_id})"),
                        roles::Source::Attribute => "the IdP's roles attribute".to_owned(),
                    })
                    .collect();
                outln!("{}  from {}", r.role, sources.join("; "));
            }
            Ok(())
        }
        RoleCommand::ScimRoles { org, set, json } => {
            let org = super::existing_org(&store, &org)?;
            let on = set == "on";
            store.write(|c| roles::set_scim_roles(c, &org, CLI_ACTOR, on, clock.now_naive()))?;
            if json {
                return print_json(&json!({ "org_id": org.as_str(), "scim_roles": on }));
            }
            outln!("the SCIM roles attribute is {set} for {}", org.as_str());
            Ok(())
        }
    }
}
