//! scimd-tokens (being written).
