//! Random identifiers from the operating system's generator (as the tokens crate does): a failing
//! generator is an error, never a fallback to something weaker.

use rand::TryRng;
use rand::rngs::SysRng;

/// The OS random generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random generator failed")]
pub struct RandomError;

pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    SysRng.try_fill_bytes(&mut out).map_err(|_| RandomError)?;
    Ok(out)
}

/// Lower-case hex of `N` random bytes.
pub(crate) fn hex<const N: usize>() -> Result<String, RandomError> {
    Ok(bytes::<N>()?.iter().map(|b| format!("{b:02x}")).collect())
}
