//! Every SCIM route, under the per-org base URL `{SCIMD_PUBLIC_URL}/scim/v2/{org}`, and the one check in
//! front of them all: a URL holding a NUL is 400.

use crate::scim_api::discovery as d;
use crate::scim_api::error::ScimApiError;
use crate::scim_api::groups::{
    create as gc, delete as gd, get as gg, list as gl, patch as gp, replace as gr,
};
use crate::scim_api::limits;
use crate::scim_api::search;
use crate::scim_api::users::{create as uc, delete as ud, get as ug, list as ul, patch as up, replace as ur};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::web::{self, delete, get, patch, post, put, resource};
use actix_web::{HttpResponse, ResponseError};
use scimd_scim::ScimError;

/// 400 with a SCIM error body for a URL holding a NUL (`limits::holds_nul`), before the token check: every
/// org, id and filter of the request would go to the database, which on PostgreSQL refuses NUL in text.
async fn refuse_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if limits::holds_nul(req.uri()) {
        let err = ScimApiError::from(ScimError::new(
            400,
            None,
            "The URL holds a NUL character (%00), which no SCIM resource, id or filter holds.",
        ));
        let res: HttpResponse = err.error_response();
        return Ok(req.into_response(res).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let na = || web::to(d::method_not_allowed);
    cfg.service(
        web::scope("/scim/v2/{org}")
            .wrap(from_fn(refuse_nul))
            .service(
                resource(["", "/"])
                    .route(get().to(d::service_provider_config))
                    .default_service(na()),
            )
            .service(
                resource("/Users")
                    .route(get().to(ul::user_list))
                    .route(post().to(uc::user_create))
                    .default_service(na()),
            )
            .service(
                resource("/Users/.search")
                    .route(post().to(ul::user_search))
                    .default_service(na()),
            )
            .service(
                resource("/Users/{id}")
                    .route(get().to(ug::user_get))
                    .route(put().to(ur::user_replace))
                    .route(patch().to(up::user_patch))
                    .route(delete().to(ud::user_delete))
                    .default_service(na()),
            )
            .service(
                resource("/Groups")
                    .route(get().to(gl::group_list))
                    .route(post().to(gc::group_create))
                    .default_service(na()),
            )
            .service(
                resource("/Groups/.search")
                    .route(post().to(gl::group_search))
                    .default_service(na()),
            )
            .service(
                resource("/Groups/{id}")
                    .route(get().to(gg::group_get))
                    .route(put().to(gr::group_replace))
                    .route(patch().to(gp::group_patch))
                    .route(delete().to(gd::group_delete))
                    .default_service(na()),
            )
            .service(
                resource("/.search")
                    .route(post().to(search::root_search))
                    .default_service(na()),
            )
            .service(
                resource("/ServiceProviderConfig")
                    .route(get().to(d::service_provider_config))
                    .default_service(na()),
            )
            .service(
                resource("/ResourceTypes")
                    .route(get().to(d::resource_types))
                    .default_service(na()),
            )
            .service(
                resource("/ResourceTypes/{id}")
                    .route(get().to(d::resource_type))
                    .default_service(na()),
            )
            .service(
                resource("/Schemas")
                    .route(get().to(d::schemas))
                    .default_service(na()),
            )
            .service(
                resource("/Schemas/{id}")
                    .route(get().to(d::schema))
                    .default_service(na()),
            )
            .service(resource(["/Me", "/Me/{rest:.*}"]).to(d::me))
            .service(resource("/Bulk").to(d::bulk))
            .default_service(web::to(d::not_found)),
    );
}
