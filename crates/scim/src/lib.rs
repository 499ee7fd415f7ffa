//! SCIM 2.0 protocol crate (being written).
