//! A signed-in admin in a test service: an org with an owner, an admin and a member; login through the real
//! login link flow; GET and POST helpers that carry the cookie, the CSRF token and a same-origin `Origin`.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, test};
use chrono::Utc;
use diesel::prelude::*;
use scimd_admin::AdminState;
use scimd_signin::ConnectionService;
use scimd_store::models::organizations;
use scimd_store::testing::TestDb;
use scimd_store::{FixedClock, MemberId, OrgId};
use scimd_tokens::{SessionService, SigningKey, TokenService};
use std::sync::Arc;

pub const PUBLIC_URL: &str = "http://admin.test";
pub const ORIGIN: &str = "http://admin.test";
pub const OWNER: &str = "owner@acme.test";
pub const ADMIN: &str = "admin@acme.test";
pub const MEMBER: &str = "member@acme.test";
pub const CERT_PEM: &str = include_str!("fixtures/idp.pem");
pub const XSS_CERT_PEM: &str = include_str!("fixtures/idp_xss_subject.pem");
pub const TENANT: &str = "4d6f1a2b-9c3e-4f5a-8b7c-1d2e3f4a5b6c";
pub const CLIENT: &str = "7b0e2d6c-52a4-4c47-9b8c-2f1f0f4c8a11";

pub struct Ctx {
    pub state: AdminState,
    pub clock: FixedClock,
    pub org: OrgId,
}

/// Runs an async test body on an actix system.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    actix_web::rt::System::new().block_on(f)
}

pub fn ctx(db: &TestDb) -> Ctx {
    ctx_with_url(db, PUBLIC_URL)
}

pub fn ctx_with_url(db: &TestDb, public_url: &str) -> Ctx {
    let store = db.store.clone();
    let clock = FixedClock::new(Utc::now());
    let shared: Arc<dyn scimd_store::Clock> = Arc::new(clock.clone());
    let now = clock_now(&clock);
    let (org, _) = store
        .write(|conn| organizations::create_with_owner(conn, "Acme", Some(OWNER), now))
        .unwrap();
    let org = org.org_id();
    add_member(db, &org, ADMIN, "admin", Some("Ada Admin"), false);
    add_member(db, &org, MEMBER, "member", Some("Max Member"), true);
    let key = SigningKey::load_or_create(&store).unwrap();
    let state = AdminState::new(
        store.clone(),
        shared.clone(),
        TokenService::new(store.clone(), shared.clone(), public_url.to_owned()),
        SessionService::new(store.clone(), shared.clone(), key, public_url.to_owned()),
        ConnectionService::new(store, shared),
        public_url,
    );
    Ctx { state, clock, org }
}

fn clock_now(clock: &FixedClock) -> chrono::NaiveDateTime {
    use scimd_store::Clock;
    clock.now_naive()
}

/// Adds an active member with a role (and a display name, for the members page).
pub fn add_member(
    db: &TestDb,
    org: &OrgId,
    email: &str,
    role: &str,
    display_name: Option<&str>,
    scim_managed: bool,
) -> MemberId {
    scimd_store::testing::TestMember {
        org,
        email,
        role,
        display_name,
        scim_managed,
        now: Utc::now().naive_utc(),
    }
    .insert(&db.store)
    .unwrap()
}

/// Adds an active member provisioned by SCIM, with a display name.
pub fn add_scim_member(db: &TestDb, org: &OrgId, email: &str, display_name: &str) -> MemberId {
    add_member(db, org, email, "member", Some(display_name), true)
}

/// A change made to a member row behind the admin pages' back (by the IdP, or by another admin).
enum MemberChange<'a> {
    Deactivate,
    Role(&'a str),
}

fn change_member(db: &TestDb, user_name: &str, change: MemberChange<'_>) {
    use scimd_store::schema::members;
    let row = members::table.filter(members::user_name.eq(user_name));
    db.store
        .write(|conn| {
            match change {
                MemberChange::Deactivate => {
                    diesel::update(row).set(members::active.eq(false)).execute(conn)?
                }
                MemberChange::Role(role) => diesel::update(row).set(members::role.eq(role)).execute(conn)?,
            };
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
}

/// Deactivates the member whose userName is `user_name`, as deprovisioning does.
pub fn deactivate(db: &TestDb, user_name: &str) {
    change_member(db, user_name, MemberChange::Deactivate);
}

/// Gives the member whose userName is `user_name` another role.
pub fn set_role(db: &TestDb, user_name: &str, role: &str) {
    change_member(db, user_name, MemberChange::Role(role));
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The body as JSON (the audit export's JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }
}

pub async fn read<B: MessageBody>(res: ServiceResponse<B>) -> Resp {
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = test::read_body(res).await;
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The test service over the admin routes.
pub async fn app(
    ctx: &Ctx,
) -> impl Service<actix_http::Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>
{
    let state = ctx.state.clone();
    test::init_service(App::new().configure(move |cfg| scimd_admin::configure(&state, cfg))).await
}

/// What the helpers below drive: the test service (`app`), whatever its body type.
pub trait TestApp<B>:
    Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
{
}

impl<S, B> TestApp<B> for S where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
{
}

/// A signed-in browser: its session cookie.
#[derive(Clone)]
pub struct Browser {
    pub cookie_name: &'static str,
    pub cookie: String,
}

impl Browser {
    pub fn csrf(&self) -> String {
        scimd_admin::csrf::token_for_session(&self.cookie)
    }

    fn cookie_header(&self) -> String {
        format!("{}={}", self.cookie_name, self.cookie)
    }
}

pub fn cookie_value(set_cookie: &str) -> (String, String) {
    let pair = set_cookie.split(';').next().unwrap();
    let (name, value) = pair.split_once('=').unwrap();
    (name.to_owned(), value.to_owned())
}

/// A login link for `email`, as the CLI prints it: the token part.
pub fn login_token(ctx: &Ctx, email: &str) -> String {
    let link = ctx
        .state
        .sessions
        .issue_login_link_blocking(&ctx.org, email, "cli")
        .unwrap();
    link.url.split_once("token=").unwrap().1.to_owned()
}

/// Signs `email` in through the login link's landing page and its POST.
pub async fn login<S, B>(app: &S, ctx: &Ctx, email: &str) -> Browser
where
    S: TestApp<B>,
    B: MessageBody,
{
    let token = login_token(ctx, email);
    let landing = read(
        test::call_service(
            app,
            test::TestRequest::get()
                .uri(&format!("/admin/login?token={token}"))
                .to_request(),
        )
        .await,
    )
    .await;
    assert_eq!(landing.status, StatusCode::OK);
    let (login_cookie, nonce) = cookie_value(&landing.set_cookies()[0]);
    let res = post_login(
        app,
        &ctx.state.public_origin().unwrap(),
        &format!("{login_cookie}={nonce}"),
        &token,
        &nonce,
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let session = res
        .set_cookies()
        .into_iter()
        .find(|c| c.contains("scimd_session="))
        .unwrap();
    let (name, value) = cookie_value(&session);
    Browser {
        cookie_name: if name.starts_with("__Host-") {
            "__Host-scimd_session"
        } else {
            "scimd_session"
        },
        cookie: value,
    }
}

/// The login page's POST: `token` with the `csrf_token` the landing page's cookie holds, as the browser sends
/// them (`cookie` is the whole `Cookie` header).
pub async fn post_login<S, B>(app: &S, origin: &str, cookie: &str, token: &str, csrf: &str) -> Resp
where
    S: TestApp<B>,
    B: MessageBody,
{
    let req = test::TestRequest::post()
        .uri("/admin/login")
        .insert_header(("origin", origin))
        .insert_header(("cookie", cookie))
        .set_form([("token", token), ("csrf_token", csrf)]);
    read(test::call_service(app, req.to_request()).await).await
}

pub async fn get<S, B>(app: &S, browser: Option<&Browser>, uri: &str) -> Resp
where
    S: TestApp<B>,
    B: MessageBody,
{
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(b) = browser {
        req = req.insert_header(("cookie", b.cookie_header()));
    }
    read(test::call_service(app, req.to_request()).await).await
}

/// A form POST from our own origin with the session's CSRF token added.
pub async fn post<S, B>(app: &S, browser: &Browser, uri: &str, form: &[(&str, &str)]) -> Resp
where
    S: TestApp<B>,
    B: MessageBody,
{
    let csrf = browser.csrf();
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    fields.push(("csrf_token", &csrf));
    post_raw(app, Some(browser), uri, &fields, Some(ORIGIN)).await
}

/// A form POST exactly as given: no CSRF token added, `origin` as given.
pub async fn post_raw<S, B>(
    app: &S,
    browser: Option<&Browser>,
    uri: &str,
    form: &[(&str, &str)],
    origin: Option<&str>,
) -> Resp
where
    S: TestApp<B>,
    B: MessageBody,
{
    let mut req = test::TestRequest::post().uri(uri).set_form(form);
    if let Some(b) = browser {
        req = req.insert_header(("cookie", b.cookie_header()));
    }
    if let Some(origin) = origin {
        req = req.insert_header(("origin", origin));
    }
    read(test::call_service(app, req.to_request()).await).await
}

/// The SSO connection card's two forms.
pub enum SsoForm {
    /// Entity ID, SSO URL and signing certificate.
    Saml,
    /// Tenant ID, client ID and client secret.
    Azure,
}

/// POSTs one of the SSO card's forms with its three fields as typed, in the form's order.
pub async fn post_sso<S, B>(app: &S, browser: &Browser, ctx: &Ctx, form: SsoForm, values: [&str; 3]) -> Resp
where
    S: TestApp<B>,
    B: MessageBody,
{
    let (path, names) = match form {
        SsoForm::Saml => ("sso/saml", ["entity_id", "sso_url", "certificate"]),
        SsoForm::Azure => ("sso/azure", ["tenant_id", "client_id", "client_secret"]),
    };
    let fields: Vec<(&str, &str)> = names.into_iter().zip(values).collect();
    post(app, browser, &url(ctx, path), &fields).await
}

pub fn url(ctx: &Ctx, rest: &str) -> String {
    format!("/admin/orgs/{}/{rest}", ctx.org)
}

/// The audit actions recorded for the org, oldest first.
pub fn audit_actions(db: &TestDb, org: &OrgId) -> Vec<String> {
    let mut events = db
        .store
        .read(|conn| scimd_store::models::audit_events::list(conn, org, None, None, 1000))
        .unwrap();
    events.reverse();
    events.into_iter().map(|e| e.action).collect()
}

/// Saves an Azure AD connection directly through the service.
pub fn set_azure(ctx: &Ctx) {
    ctx.state
        .connection
        .set_azure_blocking(
            &ctx.org,
            "test",
            &scimd_signin::connection::AzureInput {
                tenant_id: TENANT.into(),
                client_id: CLIENT.into(),
                client_secret: Some(scimd_signin::connection::ClientSecret::new(
                    "azure-secret-value".into(),
                )),
            },
        )
        .unwrap();
}

/// The text of the element with this id: everything up to its closing tag, tags removed.
pub fn text_of(body: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let open_start = body[..at].rfind('<').unwrap();
    let tag: String = body[open_start + 1..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let content_start = at + body[at..].find('>').unwrap() + 1;
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    // The matching close tag, counting nested elements of the same name.
    let mut depth = 0;
    let mut pos = content_start;
    let content_end = loop {
        let next_close = pos + body[pos..].find(&close).unwrap();
        match body[pos..next_close].find(&open) {
            Some(o) => {
                depth += 1;
                pos += o + open.len();
            }
            None if depth == 0 => break next_close,
            None => {
                depth -= 1;
                pos = next_close + close.len();
            }
        }
    };
    let mut text = String::new();
    let mut in_tag = false;
    for c in body[content_start..content_end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `href` after which the page contains `needle` (a pager link), as written in the HTML.
pub fn href_with<'a>(body: &'a str, needle: &str) -> &'a str {
    body.split("href=\"")
        .find(|s| s.contains(needle))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
}

/// A link's URI with the `&` the template escaped decoded, to follow it.
pub fn unescape_amp(href: &str) -> String {
    href.replace("&#38;", "&").replace("&amp;", "&")
}

/// The page from the first `text` up to the end of its table row.
pub fn row_from<'a>(body: &'a str, text: &str) -> &'a str {
    let start = body.find(text).unwrap();
    let end = body[start..].find("</tr>").unwrap();
    &body[start..start + end]
}

/// The rows of the page's table, without the page frame (the top bar shows the signed-in email).
pub fn table_body(body: &str) -> &str {
    body.split("<tbody>")
        .nth(1)
        .and_then(|b| b.split("</tbody>").next())
        .unwrap_or("")
}
