//! The admin's choices: how long an old token keeps working after a regenerate, and when a new one expires.

use crate::error::TokenError;
use chrono::Duration;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How long the previous token keeps working after a regenerate: `none`, `1h` or `24h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Grace {
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "24h")]
    OneDay,
}

impl Grace {
    pub const ALL: [Grace; 3] = [Grace::None, Grace::OneHour, Grace::OneDay];

    pub fn duration(self) -> Duration {
        match self {
            Grace::None => Duration::zero(),
            Grace::OneHour => Duration::hours(1),
            Grace::OneDay => Duration::hours(24),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grace::None => "none",
            Grace::OneHour => "1h",
            Grace::OneDay => "24h",
        }
    }
}

impl FromStr for Grace {
    type Err = TokenError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Grace::ALL
            .into_iter()
            .find(|g| g.as_str() == raw.trim())
            .ok_or_else(|| {
                TokenError::InvalidInput(format!("grace must be one of none, 1h, 24h (got {raw:?})"))
            })
    }
}

impl fmt::Display for Grace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a new token expires: `never`, `90d` or `1y` (365 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Expiry {
    #[default]
    #[serde(rename = "never")]
    Never,
    #[serde(rename = "90d")]
    Days90,
    #[serde(rename = "1y")]
    OneYear,
}

impl Expiry {
    pub const ALL: [Expiry; 3] = [Expiry::Never, Expiry::Days90, Expiry::OneYear];

    pub fn duration(self) -> Option<Duration> {
        match self {
            Expiry::Never => None,
            Expiry::Days90 => Some(Duration::days(90)),
            Expiry::OneYear => Some(Duration::days(365)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Expiry::Never => "never",
            Expiry::Days90 => "90d",
            Expiry::OneYear => "1y",
        }
    }
}

impl FromStr for Expiry {
    type Err = TokenError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Expiry::ALL
            .into_iter()
            .find(|e| e.as_str() == raw.trim())
            .ok_or_else(|| {
                TokenError::InvalidInput(format!("expiry must be one of never, 90d, 1y (got {raw:?})"))
            })
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_through_their_names() {
        for grace in Grace::ALL {
            assert_eq!(grace.as_str().parse::<Grace>().unwrap(), grace);
        }
        for expiry in Expiry::ALL {
            assert_eq!(expiry.as_str().parse::<Expiry>().unwrap(), expiry);
        }
        assert_eq!(Grace::OneDay.duration(), Duration::hours(24));
        assert_eq!(Expiry::OneYear.duration(), Some(Duration::days(365)));
        assert!("2h".parse::<Grace>().is_err());
        assert!("30d".parse::<Expiry>().is_err());
    }
}
