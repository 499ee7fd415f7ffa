//! The flow's random values. Each is 256 bits from the OS, base64url without padding (43 characters, inside
//! RFC 7636's verifier alphabet); `Debug` prints nothing; `matches` compares in constant time (O2).

use crate::random;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wrap a stored value (e.g. read back from the pending-sign-in row).
            pub fn from_stored(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value, to store server-side or send where the protocol says.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Constant-time comparison with a value received from the browser or a token.
            pub fn matches(&self, received: &str) -> bool {
                bool::from(self.0.as_bytes().ct_eq(received.as_bytes()))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret!(
    /// The `state` parameter: binds the callback to the browser's pending sign-in (single use, ~10 min).
    State
);
secret!(
    /// The `nonce`: stored server-side and required in the ID token (O4).
    Nonce
);
secret!(
    /// The PKCE `code_verifier` (O3), sent only to the token endpoint.
    PkceVerifier
);
secret!(
    /// The app registration's client secret (decrypted by the caller just before the token call).
    ClientSecret
);

impl PkceVerifier {
    /// `BASE64URL(SHA-256(verifier))`, the S256 `code_challenge`.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }
}

pub(crate) fn fresh<T>(wrap: fn(String) -> T) -> Result<T, random::RandomError> {
    Ok(wrap(URL_SAFE_NO_PAD.encode(random::bytes::<32>()?)))
}
