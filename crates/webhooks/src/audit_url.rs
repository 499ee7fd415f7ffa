//! What the audit trail keeps of a webhook URL: its scheme, host and port only. Receivers often carry a
//! secret in the path or the query (Slack, Zapier, `?token=`), and the audit trail is append-only (L-5).

/// `scheme://host:port` of `url` (the port always, the scheme's default included); for a URL that does not
/// parse (never stored: the service validates it first), a fixed placeholder rather than any of its text.
pub fn origin(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}", u.scheme()),
            (Some(host), None) => format!("{}://{host}", u.scheme()),
            (None, _) => "(no host)".to_owned(),
        },
        Err(_) => "(invalid URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn the_path_query_and_credentials_are_left_out() {
        assert_eq!(
            origin("https://hooks.slack.com/services/T000/B000/XXXXSECRET?token=abc#frag"),
            "https://hooks.slack.com:443"
        );
        assert_eq!(
            origin("https://user:pass@hooks.example.com:8443/p/secret"),
            "https://hooks.example.com:8443"
        );
        assert_eq!(origin("http://[2001:db8::1]/x?k=v"), "http://[2001:db8::1]:80");
        assert_eq!(origin("not a url /secret"), "(invalid URL)");
    }
}
