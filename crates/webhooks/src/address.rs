//! Where webhooks may go. An endpoint is an `https://` or `http://` URL without credentials; unless
//! `SCIMD_WEBHOOK_ALLOW_PRIVATE=true`, it must not reach loopback, link-local, private, shared (CGNAT),
//! unspecified, broadcast or multicast addresses, so that a webhook cannot be aimed at the deployment's own
//! network (SSRF). The check is made twice: on the URL when an endpoint is created (an address literal, or
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

/// Whether an address is on the public internet (none of the ranges this module refuses).
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
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    let this_network = a == 0; // 0.0.0.0/8
    let reserved = a >= 240; // 240.0.0.0/4 and broadcast
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || shared
        || this_network
        || reserved)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local())
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

    #[actix_web::test]
    async fn a_name_that_resolves_to_loopback_is_refused_when_connecting() {
        let strict = GuardedResolver(AddressPolicy::default());
        assert!(strict.lookup("localhost", 80).await.is_err());
        let open = GuardedResolver(AddressPolicy { allow_private: true });
        assert!(open.lookup("localhost", 80).await.is_ok_and(|a| !a.is_empty()));
    }
}
