//! scimd as a Shared Signals transmitter (issue #28), end to end with the real app on both backends, written
//! from SSF 1.0, RFC 8935/8936/8417 and RFC 9967. Every SET a test receives is verified with jwt-compact (a
//! JOSE library other than the one scimd signs with) against the key `jwks_uri` publishes.
//!
//! - the configuration document's fields;
//! - stream management and isolation: another key (of another org, or of the same org) neither sees nor
//!   changes a stream;
//! - each SCIM lifecycle step yields exactly its SETs, org A's only; a deprovisioning ends a session: CAEP;
//! - poll: redelivery until acknowledged, `setErrs`, long poll;
//! - verification; paused then resumed; removed subjects;
//! - push: in order, retried while the receiver fails, with the registered authorization header; a SET the
//!   receiver refuses as RFC 8935 §2.3 says (400, JSON `err`) is logged and not retried; a stream the
//!   transmitter disables tells its receiver with `stream-updated` (SSF §8.1.5), one attempt.

use crate::harness::ServerProcess;
use crate::scim_client::{Client, Reply};
use crate::test_app::TestApp;
use jwt_compact::alg::{Rsa, RsaPublicKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Token, UntrustedToken};
use scimd_store::testing::TestDb;
use scimd_store::{Clock, SystemClock};
use scimd_tokens::SessionService;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const RISC: &str = "https://schemas.openid.net/secevent/risc/event-type/";
const CAEP: &str = "https://schemas.openid.net/secevent/caep/event-type/";
const PROV: &str = "urn:ietf:params:scim:event:prov:";
const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";

fn all_events() -> Vec<String> {
    vec![
        format!("{CAEP}session-revoked"),
        format!("{RISC}account-disabled"),
        format!("{RISC}account-enabled"),
        format!("{RISC}account-purged"),
        format!("{PROV}create:full"),
        format!("{PROV}patch:notice"),
        format!("{PROV}delete"),
        format!("{PROV}activate"),
        format!("{PROV}deactivate"),
    ]
}

/// A receiver's client of the transmitter, with its API key.
struct Receiver {
    client: Client,
    store: scimd_store::Store,
}

/// Waits until every committed event of the feed has its position. On PostgreSQL the feed's sequencer may be
/// another process's (the server's workers), mid-batch, and a poll then makes the SETs of what it positioned
/// so far (the rest come with a later poll): a test that asserts what one poll returns settles first.
fn settle(store: &scimd_store::Store) {
    scimd_store::testing::settle_feed(store).unwrap();
}

impl Receiver {
    fn new(env: &TestApp, key: &str) -> Receiver {
        Receiver {
            client: env.client(String::new(), Some(key)),
            store: env.store.clone(),
        }
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let body = body.map(Value::to_string);
        self.client.send(
            method,
            path,
            body.as_deref(),
            &[("Content-Type", "application/json")],
        )
    }

    fn create(&self, body: &Value) -> Value {
        let r = self.send("POST", "/ssf/streams", Some(body));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    }

    /// A poll, once every committed event is positioned (see [`settle`]).
    fn poll(&self, stream: &str, body: &Value) -> Value {
        settle(&self.store);
        let r = self.send("POST", &format!("/ssf/poll/{stream}"), Some(body));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }

    /// The SETs waiting, acknowledged at once; returns them verified, in `jti` order of arrival is not
    /// kept by a JSON object, so they are sorted by the feed order scimd gave them (`iat`, then `txn`).
    fn drain(&self, stream: &str, keys: &Jwks) -> Vec<Value> {
        let got = self.poll(stream, &json!({"returnImmediately": true, "maxEvents": 100}));
        let sets = got["sets"].as_object().unwrap().clone();
        let ack: Vec<String> = sets.keys().cloned().collect();
        if !ack.is_empty() {
            self.poll(
                stream,
                &json!({"returnImmediately": true, "maxEvents": 0, "ack": ack}),
            );
        }
        sets.iter()
            .map(|(jti, token)| {
                let claims = keys.verify(token.as_str().unwrap());
                assert_eq!(claims["jti"], jti.as_str(), "the sets map is keyed by jti");
                claims
            })
            .collect()
    }
}

/// The published keys, and the checks every SET must pass (RFC 8417, SSF §4, CAEP interop §2.6, §2.8.1).
struct Jwks {
    keys: Vec<Value>,
    issuer: String,
}

impl Jwks {
    fn fetch(env: &TestApp) -> Jwks {
        let config = env.get("/.well-known/ssf-configuration").json();
        let issuer = config["issuer"].as_str().unwrap().to_owned();
        let path = config["jwks_uri"]
            .as_str()
            .unwrap()
            .strip_prefix(&issuer)
            .unwrap()
            .to_owned();
        let keys = env.get(&path).json()["keys"].as_array().unwrap().clone();
        Jwks { keys, issuer }
    }

    /// The verified claims of `token`, with `iat` put back in.
    fn verify(&self, token: &str) -> Value {
        let untrusted = UntrustedToken::new(token).unwrap();
        assert_eq!(untrusted.algorithm(), "RS256");
        let header = untrusted.header();
        assert_eq!(header.token_type.as_deref(), Some("secevent+jwt"));
        let kid = header.key_id.clone().expect("a kid");
        let jwk = self
            .keys
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap_or_else(|| panic!("kid {kid} is not in jwks_uri"));
        assert_eq!(jwk["kty"], "RSA");
        let n = jwk["n"].as_str().unwrap();
        assert!(n.len() * 6 / 8 >= 256, "an RSA key of at least 2048 bits");
        let public = json!({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]});
        let jwk: JsonWebKey<'_> = serde_json::from_value(public).unwrap();
        let key = RsaPublicKey::try_from(&jwk).unwrap();
        let verified: Token<Value> = Rsa::rs256().validator(&key).validate(&untrusted).unwrap();
        let claims = verified.claims();
        let iat = claims.issued_at.expect("iat").timestamp();
        assert!(claims.expiration.is_none(), "a SET has no exp");
        let mut body = claims.custom.clone();
        body["iat"] = json!(iat);
        assert_eq!(body["iss"], self.issuer.as_str());
        assert!(body.get("sub").is_none(), "no sub: the subject is sub_id");
        assert!(body["jti"].as_str().is_some_and(|j| j.len() >= 16));
        assert!(body["aud"].is_string() || body["aud"].is_array());
        assert!(body["sub_id"]["format"].is_string(), "{body}");
        assert_eq!(
            body["events"].as_object().map(|e| e.len()),
            Some(1),
            "exactly one event: {body}"
        );
        body
    }
}

fn event_type(set: &Value) -> String {
    set["events"].as_object().unwrap().keys().next().unwrap().clone()
}

fn types(sets: &[Value]) -> Vec<String> {
    let mut t: Vec<String> = sets.iter().map(event_type).collect();
    t.sort();
    t
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn create_user(client: &Client, name: &str) -> String {
    let body = json!({"schemas": [USER], "userName": name, "externalId": format!("ext-{name}"),
        "name": {"givenName": "Ada", "familyName": "Lovelace"}})
    .to_string();
    let r = client.send("POST", "/Users", Some(&body), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn set_active(client: &Client, id: &str, active: bool) {
    let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": active}}]});
    let r = client.send("PATCH", &format!("/Users/{id}"), Some(&body.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
}

fn discovery_has_every_field(db: &TestDb) {
    let env = TestApp::init(db);
    let r = env.get("/.well-known/ssf-configuration");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let c = r.json();
    let issuer = format!("http://{}", env.addr);
    assert_eq!(c["issuer"], issuer.as_str());
    assert_eq!(c["spec_version"], "1_0");
    assert_eq!(
        c["delivery_methods_supported"],
        json!(["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"])
    );
    for field in [
        "jwks_uri",
        "configuration_endpoint",
        "status_endpoint",
        "add_subject_endpoint",
        "remove_subject_endpoint",
        "verification_endpoint",
    ] {
        assert!(
            c[field].as_str().is_some_and(|u| u.starts_with(&issuer)),
            "{field}: {c}"
        );
    }
    assert_eq!(c["default_subjects"], "ALL");
    assert!(
        c["authorization_schemes"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    let keys = Jwks::fetch(&env);
    assert!(
        keys.keys
            .iter()
            .any(|k| k["alg"] == "RS256" && k["kid"].is_string())
    );
}

fn streams_are_managed_by_their_key_only(db: &TestDb) {
    let env = TestApp::init(db);
    let a = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let other_a = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let b = Receiver::new(&env, &env.api_key(Some(&env.b.id)));
    let anonymous = env.client(String::new(), None);

    let created = a.create(
        &json!({"events_requested": [format!("{RISC}account-disabled"), "urn:example:unknown"],
        "description": "okta"}),
    );
    let id = created["stream_id"].as_str().unwrap().to_owned();
    assert_eq!(created["iss"], format!("http://{}", env.addr).as_str());
    assert_eq!(
        created["delivery"]["method"], "urn:ietf:rfc:8936",
        "no delivery: poll"
    );
    assert!(
        created["delivery"]["endpoint_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/ssf/poll/{id}"))
    );
    assert_eq!(
        created["events_delivered"],
        json!([format!("{RISC}account-disabled")])
    );
    assert!(created["events_supported"].as_array().unwrap().len() >= 4);

    let one = a.send("GET", &format!("/ssf/streams?stream_id={id}"), None);
    assert_eq!(
        (one.status, one.json()["description"].clone()),
        (200, json!("okta"))
    );
    assert_eq!(
        a.send("GET", "/ssf/streams", None)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Nobody else reads it, changes it, or learns it exists.
    for other in [&other_a, &b] {
        assert_eq!(other.send("GET", "/ssf/streams", None).json(), json!([]));
        for (method, path, body) in [
            ("GET", format!("/ssf/streams?stream_id={id}"), None),
            (
                "PATCH",
                "/ssf/streams".to_owned(),
                Some(json!({"stream_id": id, "description": "x"})),
            ),
            ("PUT", "/ssf/streams".to_owned(), Some(json!({"stream_id": id}))),
            ("DELETE", format!("/ssf/streams?stream_id={id}"), None),
            ("GET", format!("/ssf/status?stream_id={id}"), None),
            (
                "POST",
                "/ssf/status".to_owned(),
                Some(json!({"stream_id": id, "status": "disabled"})),
            ),
            ("POST", "/ssf/verify".to_owned(), Some(json!({"stream_id": id}))),
            (
                "POST",
                format!("/ssf/poll/{id}"),
                Some(json!({"returnImmediately": true})),
            ),
            (
                "POST",
                "/ssf/subjects/remove".to_owned(),
                Some(json!({"stream_id": id, "subject": {"format": "email", "email": "x@a.example"}})),
            ),
        ] {
            let r = other.send(method, &path, body.as_ref());
            assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
        }
    }
    let r = anonymous.send("GET", "/ssf/streams", None, &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = anonymous.send(
        "POST",
        "/ssf/streams",
        Some("{}"),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(r.status, 401);

    // PATCH changes what it names; PUT replaces, dropping what it leaves out.
    let patched = a.send(
        "PATCH",
        "/ssf/streams",
        Some(&json!({"stream_id": id, "description": "okta prod"})),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.json()["description"], "okta prod");
    assert_eq!(patched.json()["events_requested"].as_array().unwrap().len(), 2);
    let replaced = a.send(
        "PUT",
        "/ssf/streams",
        Some(&json!({"stream_id": id, "events_requested": [format!("{PROV}delete")]})),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let replaced = replaced.json();
    assert!(replaced.get("description").is_none(), "{replaced}");
    assert_eq!(replaced["events_delivered"], json!([format!("{PROV}delete")]));
    // An authorization header a request cannot carry is refused.
    let bad_header = a.send(
        "PATCH",
        "/ssf/streams",
        Some(&json!({"stream_id": id,
        "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "http://127.0.0.1:9/ssf",
            "authorization_header": "Bearer caf\u{e9}"}})),
    );
    assert_eq!(bad_header.status, 400, "{}", bad_header.body);
    // A push endpoint on a private address is refused unless allowed (the test app allows loopback).
    let push = a.send(
        "PATCH",
        "/ssf/streams",
        Some(&json!({"stream_id": id,
        "delivery": {"method": "urn:ietf:rfc:8935"}})),
    );
    assert_eq!(push.status, 400, "a push delivery needs endpoint_url");

    // Status: read and changed; an unknown stream is 404.
    let status = a.send("GET", &format!("/ssf/status?stream_id={id}"), None).json();
    assert_eq!(status, json!({"stream_id": id, "status": "enabled"}));
    let paused = a.send(
        "POST",
        "/ssf/status",
        Some(&json!({"stream_id": id, "status": "paused", "reason": "maintenance"})),
    );
    assert_eq!(
        paused.json(),
        json!({"stream_id": id, "status": "paused", "reason": "maintenance"})
    );
    let bad = a.send(
        "POST",
        "/ssf/status",
        Some(&json!({"stream_id": id, "status": "sleeping"})),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(a.send("GET", "/ssf/status?stream_id=nope", None).status, 404);

    assert_eq!(
        a.send("DELETE", &format!("/ssf/streams?stream_id={id}"), None)
            .status,
        204
    );
    assert_eq!(
        a.send("GET", &format!("/ssf/streams?stream_id={id}"), None)
            .status,
        404
    );
}

fn each_scim_lifecycle_step_yields_exactly_its_sets(db: &TestDb) {
    let env = TestApp::init(db);
    let keys = Jwks::fetch(&env);
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let stream =
        receiver.create(&json!({"events_requested": all_events(), "aud": "https://receiver.example"}));
    let id = stream["stream_id"].as_str().unwrap().to_owned();
    let (scim_a, scim_b) = (env.client_a(), env.client_b());
    let org = env.a.id.to_string();

    let user = create_user(&scim_a, "ada@a.example");
    // Org B's changes never reach org A's stream.
    let other = create_user(&scim_b, "bob@b.example");
    set_active(&scim_b, &other, false);
    let sets = receiver.drain(&id, &keys);
    assert_eq!(types(&sets), [format!("{PROV}create:full")]);
    let created = &sets[0];
    assert_eq!(created["aud"], "https://receiver.example");
    assert_eq!(
        created["sub_id"],
        json!({"format": "scim", "uri": format!("/Users/{user}"), "externalId": "ext-ada@a.example"})
    );
    let data = &created["events"][format!("{PROV}create:full")]["data"];
    assert_eq!(
        (data["id"].as_str(), data["userName"].as_str()),
        (Some(user.as_str()), Some("ada@a.example"))
    );
    assert!(created["txn"].is_string());

    // Deactivation: RISC and RFC 9967, one change so one txn; and the member's admin session ends: CAEP.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sessions = SessionService::new(
        env.store.clone(),
        clock,
        env.session_key.clone(),
        "http://unused".into(),
    );
    let link = sessions
        .issue_login_link_blocking(&env.a.id, "ada@a.example", "test")
        .unwrap();
    let token = link.url.split("token=").nth(1).unwrap().to_owned();
    sessions.exchange_login_link_blocking(&token, None).unwrap();
    set_active(&scim_a, &user, false);
    let sets = receiver.drain(&id, &keys);
    assert_eq!(
        types(&sets),
        sorted(vec![
            format!("{CAEP}session-revoked"),
            format!("{RISC}account-disabled"),
            format!("{PROV}deactivate")
        ])
    );
    let account = json!({"format": "complex", "user": {"format": "iss_sub", "iss": keys.issuer, "sub": user},
        "tenant": {"format": "opaque", "id": org}});
    for set in &sets {
        let kind = event_type(set);
        if kind.starts_with(PROV) {
            assert_eq!(set["sub_id"]["uri"], format!("/Users/{user}").as_str());
        } else {
            assert_eq!(set["sub_id"], account, "{kind}");
        }
        if kind.ends_with("session-revoked") {
            let event = &set["events"][&kind];
            assert_eq!(event["initiating_entity"], "policy");
            assert!(
                event["reason_admin"]["en"]
                    .as_str()
                    .is_some_and(|r| !r.is_empty())
            );
            assert!(event["event_timestamp"].is_i64());
        }
    }
    let jtis: HashSet<&str> = sets.iter().map(|s| s["jti"].as_str().unwrap()).collect();
    assert_eq!(jtis.len(), sets.len(), "unique jti");

    set_active(&scim_a, &user, true);
    let sets = receiver.drain(&id, &keys);
    assert_eq!(
        types(&sets),
        sorted(vec![format!("{RISC}account-enabled"), format!("{PROV}activate")])
    );

    let r = scim_a.send("PATCH", &format!("/Users/{user}"),
        Some(&json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Ada L"}]}).to_string()), &[]);
    assert_eq!(r.status, 200);
    let sets = receiver.drain(&id, &keys);
    assert_eq!(types(&sets), [format!("{PROV}patch:notice")]);
    let notice = &sets[0]["events"][format!("{PROV}patch:notice")];
    assert!(
        notice["attributes"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("displayName")))
    );
    assert!(notice.get("data").is_none());

    assert_eq!(
        scim_a.send("DELETE", &format!("/Users/{user}"), None, &[]).status,
        204
    );
    let sets = receiver.drain(&id, &keys);
    assert_eq!(
        types(&sets),
        sorted(vec![format!("{RISC}account-purged"), format!("{PROV}delete")])
    );
    let delete = sets
        .iter()
        .find(|s| event_type(s).ends_with("prov:delete"))
        .unwrap();
    assert_eq!(delete["events"][format!("{PROV}delete")], json!({}));
    assert!(receiver.drain(&id, &keys).is_empty(), "nothing more");
}

fn polled_sets_come_back_until_acknowledged(db: &TestDb) {
    let env = TestApp::init(db);
    let keys = Jwks::fetch(&env);
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let id = receiver.create(&json!({"events_requested": [format!("{PROV}create:notice")]}))["stream_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scim = env.client_a();
    create_user(&scim, "one@a.example");
    create_user(&scim, "two@a.example");

    let first = receiver.poll(&id, &json!({"returnImmediately": true, "maxEvents": 1}));
    let sets = first["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(first["moreAvailable"], true);
    let (jti, token) = sets.iter().next().unwrap();
    let one = keys.verify(token.as_str().unwrap());
    assert!(one["events"][format!("{PROV}create:notice")]["attributes"].is_array());
    // Not acknowledged: the same SET (same jti, same token) again, first.
    let again = receiver.poll(&id, &json!({"returnImmediately": true, "maxEvents": 1}));
    assert_eq!(again["sets"][jti], *token);
    // Acknowledged: the next one; its error reported: gone too.
    let next = receiver.poll(
        &id,
        &json!({"returnImmediately": true, "maxEvents": 5, "ack": [jti]}),
    );
    let next_sets = next["sets"].as_object().unwrap();
    assert_eq!(next_sets.len(), 1);
    assert!(!next_sets.contains_key(jti));
    assert_eq!(next["moreAvailable"], false);
    let second = next_sets.keys().next().unwrap().clone();
    let after = receiver.poll(
        &id,
        &json!({"returnImmediately": true,
        "setErrs": {second.clone(): {"err": "invalid_key", "description": "unknown user"}}}),
    );
    assert_eq!(after["sets"], json!({}));

    // A long poll waits for the next change.
    let waiting = {
        let client = receiver.client.clone();
        let id = id.clone();
        std::thread::spawn(move || {
            let r = client.send(
                "POST",
                &format!("/ssf/poll/{id}"),
                Some(r#"{"maxEvents": 10}"#),
                &[("Content-Type", "application/json")],
            );
            assert_eq!(r.status, 200, "{}", r.body);
            r.json()
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let three = create_user(&scim, "three@a.example");
    let woke = waiting.join().unwrap();
    let sets = woke["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1, "{woke}");
    let set = keys.verify(sets.values().next().unwrap().as_str().unwrap());
    assert_eq!(set["sub_id"]["uri"], format!("/Users/{three}").as_str());
}

fn verification_and_pause_and_subjects(db: &TestDb) {
    let env = TestApp::init(db);
    let keys = Jwks::fetch(&env);
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let id = receiver.create(&json!({"events_requested": [format!("{RISC}account-disabled")]}))["stream_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scim = env.client_a();

    let r = receiver.send(
        "POST",
        "/ssf/verify",
        Some(&json!({"stream_id": id, "state": "VGhpcyBpcyBh"})),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let sets = receiver.drain(&id, &keys);
    assert_eq!(types(&sets), [VERIFICATION]);
    assert_eq!(sets[0]["events"][VERIFICATION], json!({"state": "VGhpcyBpcyBh"}));
    assert_eq!(sets[0]["sub_id"], json!({"format": "opaque", "id": id}));

    // Paused: held, then delivered on resume.
    let user = create_user(&scim, "held@a.example");
    receiver.send(
        "POST",
        "/ssf/status",
        Some(&json!({"stream_id": id, "status": "paused"})),
    );
    set_active(&scim, &user, false);
    assert!(
        receiver.drain(&id, &keys).is_empty(),
        "a paused stream transmits nothing"
    );
    receiver.send(
        "POST",
        "/ssf/status",
        Some(&json!({"stream_id": id, "status": "enabled"})),
    );
    let sets = receiver.drain(&id, &keys);
    assert_eq!(types(&sets), [format!("{RISC}account-disabled")]);
    assert_eq!(sets[0]["sub_id"]["user"]["sub"], user.as_str());

    // A removed subject's events are not sent; added back, they are.
    set_active(&scim, &user, true);
    let r = receiver.send(
        "POST",
        "/ssf/subjects/remove",
        Some(&json!({"stream_id": id, "subject": {"format": "email", "email": "HELD@a.example"}})),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    set_active(&scim, &user, false);
    assert!(receiver.drain(&id, &keys).is_empty());
    let r = receiver.send(
        "POST",
        "/ssf/subjects/add",
        Some(&json!({"stream_id": id, "subject": {"format": "iss_sub", "iss": keys.issuer, "sub": user}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    set_active(&scim, &user, true);
    set_active(&scim, &user, false);
    assert_eq!(
        types(&receiver.drain(&id, &keys)),
        [format!("{RISC}account-disabled")]
    );
    let unknown = receiver.send(
        "POST",
        "/ssf/subjects/add",
        Some(&json!({"stream_id": id, "subject": {"format": "email", "email": "bob@b.example"}})),
    );
    assert_eq!(unknown.status, 400);

    // Disabled: dropped, and enabled again it starts from new events.
    receiver.send(
        "POST",
        "/ssf/status",
        Some(&json!({"stream_id": id, "status": "disabled"})),
    );
    set_active(&scim, &user, true);
    set_active(&scim, &user, false);
    receiver.send(
        "POST",
        "/ssf/status",
        Some(&json!({"stream_id": id, "status": "enabled"})),
    );
    assert!(
        receiver.drain(&id, &keys).is_empty(),
        "what happened while disabled is dropped"
    );
}

/// A push receiver on loopback: records each request, answers 202, or 500 while told to fail.
#[derive(Debug, Clone)]
struct Push {
    content_type: String,
    authorization: String,
    body: String,
    status: u16,
}

#[derive(Default)]
struct PushState {
    received: Vec<Push>,
    fail_next: usize,
    fail_all: bool,
    /// Answers given before any other, in order: 400 with this body (empty: no body).
    refuse: std::collections::VecDeque<&'static str>,
    /// How long each answer waits (a slow receiver).
    delay: Duration,
}

fn push_receiver() -> (SocketAddr, Arc<Mutex<PushState>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(Mutex::new(PushState::default()));
    let shared = state.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let state = shared.clone();
            std::thread::spawn(move || serve_push(stream, &state));
        }
    });
    (addr, state)
}

fn serve_push(stream: TcpStream, state: &Mutex<PushState>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                break;
            }
            headers.push(line);
        }
        let header = |name: &str| {
            headers
                .iter()
                .filter_map(|h| h.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let mut body = vec![0u8; header("content-length").parse().unwrap_or(0)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, answer) = {
            let mut s = state.lock().unwrap();
            let refusal = s.refuse.pop_front();
            let status = if refusal.is_some() {
                400
            } else if s.fail_all || s.fail_next > 0 {
                s.fail_next = s.fail_next.saturating_sub(1);
                500
            } else {
                202
            };
            s.received.push(Push {
                content_type: header("content-type"),
                authorization: header("authorization"),
                body: String::from_utf8(body).unwrap(),
                status,
            });
            (status, refusal.unwrap_or_default())
        };
        let delay = state.lock().unwrap().delay;
        std::thread::sleep(delay);
        let reason = match status {
            202 => "Accepted",
            400 => "Bad Request",
            _ => "Internal Server Error",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        );
        if writer.write_all(format!("{head}{answer}").as_bytes()).is_err() {
            return;
        }
    }
}

fn pushed_sets_arrive_in_order_and_are_retried(db: &TestDb) {
    let env = TestApp::init(db);
    let keys = Jwks::fetch(&env);
    let (addr, state) = push_receiver();
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let stream = receiver.create(&json!({"events_requested": [format!("{PROV}create:full")],
        "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": format!("http://{addr}/events"),
            "authorization_header": "Bearer receiver-secret"}}));
    assert_eq!(
        stream["delivery"]["endpoint_url"],
        format!("http://{addr}/events").as_str()
    );
    assert!(
        stream["delivery"].get("authorization_header").is_none(),
        "never shown back"
    );
    // The first attempt fails: the second user's SET waits for the first one's retry.
    state.lock().unwrap().fail_next = 1;
    let scim = env.client_a();
    let first = create_user(&scim, "first@a.example");
    let second = create_user(&scim, "second@a.example");
    let deadline = Instant::now() + Duration::from_secs(120);
    let received = loop {
        let got = state.lock().unwrap().received.clone();
        if got.iter().filter(|p| p.status == 202).count() >= 2 {
            break got;
        }
        assert!(Instant::now() < deadline, "never delivered: {got:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(received[0].status, 500);
    let subjects: Vec<String> = received
        .iter()
        .map(|p| {
            assert_eq!(p.content_type, "application/secevent+jwt");
            assert_eq!(p.authorization, "Bearer receiver-secret");
            keys.verify(&p.body)["sub_id"]["uri"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        subjects,
        [
            format!("/Users/{first}"),
            format!("/Users/{first}"),
            format!("/Users/{second}")
        ],
        "the retried SET first, then the next, each accepted once"
    );
    let jti = |p: &Push| keys.verify(&p.body)["jti"].as_str().unwrap().to_owned();
    assert_eq!(jti(&received[0]), jti(&received[1]), "a retry is the same SET");

    // The org's admins see the stream, its state and its deliveries (the failed attempt among them).
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sessions = SessionService::new(
        env.store.clone(),
        clock,
        env.session_key.clone(),
        "http://unused".into(),
    );
    let link = sessions
        .issue_login_link_blocking(&env.a.id, "owner@a.example", "test")
        .unwrap();
    let token = link.url.split("token=").nth(1).unwrap().to_owned();
    let cookie = sessions
        .exchange_login_link_blocking(&token, None)
        .unwrap()
        .cookie_value;
    let page = env.client(String::new(), None).send(
        "GET",
        &format!("/admin/orgs/{}/signals", env.a.id),
        None,
        &[("Cookie", &format!("scimd_session={cookie}"))],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    let stream_id = stream["stream_id"].as_str().unwrap();
    assert!(page.body.contains(stream_id), "the stream is listed");
    assert!(
        page.body.contains(&jti(&received[0])),
        "its deliveries are listed"
    );
    assert!(page.body.contains("500"), "the failed attempt shows its status");
    // Org B's admins do not see org A's streams.
    let other = env.client(String::new(), None).send(
        "GET",
        &format!("/admin/orgs/{}/signals", env.b.id),
        None,
        &[("Cookie", &format!("scimd_session={cookie}"))],
    );
    assert!(!other.body.contains(stream_id));
}

/// RFC 8935 §2.3: a receiver that answers 400 with a JSON `err` refused that SET after validating it; the
/// transmitter records it in the delivery log and goes on with the next SET, never resending it. A 400
/// without that body says nothing of the SET: it is retried like any failure.
fn a_set_refused_with_an_error_code_is_logged_and_not_retried(db: &TestDb) {
    let env = TestApp::init(db);
    let keys = Jwks::fetch(&env);
    let (addr, state) = push_receiver();
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let stream = receiver.create(&json!({"events_requested": [format!("{PROV}create:full")],
        "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": format!("http://{addr}/events")}}));
    state.lock().unwrap().refuse.extend([
        r#"{"err": "invalid_audience", "description": "not our audience"}"#,
        "",
    ]);
    let scim = env.client_a();
    let first = create_user(&scim, "refused@a.example");
    let second = create_user(&scim, "retried@a.example");
    let third = create_user(&scim, "third@a.example");
    let received = wait_accepted(&state, 2);
    let seen: Vec<(u16, String)> = received
        .iter()
        .map(|p| {
            let set = keys.verify(&p.body);
            (p.status, set["sub_id"]["uri"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        seen,
        [
            (400, format!("/Users/{first}")),
            (400, format!("/Users/{second}")),
            (202, format!("/Users/{second}")),
            (202, format!("/Users/{third}")),
        ],
        "the refused SET is sent once; the bare 400 is retried, in order"
    );
    let jti = |p: &Push| keys.verify(&p.body)["jti"].as_str().unwrap().to_owned();
    let stream_id = stream["stream_id"].as_str().unwrap().to_owned();
    // The round's write (the log, the queue) follows the receiver's last answer: wait for it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let (log, waiting) = db
            .store
            .read(|conn| {
                let log = scimd_ssf::model::deliveries(conn, &stream_id, 50)?;
                let waiting = scimd_ssf::model::pending_count(conn, &stream_id)?;
                Ok::<_, scimd_store::StoreError>((log, waiting))
            })
            .unwrap();
        if waiting == 0 && log.iter().filter(|d| d.delivered).count() == 2 {
            break log;
        }
        assert!(Instant::now() < deadline, "{waiting} waiting; {log:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let refused: Vec<_> = log.iter().filter(|d| d.jti == jti(&received[0])).collect();
    assert_eq!(refused.len(), 1, "{log:?}");
    assert_eq!(refused[0].status_code, Some(400));
    assert!(!refused[0].delivered);
    assert_eq!(
        refused[0].error.as_deref(),
        Some("refused (invalid_audience): not our audience")
    );
    let retried: Vec<_> = log.iter().filter(|d| d.jti == jti(&received[1])).collect();
    assert_eq!(retried.len(), 2, "the bare 400, then the 202: {log:?}");
}

/// A push stream the transmitter disables (every push failed for days) tells its receiver so with a
/// `stream-updated` SET (SSF §8.1.5: `status` disabled, the `reason` its status shows), queued in the write
/// that disables it, in place of what waited. The disabled stream gets that one SET through and nothing else;
/// had the attempt failed too, it would be dropped (`one_attempt` below).
fn a_stream_the_transmitter_disables_tells_its_receiver(db: &TestDb) {
    use scimd_ssf::model::{self, Outcome};
    let org = crate::test_app::org_with_token(db, "A", None);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = scimd_tokens::ApiKeyService::new(db.store.clone(), clock.clone())
        .create_blocking("receiver", Some(&org.id))
        .unwrap();
    let owner = scimd_tokens::ApiKeyAuth {
        id: key.id,
        org: Some(org.id.clone()),
    };
    let issuer = "https://scimd.example.test";
    let service = scimd_ssf::SsfService::new(
        db.store.clone(),
        clock.clone(),
        issuer,
        None,
        scimd_webhooks::AddressPolicy { allow_private: true },
    );
    let keys = Jwks {
        keys: scimd_signin::oauth::OAuthProvider::new(db.store.clone(), clock, issuer, None)
            .jwks_blocking()
            .unwrap()["keys"]
            .as_array()
            .unwrap()
            .clone(),
        issuer: issuer.to_owned(),
    };
    let (addr, state) = push_receiver();
    let round = |service: &scimd_ssf::SsfService| {
        let worker = scimd_ssf::PushWorker::new(service.clone(), scimd_ssf::PushSettings::default());
        actix_web::rt::System::new().block_on(async move {
            let sender = std::rc::Rc::new(
                scimd_webhooks::client::Sender::new(
                    scimd_webhooks::AddressPolicy { allow_private: true },
                    Duration::from_secs(5),
                )
                .unwrap(),
            );
            worker.round(&sender).await.unwrap()
        })
    };
    let disable = |id: &str| {
        service.verify_blocking(&owner, id, Some("s")).unwrap();
        let now = SystemClock.now_naive();
        let claimed = db
            .store
            .write(|conn| {
                let latest = scimd_store::models::events::latest(conn)?;
                model::claim(
                    conn,
                    "test",
                    now,
                    now + chrono::Duration::minutes(1),
                    latest,
                    10,
                    10,
                )
            })
            .unwrap();
        let stream = claimed.into_iter().find(|s| s.id == id).expect("claimed");
        let outcome = Outcome::Failed {
            failures: 120,
            retry_at: now + chrono::Duration::hours(1),
            failing_since: now
                - chrono::Duration::days(model::DISABLE_AFTER_DAYS)
                - chrono::Duration::minutes(1),
        };
        assert!(
            service
                .finish_round_blocking(&stream, "test", &[], &[], &outcome, now)
                .unwrap()
        );
    };
    let input: scimd_ssf::service::StreamInput = serde_json::from_value(json!({
        "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": format!("http://{addr}/ssf")}}))
    .unwrap();
    let stream = service.create_blocking(&owner, &input).unwrap();
    disable(&stream.id);
    let after = service.get_blocking(&owner, &stream.id).unwrap();
    assert_eq!(after.status, "disabled");
    let waiting = db
        .store
        .read(|conn| model::pending(conn, &stream.id, 10))
        .unwrap();
    assert_eq!(
        waiting.iter().map(|p| p.event_type.as_str()).collect::<Vec<_>>(),
        ["https://schemas.openid.net/secevent/ssf/event-type/stream-updated"],
        "the verification SET that waited is dropped; the notice waits"
    );

    assert_eq!(round(&service), 1, "the disabled stream is leased for its notice");
    let got = state.lock().unwrap().received.clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let set = keys.verify(&got[0].body);
    let event = &set["events"]["https://schemas.openid.net/secevent/ssf/event-type/stream-updated"];
    assert_eq!(event["status"], "disabled");
    assert_eq!(event["reason"].as_str(), after.reason.as_deref());
    assert_eq!(set["sub_id"], json!({"format": "opaque", "id": stream.id}));
    assert_eq!(
        set["aud"],
        serde_json::from_str::<Value>(&stream.audience).unwrap()
    );
    assert_eq!(
        round(&service),
        0,
        "then nothing: a disabled stream is pushed no more"
    );
    assert_eq!(
        service.get_blocking(&owner, &stream.id).unwrap().status,
        "disabled"
    );

    // one_attempt: a notice whose push fails is dropped, not retried.
    let other = service.create_blocking(&owner, &input).unwrap();
    disable(&other.id);
    state.lock().unwrap().fail_all = true;
    assert_eq!(round(&service), 1);
    assert_eq!(state.lock().unwrap().received.len(), 2);
    let waiting = db
        .store
        .read(|conn| model::pending_count(conn, &other.id))
        .unwrap();
    assert_eq!(waiting, 0, "the failed notice is dropped");
    assert_eq!(round(&service), 0, "and not retried");
    assert_eq!(
        service.get_blocking(&owner, &other.id).unwrap().status,
        "disabled"
    );
}

/// Waits until the receiver accepted `n` SETs (two minutes at most: a lease of a killed process runs out in
/// one); returns everything it got.
fn wait_accepted(state: &Mutex<PushState>, n: usize) -> Vec<Push> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = state.lock().unwrap().received.clone();
        if got.iter().filter(|p| p.status == 202).count() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "only {} accepted",
            got.iter().filter(|p| p.status == 202).count()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Against the real binary: SETs pending when a server is killed (SIGKILL) are all delivered after it is
/// gone, by the two processes left on the database, each once and in feed order.
fn a_killed_server_loses_nothing_and_two_processes_deliver_each_set_once(db: &TestDb) {
    const ALLOW_PRIVATE: (&str, &str) = ("SCIMD_WEBHOOK_ALLOW_PRIVATE", "true");
    // The processes of one deployment share their public URL: the issuer of every SET, whichever made it.
    const PUBLIC_URL: (&str, &str) = ("SCIMD_PUBLIC_URL", "https://scimd.example.test");
    let org = crate::test_app::org_with_token(db, "A", None);
    let dir = tempfile::tempdir().unwrap();
    let (addr, state) = push_receiver();
    state.lock().unwrap().fail_all = true;
    let key = scimd_tokens::ApiKeyService::new(db.store.clone(), Arc::new(SystemClock))
        .create_blocking("receiver", Some(&org.id))
        .unwrap()
        .key;
    let mut first = ServerProcess::start_with(dir.path(), Some(&db.url), &[ALLOW_PRIVATE, PUBLIC_URL]);
    let second = ServerProcess::start_with(dir.path(), Some(&db.url), &[ALLOW_PRIVATE, PUBLIC_URL]);
    let receiver = Receiver {
        client: Client {
            addr: first.addr,
            base: String::new(),
            token: Some(key),
        },
        store: db.store.clone(),
    };
    receiver.create(&json!({"events_requested": [format!("{PROV}create:notice")],
        "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": format!("http://{addr}/events")}}));
    let scim = Client {
        addr: first.addr,
        base: format!("/scim/v2/{}", org.id),
        token: Some(org.token.clone()),
    };
    let users: Vec<String> = (0..12)
        .map(|i| create_user(&scim, &format!("u{i}@a.example")))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while state.lock().unwrap().received.is_empty() {
        assert!(Instant::now() < deadline, "no first attempt");
        std::thread::sleep(Duration::from_millis(20));
    }
    first.child.kill().unwrap(); // SIGKILL: no shutdown, no chance to finish anything
    first.child.wait().unwrap();
    state.lock().unwrap().fail_all = false;
    let third = ServerProcess::start_with(dir.path(), Some(&db.url), &[ALLOW_PRIVATE, PUBLIC_URL]);

    let got = wait_accepted(&state, users.len());
    let client = Client {
        addr: third.addr,
        base: String::new(),
        token: None,
    };
    let keys = Jwks {
        keys: client.get("/oauth/jwks").json()["keys"]
            .as_array()
            .unwrap()
            .clone(),
        issuer: PUBLIC_URL.1.to_owned(),
    };
    assert_eq!(
        client.get("/.well-known/ssf-configuration").json()["issuer"],
        PUBLIC_URL.1
    );
    let accepted: Vec<String> = got
        .iter()
        .filter(|p| p.status == 202)
        .map(|p| keys.verify(&p.body)["sub_id"]["uri"].as_str().unwrap().to_owned())
        .collect();
    let wanted: Vec<String> = users.iter().map(|u| format!("/Users/{u}")).collect();
    assert_eq!(accepted, wanted, "every SET accepted once, in feed order");
    drop((second, third));
}

/// A stream whose API key was revoked is pushed no more: with new events after its cursor it is not due.
fn a_revoked_keys_push_stream_is_pushed_no_more(db: &TestDb) {
    let env = TestApp::init(db);
    let keys = scimd_tokens::ApiKeyService::new(env.store.clone(), Arc::new(SystemClock));
    let key = keys.create_blocking("receiver", Some(&env.a.id)).unwrap();
    let (addr, state) = push_receiver();
    let receiver = Receiver::new(&env, &key.key);
    let stream = receiver.create(&json!({"events_requested": [format!("{PROV}create:notice")],
        "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": format!("http://{addr}/events")}}));
    let id = stream["stream_id"].as_str().unwrap().to_owned();
    assert!(keys.revoke_blocking(&key.id).unwrap());
    create_user(&env.client_a(), "late@a.example");
    scimd_store::models::events::catch_up(&env.store).unwrap();
    let now = SystemClock.now_naive();
    let (due, cursor, latest) = env
        .store
        .read(|conn| {
            let latest = scimd_store::models::events::latest(conn)?;
            let cursor = scimd_ssf::model::get(conn, &id)?.unwrap().cursor;
            Ok::<_, scimd_store::StoreError>((scimd_ssf::model::any_due(conn, now, latest)?, cursor, latest))
        })
        .unwrap();
    assert!(cursor < latest, "the stream has work");
    assert!(!due, "but its key is revoked");
    assert!(state.lock().unwrap().received.is_empty());
    assert_eq!(receiver.send("GET", "/ssf/streams", None).status, 401);
}

/// A receiver's key is held to the platform API's per-key limits: past its burst, 429 with `Retry-After`.
fn a_receiver_is_held_to_its_keys_limits(db: &TestDb) {
    let env = TestApp::init_with(db, &["--org-rate", "1", "--org-burst", "3"]);
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let statuses: Vec<u16> = (0..6)
        .map(|_| receiver.send("GET", "/ssf/streams", None).status)
        .collect();
    assert_eq!(&statuses[..3], [200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let limited = receiver.send("GET", "/ssf/streams", None);
    assert_eq!(limited.status, 429);
    assert!(
        limited
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1))
    );
    assert_eq!(limited.json()["err"], "rate_limited");
}

/// Every deprovisioning shape of the Okta and Entra replays (Okta's path-less PATCH, Entra's `Replace` with
/// `"False"`, PUT `active: false`, DELETE) yields exactly its RISC and RFC 9967 SETs, once.
fn every_deprovisioning_shape_yields_exactly_its_sets(db: &TestDb) {
    let env = TestApp::init(db);
    let keys = Jwks::fetch(&env);
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let id = receiver.create(&json!({"events_requested": all_events()}))["stream_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scim = env.client_a();
    let patch = |ops: Value| json!({"schemas": [PATCH], "Operations": ops}).to_string();
    let disabled = sorted(vec![
        format!("{RISC}account-disabled"),
        format!("{PROV}deactivate"),
    ]);
    let purged = sorted(vec![format!("{RISC}account-purged"), format!("{PROV}delete")]);
    for (i, (shape, method, body, wanted)) in [
        (
            "Okta path-less PATCH",
            "PATCH",
            Some(patch(json!([{"op": "replace", "value": {"active": false}}]))),
            &disabled,
        ),
        (
            "Entra Replace \"False\"",
            "PATCH",
            Some(patch(
                json!([{"op": "Replace", "path": "active", "value": "False"}]),
            )),
            &disabled,
        ),
        ("PUT active false", "PUT", None, &disabled),
        ("DELETE", "DELETE", None, &purged),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("shape{i}@a.example");
        let user = create_user(&scim, &name);
        receiver.drain(&id, &keys);
        let body = match (method, body) {
            ("PUT", _) => Some(json!({"schemas": [USER], "userName": name, "active": false}).to_string()),
            (_, body) => body,
        };
        let r = scim.send(method, &format!("/Users/{user}"), body.as_deref(), &[]);
        assert!(r.status == 200 || r.status == 204, "{shape}: {}", r.body);
        let sets = receiver.drain(&id, &keys);
        assert_eq!(&types(&sets), wanted, "{shape}");
        assert!(
            sets.iter().all(|s| s["txn"] == sets[0]["txn"]),
            "{shape}: one change, one txn"
        );
    }
}

/// A push stream whose every attempt failed for `DISABLE_AFTER_DAYS` is disabled by the transmitter, its
/// status saying why, and its waiting SETs dropped.
fn a_stream_failing_for_days_is_disabled_and_says_so(db: &TestDb) {
    use scimd_ssf::model::{self, Outcome};
    let org = crate::test_app::org_with_token(db, "A", None);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = scimd_tokens::ApiKeyService::new(db.store.clone(), clock.clone())
        .create_blocking("receiver", Some(&org.id))
        .unwrap();
    let owner = scimd_tokens::ApiKeyAuth {
        id: key.id,
        org: Some(org.id.clone()),
    };
    let service = scimd_ssf::SsfService::new(
        db.store.clone(),
        clock,
        "https://scimd.example.test",
        None,
        scimd_webhooks::AddressPolicy { allow_private: true },
    );
    let input: scimd_ssf::service::StreamInput = serde_json::from_value(json!({
        "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "http://127.0.0.1:9/ssf"}}))
    .unwrap();
    let stream = service.create_blocking(&owner, &input).unwrap();
    service.verify_blocking(&owner, &stream.id, Some("s")).unwrap();
    let now = SystemClock.now_naive();
    let failing_since =
        now - chrono::Duration::days(model::DISABLE_AFTER_DAYS) - chrono::Duration::minutes(1);
    db.store
        .write(|conn| {
            let latest = scimd_store::models::events::latest(conn)?;
            let claimed = model::claim(
                conn,
                "test",
                now,
                now + chrono::Duration::minutes(1),
                latest,
                10,
                10,
            )?;
            assert_eq!(claimed.len(), 1, "a verification SET waits: the stream has work");
            let outcome = Outcome::Failed {
                failures: 120,
                retry_at: now,
                failing_since,
            };
            assert!(model::finish(conn, &stream.id, "test", &[], &[], &outcome, now)?);
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
    let after = service.get_blocking(&owner, &stream.id).unwrap();
    assert_eq!(after.status, "disabled");
    assert!(
        after.reason.as_deref().is_some_and(|r| r.contains("days")),
        "{:?}",
        after.reason
    );
    let waiting = db
        .store
        .read(|conn| model::pending_count(conn, &stream.id))
        .unwrap();
    assert_eq!(waiting, 0, "a disabled stream drops what waited");
    let status = scimd_ssf::SsfService::render_status(&after);
    assert_eq!(status["status"], "disabled");
    assert!(status["reason"].is_string());
}

/// What each step of the Okta and Entra replays (`scim_replay::{OKTA, ENTRA}`) must yield on a stream that
/// asked for every event type: `TYPE SUBJECT`, the type without its standard's prefix (`risc:`, `caep:`,
/// `prov:`) and the subject as `/Users/{var}` or `/Groups/{var}` (RFC 9967's `scim` format) or `acct:{var}`
/// (the CAEP/RISC complex subject of org A); `{?}` is a resource the replay does not name. `full` wins over
/// `notice` when both are asked for.
const OKTA_SETS: &[(&str, &[&str])] = &[
    ("lookup before create", &[]),
    ("create", &["prov:create:full /Users/{user}"]),
    ("lookup after create, any case", &[]),
    ("create again is a conflict", &[]),
    ("get", &[]),
    ("PUT update", &["prov:put:full /Users/{user}"]),
    (
        "path-less PATCH deactivate",
        &[
            "risc:account-disabled acct:{user}",
            "prov:deactivate /Users/{user}",
        ],
    ),
    ("deactivate again is fine", &[]),
    (
        "reactivate",
        &["risc:account-enabled acct:{user}", "prov:activate /Users/{user}"],
    ),
    ("group push: create", &["prov:create:full /Groups/{group}"]),
    ("group lookup", &[]),
    ("group rename echoing id", &["prov:patch:full /Groups/{group}"]),
    ("member add", &["prov:patch:full /Groups/{group}"]),
    ("group shows the member", &[]),
    ("user shows the group", &[]),
    ("member remove", &["prov:patch:full /Groups/{group}"]),
    ("group has no member", &[]),
    ("replace members with [] (Okta)", &[]),
    ("group delete", &["prov:delete /Groups/{group}"]),
    ("group gone", &[]),
];

const ENTRA_SETS: &[(&str, &[&str])] = &[
    ("Test Connection: base URL", &[]),
    ("Test Connection: random lookup", &[]),
    ("lookup by externalId, unquoted", &[]),
    (
        "create with the enterprise extension",
        &["prov:create:full /Users/{user}"],
    ),
    ("lookup by userName", &[]),
    ("lookup by externalId, unquoted, finds it", &[]),
    ("manager and work email", &["prov:patch:full /Users/{user}"]),
    ("path-less dotted keys", &["prov:patch:full /Users/{user}"]),
    (
        "disable with \"False\"",
        &[
            "risc:account-disabled acct:{user}",
            "prov:deactivate /Users/{user}",
        ],
    ),
    ("filter on the work email", &[]),
    ("second user", &["prov:create:full /Users/{u2}"]),
    ("third user", &["prov:create:full /Users/{u3}"]),
    ("group create", &["prov:create:full /Groups/{group}"]),
    ("group lookup without members", &[]),
    ("members added, first batch", &["prov:patch:full /Groups/{group}"]),
    (
        "members added, second batch",
        &["prov:patch:full /Groups/{group}"],
    ),
    ("read with excludedAttributes=members", &[]),
    ("read with members", &[]),
    ("members removed in a batch", &["prov:patch:full /Groups/{group}"]),
    ("one member left", &[]),
    ("group filter by member", &[]),
    (
        "delete user",
        &["risc:account-purged acct:{user}", "prov:delete /Users/{user}"],
    ),
    ("deleted user is gone", &[]),
    ("and its userName is free", &["prov:create:full /Users/{?}"]),
];

/// A verified SET as `TYPE SUBJECT` (see [`OKTA_SETS`]), the ids named back by the replay's variables.
fn describe(set: &Value, keys: &Jwks, org: &str, vars: &std::collections::HashMap<String, String>) -> String {
    let kind = event_type(set)
        .replace(RISC, "risc:")
        .replace(CAEP, "caep:")
        .replace("urn:ietf:params:scim:event:", "");
    let name = |id: &str| {
        vars.iter()
            .find(|(_, v)| v.as_str() == id)
            .map_or("{?}".to_owned(), |(k, _)| format!("{{{k}}}"))
    };
    let sub = &set["sub_id"];
    let subject = match sub["format"].as_str() {
        Some("scim") => {
            let uri = sub["uri"].as_str().unwrap();
            let (collection, id) = uri.rsplit_once('/').unwrap();
            format!("{collection}/{}", name(id))
        }
        Some("complex") => {
            assert_eq!(sub["user"]["format"], "iss_sub");
            assert_eq!(sub["user"]["iss"], keys.issuer.as_str());
            assert_eq!(sub["tenant"], json!({"format": "opaque", "id": org}));
            format!("acct:{}", name(sub["user"]["sub"].as_str().unwrap()))
        }
        other => panic!("unexpected subject format {other:?}: {sub}"),
    };
    format!("{kind} {subject}")
}

fn the_okta_and_entra_replays_yield_exactly_each_steps_sets(db: &TestDb) {
    use crate::scim_client::{Step, replay_each};
    use crate::scim_replay::{ENTRA, OKTA};
    let env = TestApp::init(db);
    let keys = Jwks::fetch(&env);
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    // Every type the transmitter supports, as it lists them.
    let supported = receiver.create(&json!({}))["events_supported"].clone();
    let stream = receiver.create(&json!({"events_requested": supported}));
    assert_eq!(stream["events_delivered"], supported);
    let id = stream["stream_id"].as_str().unwrap().to_owned();
    let org = env.a.id.to_string();
    for (label, steps, table) in [("okta", OKTA, OKTA_SETS), ("entra", ENTRA, ENTRA_SETS)] {
        let names: Vec<&str> = steps.iter().map(|s| s.what).collect();
        let listed: Vec<&str> = table.iter().map(|(what, _)| *what).collect();
        assert_eq!(
            listed, names,
            "{label}: the table lists every step of the replay, in order"
        );
        let check = |step: &Step, vars: &std::collections::HashMap<String, String>| {
            let sets = receiver.drain(&id, &keys);
            let mut got: Vec<String> = sets.iter().map(|s| describe(s, &keys, &org, vars)).collect();
            got.sort();
            let (_, wanted) = table.iter().find(|(what, _)| *what == step.what).unwrap();
            let mut wanted: Vec<String> = wanted.iter().map(|s| (*s).to_owned()).collect();
            wanted.sort();
            assert_eq!(got, wanted, "{label}: {}", step.what);
            assert!(
                sets.iter()
                    .all(|s| s["txn"].is_string() && s["txn"] == sets[0]["txn"]),
                "{label}: {}: one change, one txn",
                step.what
            );
            for set in &sets {
                assert_eq!(set["aud"], stream["aud"]);
            }
        };
        replay_each(&env.client_a(), steps, label, check);
    }
    assert!(receiver.drain(&id, &keys).is_empty(), "nothing more");
}

/// Issue #26's `user.roles_changed` on a stream: CAEP `token-claims-change` with the member's effective roles
/// after the change as `claims.roles` (the ID token's `roles` claim), for a member added to and removed from
/// a group mapped to a role.
fn a_roles_change_is_a_token_claims_change(db: &TestDb) {
    use scimd_store::models::members::Role;
    use scimd_store::provisioning::WriteCtx;
    use scimd_store::provisioning::roles::{self, Acting};
    let env = TestApp::init(db);
    let keys = Jwks::fetch(&env);
    let receiver = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let claims_change = format!("{CAEP}token-claims-change");
    let id = receiver.create(&json!({"events_requested": [claims_change, format!("{PROV}patch:notice")]}))
        ["stream_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scim = env.client_a();
    let user = create_user(&scim, "roles@a.example");
    let r = scim.send(
        "POST",
        "/Groups",
        Some(
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Deployers"})
                .to_string(),
        ),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let group = r.json()["id"].as_str().unwrap().to_owned();
    let ctx = WriteCtx {
        org: env.a.id.clone(),
        actor: "cli".into(),
        now: SystemClock.now_naive(),
    };
    env.store
        .write(|c| roles::create_role(c, Some(&env.a.id), "cli", "deployer", ctx.now))
        .unwrap();
    env.store
        .write(|c| roles::map(c, &ctx, Acting(Role::Admin), &group, "deployer", roles::JOB_BATCH))
        .unwrap();
    assert!(
        receiver.drain(&id, &keys).is_empty(),
        "an empty group's mapping changes no one's roles"
    );

    let members = |op: &str| {
        let value = json!([{"value": user}]);
        let body = if op == "add" {
            json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": value}]})
        } else {
            json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]})
        };
        let r = scim.send("PATCH", &format!("/Groups/{group}"), Some(&body.to_string()), &[]);
        assert!(r.status == 200 || r.status == 204, "{}", r.body);
        let sets = receiver.drain(&id, &keys);
        assert_eq!(
            types(&sets),
            sorted(vec![claims_change.clone(), format!("{PROV}patch:notice")]),
            "{op}"
        );
        let claims = sets.iter().find(|s| event_type(s) == claims_change).unwrap();
        assert_eq!(claims["sub_id"]["user"]["sub"], user.as_str());
        assert_eq!(claims["sub_id"]["tenant"]["id"], env.a.id.as_str());
        let event = &claims["events"][&claims_change];
        assert!(event["event_timestamp"].is_i64());
        let notice = sets.iter().find(|s| event_type(s) != claims_change).unwrap();
        assert_eq!(notice["sub_id"]["uri"], format!("/Groups/{group}").as_str());
        assert_eq!(
            notice["events"][format!("{PROV}patch:notice")]["attributes"],
            json!(["members"])
        );
        event["claims"].clone()
    };
    assert_eq!(members("add"), json!({"roles": ["member", "deployer"]}));
    assert_eq!(members("remove"), json!({"roles": ["member"]}));
}

/// The push streams' delivery log, in the order it was written (`seq`), of the streams `ids`.
fn logged(db: &TestDb, ids: &[String]) -> Vec<i64> {
    ids.iter()
        .flat_map(|id| {
            db.store
                .read(|conn| scimd_ssf::model::deliveries(conn, id, 100))
                .unwrap()
        })
        .map(|d| d.seq)
        .collect()
}

/// One org's slow receiver never delays another org's stream (the webhooks' per-org share): org A's eight
/// push streams to a slow receiver, each with a backlog, hold at most `per_org` (2) of the worker's slots, and
/// org B's SET is delivered, and logged, before any of A's rounds ends. Asserted by the order of the delivery
/// log, not by a time.
fn a_slow_orgs_streams_leave_room_for_another_orgs_stream(db: &TestDb) {
    let env = TestApp::init(db);
    let (slow, slow_state) = push_receiver();
    slow_state.lock().unwrap().delay = Duration::from_millis(600);
    let (fast, fast_state) = push_receiver();
    let push = |addr: SocketAddr| {
        json!({"events_requested": [format!("{PROV}create:full")],
            "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": format!("http://{addr}/events")}})
    };
    let status = |receiver: &Receiver, id: &str, status: &str| {
        let r = receiver.send(
            "POST",
            "/ssf/status",
            Some(&json!({"stream_id": id, "status": status})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    };
    let a_key = Receiver::new(&env, &env.api_key(Some(&env.a.id)));
    let a: Vec<String> = (0..8)
        .map(|_| {
            a_key.create(&push(slow))["stream_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // Paused while org A's backlog commits (a paused stream holds its events), then all due at once.
    for id in &a {
        status(&a_key, id, "paused");
    }
    for i in 0..5 {
        create_user(&env.client_a(), &format!("a{i}@a.example"));
    }
    for id in &a {
        status(&a_key, id, "enabled");
    }
    // B's stream comes after A's in the claims' order (the most overdue first): without the share A's streams
    // would take every slot first.
    let b_key = Receiver::new(&env, &env.api_key(Some(&env.b.id)));
    let b = b_key.create(&push(fast))["stream_id"]
        .as_str()
        .unwrap()
        .to_owned();
    create_user(&env.client_b(), "b@b.example");

    wait_accepted(&fast_state, 1);
    wait_accepted(&slow_state, 40);
    // A round logs its attempts when it ends: wait for the log to hold them all.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (a_log, b_log) = loop {
        let (a_log, b_log) = (logged(db, &a), logged(db, std::slice::from_ref(&b)));
        if a_log.len() >= 40 && !b_log.is_empty() {
            break (a_log, b_log);
        }
        assert!(Instant::now() < deadline, "the log never held every attempt");
        std::thread::sleep(Duration::from_millis(50));
    };
    let b_at = b_log.iter().min().copied().unwrap();
    let a_before_b = a_log.iter().filter(|seq| **seq < b_at).count();
    // Org A holds two slots and B's stream takes a free one at once: B's SET is logged before any of A's
    // rounds (5 SETs, 3 s each) ends. Without the share, all eight slots went to A and B waited for a round
    // to end (5 or more of A's first); without a slot refilled at once, for the slowest of them (40).
    assert!(
        a_before_b < 5,
        "{a_before_b} of org A's {} attempts were logged before org B's one",
        a_log.len()
    );
}

/// The push worker's look for work (`model::any_due`, and the claim's candidates) reads an index of the push
/// streams that may have work (migration `ssf_due_index`), never every stream: on SQLite its plan searches
/// `ssf_streams_push_due` and `ssf_pending_notices` and scans no table; on PostgreSQL (no statistics), among
/// 3,000 poll, paused and transmitter-disabled push streams of no work, it reads a handful of rows and index
/// entries of `ssf_streams`.
fn the_due_streams_look_reads_an_index_not_every_stream(db: &TestDb) {
    use diesel::RunQueryDsl;
    use diesel::sql_types::{BigInt, Text, Timestamp};
    use scimd_store::{DbConnection, StoreError};
    let now = SystemClock.now_naive();
    if db.conn_backend_name() == "sqlite" {
        #[derive(diesel::QueryableByName)]
        struct Plan {
            #[diesel(sql_type = Text)]
            detail: String,
        }
        let plan: Vec<String> = db
            .store
            .read(|conn| {
                let sql = format!("EXPLAIN QUERY PLAN {}", scimd_ssf::model::candidates_sql(conn));
                diesel::sql_query(sql)
                    .bind::<Timestamp, _>(now)
                    .bind::<BigInt, _>(0)
                    .load::<Plan>(conn)
                    .map_err(StoreError::from)
            })
            .unwrap()
            .into_iter()
            .map(|p| p.detail)
            .collect();
        let text = plan.join("\n");
        assert!(text.contains("ssf_streams_push_due"), "{text}");
        assert!(text.contains("ssf_pending_notices"), "{text}");
        assert!(
            !plan.iter().any(|d| d.starts_with("SCAN") && !d.contains("USING")),
            "no table is scanned: {text}"
        );
        return;
    }
    #[derive(diesel::QueryableByName)]
    struct Read {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows_read = |conn: &mut DbConnection| {
        diesel::sql_query(
            "SELECT (COALESCE((SELECT SUM(seq_tup_read) FROM pg_stat_xact_user_tables \
                               WHERE relid = 'ssf_streams'::regclass), 0) \
                   + (SELECT COALESCE(SUM(pg_stat_get_xact_tuples_returned(indexrelid)), 0) FROM pg_index \
                      WHERE indrelid = 'ssf_streams'::regclass))::BIGINT AS n",
        )
        .get_result::<Read>(conn)
        .unwrap()
        .n
    };
    // The streams' key is live, so that the look's key check keeps them and nothing is skipped for them.
    let key = scimd_tokens::ApiKeyService::new(db.store.clone(), Arc::new(SystemClock))
        .create_blocking("receiver", None)
        .unwrap()
        .id;
    db.store
        .write(|conn| {
            for (prefix, method, status) in [
                ("poll", "urn:ietf:rfc:8936", "enabled"),
                ("paused", "urn:ietf:rfc:8935", "paused"),
                ("off", "urn:ietf:rfc:8935", "disabled"),
            ] {
                diesel::sql_query(format!(
                    "INSERT INTO ssf_streams (id, org_id, api_key_id, audience, delivery_method, endpoint_url, \
                     events_requested, status, created_at, updated_at, cursor, attempts, next_attempt_at) \
                     SELECT '{prefix}-' || g, NULL, '{key}', '\"key\"', '{method}', 'https://r.example/events', \
                     '[]', '{status}', now(), now(), 0, 0, now() - interval '1 hour' \
                     FROM generate_series(1, 1000) g"
                ))
                .execute(conn)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let (due, read) = db
        .store
        .read(|conn| {
            let before = rows_read(conn);
            let due = scimd_ssf::model::any_due(conn, now, 1_000_000)?;
            Ok::<_, StoreError>((due, rows_read(conn) - before))
        })
        .unwrap();
    assert!(!due, "none of them has work");
    assert!(
        read <= 20,
        "the look read {read} rows and index entries of ssf_streams"
    );
}

scimd_store::backend_tests!(
    a_stream_failing_for_days_is_disabled_and_says_so,
    every_deprovisioning_shape_yields_exactly_its_sets,
    a_receiver_is_held_to_its_keys_limits,
    a_revoked_keys_push_stream_is_pushed_no_more,
    a_killed_server_loses_nothing_and_two_processes_deliver_each_set_once,
    discovery_has_every_field,
    streams_are_managed_by_their_key_only,
    each_scim_lifecycle_step_yields_exactly_its_sets,
    polled_sets_come_back_until_acknowledged,
    verification_and_pause_and_subjects,
    pushed_sets_arrive_in_order_and_are_retried,
    a_set_refused_with_an_error_code_is_logged_and_not_retried,
    a_stream_the_transmitter_disables_tells_its_receiver,
    the_okta_and_entra_replays_yield_exactly_each_steps_sets,
    a_roles_change_is_a_token_claims_change,
    a_slow_orgs_streams_leave_room_for_another_orgs_stream,
    the_due_streams_look_reads_an_index_not_every_stream,
);
