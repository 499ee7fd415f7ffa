//! Custom attributes on the SSO page: the card (what the org may receive under
//! `urn:ietf:params:scim:schemas:extension:scimd:2.0:User`, its own and the deployment's, with the path an IdP
//! maps to) and its form, which declares one more. A refused form comes back with 422, the error next to the
//! name and the values as typed. A declaration is audited (`attribute.defined`) in its transaction.

use crate::error::AdminError;
use crate::session::{Authed, Posted};
use actix_web::HttpResponse;
use scimd_store::StoreError;
use scimd_store::models::attributes::{self, CustomType, NewDefinition};
use serde::Deserialize;

/// The extension's URN, as the card tells the IdP's admin.
pub const URN: &str = "urn:ietf:params:scim:schemas:extension:scimd:2.0:User";

/// One declared attribute as the card lists it.
#[derive(Debug, Clone)]
pub struct AttributeRow {
    pub name: String,
    pub ty: String,
    pub multi_valued: bool,
    pub filterable: bool,
    pub case_exact: bool,
    pub claim: Option<String>,
    /// Declared for every org of the deployment (not editable here).
    pub deployment: bool,
    /// The path Entra maps to (and Okta's namespace and name joined).
    pub scim_path: String,
}

/// The card's contents: the declarations and the form as typed.
#[derive(Debug, Clone, Default)]
pub struct AttributesSection {
    pub rows: Vec<AttributeRow>,
    pub name: String,
    pub ty: String,
    pub multi_valued: bool,
    pub filterable: bool,
    pub case_exact: bool,
    pub claim: String,
    pub error: Option<String>,
}

impl AttributesSection {
    /// The types the form offers, as `(value, label)`.
    pub fn types(&self) -> Vec<&'static str> {
        CustomType::ALL.iter().map(|t| t.as_str()).collect()
    }

    pub async fn load(session: &Authed) -> Result<AttributesSection, AdminError> {
        let org = session.info.org_id.clone();
        let defs = session
            .state
            .store
            .read_async(move |conn| attributes::list(conn, &org))
            .await?;
        let rows = defs
            .into_iter()
            .map(|d| AttributeRow {
                scim_path: format!("{URN}:{}", d.name),
                deployment: d.org_id.is_none(),
                name: d.name,
                ty: d.ty,
                multi_valued: d.multi_valued,
                filterable: d.filterable,
                case_exact: d.case_exact,
                claim: d.claim,
            })
            .collect();
        Ok(AttributesSection {
            rows,
            ty: CustomType::String.as_str().to_owned(),
            ..AttributesSection::default()
        })
    }
}

#[derive(Deserialize)]
pub struct AttributeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    ty: String,
    /// Checkboxes: present ("on") when checked.
    multi_valued: Option<String>,
    filterable: Option<String>,
    case_exact: Option<String>,
    #[serde(default)]
    claim: String,
}

/// `POST /admin/orgs/{org}/attributes`: declares one attribute for the org.
pub async fn attribute_post(posted: Posted<AttributeForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let name = form.name.trim().to_owned();
    let claim = form.claim.trim().to_owned();
    let (multi_valued, filterable, case_exact) = (
        form.multi_valued.is_some(),
        form.filterable.is_some(),
        form.case_exact.is_some(),
    );
    let Some(ty) = CustomType::parse(&form.ty) else {
        return refuse(&session, form, "Choose one of the types listed.".into()).await;
    };
    let org = session.info.org_id.clone();
    let actor = session.actor();
    let now = session.state.clock.now_naive();
    let claim_opt = (!claim.is_empty()).then(|| claim.clone());
    let name_c = name.clone();
    let saved = session
        .state
        .store
        .write_async(move |conn| {
            let new = NewDefinition {
                name: &name_c,
                ty,
                multi_valued,
                case_exact,
                filterable,
                claim: claim_opt.as_deref(),
            };
            attributes::define(conn, Some(&org), &actor, &new, now)
        })
        .await;
    match saved {
        Ok(_) => Ok(crate::view::see_other(&format!(
            "/admin/orgs/{}/sso?notice=attribute_defined#attributes",
            session.info.org_id
        ))),
        Err(StoreError::Refused(why) | StoreError::Conflict(why)) => {
            let mut sentence = why;
            if let Some(first) = sentence.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            refuse(&session, form, format!("{sentence}.")).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn refuse(session: &Authed, form: AttributeForm, error: String) -> Result<HttpResponse, AdminError> {
    super::refused(session, |cards| {
        let card = &mut cards.attributes;
        card.name = form.name;
        card.ty = form.ty;
        card.multi_valued = form.multi_valued.is_some();
        card.filterable = form.filterable.is_some();
        card.case_exact = form.case_exact.is_some();
        card.claim = form.claim;
        card.error = Some(error);
    })
    .await
}
