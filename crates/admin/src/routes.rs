//! Every route of the admin crate, in one place: the pages, the `/sso` sign-in handlers and
//! the OpenID Provider's `/oauth` endpoints. They all sit in one scope that adds the security headers, and
//! that scope takes only this crate's paths (`is_admin_path`), so that the services the server registers
//! beside it keep theirs.
//!
//! ```text
//! GET  /                                      -> 303 /admin
//! GET  /static/{name}                         embedded assets (immutable, versioned by ?v=hash)
//! GET  /admin                                 -> the org's SSO page when signed in, else how to sign in
//! GET  /admin/login?token=                    login link landing page (one click, then POST)
//! POST /admin/login                           exchanges the link, sets the session cookie
//! POST /admin/logout                          ends the session
//! GET  /admin/signed-out
//! GET  /admin/sso[?email=|org=]               "Sign in with SSO": finds the org, moves on to its start
//! GET  /sso/{org}/start[?return_to=]          303 to the org's IdP (SAML AuthnRequest or Entra authorize)
//! POST /sso/saml/{org}/acs                    the IdP's SAMLResponse -> 303 to the hand-off, or the refusal page
//! GET  /sso/{org}/complete?handoff=           the hand-off -> session cookie (the previous session ends)
//! GET  /sso/oidc/{org}/callback               Entra ID's redirect (code, state) -> session cookie, or refusal
//! GET  /sso/saml/{org}/metadata               the org's SP metadata
//! GET  /.well-known/openid-configuration      "Sign in with scimd" (the OpenID Provider): see `oauth.rs`
//! GET  /oauth/authorize, POST /oauth/token, GET|POST /oauth/userinfo, GET /oauth/jwks, POST /oauth/introspect
//! GET  /admin/orgs/{org}/sso                  Organization Settings > SSO (+ SCIM Provisioning)
//! POST /admin/orgs/{org}/sso/saml             set SAML
//! POST /admin/orgs/{org}/sso/saml/metadata    reads pasted IdP metadata into the SAML form (not saved)
//! POST /admin/orgs/{org}/sso/azure            set Azure AD
//! GET  /admin/orgs/{org}/sso/remove           confirm; POST removes
//! POST /admin/orgs/{org}/scim/token           Generate SCIM Token -> the one-time reveal
//! GET  /admin/orgs/{org}/scim/regenerate      grace choice; POST regenerates -> the one-time reveal
//! GET  /admin/orgs/{org}/scim/delete          confirm; POST deletes the SCIM configuration
//! GET  /admin/orgs/{org}/members              search q=, paging after= / before=
//! GET  /admin/orgs/{org}/members/{id}         one member: attributes, groups, sessions, history
//! GET  /admin/orgs/{org}/groups               paging after= / before=
//! GET  /admin/orgs/{org}/groups/{id}          one group: members (paging after=), history
//! GET  /admin/orgs/{org}/activity             provisioning activity: filter outcome=, paging before=
//! GET  /admin/orgs/{org}/audit                filter action=, from=, to= (days, UTC), paging before=
//! GET  /admin/orgs/{org}/audit/export         the filtered trail as a download: format=csv|json
//! POST /admin/orgs/{org}/safety-valve         the deprovisioning safety valve's settings
//! POST /admin/orgs/{org}/safety-valve/release releases a hold on deprovisioning
//! POST /admin/orgs/{org}/roles                 adds a platform role to the org's catalog
//! POST /admin/orgs/{org}/roles/map|unmap       previews or saves a group -> role mapping (action=preview|save)
//! POST /admin/orgs/{org}/roles/scim            whether the IdP's SCIM `roles` attribute grants roles
//! POST /admin/orgs/{org}/limits                the SCIM API's limits and the owner-link setting
//! GET  /admin/orgs/{org}/signals               the org's Shared Signals streams and their deliveries (editors)
//! GET  /admin/orgs/{org}/webhooks              the org's webhook endpoints and recent deliveries (editors)
//! POST /admin/orgs/{org}/webhooks              adds an endpoint; answers with its secret, shown once
//! POST /admin/orgs/{org}/webhooks/{id}/test    sends a `webhook.test` event to the endpoint now
//! POST /admin/orgs/{org}/webhooks/{id}/replay  sends the events after a cursor again (re-enables)
//! POST /admin/orgs/{org}/webhooks/{id}/delete  deletes the endpoint
//! ```

use crate::pages::settings::{self, attributes, connection, limits, roles, safety_valve, scim};
use crate::pages::{activity, audit, group, groups, login, member, members, signals, signin, webhooks};
use crate::state::AdminState;
use crate::{assets, oauth, security_headers};
use actix_web::middleware::from_fn;
use actix_web::{guard, web};

/// The first segments of this crate's paths, besides `/` itself.
const PREFIXES: [&str; 5] = [
    "/static",
    "/.well-known/openid-configuration",
    "/oauth",
    "/sso",
    "/admin",
];

/// Whether `path` is one of this crate's: `/`, or one of [`PREFIXES`] followed by nothing or by `/`.
fn is_admin_path(path: &str) -> bool {
    path == "/"
        || PREFIXES.iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// Registers the admin pages' state and every route: the one call the server makes.
pub fn configure(state: &AdminState, cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(state.clone()));
    cfg.service(
        web::scope("")
            .guard(guard::fn_guard(|ctx| is_admin_path(ctx.head().uri.path())))
            .wrap(from_fn(security_headers::add))
            .configure(routes),
    );
}

/// The routes, inside the one scope of [`configure`].
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(login::root_get)))
        .service(web::scope("/static").route("/{name}", web::get().to(assets::static_get)))
        .service(
            web::resource("/.well-known/openid-configuration").route(web::get().to(oauth::discovery_get)),
        )
        .service(
            web::scope("/oauth")
                .route("/authorize", web::get().to(oauth::authorize_get))
                .route("/token", web::post().to(oauth::token_post))
                .route("/userinfo", web::get().to(oauth::userinfo))
                .route("/userinfo", web::post().to(oauth::userinfo))
                .route("/jwks", web::get().to(oauth::jwks_get))
                .route("/introspect", web::post().to(oauth::introspect_post))
                .default_service(web::to(login::not_found)),
        )
        .service(
            web::scope("/sso")
                .app_data(web::PayloadConfig::new(signin::ACS_BODY_LIMIT))
                .route("/{org}/start", web::get().to(signin::start_get))
                .route("/{org}/complete", web::get().to(signin::complete_get))
                .route("/saml/{org}/acs", web::post().to(signin::acs_post))
                .route("/oidc/{org}/callback", web::get().to(signin::oidc_callback_get))
                .route("/saml/{org}/metadata", web::get().to(signin::metadata_get))
                .default_service(web::to(login::not_found)),
        )
        .service(
            web::scope("/admin")
                .route("", web::get().to(login::admin_get))
                .route("/", web::get().to(login::admin_get))
                .route("/login", web::get().to(login::login_get))
                .route("/login", web::post().to(login::login_post))
                .route("/logout", web::post().to(login::logout_post))
                .route("/signed-out", web::get().to(login::signed_out_get))
                .route("/sso", web::get().to(signin::chooser_get))
                .service(
                    web::scope("/orgs/{org}")
                        .route("/sso", web::get().to(settings::settings_get))
                        .route("/sso/saml", web::post().to(connection::saml_post))
                        .route(
                            "/sso/saml/metadata",
                            web::post().to(connection::saml_metadata_post),
                        )
                        .route("/sso/azure", web::post().to(connection::azure_post))
                        .route("/sso/remove", web::get().to(connection::remove_get))
                        .route("/sso/remove", web::post().to(connection::remove_post))
                        .route("/scim/token", web::post().to(scim::generate_post))
                        .route("/scim/regenerate", web::get().to(scim::regenerate_get))
                        .route("/scim/regenerate", web::post().to(scim::regenerate_post))
                        .route("/scim/delete", web::get().to(scim::delete_get))
                        .route("/scim/delete", web::post().to(scim::delete_post))
                        .route("/members", web::get().to(members::members_get))
                        .route("/members/{id}", web::get().to(member::member_get))
                        .route("/groups", web::get().to(groups::groups_get))
                        .route("/groups/{id}", web::get().to(group::group_get))
                        .route("/limits", web::post().to(limits::limits_post))
                        .route("/attributes", web::post().to(attributes::attribute_post))
                        .route("/safety-valve", web::post().to(safety_valve::settings_post))
                        .route("/roles", web::post().to(roles::create_post))
                        .route("/roles/map", web::post().to(roles::map_post))
                        .route("/roles/unmap", web::post().to(roles::unmap_post))
                        .route("/roles/scim", web::post().to(roles::scim_post))
                        .route(
                            "/safety-valve/release",
                            web::post().to(safety_valve::release_post),
                        )
                        .route("/activity", web::get().to(activity::activity_get))
                        .route("/audit", web::get().to(audit::audit_get))
                        .route("/audit/export", web::get().to(audit::export::export_get))
                        .route("/signals", web::get().to(signals::signals_get))
                        .route("/webhooks", web::get().to(webhooks::webhooks_get))
                        .route("/webhooks", web::post().to(webhooks::create_post))
                        .route("/webhooks/{id}/test", web::post().to(webhooks::test_post))
                        .route("/webhooks/{id}/replay", web::post().to(webhooks::replay_post))
                        .route("/webhooks/{id}/delete", web::post().to(webhooks::delete_post)),
                )
                .default_service(web::to(login::not_found)),
        );
}
