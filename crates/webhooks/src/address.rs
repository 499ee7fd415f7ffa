//! Where webhooks may go. An endpoint is an `https://` or `http://` URL without credentials; unless
//! `SCIMD_WEBHOOK_ALLOW_PRIVATE=true`, it must reach a globally routable unicast address: never loopback,
//! link-local, private, shared (CGNAT), unspecified, broadcast, multicast, documentation or benchmarking
//! addresses, nor IPv6 that translates to or tunnels into such an IPv4 address (NAT64, IPv4-compatible, 6to4,
//! Teredo), so that a webhook cannot be aimed at the deployment's own network (SSRF). The check is made twice: on the URL when an endpoint is created (an address literal, or
//! `localhost`), and on every address its host name resolves to when a delivery connects ([`GuardedResolver`]),
//! so that a name that later resolves to a private address is refused too.

use crate::error::WebhookError;
use actix_tls::connect::Resolve;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use url::{Host, Url};

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2_048;

/// Whether private destinations are allowed (the server's `SCIMD_WEBHOOK_ALLOW_PRIVATE`; the test suites set it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    pub allow_private: bool,
}

impl AddressPolicy {
    /// The endpoint URL, if it may be used.
    pub fn check_url(&self, raw: &str) -> Result<Url, WebhookError> {
        let bad = |why: &str| WebhookError::InvalidUrl(why.to_owned());
        if raw.len() > MAX_URL_LEN {
            return Err(bad("longer than 2048 characters"));
        }
        let url = Url::parse(raw.trim()).map_err(|_| bad("not an absolute URL"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(bad("only https:// (or http://) URLs"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials in the URL are not accepted (the signature authenticates)",
            ));
        }
        if url.fragment().is_some() {
            return Err(bad("a fragment is never sent"));
        }
        let private = match url.host() {
            None => return Err(bad("no host")),
            Some(Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
            Some(Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
        };
        if private && !self.allow_private {
            return Err(WebhookError::PrivateAddress);
        }
        Ok(url)
    }
}

/// Whether an address is globally routable unicast: an allow-list, so that a range this module never heard of
/// is refused rather than let through. IPv4 embedded in IPv6 (mapped, 6to4, Teredo) is judged by the IPv4
/// address it reaches; the translation prefixes (NAT64) and IPv4-compatible addresses are refused outright,
/// since where they lead depends on the deployment's network.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    let this_network = a == 0; // 0.0.0.0/8
    let reserved = a >= 240; // 240.0.0.0/4 and broadcast
    let protocol_assignments = a == 192 && b == 0 && c == 0; // 192.0.0.0/24
    let benchmarking = a == 198 && (b == 18 || b == 19); // 198.18.0.0/15
    let relay_anycast = a == 192 && b == 88 && c == 99; // 192.88.99.0/24, the 6to4 relays
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || shared
        || this_network
        || reserved
        || protocol_assignments
        || benchmarking
        || relay_anycast)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let bits = ip.to_bits();
    // Only 2000::/3 is global unicast; everything outside it (::/96 IPv4-compatible, ::1, NAT64's
    // 64:ff9b::/96 and 64:ff9b:1::/48, ULA, link- and site-local fec0::/10, multicast) is refused.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    let embedded = |at: u32| Ipv4Addr::from_bits((bits >> at) as u32);
    match s[0] {
        // Teredo 2001::/32: the server's IPv4 (bits 32-63) and the client's, stored inverted (the last 32).
        0x2001 if s[1] == 0 => is_public_v4(embedded(64)) && is_public_v4(!embedded(0)),
        // The rest of 2001::/23 (IETF protocol assignments, benchmarking, ORCHID) and 2001:db8::/32
        // (documentation) route nowhere public.
        0x2001 if s[1] < 0x0200 || s[1] == 0x0db8 => false,
        // 6to4 2002::/16 reaches the IPv4 address in bits 16-47.
        0x2002 => is_public_v4(embedded(80)),
        // 3fff::/20, documentation (RFC 9637).
        0x3fff if s[1] < 0x1000 => false,
        _ => true,
    }
}

/// awc's name resolution for deliveries: the system resolver, then every address checked against the
/// policy. A name with any refused address is refused (a round-robin name must not smuggle one in).
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver(pub AddressPolicy);

impl Resolve for GuardedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<SocketAddr>, Box<dyn std::error::Error>>> + 'a>> {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            if !self.0.allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(Box::new(WebhookError::PrivateAddress) as Box<dyn std::error::Error>);
            }
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_destinations_are_refused_unless_allowed() {
        let strict = AddressPolicy::default();
        for url in [
            "http://127.0.0.1:9000/hook",
            "https://10.1.2.3/hook",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:127.0.0.1]/",
            // the translation and tunnelling ranges (security review 3, M-5)
            "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
            "https://[64:ff9b::a00:1]/",
            "https://[64:ff9b:1::a00:1]/",
            "https://[::127.0.0.1]/",
            "https://[::a9fe:a9fe]/",
            "https://[fec0::1]/",
            "https://[2002:a9fe:a9fe::1]/",
            "https://[2002:0a00:0001::1]/",
            "https://[2001:0:a00:1::1]/",
            "https://[2001:0:5db8:1::f5ff:fffe]/",
            "https://[2001:db8::1]/",
            "https://[2001:2::1]/",
            "https://[3fff::1]/",
            "https://192.0.0.192/",
            "https://198.18.0.1/",
            "https://198.19.255.1/",
            "https://192.88.99.1/",
            "http://localhost:8080/",
            "http://api.localhost/",
        ] {
            assert!(
                matches!(strict.check_url(url), Err(WebhookError::PrivateAddress)),
                "{url} must be refused"
            );
            assert!(
                AddressPolicy { allow_private: true }.check_url(url).is_ok(),
                "{url} with the setting"
            );
        }
        for url in [
            "https://hooks.example.com/scimd",
            "http://93.184.216.34/x",
            "https://[2606:4700::1]/",
            "https://[2002:5db8:d822::1]/",
            "https://[2001:0:5db8:d822::a247:2dcb]/",
            "https://192.0.1.1/",
            "https://198.20.0.1/",
        ] {
            assert!(strict.check_url(url).is_ok(), "{url} is public");
        }
    }

    #[test]
    fn only_plain_web_urls_without_credentials() {
        let p = AddressPolicy::default();
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "https://example.com/#x",
            "not a url",
        ] {
            assert!(
                matches!(p.check_url(url), Err(WebhookError::InvalidUrl(_))),
                "{url}"
            );
        }
        assert!(
            p.check_url(&format!("https://example.com/{}", "a".repeat(MAX_URL_LEN)))
                .is_err()
        );
    }

    #[test]
    fn every_address_outside_global_unicast_is_refused() {
        // The first and last address of each range that must be refused, and the neighbours that must not.
        for (ip, public) in [
            ("64:ff9b::", false),
            ("64:ff9b::ffff:ffff", false),
            ("64:ff9b:1::", false),
            ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", false),
            ("::2", false),
            ("::ffff:ffff", false),
            ("fec0::", false),
            ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("4000::", false),
            ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("2001:200::1", true),
            ("2000::1", true),
            ("2a00:1450:4001::1", true),
            ("3ffe::1", true),
            ("192.0.0.0", false),
            ("192.0.0.255", false),
            ("191.255.255.255", true),
            ("192.0.1.0", true),
            ("198.17.255.255", true),
            ("198.18.0.0", false),
            ("198.19.255.255", false),
            ("198.20.0.0", true),
            ("192.88.99.0", false),
            ("192.88.99.255", false),
            ("192.88.98.255", true),
            ("192.88.100.0", true),
        ] {
            let addr: IpAddr = ip.parse().expect("a test address");
            assert_eq!(is_public(addr), public, "{ip}");
        }
    }

    #[actix_web::test]
    async fn a_name_that_resolves_to_loopback_is_refused_when_connecting() {
        let strict = GuardedResolver(AddressPolicy::default());
        assert!(strict.lookup("localhost", 80).await.is_err());
        let open = GuardedResolver(AddressPolicy { allow_private: true });
        assert!(open.lookup("localhost", 80).await.is_ok_and(|a| !a.is_empty()));
    }
}
