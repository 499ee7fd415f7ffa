//! The webhooks page: editors add an endpoint (its secret shown once), send it a signed test event, see the
//! attempt with its status and latency, and delete it; members may not; a private URL is refused next to
//! the field unless the server allows it; every post needs the CSRF token.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::testing::TestDb;
use scimd_webhooks::{AddressPolicy, SigningSecret, WebhookService};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

/// One request as the receiver got it: its header lines and its body.
type Request = (Vec<String>, Vec<u8>);

/// A receiver on loopback that answers one request with 200 and hands it over.
fn one_shot_receiver() -> (String, std::thread::JoinHandle<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                break;
            }
            headers.push(line);
        }
        let len: usize = headers
            .iter()
            .find_map(|h| {
                h.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).unwrap();
        writer
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        (headers, body)
    });
    (url, handle)
}

fn header<'a>(headers: &'a [String], name: &str) -> &'a str {
    headers
        .iter()
        .filter_map(|h| h.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .unwrap_or_default()
}

fn allowing_loopback(ctx: Ctx, db: &TestDb) -> Ctx {
    let service = WebhookService::new(
        db.store.clone(),
        Arc::new(ctx.clock.clone()),
        None,
        AddressPolicy { allow_private: true },
    );
    Ctx {
        state: ctx.state.clone().with_webhooks(service),
        ..ctx
    }
}

/// The secret the reveal page shows.
fn revealed_secret(body: &str) -> String {
    text_of(body, "webhook-secret")
}

fn an_admin_adds_an_endpoint_tests_it_and_deletes_it(db: &TestDb) {
    run(async {
        let ctx = allowing_loopback(ctx(db), db);
        let app = app(&ctx).await;
        let admin = login(&app, &ctx, ADMIN).await;
        let empty = get(&app, Some(&admin), &url(&ctx, "webhooks")).await;
        assert_eq!(empty.status, StatusCode::OK);
        assert!(empty.body.contains("No endpoints yet"));

        let (receiver, got) = one_shot_receiver();
        let created = post(
            &app,
            &admin,
            &url(&ctx, "webhooks"),
            &[
                ("url", &receiver),
                ("event:user.deleted", "on"),
                ("event:group.deleted", "on"),
            ],
        )
        .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        let secret = revealed_secret(&created.body);
        assert!(secret.starts_with("whsec_"), "{secret}");
        assert!(created.body.contains("shown only once"));
        let secret = SigningSecret::parse(&secret).unwrap();

        let page = get(&app, Some(&admin), &url(&ctx, "webhooks")).await;
        assert!(page.body.contains(&receiver));
        // The checked types, and only those.
        let endpoint_row = row_from(&page.body, &receiver);
        assert!(
            endpoint_row.contains("group.deleted, user.deleted"),
            "{endpoint_row}"
        );
        assert!(!endpoint_row.contains("user.created"));
        assert!(
            !page.body.contains(secret.expose()),
            "the secret is never shown again"
        );
        let id = ctx
            .state
            .webhooks
            .list_blocking(Some(&ctx.org))
            .unwrap()
            .pop()
            .unwrap()
            .id;

        let tested = post(&app, &admin, &url(&ctx, &format!("webhooks/{id}/test")), &[]).await;
        assert_eq!(tested.status, StatusCode::SEE_OTHER, "{}", tested.body);
        assert!(
            tested.location().contains("notice=webhook_test_sent"),
            "{}",
            tested.location()
        );
        // A second test event within ten seconds is refused, with a notice that says so (and is not sent).
        let again = post(&app, &admin, &url(&ctx, &format!("webhooks/{id}/test")), &[]).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
        assert!(
            again.location().contains("notice=webhook_test_throttled"),
            "{}",
            again.location()
        );
        let (headers, body) = got.join().unwrap();
        let now = chrono::Utc::now().timestamp();
        assert!(scimd_webhooks::verify(
            &secret,
            header(&headers, "webhook-id"),
            header(&headers, "webhook-timestamp"),
            header(&headers, "webhook-signature"),
            &body,
            now
        ));
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["type"], "webhook.test");
        let page = get(&app, Some(&admin), tested.location()).await;
        assert!(page.body.contains("Test event delivered"));
        assert!(page.body.contains("webhook.test"));
        assert!(page.body.contains(" ms</td>"));

        // Replay from a cursor: the endpoint goes back there (and is enabled), audited; a bad cursor is 400.
        let replayed = post(
            &app,
            &admin,
            &url(&ctx, &format!("webhooks/{id}/replay")),
            &[("after", "0")],
        )
        .await;
        assert_eq!(replayed.status, StatusCode::SEE_OTHER, "{}", replayed.body);
        let row = ctx.state.webhooks.get_blocking(&id, Some(&ctx.org)).unwrap();
        assert_eq!((row.cursor, row.disabled_at), (0, None));
        let bad = post(
            &app,
            &admin,
            &url(&ctx, &format!("webhooks/{id}/replay")),
            &[("after", "-1")],
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        let deleted = post(&app, &admin, &url(&ctx, &format!("webhooks/{id}/delete")), &[]).await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER);
        assert!(
            ctx.state
                .webhooks
                .list_blocking(Some(&ctx.org))
                .unwrap()
                .is_empty()
        );
        let actions = audit_actions(db, &ctx.org);
        // L-5: the URL's scheme, host and port, never its path (receivers carry secrets there).
        let audited = db
            .store
            .read(|conn| scimd_store::models::audit_events::list(conn, &ctx.org, None, None, 1000))
            .unwrap();
        let webhook_rows: Vec<String> = audited
            .iter()
            .filter(|e| e.action.starts_with("webhook.c") || e.action.starts_with("webhook.d"))
            .map(|e| e.details.clone())
            .collect();
        assert_eq!(webhook_rows.len(), 2, "{webhook_rows:?}");
        let origin = receiver.trim_end_matches("/hook");
        for row in &webhook_rows {
            assert!(row.contains(origin), "{row}");
            assert!(!row.contains("/hook"), "the audit keeps the URL's path: {row}");
        }
        assert!(actions.contains(&"webhook.created".to_owned()), "{actions:?}");
        assert!(actions.contains(&"webhook.deleted".to_owned()), "{actions:?}");
        assert!(actions.contains(&"webhook.replayed".to_owned()), "{actions:?}");
    });
}

fn a_private_url_is_refused_next_to_the_field(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let admin = login(&app, &ctx, ADMIN).await;
        let res = post(
            &app,
            &admin,
            &url(&ctx, "webhooks"),
            &[("url", "http://127.0.0.1:9/x"), ("types", "")],
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains(r#"id="webhook-error""#) && res.body.contains("only to public addresses"));
        // The server setting that would allow it is the operator's, not the org admin's.
        assert!(!res.body.contains("SCIMD_"));
        assert!(
            res.body.contains(r#"value="http://127.0.0.1:9/x""#),
            "the form keeps what was typed"
        );
        let bad_type = post(
            &app,
            &admin,
            &url(&ctx, "webhooks"),
            &[("url", "https://hooks.example.com/x"), ("types", "user.exploded")],
        )
        .await;
        assert_eq!(bad_type.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The same refusal from the checkboxes, which come back checked.
        let checked = post(
            &app,
            &admin,
            &url(&ctx, "webhooks"),
            &[
                ("url", "http://127.0.0.1:9/x"),
                ("event:user.deleted", "on"),
                ("event:user.created", "on"),
            ],
        )
        .await;
        assert_eq!(checked.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            checked
                .body
                .contains(r#"name="event:user.deleted" value="on" id="event-user.deleted" checked>"#)
        );
        assert!(!checked.body.contains(r#"id="event-user.updated" checked"#));
        assert!(
            ctx.state
                .webhooks
                .list_blocking(Some(&ctx.org))
                .unwrap()
                .is_empty()
        );
    });
}

fn members_and_forged_posts_cannot_touch_webhooks(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let member = login(&app, &ctx, MEMBER).await;
        assert_eq!(
            get(&app, Some(&member), &url(&ctx, "webhooks")).await.status,
            StatusCode::FORBIDDEN
        );
        let res = post(
            &app,
            &member,
            &url(&ctx, "webhooks"),
            &[("url", "https://hooks.example.com/x")],
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let owner = login(&app, &ctx, OWNER).await;
        let forged = post_raw(
            &app,
            Some(&owner),
            &url(&ctx, "webhooks"),
            &[("url", "https://hooks.example.com/x")],
            Some(ORIGIN),
        )
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(
            ctx.state
                .webhooks
                .list_blocking(Some(&ctx.org))
                .unwrap()
                .is_empty()
        );
    });
}

scimd_store::backend_tests!(
    an_admin_adds_an_endpoint_tests_it_and_deletes_it,
    a_private_url_is_refused_next_to_the_field,
    members_and_forged_posts_cannot_touch_webhooks,
);
