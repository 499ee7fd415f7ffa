//! The OpenID Provider's rules, on the provider itself (the HTTP surface is `scimd-server`'s
//! `tests/it/oauth_provider.rs`): a code works once, only with the PKCE verifier of its S256 challenge and the
//! exact redirect URI it was issued for; a redirect URI that is not registered is refused before anything is
//! redirected; the access token goes inactive the moment its member is deprovisioned.

use crate::fixtures::{self, OWNER_EMAIL, PUBLIC_URL};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use scimd_signin::oauth::{
    Authorization, AuthorizeRequest, OAuthProvider, OrgChoice, ProviderError, SignedInAs, TokenRequest,
};
use scimd_store::testing::TestDb;
use scimd_store::{Clock, MemberId, schema};
use scimd_tokens::{SessionService, SigningKey};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub(crate) const REDIRECT_URI: &str = "https://platform.example.com/auth/callback";
pub(crate) const VERIFIER: &str = "a-pkce-verifier-of-the-platform-0123456789-abcdefghijk";

/// An org with its owner signed in (a live admin session), and a registered client.
pub(crate) struct Platform {
    pub(crate) w: fixtures::World,
    pub(crate) provider: OAuthProvider,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) who: SignedInAs,
    pub(crate) sessions: SessionService,
}

pub(crate) fn platform(db: &TestDb) -> Platform {
    let w = fixtures::world(db);
    let clock: Arc<dyn Clock> = Arc::new(w.clock.clone());
    let key = SigningKey::load_or_create(&db.store).unwrap();
    let sessions = SessionService::new(db.store.clone(), clock.clone(), key, PUBLIC_URL.into());
    let link = sessions
        .issue_login_link_blocking(&w.org, OWNER_EMAIL, "cli")
        .unwrap();
    let token = link.url.split_once("token=").unwrap().1;
    let session = sessions.exchange_login_link_blocking(token, None).unwrap();
    let provider = OAuthProvider::new(db.store.clone(), clock, PUBLIC_URL, None);
    let client = provider
        .create_client_blocking("Platform", &[REDIRECT_URI.to_owned()], "RS256")
        .unwrap();
    Platform {
        who: SignedInAs {
            org: session.org_id.clone(),
            member: session.member_id.clone(),
            session: session.session_id.clone(),
        },
        w,
        provider,
        sessions,
        client_id: client.client_id,
        client_secret: client.client_secret,
    }
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn query_value(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Platform {
    pub(crate) fn request(&self) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: self.client_id.clone(),
            redirect_uri: REDIRECT_URI.into(),
            response_type: "code".into(),
            scope: "openid email".into(),
            state: Some("platform-state".into()),
            nonce: Some("platform-nonce".into()),
            code_challenge: challenge(VERIFIER),
            code_challenge_method: "S256".into(),
            ..AuthorizeRequest::default()
        }
    }

    pub(crate) fn authorize(&self, request: AuthorizeRequest) -> Result<Authorization, ProviderError> {
        let choice = OrgChoice {
            org: self.w.org.as_str().to_owned(),
            login_hint: String::new(),
        };
        let who = self.who.clone();
        self.provider
            .authorize_blocking(request, &choice, || Ok(Some(who)))
    }

    /// A fresh code for the owner's session.
    pub(crate) fn code(&self) -> String {
        let Authorization::Redirect(location) = self.authorize(self.request()).unwrap() else {
            panic!("expected a redirect with a code");
        };
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert_eq!(query_value(&location, "state").as_deref(), Some("platform-state"));
        query_value(&location, "code").unwrap()
    }

    pub(crate) fn redeem(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Value, ProviderError> {
        let form = TokenRequest {
            grant_type: "authorization_code".into(),
            code: code.into(),
            redirect_uri: redirect_uri.into(),
            code_verifier: verifier.into(),
        };
        self.provider
            .token_blocking((&self.client_id, &self.client_secret), &form)
    }

    pub(crate) fn introspect(&self, access_token: &str) -> Value {
        self.provider
            .introspect_blocking((&self.client_id, &self.client_secret), access_token)
            .unwrap()
    }
}

fn a_code_is_redeemed_once(db: &TestDb) {
    let p = platform(db);
    let code = p.code();
    let tokens = p.redeem(&code, REDIRECT_URI, VERIFIER).unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        tokens["id_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert!(matches!(
        p.redeem(&code, REDIRECT_URI, VERIFIER),
        Err(ProviderError::InvalidGrant)
    ));
    assert!(matches!(
        p.redeem("scimd_code_never-issued", REDIRECT_URI, VERIFIER),
        Err(ProviderError::InvalidGrant)
    ));
}

fn the_pkce_verifier_must_match_the_s256_challenge(db: &TestDb) {
    let p = platform(db);
    let code = p.code();
    let other = "another-verifier-that-the-platform-never-challenged-with";
    assert!(matches!(
        p.redeem(&code, REDIRECT_URI, other),
        Err(ProviderError::InvalidGrant)
    ));
    assert!(matches!(
        p.redeem(&code, REDIRECT_URI, ""),
        Err(ProviderError::InvalidGrant)
    ));
    assert!(p.redeem(&code, REDIRECT_URI, VERIFIER).is_ok());

    // Only S256 is offered: a plain challenge goes back to the client as invalid_request, without a code.
    let plain = AuthorizeRequest {
        code_challenge: VERIFIER.into(),
        code_challenge_method: "plain".into(),
        ..p.request()
    };
    let Authorization::Redirect(location) = p.authorize(plain).unwrap() else {
        panic!("expected the error to go back to the client");
    };
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_value(&location, "code"), None);
}

fn the_redirect_uri_must_be_the_registered_one_exactly(db: &TestDb) {
    let p = platform(db);
    for near in [
        format!("{REDIRECT_URI}/"),
        format!("{REDIRECT_URI}?next=/"),
        REDIRECT_URI.replace("https://", "http://"),
        REDIRECT_URI.to_uppercase(),
    ] {
        let request = AuthorizeRequest {
            redirect_uri: near.clone(),
            ..p.request()
        };
        // Never redirected to: the error is shown, not sent to an address the client did not register.
        assert!(
            matches!(p.authorize(request), Err(ProviderError::InvalidRequest(_))),
            "{near}"
        );
    }
    let unknown = AuthorizeRequest {
        client_id: "scimd_client_unknown".into(),
        ..p.request()
    };
    assert!(matches!(p.authorize(unknown), Err(ProviderError::InvalidClient)));

    // The code is bound to the redirect URI it was issued for.
    let code = p.code();
    assert!(matches!(
        p.redeem(&code, &format!("{REDIRECT_URI}/"), VERIFIER),
        Err(ProviderError::InvalidGrant)
    ));
    assert!(p.redeem(&code, REDIRECT_URI, VERIFIER).is_ok());
}

fn introspection_turns_inactive_when_the_member_is_deprovisioned(db: &TestDb) {
    let p = platform(db);
    let tokens = p.redeem(&p.code(), REDIRECT_URI, VERIFIER).unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    let active = p.introspect(access_token);
    assert_eq!(active["active"], true);
    assert_eq!(active["sub"], p.who.member.as_str());
    assert_eq!(active["org_id"], p.w.org.as_str());
    assert!(p.provider.userinfo_blocking(access_token).is_ok());
    let pending = p.code();

    deactivate(db, &p.who.member);
    assert_eq!(p.introspect(access_token), serde_json::json!({"active": false}));
    assert!(matches!(
        p.provider.userinfo_blocking(access_token),
        Err(ProviderError::InvalidToken)
    ));
    // Nor can a code issued before the deprovisioning be redeemed after it.
    assert!(matches!(
        p.redeem(&pending, REDIRECT_URI, VERIFIER),
        Err(ProviderError::InvalidGrant)
    ));
}

/// What deprovisioning does to the member row (the SCIM API owns the real path).
fn deactivate(db: &TestDb, member: &MemberId) {
    db.store
        .write(|conn| {
            Ok::<_, scimd_store::StoreError>(
                diesel::update(schema::members::table.filter(schema::members::id.eq(member.as_str())))
                    .set(schema::members::active.eq(false))
                    .execute(conn)?,
            )
        })
        .unwrap();
}

scimd_store::backend_tests!(
    a_code_is_redeemed_once,
    the_pkce_verifier_must_match_the_s256_challenge,
    the_redirect_uri_must_be_the_registered_one_exactly,
    introspection_turns_inactive_when_the_member_is_deprovisioned,
);
