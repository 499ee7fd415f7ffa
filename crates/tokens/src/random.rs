//! Random bytes from the operating system's generator: the one place this crate and the crates above it
//! (`signin`, `webhooks`) draw them for keys, nonces, seeds and secrets. A failing generator is an error, never
//! a fallback to something weaker. (`bearer::format::generate_with` takes any source, so that tests can check
//! the token sampler with a seeded one; production passes the OS source.)

use rand::TryRng;
use rand::rngs::SysRng;

/// The operating system's random generator failed; nothing was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random generator failed")]
pub struct RandomError;

/// Fills `buf` (a key or a seed held in `Zeroizing`, a nonce).
pub fn fill(buf: &mut [u8]) -> Result<(), RandomError> {
    SysRng.try_fill_bytes(buf).map_err(|_| RandomError)
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

/// The operating system's generator itself, for a library that draws through a generator (the OpenID
/// Provider's RSA key generation). Its failures are errors there too.
pub fn os_generator() -> SysRng {
    SysRng
}
