//! Where the operator may send a credential. Anyone who can write a ManagedConnector in their own
//! namespace chooses the URL it is probed at, so the operator-wide credentials go only to the
//! operator's own Data Plane (`--dataplane-url`) and to hosts the platform team trusts
//! (`--trusted-hosts`); a resource that names any other URL must bring its own Secret. And no
//! credential (token, client secret, password) crosses a network in clear text: plain `http://`
//! is for loopback (tests, sidecars) unless `--allow-insecure-http` says otherwise.
//!
//! Pure: the prober asks before every request that carries a credential.

use crate::probe::{Failure, FailureKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};
use wildmatch::WildMatch;

/// The platform team's rules for credentials and URLs.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    trusted_hosts: Vec<WildMatch>,
    allow_insecure_http: bool,
    allowed_hosts: Vec<WildMatch>,
    allow_link_local: bool,
}

fn patterns(list: &[String]) -> Vec<WildMatch> {
    list.iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| WildMatch::new(&p.to_ascii_lowercase()))
        .collect()
}

impl UrlPolicy {
    /// Trusted host patterns (`*` matches any characters, `*.cloud.redpanda.com`), and whether
    /// credentials may go over plain http to other hosts than loopback.
    pub fn new(trusted_hosts: &[String], allow_insecure_http: bool) -> Self {
        UrlPolicy {
            trusted_hosts: patterns(trusted_hosts),
            allow_insecure_http,
            ..UrlPolicy::default()
        }
    }

    /// Only hosts matching these patterns may be probed at all (empty: any host).
    pub fn with_allowed_hosts(mut self, allowed_hosts: &[String]) -> Self {
        self.allowed_hosts = patterns(allowed_hosts);
        self
    }

    /// Whether link-local addresses (cloud metadata services) may be probed.
    pub fn with_link_local(mut self, allow: bool) -> Self {
        self.allow_link_local = allow;
        self
    }

    /// Whether link-local addresses may be connected to: the one setting both the URL check here
    /// and the HTTP clients' resolver (a name that resolves to 169.254.169.254) follow.
    pub fn allows_link_local(&self) -> bool {
        self.allow_link_local
    }

    /// May the operator send a request to `url` at all? Not outside `--allowed-hosts` when given,
    /// never to a link-local address written as such (names resolving to one are refused when
    /// connecting, so DNS cannot get around this), unless `--allow-link-local`.
    pub fn check_destination(&self, url: &Url, field: &str) -> Result<(), Failure> {
        let host = url.host_str().unwrap_or_default();
        if !self.allowed_hosts.is_empty() && !self.allowed_hosts.iter().any(|p| p.matches(host)) {
            return Err(Failure::new(
                FailureKind::UrlNotAllowed,
                format!(
                    "{field} points at {}, which is not in the operator's --allowed-hosts",
                    display_origin(url)
                ),
            ));
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if !self.allow_link_local && ip.is_some_and(is_link_local) {
            return Err(link_local_refused(field, &display_origin(url)));
        }
        Ok(())
    }

    /// May the operator-wide credentials be sent to `url`? To the origin of `operator_url`
    /// (`--dataplane-url`) and to trusted hosts only.
    pub fn operator_credentials_may_go_to(&self, url: &Url, operator_url: Option<&Url>) -> bool {
        if operator_url.is_some_and(|own| own.origin() == url.origin()) {
            return true;
        }
        url.host_str()
            .is_some_and(|host| self.trusted_hosts.iter().any(|p| p.matches(host)))
    }

    /// The failure for a resource whose own URL is not where the operator's credentials go.
    pub fn credentials_required(url: &Url, field: &str) -> Failure {
        Failure::new(
            FailureKind::CredentialsRequired,
            format!(
                "{field} points at {}, which is not the operator's Data Plane (--dataplane-url) nor one of its --trusted-hosts, so the operator's own credentials are not sent there: set spec.dataplane.credentialsSecretRef to a Secret in this namespace",
                display_origin(url)
            ),
        )
    }

    /// May a credential travel to `url`? Over https always; over http only to loopback, or
    /// anywhere with `--allow-insecure-http`. `what` names the credential and the peer for the
    /// message ("the Data Plane token", "the client secret").
    pub fn check_transport(&self, url: &Url, what: &str) -> Result<(), Failure> {
        if url.scheme() != "http" || self.allow_insecure_http || is_loopback(url) {
            return Ok(());
        }
        Err(Failure::new(
            FailureKind::UrlNotAllowed,
            format!(
                "{} would go to {} in clear text (plain http): use https, or run the operator with --allow-insecure-http (for networks where that is acceptable)",
                what,
                display_origin(url)
            ),
        ))
    }
}

/// The failure for a link-local destination.
pub fn link_local_refused(what: &str, destination: &str) -> Failure {
    Failure::new(
        FailureKind::UrlNotAllowed,
        format!(
            "{what} points at {destination}, a link-local address (where clouds serve instance metadata and credentials): refused; the operator's --allow-link-local allows it"
        ),
    )
}

/// Link-local addresses (169.254.0.0/16, fe80::/10) and the cloud metadata addresses outside
/// them (AWS's fd00:ec2::254, Alibaba's 100.100.100.200), as IPv4 or IPv4-mapped IPv6.
pub fn is_link_local(ip: IpAddr) -> bool {
    const ALIBABA_METADATA: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);
    const AWS_METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4 == ALIBABA_METADATA,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_link_local(IpAddr::V4(v4)),
            None => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6 == AWS_METADATA_V6,
        },
    }
}

/// Loopback: `localhost`, 127.0.0.0/8 or ::1. Only the machine itself can see such traffic.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A URL's origin for messages and logs: scheme, host and port, never a path, query or userinfo.
pub fn display_origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A URL for logs: origin and path, without userinfo, query or fragment (where secrets hide).
pub fn display_url(url: &Url) -> String {
    format!("{}{}", display_origin(url), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn operator_credentials_go_to_its_own_data_plane_and_trusted_hosts_only() {
        let own = u("https://api-1.cabc.fmc.prd.cloud.redpanda.com");
        let policy = UrlPolicy::new(&["*.byoc.example.com".into()], false);
        let may = |url: &str| policy.operator_credentials_may_go_to(&u(url), Some(&own));
        assert!(may("https://api-1.cabc.fmc.prd.cloud.redpanda.com/"));
        assert!(may("https://API-1.cabc.fmc.prd.cloud.redpanda.com:443/v1"));
        assert!(may("https://dp.byoc.example.com"));
        assert!(may("https://a.b.byoc.example.com"));
        assert!(
            !may("https://byoc.example.com"),
            "the pattern needs a subdomain"
        );
        assert!(
            !may("http://api-1.cabc.fmc.prd.cloud.redpanda.com"),
            "another origin"
        );
        assert!(
            !may("https://api-1.cabc.fmc.prd.cloud.redpanda.com:8443"),
            "another port"
        );
        assert!(!may("https://attacker.example.net"));
        assert!(!may(
            "https://api-1.cabc.fmc.prd.cloud.redpanda.com.attacker.net"
        ));
        assert!(
            !UrlPolicy::default().operator_credentials_may_go_to(&own, None),
            "without --dataplane-url only trusted hosts"
        );
        let f =
            UrlPolicy::credentials_required(&u("https://x:y@evil.net/p?q=1"), "spec.dataplane.url");
        assert_eq!(f.kind, FailureKind::CredentialsRequired);
        assert!(
            f.message.contains("https://evil.net")
                && !f.message.contains("x:y")
                && !f.message.contains("q=1")
        );
        assert!(f.message.contains("credentialsSecretRef"));
    }

    #[test]
    fn link_local_and_metadata_addresses_are_refused_unless_allowed() {
        let strict = UrlPolicy::default();
        for refused in [
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.0.1",
            "http://[fe80::1]",
            "http://[fd00:ec2::254]",
            "http://[::ffff:169.254.169.254]",
            "http://100.100.100.200",
        ] {
            let f = strict
                .check_destination(&u(refused), "spec.dataplane.url")
                .unwrap_err();
            assert_eq!(f.kind, FailureKind::UrlNotAllowed, "{refused}");
            assert!(f.message.contains("--allow-link-local"), "{}", f.message);
        }
        for ok in [
            "https://dp.example.com",
            "http://10.0.0.1",
            "http://[fd00::1]",
            "http://127.0.0.1",
        ] {
            assert!(strict.check_destination(&u(ok), "url").is_ok(), "{ok}");
        }
        let open = UrlPolicy::default().with_link_local(true);
        assert!(
            open.check_destination(&u("http://169.254.169.254"), "url")
                .is_ok()
        );

        let listed = UrlPolicy::default()
            .with_allowed_hosts(&["*.redpanda.com".into(), "connect.kafka.svc".into()]);
        assert!(
            listed
                .check_destination(&u("https://api.x.redpanda.com"), "url")
                .is_ok()
        );
        assert!(
            listed
                .check_destination(&u("http://connect.kafka.svc:8083"), "url")
                .is_ok()
        );
        let f = listed
            .check_destination(&u("http://kubernetes.default.svc"), "spec.kafkaConnect.url")
            .unwrap_err();
        assert!(
            f.message.contains("--allowed-hosts") && f.message.contains("spec.kafkaConnect.url")
        );
    }

    #[test]
    fn logged_urls_carry_no_secrets() {
        let url = u("https://user:pw@dp.example.com:8443/v1/x?token=abc#frag");
        assert_eq!(display_url(&url), "https://dp.example.com:8443/v1/x");
        assert_eq!(display_origin(&url), "https://dp.example.com:8443");
    }

    #[test]
    fn credentials_cross_networks_only_encrypted() {
        let strict = UrlPolicy::default();
        for ok in [
            "https://dp.example.com",
            "http://127.0.0.1:9090",
            "http://127.8.0.1",
            "http://localhost:8083",
            "http://[::1]:80",
        ] {
            assert!(strict.check_transport(&u(ok), "the token").is_ok(), "{ok}");
        }
        for refused in [
            "http://dp.example.com",
            "http://10.0.0.7:8083",
            "http://[fd00::1]",
        ] {
            let f = strict
                .check_transport(&u(refused), "the token")
                .unwrap_err();
            assert_eq!(f.kind, FailureKind::UrlNotAllowed, "{refused}");
            assert!(f.message.contains("--allow-insecure-http"));
        }
        assert!(
            UrlPolicy::new(&[], true)
                .check_transport(&u("http://10.0.0.7"), "the token")
                .is_ok()
        );
    }
}
