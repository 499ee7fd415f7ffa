//! scimd-store (being written).
