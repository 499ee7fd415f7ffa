//! Roles from the directory on the SSO page (issue #26): the catalog with the groups mapped to each role, a
//! mapping form that previews how many members gain and lose each role before it saves, unmapping (with the
//! confirmation an unmap that takes `admin` from too many admins needs), the progress of changes on large
//! groups, whether the IdP's `roles` attribute counts, and the explanation of a member's roles. Every form is
//! CSRF-checked (`Posted`) and every change audited by the store.

use crate::error::AdminError;
use crate::session::{Authed, Posted};
use crate::view::see_other;
use actix_web::HttpResponse;
use scimd_store::models::members::Role;
use scimd_store::provisioning::WriteCtx;
use scimd_store::provisioning::roles::{
    self, Acting, CatalogRole, Direction, ExplainedRole, Explanation, Job, Preview, RoleError, Source,
};
use serde::Deserialize;

/// The card's contents.
#[derive(Debug, Clone, Default)]
pub struct RolesSection {
    pub catalog: Vec<CatalogRole>,
    /// The latest mapping changes, newest first, with their progress.
    pub jobs: Vec<Job>,
    pub scim_roles: bool,
    /// Owners may map to `admin`.
    pub is_owner: bool,
    /// The mapping form's values (as typed, after a preview or a refusal).
    pub group: String,
    pub role: String,
    /// What the change in the form would do; with `confirm` when saving it needs a confirmation.
    pub preview: Option<Preview>,
    pub confirm_unmap: bool,
    /// Why the last action was refused.
    pub error: Option<String>,
    pub explain_user: String,
    pub explanation: Option<Explanation>,
}

impl RolesSection {
    pub async fn load(session: &Authed, explain: Option<String>) -> Result<RolesSection, AdminError> {
        let org = session.info.org_id.clone();
        let who = explain.clone().filter(|u| !u.trim().is_empty() && u.len() <= 64);
        let (catalog, jobs, scim_roles, explanation) = session
            .state
            .store
            .read_async(move |conn| {
                let catalog = roles::catalog(conn, &org)?;
                let jobs = roles::jobs_of(conn, &org, 5)?;
                let on = roles::scim_roles_enabled(conn, &org)?;
                let why = match &who {
                    Some(u) => roles::explain(conn, &org, u.trim())?,
                    None => None,
                };
                Ok::<_, scimd_store::StoreError>((catalog, jobs, on, why))
            })
            .await?;
        let explain_user = explain.unwrap_or_default();
        let error = (!explain_user.is_empty() && explanation.is_none())
            .then(|| "No member of this organization has this id.".to_owned());
        Ok(RolesSection {
            catalog,
            jobs,
            scim_roles,
            is_owner: session.info.role == Role::Owner,
            error,
            explain_user,
            explanation,
            ..RolesSection::default()
        })
    }

    /// The roles a group may be mapped to by this session (never `owner`; `admin` for owners).
    pub fn mappable(&self) -> Vec<&str> {
        self.catalog
            .iter()
            .map(|r| r.name.as_str())
            .filter(|r| *r != roles::OWNER && (*r != roles::ADMIN || self.is_owner))
            .collect()
    }

    /// `(role, n)` pairs of a preview, for the template.
    pub fn gains(&self) -> Vec<(String, u64)> {
        self.preview
            .as_ref()
            .map(|p| p.gain.iter().map(|(r, n)| (r.clone(), *n)).collect())
            .unwrap_or_default()
    }

    /// Whether the preview is of an unmap.
    pub fn unmapping(&self) -> bool {
        self.preview
            .as_ref()
            .is_some_and(|p| p.direction == Some(Direction::Unmap))
    }

    /// A job's progress as the card says it.
    pub fn progress(&self, job: &Job) -> String {
        progress(job)
    }

    /// What gave a role, as the card says it: (text, the group's id for a link).
    pub fn sources(&self, role: &ExplainedRole) -> Vec<(String, Option<String>)> {
        role.sources
            .iter()
            .map(|s| match s {
                Source::Assigned => ("assigned in scimd".to_owned(), None),
                Source::Group { group_id, group } => (format!("group {group}"), Some(group_id.clone())),
                Source::Attribute => ("the IdP's roles attribute".to_owned(), None),
            })
            .collect()
    }

    pub fn losses(&self) -> Vec<(String, u64)> {
        self.preview
            .as_ref()
            .map(|p| p.lose.iter().map(|(r, n)| (r.clone(), *n)).collect())
            .unwrap_or_default()
    }
}

/// A job's progress as the card says it.
pub fn progress(job: &Job) -> String {
    if job.is_finished() {
        format!("done: {} member(s) changed", job.changed)
    } else {
        format!("{} of {} members", job.done, job.total)
    }
}

fn ctx(session: &Authed) -> WriteCtx {
    WriteCtx {
        org: session.info.org_id.clone(),
        actor: session.actor(),
        now: session.state.clock.now_naive(),
    }
}

/// A refusal of the store shows the card again with its message (422); a failure is the store's.
async fn refused(
    session: &Authed,
    err: RoleError,
    typed: impl FnOnce(&mut RolesSection),
) -> Result<HttpResponse, AdminError> {
    let message = match err {
        RoleError::Store(e) => return Err(e.into()),
        other => other.to_string(),
    };
    super::refused(session, |cards| {
        typed(&mut cards.roles);
        cards.roles.error = Some(message);
    })
    .await
}

fn back(session: &Authed, notice: &str) -> HttpResponse {
    see_other(&format!(
        "/admin/orgs/{}/sso?notice={notice}#roles",
        session.info.org_id
    ))
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
}

/// `POST /admin/orgs/{org}/roles`: adds a platform role to the org's catalog.
pub async fn create_post(posted: Posted<CreateForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let c = ctx(&session);
    let name = form.name.trim().to_owned();
    let created = session
        .state
        .store
        .write_async(move |conn| roles::create_role(conn, Some(&c.org), &c.actor, &name, c.now))
        .await;
    match created {
        Ok(()) => Ok(back(&session, "role_created")),
        Err(err) => refused(&session, err, |_| {}).await,
    }
}

#[derive(Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    group: String,
    #[serde(default)]
    role: String,
    /// `preview` shows what the change would do; `save` saves it.
    #[serde(default)]
    action: String,
    /// Present when the admin confirmed an unmap that takes `admin` from many admins.
    confirm: Option<String>,
}

/// `POST /admin/orgs/{org}/roles/map`: previews or saves a mapping of a group to a role.
pub async fn map_post(posted: Posted<MappingForm>) -> Result<HttpResponse, AdminError> {
    change(posted, Direction::Map).await
}

/// `POST /admin/orgs/{org}/roles/unmap`: previews or removes a mapping.
pub async fn unmap_post(posted: Posted<MappingForm>) -> Result<HttpResponse, AdminError> {
    change(posted, Direction::Unmap).await
}

async fn change(posted: Posted<MappingForm>, direction: Direction) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let (group, role) = (form.group.trim().to_owned(), form.role.trim().to_owned());
    if group.is_empty() || group.len() > 256 || role.is_empty() || role.len() > roles::MAX_NAME {
        return refused(&session, RoleError::UnknownGroup(group.clone()), |r| {
            r.group = group.clone();
            r.role = role.clone();
        })
        .await;
    }
    let c = ctx(&session);
    let acting = Acting(session.info.role);
    if form.action != "save" {
        let (g, r) = (group.clone(), role.clone());
        let org = c.org.clone();
        let preview = session
            .state
            .store
            .read_async(move |conn| -> Result<Preview, RoleError> {
                let found = roles::resolve_group(conn, &org, &g)?;
                Ok(roles::preview(conn, &org, &found, &r, direction)?)
            })
            .await;
        return match preview {
            Ok(p) => {
                super::shown(&session, move |cards| {
                    cards.roles.group = group;
                    cards.roles.role = role;
                    cards.roles.confirm_unmap = direction == Direction::Unmap && p.needs_confirmation;
                    cards.roles.preview = Some(p);
                })
                .await
            }
            Err(err) => {
                refused(&session, err, |r| {
                    r.group = group.clone();
                    r.role = role.clone();
                })
                .await
            }
        };
    }
    let confirmed = form.confirm.is_some();
    let (g, r) = (group.clone(), role.clone());
    let saved = session
        .state
        .store
        .write_async(move |conn| match direction {
            Direction::Map => roles::map(conn, &c, acting, &g, &r, roles::JOB_BATCH),
            Direction::Unmap => roles::unmap(conn, &c, acting, &g, &r, confirmed, roles::JOB_BATCH),
        })
        .await;
    match saved {
        Ok(_) => Ok(back(
            &session,
            if direction == Direction::Map {
                "role_mapped"
            } else {
                "role_unmapped"
            },
        )),
        Err(RoleError::NeedsConfirmation { .. }) => {
            // Show what it would do, with the confirmation.
            let (g, r) = (group.clone(), role.clone());
            let org = session.info.org_id.clone();
            let p = session
                .state
                .store
                .read_async(move |conn| -> Result<Preview, RoleError> {
                    let found = roles::resolve_group(conn, &org, &g)?;
                    Ok(roles::preview(conn, &org, &found, &r, Direction::Unmap)?)
                })
                .await
                .ok();
            refused(
                &session,
                RoleError::NeedsConfirmation {
                    losing: p.as_ref().map_or(0, |p| p.admins_losing),
                    admins: p.as_ref().map_or(0, |p| p.admins),
                },
                move |r| {
                    r.group = group;
                    r.role = role;
                    r.confirm_unmap = true;
                    r.preview = p;
                },
            )
            .await
        }
        Err(err) => {
            refused(&session, err, |r| {
                r.group = group.clone();
                r.role = role.clone();
            })
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct ScimRolesForm {
    /// A checkbox: present ("on") when checked.
    enabled: Option<String>,
}

/// `POST /admin/orgs/{org}/roles/scim`: whether the IdP's `roles` attribute grants roles.
pub async fn scim_post(posted: Posted<ScimRolesForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let on = form.enabled.is_some();
    super::save_card(&session, "roles_saved", "roles", move |conn, org, actor, now| {
        roles::set_scim_roles(conn, org, actor, on, now)
    })
    .await
}
