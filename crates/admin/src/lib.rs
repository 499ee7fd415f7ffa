//! scimd-admin (being written).
