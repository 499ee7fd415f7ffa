//! Which outbound URLs are acceptable: `https://`, or plain `http://` only to a loopback address (the test
//! suites' fake IdPs), so production can never be pointed at plain HTTP by accident.

use std::net::IpAddr;
use url::{Host, Url};

pub(crate) fn https_or_loopback(raw: &str) -> Option<Url> {
    let url = Url::parse(raw).ok()?;
    let ok = match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(Host::Ipv4(ip))) => IpAddr::V4(ip).is_loopback(),
        ("http", Some(Host::Ipv6(ip))) => IpAddr::V6(ip).is_loopback(),
        ("http", Some(Host::Domain(d))) => d.eq_ignore_ascii_case("localhost"),
        _ => false,
    };
    (ok && url.username().is_empty() && url.password().is_none()).then_some(url)
}
