//! The client address used for rate limits and the sessions list.
//!
//! By default it is the TCP peer. Behind the nginx gateway or the ingress
//! (`TRUST_PROXY_HEADERS=true`), and only when the peer itself is a trusted
//! proxy, `X-Forwarded-For` is read from the right: trusted proxy hops are
//! skipped and the first untrusted address is the client. Entries further
//! left were written by the client and are never believed.

use std::net::{IpAddr, SocketAddr};

use crate::config::{self, ConfigError};
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;

/// An IP network, `addr/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP or CIDR"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?} has a bad prefix length"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Loopback only: a gateway on the same host. Anything wider (the ingress
/// controller's pod range) must be configured explicitly, since every host in
/// a trusted range can choose the client address the limits are keyed on.
pub const DEFAULT_TRUSTED_PROXIES: &str = "127.0.0.1/32,::1/128";

/// The key per-IP rate limits count on: the address itself for IPv4, its
/// /64 for IPv6. One IPv6 subscriber (a home, a VM) is routed a whole /64 and
/// can pick any of its 2^64 addresses per request, so keying on the /128
/// would hand it unlimited attempts.
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", std::net::Ipv6Addr::from(net))
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProxyPolicy {
    /// Empty: `X-Forwarded-For` is ignored.
    trusted: Vec<Cidr>,
}

impl ProxyPolicy {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn trusting(cidrs: &str) -> Result<Self, String> {
        let trusted = cidrs
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { trusted })
    }

    /// `TRUST_PROXY_HEADERS` (default false) and `TRUSTED_PROXIES` (CIDRs,
    /// default loopback only: the dev gateway on 127.0.0.1).
    pub fn from_env() -> Result<Self, ConfigError> {
        if !config::flag("TRUST_PROXY_HEADERS", false)? {
            return Ok(Self::none());
        }
        let cidrs =
            config::var("TRUSTED_PROXIES")?.unwrap_or_else(|| DEFAULT_TRUSTED_PROXIES.into());
        Self::trusting(&cidrs).map_err(|e| ConfigError::new("TRUSTED_PROXIES", e))
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|c| c.contains(ip))
    }

    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if self.trusted.is_empty() || !self.is_trusted(peer) {
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut last = peer;
        for entry in header.rsplit(',') {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                // Garbage: stop believing anything further left.
                return last;
            };
            let ip = canonical(ip);
            if !self.is_trusted(ip) {
                return ip;
            }
            last = ip;
        }
        last
    }
}

/// The client IP of a request, per the state's [`ProxyPolicy`].
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    ProxyPolicy: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let xff = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(ClientIp(ProxyPolicy::from_ref(state).client_ip(peer, xff)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidrs_match_their_networks_only() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.200.1.1")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("127.0.0.0/8")
            .unwrap()
            .contains(ip("::ffff:127.0.0.1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope").is_err());
    }

    #[test]
    fn ipv6_clients_are_keyed_on_their_64() {
        let a = limit_key(ip("2001:db8:1:2::1"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        assert_ne!(a, limit_key(ip("2001:db8:1:3::1")));
        assert_eq!(limit_key(ip("198.51.100.7")), "198.51.100.7");
        assert_eq!(limit_key(ip("::ffff:198.51.100.7")), "198.51.100.7");
    }

    #[test]
    fn the_default_trusts_only_loopback() {
        let p = ProxyPolicy::trusting(DEFAULT_TRUSTED_PROXIES).unwrap();
        assert_eq!(p.client_ip(ip("127.0.0.1"), Some("1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(p.client_ip(ip("::1"), Some("1.2.3.4")), ip("1.2.3.4"));
        // A pod or a neighbour on a private network is not a proxy by default.
        for peer in [
            "10.0.0.5",
            "192.168.1.9",
            "172.16.0.1",
            "127.0.0.2",
            "fd00::1",
        ] {
            assert_eq!(p.client_ip(ip(peer), Some("1.2.3.4")), ip(peer), "{peer}");
        }
    }

    #[test]
    fn forwarded_for_is_ignored_unless_trusted() {
        let none = ProxyPolicy::none();
        assert_eq!(
            none.client_ip(ip("127.0.0.1"), Some("1.2.3.4")),
            ip("127.0.0.1")
        );
        let p = ProxyPolicy::trusting(DEFAULT_TRUSTED_PROXIES).unwrap();
        // A peer that is not a proxy cannot pick its own address.
        assert_eq!(
            p.client_ip(ip("203.0.113.9"), Some("1.2.3.4")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = ProxyPolicy::trusting("127.0.0.0/8,10.0.0.0/8").unwrap();
        // The client forged "6.6.6.6"; nginx appended the real peer, the ingress its own hop.
        let xff = "6.6.6.6, 198.51.100.7, 10.1.2.3";
        assert_eq!(p.client_ip(ip("127.0.0.1"), Some(xff)), ip("198.51.100.7"));
        assert_eq!(
            p.client_ip(ip("127.0.0.1"), Some("garbage, 10.0.0.5")),
            ip("10.0.0.5")
        );
        assert_eq!(p.client_ip(ip("127.0.0.1"), None), ip("127.0.0.1"));
    }
}
