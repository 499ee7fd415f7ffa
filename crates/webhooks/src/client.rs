//! Outbound HTTP for deliveries: awc over rustls 0.23 on *ring* with Mozilla's roots compiled in (no
//! OpenSSL, no system trust store), names resolved through [`GuardedResolver`] (no private addresses unless
//! allowed), a timeout on connect, handshake and the whole request, redirects never followed (a 3xx is a
//! failed attempt), and at most [`MAX_RESPONSE_LEN`] of a response read; of a refusal (4xx, 5xx) the first
//! [`MAX_KEPT_BODY`] bytes are kept, for a protocol whose receivers explain a refusal there (RFC 8935 §2.3).
//!
//! awc's client is `!Send`: make one per task on the actix runtime.

use crate::address::{AddressPolicy, GuardedResolver};
use crate::error::WebhookError;
use awc::error::SendRequestError;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A receiver should answer at once and process later; ten seconds is the most an attempt waits.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this much of a response body is read (the rest is not), so a huge answer costs nothing.
pub const MAX_RESPONSE_LEN: usize = 64 * 1024;
/// The most of a refusal's body kept in [`Attempt::body`].
pub const MAX_KEPT_BODY: usize = 4 * 1024;
/// The most of an error kept in the delivery log.
const MAX_ERROR_LEN: usize = 200;

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The response status, if one came.
    pub status: Option<u16>,
    /// Why the attempt failed (`None` for a 2xx).
    pub error: Option<String>,
    pub latency_ms: i64,
    /// The start (at most [`MAX_KEPT_BODY`] bytes) of the body of a 4xx or 5xx answer; `None` otherwise.
    pub body: Option<Vec<u8>>,
}

impl Attempt {
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

pub struct Sender {
    client: awc::Client,
    policy: AddressPolicy,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Sender {
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Result<Sender, WebhookError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| WebhookError::Client(format!("TLS setup: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp =
            actix_tls::connect::Connector::new(actix_tls::connect::Resolver::custom(GuardedResolver(policy)))
                .service();
        let connector = awc::Connector::new()
            .connector(tcp)
            .rustls_0_23(Arc::new(tls))
            .timeout(timeout)
            .handshake_timeout(timeout);
        let client = awc::Client::builder()
            .connector(connector)
            .timeout(timeout)
            .disable_redirects()
            .add_default_header((awc::http::header::USER_AGENT, "scimd-webhooks/1"))
            .finish();
        Ok(Sender { client, policy })
    }

    /// POSTs `body` (JSON) with `headers` to `url`; the URL is checked against the policy first.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Attempt {
        let started = Instant::now();
        let outcome = self.send(url, headers, body).await;
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match outcome {
            Ok((status, _)) if (200..300).contains(&status) => Attempt {
                status: Some(status),
                error: None,
                latency_ms,
                body: None,
            },
            Ok((status, _)) if (300..400).contains(&status) => Attempt {
                status: Some(status),
                error: Some(format!("redirected ({status}); redirects are not followed")),
                latency_ms,
                body: None,
            },
            Ok((status, mut body)) => Attempt {
                status: Some(status),
                error: Some(format!("answered {status}")),
                latency_ms,
                body: {
                    body.truncate(MAX_KEPT_BODY);
                    Some(body)
                },
            },
            Err(e) => Attempt {
                status: None,
                error: Some(short(&e)),
                latency_ms,
                body: None,
            },
        }
    }

    async fn send(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), String> {
        let url = self.policy.check_url(url).map_err(|e| e.to_string())?;
        let mut request = self
            .client
            .post(url.as_str())
            .insert_header((awc::http::header::CONTENT_TYPE, "application/json"));
        for (name, value) in headers {
            request = request.insert_header((*name, value.as_str()));
        }
        let mut response = request.send_body(body).await.map_err(|e| match e {
            SendRequestError::Timeout => "timed out".to_owned(),
            other => other.to_string(),
        })?;
        let status = response.status().as_u16();
        // Read (a bounded part of) the body so the connection can be reused; one that fails to arrive is empty.
        let read = response.body().limit(MAX_RESPONSE_LEN).await;
        Ok((status, read.map(|b| b.to_vec()).unwrap_or_default()))
    }
}

fn short(text: &str) -> String {
    text.chars().take(MAX_ERROR_LEN).collect()
}
