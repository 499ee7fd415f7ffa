//! Sign-in through SAML in a real browser: headless Chromium, the real `scimd` binary on SQLite, and a fake
//! SAML IdP on another port of 127.0.0.1 that answers the AuthnRequest with a page whose button posts a signed
//! Entra-shaped response to the ACS. "Sign in with SSO" by e-mail, the Sign-in card, the page for someone the
//! org has not provisioned, and that refusal in the provisioning activity; screenshots in
//! `target/screenshots/`. Skipped like `browser.rs` when Chromium is missing.
//!
//! Then a second SAML sign-in in the same browser ends the older session (review 3, L-6), through a POST that
//! is really cross-site: the fake IdP's IdP-initiated page is opened as `http://localhost:{port}` while scimd
//! is `http://127.0.0.1:{port}`. Ports do not make sites, hosts do: `localhost` and `127.0.0.1` are two sites,
//! so Chromium sends no SameSite=Lax cookie (the session's, or over plain http the binding cookie) with that
//! POST. IdP-initiated, since a sign-in started at scimd needs its binding cookie on the POST, which only
//! https makes `SameSite=None`.

use crate::browser::{
    Driver, Server, browser_available, cli, click, connect, fill, screenshots_dir, shot, text_of,
};
use chrono::{TimeDelta, Utc};
use scimd_signin::ConnectionService;
use scimd_signin::connection::SamlInput;
use scimd_sso::testing::keys;
use scimd_sso::testing::saml_idp::{self, Mode, Signer, Spec};
use scimd_store::{Clock, OrgId, SystemClock};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Whom the fake IdP vouches for: the NameID (an e-mail) and Entra's object id.
#[derive(Clone)]
struct Subject {
    name_id: String,
    object_id: Option<String>,
}

/// The fake IdP: `GET /saml2?SAMLRequest=&RelayState=` answers a sign-in page whose form posts the signed
/// response to the request's ACS URL. Serves until the test process ends.
struct FakeIdp {
    sso_url: String,
    subject: Arc<Mutex<Subject>>,
}

impl FakeIdp {
    fn start(subject: Subject) -> FakeIdp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sso_url = format!("http://{}/saml2", listener.local_addr().unwrap());
        let subject = Arc::new(Mutex::new(subject));
        let shared = subject.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let subject = shared.lock().unwrap().clone();
                std::thread::spawn(move || serve(stream, &subject));
            }
        });
        FakeIdp { sso_url, subject }
    }

    fn assert_as(&self, name_id: &str, object_id: Option<&str>) {
        *self.subject.lock().unwrap() = Subject {
            name_id: name_id.to_owned(),
            object_id: object_id.map(str::to_owned),
        };
    }
}

/// One request on one connection, then close.
fn serve(mut stream: TcpStream, subject: &Subject) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split(' ').nth(1).unwrap_or("/");
    let (status, body) = match sign_in_page(target, subject) {
        Ok(page) => ("200 OK", page),
        Err(problem) => (
            "400 Bad Request",
            format!("<h1>Fake IdP</h1><p id=\"idp-error\">{}</p>", esc(&problem)),
        ),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: \
         no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn attribute(xml: &str, name: &str) -> Result<String, String> {
    let start = xml
        .find(&format!(" {name}=\""))
        .ok_or_else(|| format!("no {name} in {xml}"))?
        + name.len()
        + 3;
    Ok(xml[start..].split('"').next().unwrap_or_default().to_owned())
}

/// The page for `GET {target}`: `/saml2` decodes the AuthnRequest and signs a response answering it;
/// `/idp-initiated?sp={entity id}` signs an unsolicited one for that SP (its ACS is `{entity id}/acs`).
fn sign_in_page(target: &str, subject: &Subject) -> Result<String, String> {
    let url = url::Url::parse(&format!("http://idp{target}")).map_err(|e| e.to_string())?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| format!("{name} missing"))
    };
    let (acs_url, issuer, in_response_to, relay_state) = match url.path() {
        "/saml2" => {
            let xml = scimd_sso::saml::binding::decode_redirect(&param("SAMLRequest")?)
                .map_err(|e| e.to_string())?;
            let issuer = xml
                .split("<saml:Issuer>")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .ok_or("no Issuer")?
                .to_owned();
            (
                attribute(&xml, "AssertionConsumerServiceURL")?,
                issuer,
                Some(attribute(&xml, "ID")?),
                param("RelayState")?,
            )
        }
        "/idp-initiated" => {
            let sp = param("sp")?;
            (format!("{sp}/acs"), sp, None, String::new())
        }
        other => return Err(format!("no page at {other}")),
    };
    let spec = response(&acs_url, &issuer, in_response_to.as_deref(), subject);
    let signed = saml_idp::b64(&saml_idp::signed_xml(
        &spec,
        Mode::Assertion,
        &Signer::with(keys::idp()),
    ));
    Ok(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake IdP sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{margin:0;font:15px/1.5 system-ui,sans-serif;background:#eef1f6;color:#1b1f24}}
main{{max-width:420px;margin:64px auto;padding:32px;background:#fff;border-radius:10px;box-shadow:0 2px 12px #0002}}
.logo{{font-weight:700;color:#0b63ce;letter-spacing:.04em}}code{{word-break:break-all;font-size:13px}}
button{{width:100%;padding:10px;border:0;border-radius:6px;background:#0b63ce;color:#fff;font-size:15px}}</style>
</head><body><main><p class="logo">FAKE IdP</p><h1>Sign in</h1>
<p>Signing in to <code id="idp-audience">{audience}</code> as <strong id="idp-subject">{name}</strong>.</p>
<form method="post" action="{acs}">
<input type="hidden" name="SAMLResponse" value="{signed}">
<input type="hidden" name="RelayState" value="{relay}">
<button type="submit" id="idp-submit">Continue to scimd</button></form></main></body></html>"#,
        audience = esc(&issuer),
        name = esc(&subject.name_id),
        acs = esc(&acs_url),
        signed = esc(&signed),
        relay = esc(&relay_state),
    ))
}

/// A response as Entra sends it, now, answering the request `in_response_to` (or unsolicited), naming the
/// subject.
fn response(acs_url: &str, issuer: &str, in_response_to: Option<&str>, subject: &Subject) -> Spec {
    let now = Utc::now();
    Spec {
        response_id: format!("_r{}", uuid::Uuid::new_v4().simple()),
        assertion_id: format!("_a{}", uuid::Uuid::new_v4().simple()),
        destination: Some(acs_url.to_owned()),
        in_response_to: in_response_to.map(str::to_owned),
        recipient: acs_url.to_owned(),
        audience: issuer.to_owned(),
        issue_instant: now,
        not_before: now,
        not_on_or_after: now + TimeDelta::minutes(70),
        bearer_not_on_or_after: now + TimeDelta::minutes(5),
        name_id: subject.name_id.clone(),
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        object_id: subject.object_id.clone(),
        email: None,
        session_not_on_or_after: Some(now + TimeDelta::hours(8)),
        ..Spec::entra()
    }
}

const MEMBER: &str = "ada@acme.test";
const STRANGER: &str = "stranger@acme.test";

#[tokio::test]
async fn a_member_signs_in_with_saml_in_a_browser() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("scimd.db").display());
    let org = cli(
        dir.path(),
        &db,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--owner-email",
            "owner@acme.test",
            "--json",
        ],
    );
    let org_id = org["id"].as_str().unwrap().to_owned();
    let org = OrgId::new(org_id.clone());

    // The org signs in through the fake IdP, and the IdP provisions ada over SCIM.
    let idp = FakeIdp::start(Subject {
        name_id: MEMBER.into(),
        object_id: Some("oid-ada".into()),
    });
    let store = scimd_store::Store::connect(&db, scimd_store::StoreOptions::default()).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    ConnectionService::new(store.clone(), clock)
        .set_saml_blocking(
            &org,
            "test",
            &SamlInput {
                entity_id: saml_idp::IDP_ENTITY_ID.into(),
                sso_url: idp.sso_url.clone(),
                certificate_pem: keys::idp().cert_pem.clone(),
                // The IdP-initiated sign-in at the end.
                allow_unsolicited: true,
                ..SamlInput::default()
            },
        )
        .unwrap();
    let token = cli(
        dir.path(),
        &db,
        &["token", "generate", "--org", &org_id, "--json"],
    );
    let server = Server::start(dir.path(), &db);
    let base = server.base.clone();
    let scim = crate::scim_client::Client {
        addr: base.trim_start_matches("http://").parse().unwrap(),
        base: format!("/scim/v2/{org_id}"),
        token: Some(token["token"].as_str().unwrap().to_owned()),
    };
    let user = format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{MEMBER}","externalId":"oid-ada","active":true}}"#
    );
    let created = scim.send("POST", "/Users", Some(&user), &[]);
    assert_eq!(created.status, 201, "{}", created.body);

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = connect(&driver, profile.path()).await;
    c.set_window_size(1440, 1000).await.unwrap();
    let shots = screenshots_dir();
    let mut saved = Vec::new();

    // "Sign in with SSO", by e-mail: the chooser moves on to the org's start, which sends the browser to the IdP.
    c.goto(&format!("{base}/admin")).await.unwrap();
    click(&c, "#sign-in-sso", "#sso-continue").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/admin/sso");
    saved.push(shot(&c, &shots, "14a-sso-chooser", 1280).await);
    saved.push(shot(&c, &shots, "14a-sso-chooser-375", 375).await);
    fill(&c, "#email", MEMBER).await;
    click(&c, "#sso-continue", "#idp-submit").await;
    let at_idp = c.current_url().await.unwrap();
    assert_eq!(at_idp.as_str().split('?').next(), Some(idp.sso_url.as_str()));
    assert_eq!(
        text_of(&c, "#idp-audience").await,
        format!("{base}/sso/saml/{org_id}")
    );
    assert_eq!(text_of(&c, "#idp-subject").await, MEMBER);

    // The IdP's form posts to the ACS: signed in, on the org's SSO page, with the Sign-in card.
    click(&c, "#idp-submit", "#signin").await;
    let landed = c.current_url().await.unwrap();
    assert_eq!(
        landed.path(),
        format!("/admin/orgs/{org_id}/sso"),
        "{}",
        c.source().await.unwrap()
    );
    assert_eq!(text_of(&c, ".account-email").await, MEMBER);
    assert_eq!(
        text_of(&c, "#sp-entity-id").await,
        format!("{base}/sso/saml/{org_id}")
    );
    assert_eq!(
        text_of(&c, "#sp-acs-url").await,
        format!("{base}/sso/saml/{org_id}/acs")
    );
    assert_eq!(
        text_of(&c, "#sp-metadata-url").await,
        format!("{base}/sso/saml/{org_id}/metadata")
    );
    assert_eq!(
        text_of(&c, "#sp-start-url").await,
        format!("{base}/sso/{org_id}/start")
    );
    assert_eq!(text_of(&c, "#signin-status").await, "Members can sign in");
    // The screenshot is full height: the Sign-in card is in it below the connection.
    saved.push(shot(&c, &shots, "14b-sso-signin-card", 1280).await);
    saved.push(shot(&c, &shots, "14b-sso-signin-card-375", 375).await);

    // Signed out, someone the org does not have signs in at the org's start: the page says so.
    click(&c, "#sign-out", "#signed-out").await;
    idp.assert_as(STRANGER, Some("oid-stranger"));
    c.goto(&format!("{base}/sso/{org_id}/start")).await.unwrap();
    assert_eq!(text_of(&c, "#idp-subject").await, STRANGER);
    click(&c, "#idp-submit", "#error-title").await;
    assert_eq!(text_of(&c, "#error-title").await, "You do not have access yet");
    saved.push(shot(&c, &shots, "14c-sso-not-provisioned", 1280).await);
    saved.push(shot(&c, &shots, "14c-sso-not-provisioned-375", 375).await);
    c.goto(&format!("{base}/admin/orgs/{org_id}/sso")).await.unwrap();
    assert!(c.source().await.unwrap().contains("Sign in required"));

    // The refusal is in the provisioning activity, for an editor: ada, made an admin, signs in again.
    {
        use diesel::RunQueryDsl;
        let promote = format!("UPDATE members SET role = 'admin' WHERE user_name = '{MEMBER}'");
        let promoted = store
            .write(|conn| Ok::<_, scimd_store::StoreError>(diesel::sql_query(&promote).execute(conn)?))
            .unwrap();
        assert_eq!(promoted, 1);
    }
    idp.assert_as(MEMBER, Some("oid-ada"));
    c.goto(&format!("{base}/sso/{org_id}/start")).await.unwrap();
    click(&c, "#idp-submit", "#signin").await;
    assert_eq!(text_of(&c, ".account-email").await, MEMBER);
    c.goto(&format!("{base}/admin/orgs/{org_id}/activity"))
        .await
        .unwrap();
    let refusals = text_of(&c, "#signin-refusals-table").await;
    assert!(refusals.contains("not_provisioned"), "{refusals}");

    // Review 3, L-6: ada signs in again in this browser, from the IdP's own page on another site (localhost,
    // where scimd is 127.0.0.1), whose POST to the ACS carries no session cookie. The older session ends.
    let older = c
        .get_named_cookie("scimd_session")
        .await
        .unwrap()
        .value()
        .to_owned();
    let as_cookie = |value: &str| {
        let page = format!("/admin/orgs/{org_id}/sso");
        let cookie = format!("scimd_session={value}");
        scim.with_base(String::new())
            .with_token(None)
            .send("GET", &page, None, &[("Cookie", &cookie)])
            .status
    };
    assert_eq!(as_cookie(&older), 200);
    let idp_port = idp.sso_url.rsplit(':').next().unwrap().split('/').next().unwrap();
    let entity = url::form_urlencoded::byte_serialize(format!("{base}/sso/saml/{org_id}").as_bytes())
        .collect::<String>();
    c.goto(&format!("http://localhost:{idp_port}/idp-initiated?sp={entity}"))
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().host_str(), Some("localhost"));
    assert_eq!(text_of(&c, "#idp-subject").await, MEMBER);
    click(&c, "#idp-submit", "#signin").await;
    let landed = c.current_url().await.unwrap();
    assert_eq!(
        landed.path(),
        format!("/admin/orgs/{org_id}/sso"),
        "{}",
        c.source().await.unwrap()
    );
    assert_eq!(text_of(&c, ".account-email").await, MEMBER);
    let newer = c
        .get_named_cookie("scimd_session")
        .await
        .unwrap()
        .value()
        .to_owned();
    assert_ne!(newer, older);
    assert_eq!(as_cookie(&older), 401, "the older session is ended");
    assert_eq!(as_cookie(&newer), 200);
    // The audit page says why it ended.
    c.goto(&format!("{base}/admin/orgs/{org_id}/audit?action=admin.logout"))
        .await
        .unwrap();
    let audit = c.source().await.unwrap();
    assert!(audit.contains("replaced_by_login"), "{audit}");
    saved.push(shot(&c, &shots, "14d-sso-older-session-ended", 1280).await);

    c.close().await.unwrap();
    eprintln!("screenshots:");
    for path in saved {
        eprintln!("  {}", path.display());
    }
}
