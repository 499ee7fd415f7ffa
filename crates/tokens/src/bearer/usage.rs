//! Coalescing of `last_used_at`: a SCIM sync sends thousands of requests a minute, and writing the token row
//! on each would make every read a write. This process remembers when it last wrote each token's
//! `last_used_at` and writes again only once a minute has passed by the injected clock; the write itself is
//! conditional on the stored value being a minute old, so several processes together still write about once
//! a minute per token.

use chrono::{DateTime, Duration, Utc};
use scimd_store::TokenId;
use std::collections::HashMap;
use std::sync::Mutex;

/// How stale `last_used_at` may get.
pub const LAST_USED_INTERVAL: Duration = Duration::seconds(60);

/// Past this many remembered tokens the map drops the entries that no longer suppress a write.
const PRUNE_ABOVE: usize = 4_096;

#[derive(Debug, Default)]
pub(crate) struct UsageCoalescer {
    last_written: Mutex<HashMap<TokenId, DateTime<Utc>>>,
}

impl UsageCoalescer {
    /// True when this request should write `last_used_at`; it then counts as written.
    pub(crate) fn should_write(&self, token: &TokenId, now: DateTime<Utc>) -> bool {
        let mut map = self
            .last_written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(last) = map.get(token)
            && now - *last < LAST_USED_INTERVAL
        {
            return false;
        }
        if map.len() >= PRUNE_ABOVE {
            map.retain(|_, last| now - *last < LAST_USED_INTERVAL);
        }
        map.insert(token.clone(), now);
        true
    }

    /// Forgets a token whose write failed, so that the next request tries again.
    pub(crate) fn forget(&self, token: &TokenId) {
        let mut map = self
            .last_written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_at_most_once_a_minute_per_token() {
        let coalescer = UsageCoalescer::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let a = TokenId::new("a");
        let b = TokenId::new("b");
        assert!(coalescer.should_write(&a, t0));
        assert!(!coalescer.should_write(&a, t0 + Duration::seconds(59)));
        assert!(coalescer.should_write(&b, t0 + Duration::seconds(59)));
        assert!(coalescer.should_write(&a, t0 + Duration::seconds(60)));
        coalescer.forget(&a);
        assert!(coalescer.should_write(&a, t0 + Duration::seconds(61)));
    }
}
