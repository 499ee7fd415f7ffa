//! Newtype ids: random UUIDs (v4) stored as text. A `MemberId` cannot be passed where an `OrgId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }
            /// An id as received from outside (a URL, a token row): not checked for existence.
            pub fn new(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// An organization: the tenant every other row belongs to.
    OrgId
);
id_type!(
    /// A member of an org (a SCIM User).
    MemberId
);
id_type!(
    /// A SCIM Group.
    GroupId
);
id_type!(
    /// A SCIM bearer token's row (never the token itself).
    TokenId
);
id_type!(
    /// A server-side admin session row.
    SessionId
);
