//! Standard Webhooks signatures: the secret is `whsec_` and the base64 of 32 random bytes (the HMAC key);
//! a delivery carries `webhook-id` (the event id, the receiver's dedupe key), `webhook-timestamp` (Unix
//! seconds of the attempt) and `webhook-signature: v1,<base64 of HMAC-SHA256(key, "id.timestamp.body")>`.

use crate::error::WebhookError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

pub const SECRET_PREFIX: &str = "whsec_";
const KEY_LEN: usize = 32;
/// How far a receiver lets a timestamp be from its clock ([`verify`]).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A signing secret as the endpoint's owner holds it (`whsec_...`). Never printed.
#[derive(Clone)]
pub struct SigningSecret(Zeroizing<String>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

impl SigningSecret {
    /// A new secret from the OS random source.
    pub fn generate() -> Result<SigningSecret, WebhookError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        scimd_tokens::random::fill(key.as_mut()).map_err(|_| WebhookError::Random)?;
        Ok(SigningSecret(Zeroizing::new(format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode(key.as_ref())
        ))))
    }

    /// A secret in its written form; the key must decode.
    pub fn parse(text: &str) -> Result<SigningSecret, WebhookError> {
        let secret = SigningSecret(Zeroizing::new(text.trim().to_owned()));
        secret.key()?;
        Ok(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the bytes after the prefix, base64-decoded.
    fn key(&self) -> Result<Zeroizing<Vec<u8>>, WebhookError> {
        let encoded = self
            .0
            .strip_prefix(SECRET_PREFIX)
            .ok_or(WebhookError::BadSecret)?;
        STANDARD
            .decode(encoded)
            .map(Zeroizing::new)
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or(WebhookError::BadSecret)
    }

    /// `v1,<signature>` of one delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<String, WebhookError> {
        let key = self.key()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| WebhookError::BadSecret)?;
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
    }
}

/// What a receiver does: true when one of the space-separated signatures of `header` is this secret's
/// `v1` signature of the delivery (compared in constant time) and the timestamp is within
/// [`TOLERANCE_SECS`] of `now` (Unix seconds).
pub fn verify(
    secret: &SigningSecret,
    id: &str,
    timestamp: &str,
    header: &str,
    body: &[u8],
    now: i64,
) -> bool {
    use subtle::ConstantTimeEq;
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    if (now - ts).abs() > TOLERANCE_SECS {
        return false;
    }
    let Ok(expected) = secret.sign(id, ts, body) else {
        return false;
    };
    header
        .split(' ')
        .any(|candidate| bool::from(candidate.as_bytes().ct_eq(expected.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_example() {
        // The worked example of the Standard Webhooks specification.
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret
                .sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
                .unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_receiver_accepts_its_own_secret_only() {
        let secret = SigningSecret::generate().unwrap();
        assert!(secret.expose().starts_with(SECRET_PREFIX));
        let other = SigningSecret::generate().unwrap();
        let sig = secret.sign("evt_1", 1_700_000_000, b"{}").unwrap();
        assert!(verify(&secret, "evt_1", "1700000000", &sig, b"{}", 1_700_000_010));
        assert!(verify(
            &secret,
            "evt_1",
            "1700000000",
            &format!("v1,bogus {sig}"),
            b"{}",
            1_700_000_010
        ));
        assert!(!verify(&other, "evt_1", "1700000000", &sig, b"{}", 1_700_000_010));
        assert!(!verify(
            &secret,
            "evt_2",
            "1700000000",
            &sig,
            b"{}",
            1_700_000_010
        ));
        assert!(!verify(
            &secret,
            "evt_1",
            "1700000000",
            &sig,
            b"{ }",
            1_700_000_010
        ));
        assert!(!verify(
            &secret,
            "evt_1",
            "1700000000",
            &sig,
            b"{}",
            1_700_000_000 + TOLERANCE_SECS + 1
        ));
        assert!(SigningSecret::parse("nope").is_err());
        assert!(SigningSecret::parse("whsec_!!!").is_err());
    }
}
