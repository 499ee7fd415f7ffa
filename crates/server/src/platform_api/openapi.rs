//! The platform API's OpenAPI 3.1 document, served at `GET /api/v1/openapi.json` without a key: the
//! operations of `platform_api::operations` (each handler's `#[utoipa::path]`), the schemas of the types the
//! handlers serialize, the API-key bearer scheme, and the error answers every keyed operation may give (those
//! of `auth::admit` and `error.rs`). SDK generators start from it; a test compares it with the routes and
//! validates real answers against it (tests/it/openapi.rs).

use crate::platform_api::activity::ActivityPage;
use crate::platform_api::audit::AuditPage;
use crate::platform_api::directory_json::{GroupPage, MemberPage, OrgPage, UserPage};
use crate::platform_api::error::ErrorBody;
use crate::platform_api::events::EventPage;
use crate::platform_api::{Auth, Operations};
use actix_web::http::header::{self, ContentType};
use actix_web::{FromRequest, Handler, HttpResponse, Responder};
use std::sync::LazyLock;
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, Paths, Ref, RefOr, Response, ResponseBuilder,
};

/// The name of the API-key scheme in the document.
const API_KEY: &str = "api_key";

/// How long a client or proxy may keep the document: it changes only with a new release of scimd.
const MAX_AGE_SECS: u32 = 3_600;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "scimd platform API",
        description = "The event feed, the directory, the audit trail and the provisioning activity of the orgs \
                       that scimd provisions, read with an API key \
                       (`scimd api-key create`). Errors are `{\"error\": CODE, \"message\": TEXT}`. \
                       See docs/PLATFORM.md."
    ),
    components(schemas(
        ErrorBody,
        EventPage,
        OrgPage,
        UserPage,
        MemberPage,
        GroupPage,
        AuditPage,
        ActivityPage
    )),
    tags(
        (name = "events", description = "The ordered feed of every change to the orgs' directories"),
        (name = "directory", description = "The orgs, users, groups and group members, in keyset pages"),
        (name = "audit", description = "An org's audit trail and its provisioning activity, newest first"),
        (name = "meta", description = "This document"),
    )
)]
struct Base;

/// The error answers that any keyed operation may give, by status: `components.responses` names them once.
const COMMON_ERRORS: [(&str, &str, &str, Option<&str>); 5] = [
    (
        "400",
        "BadRequest",
        "A parameter the API cannot use (`bad_request`), named in `message`",
        None,
    ),
    (
        "401",
        "Unauthorized",
        "No API key, or not a live one (`unauthorized`); with `WWW-Authenticate: Bearer`",
        None,
    ),
    (
        "429",
        "RateLimited",
        "Over the key's request rate or requests in flight (`rate_limited`)",
        Some("Seconds to wait before the next request"),
    ),
    (
        "500",
        "Internal",
        "An internal error (`internal`), logged by scimd",
        None,
    ),
    (
        "503",
        "Unavailable",
        "The database cannot answer now (`unavailable`): retry",
        Some("Seconds to wait before retrying"),
    ),
];

/// The document: built once per process.
pub fn document() -> Document {
    let mut doc = Base::openapi();
    let mut listed = Documented(Paths::new());
    super::operations(&mut listed);
    doc.paths = listed.0;
    let components = doc.components.get_or_insert_default();
    components.security_schemes.insert(
        API_KEY.to_owned(),
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("scimd_ak_...")
                .description(Some("An API key of `scimd api-key create`"))
                .build(),
        ),
    );
    for (_, name, description, retry_after) in COMMON_ERRORS {
        components.responses.insert(
            name.to_owned(),
            RefOr::T(error_response(description, retry_after)),
        );
    }
    doc
}

fn error_response(description: &str, retry_after: Option<&str>) -> Response {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Error")))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", body);
    if let Some(retry_after) = retry_after {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
                .description(Some(retry_after))
                .build(),
        );
    }
    response.build()
}

/// The operations as the document lists them: a keyed one needs the bearer scheme and may give the common
/// errors; a public one needs nothing.
struct Documented(Paths);

impl Operations for Documented {
    fn add<P, F, Args>(&mut self, auth: Auth, tag: &'static str, _: F)
    where
        P: utoipa::Path,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let mut operation: Operation = P::operation();
        operation.tags = Some(vec![tag.to_owned()]);
        match auth {
            Auth::ApiKey => {
                operation.security = Some(vec![SecurityRequirement::new(API_KEY, Vec::<String>::new())]);
                for (status, name, _, _) in COMMON_ERRORS {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
                }
            }
            Auth::Public => operation.security = Some(Vec::new()),
        }
        self.0.add_path_operation(P::path(), P::methods(), operation);
    }
}

/// The document as JSON, made at the first request.
static JSON: LazyLock<Result<String, String>> =
    LazyLock::new(|| document().to_pretty_json().map_err(|e| e.to_string()));

/// The OpenAPI document
///
/// This document (OpenAPI 3.1), for SDK generators; no key needed.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "getOpenApiDocument",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
)]
pub async fn served() -> HttpResponse {
    match &*JSON {
        Ok(json) => HttpResponse::Ok()
            .content_type(ContentType::json())
            .insert_header((header::CACHE_CONTROL, format!("public, max-age={MAX_AGE_SECS}")))
            .body(json.as_str()),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document does not serialize");
            HttpResponse::InternalServerError().finish()
        }
    }
}
