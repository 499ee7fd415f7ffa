//! A TCP proxy for outage tests: it forwards to the PostgreSQL server until told to cut, then drops every
//! connection it carries and refuses (or swallows) new ones, as a database restart or failover looks from
//! scimd, without stopping the shared server other tests use.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward to the server.
    Forward,
    /// Accept and close at once: a server that is down (libpq: "server closed the connection").
    Refuse,
    /// Accept and never answer: a server that vanished (libpq waits for `connect_timeout`).
    Blackhole,
}

#[derive(Default)]
struct Shared {
    /// The mode and the connections under one lock: a connection accepted before a cut but registered
    /// after it would otherwise survive the cut.
    state: Mutex<State>,
    stopped: AtomicBool,
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    /// Bumped by every cut, so that a connection forwarded across one is dropped.
    generation: u64,
    /// Both ends of every connection carried or held, to cut them.
    open: Vec<TcpStream>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running proxy on 127.0.0.1; stopped (and every connection cut) on drop.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts forwarding to `upstream`.
    #[expect(clippy::expect_used, reason = "test support: fails the test loudly")]
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared::default());
        lock(&shared.state).mode = Some(Mode::Forward);
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (mode, generation) = {
                    let state = lock(&accepting.state);
                    (state.mode.unwrap_or(Mode::Refuse), state.generation)
                };
                match mode {
                    Mode::Refuse => drop(client),
                    Mode::Blackhole => {
                        let mut state = lock(&accepting.state);
                        if state.generation == generation {
                            state.open.push(client);
                        }
                    }
                    Mode::Forward => {
                        let Ok(server) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
                            client.try_clone(),
                            server.try_clone(),
                            client.try_clone(),
                            server.try_clone(),
                        ) else {
                            continue;
                        };
                        let mut state = lock(&accepting.state);
                        if state.generation != generation {
                            // Cut while the upstream connection was being made: drop both ends.
                            continue;
                        }
                        state.open.extend([c3, s3]);
                        drop(state);
                        std::thread::spawn(move || pipe(client, server));
                        std::thread::spawn(move || pipe(s2, c2));
                    }
                }
            }
        });
        Proxy { addr, shared }
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every connection open now and treats new ones as `mode` says.
    pub fn cut(&self, mode: Mode) {
        let mut state = lock(&self.shared.state);
        state.mode = Some(mode);
        state.generation += 1;
        for stream in state.open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Forwards new connections again (connections held by a blackhole are closed).
    pub fn restore(&self) {
        self.cut(Mode::Forward);
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        let (start, end) = authority(url);
        format!("{}{}{}", &url[..start], self.addr, &url[end..])
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.cut(Mode::Refuse);
        // Wakes the accepting thread so that it sees `stopped`.
        let _ = TcpStream::connect(self.addr);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Where a `postgres://user@host:port/db?...` URL's host and port are.
fn authority(url: &str) -> (usize, usize) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let end = after_scheme + rest.find(['/', '?']).unwrap_or(rest.len());
    let start = url[after_scheme..end]
        .rfind('@')
        .map_or(after_scheme, |i| after_scheme + i + 1);
    (start, end)
}

/// The address a PostgreSQL URL's host and port name (port 5432 when it names none).
#[expect(clippy::expect_used, reason = "test support: fails the test loudly")]
pub fn upstream_of(url: &str) -> SocketAddr {
    let (start, end) = authority(url);
    let host = &url[start..end];
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    host.to_socket_addrs()
        .expect("resolve the PostgreSQL host")
        .next()
        .expect("an address for the PostgreSQL host")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_is_found_with_or_without_a_user() {
        let url = "postgres://postgres@127.0.0.1:5432/test?options=x";
        let (s, e) = authority(url);
        assert_eq!(&url[s..e], "127.0.0.1:5432");
        let url = "postgres://127.0.0.1:5433/test";
        let (s, e) = authority(url);
        assert_eq!(&url[s..e], "127.0.0.1:5433");
        assert_eq!(upstream_of("postgres://u@127.0.0.1/test").port(), 5432);
    }
}
