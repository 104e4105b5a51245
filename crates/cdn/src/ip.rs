//! `AWS:SourceIp` CIDR checks for custom policies.

use std::net::IpAddr;

/// Whether `addr` lies in `cidr` (`a.b.c.d/n`, an IPv6 prefix, or a bare
/// address). `Err` for a malformed CIDR.
pub fn cidr_contains(cidr: &str, addr: IpAddr) -> Result<bool, ()> {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, Some(b.parse::<u32>().map_err(|_| ())?)),
        None => (cidr, None),
    };
    let net: IpAddr = net.trim().parse().map_err(|_| ())?;
    let addr = match (net, addr) {
        // An IPv4 client seen through an IPv6 socket.
        (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
        _ => addr,
    };
    let (n, a, width) = match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => (u32::from(n) as u128, u32::from(a) as u128, 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
        _ => return Ok(false),
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return Err(());
    }
    if bits == 0 {
        return Ok(true);
    }
    let shift = width - bits;
    Ok((n >> shift) == (a >> shift))
}

#[cfg(test)]
mod tests {
    use super::cidr_contains;

    #[test]
    fn cidrs() {
        let ip = |s: &str| s.parse().unwrap();
        assert_eq!(cidr_contains("192.0.2.0/24", ip("192.0.2.77")), Ok(true));
        assert_eq!(cidr_contains("192.0.2.0/24", ip("192.0.3.1")), Ok(false));
        assert_eq!(cidr_contains("192.0.2.7/32", ip("192.0.2.7")), Ok(true));
        assert_eq!(cidr_contains("192.0.2.7", ip("192.0.2.8")), Ok(false));
        assert_eq!(cidr_contains("0.0.0.0/0", ip("203.0.113.9")), Ok(true));
        assert_eq!(
            cidr_contains("2001:db8::/32", ip("2001:db8:1::1")),
            Ok(true)
        );
        assert_eq!(cidr_contains("2001:db8::/32", ip("192.0.2.1")), Ok(false));
        assert_eq!(
            cidr_contains("192.0.2.0/24", ip("::ffff:192.0.2.1")),
            Ok(true)
        );
        assert!(cidr_contains("192.0.2.0/33", ip("192.0.2.1")).is_err());
        assert!(cidr_contains("nonsense", ip("192.0.2.1")).is_err());
    }
}
