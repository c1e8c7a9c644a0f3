//! IP and CIDR checks as k8s.io/utils/net (ParseIPSloppy, ParseCIDRSloppy) and
//! k8s.io/apimachinery/pkg/util/validation/ip.go word them.

use crate::field::{ErrorList, Path, invalid};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Go's `net.ParseIP`, accepting IPv4 octets with leading zeros as Kubernetes' "sloppy" parser does.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        return s.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    parse_ipv4(s).map(IpAddr::V4)
}

fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    Some(Ipv4Addr::from(octets))
}

/// Whether Go's `ip.To4()` is nil: a true IPv6 address (not IPv4-mapped).
pub fn is_ipv6(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => false,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_none(),
    }
}

/// Whether the string is an IPv6 address (`netutils.IsIPv6String`).
pub fn is_ipv6_string(s: &str) -> bool {
    parse_ip(s).is_some_and(|ip| is_ipv6(&ip))
}

/// IsValidIP.
pub fn validate_ip(p: &Path, value: &str) -> ErrorList {
    if parse_ip(value).is_some() {
        return Vec::new();
    }
    vec![invalid(p, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
}

/// IsValidIPv4Address.
pub fn validate_ipv4(p: &Path, value: &str) -> ErrorList {
    match parse_ip(value) {
        Some(ip) if !is_ipv6(&ip) => Vec::new(),
        _ => vec![invalid(p, value, "must be a valid IPv4 address")],
    }
}

/// IsValidIPv6Address.
pub fn validate_ipv6(p: &Path, value: &str) -> ErrorList {
    match parse_ip(value) {
        Some(ip) if is_ipv6(&ip) => Vec::new(),
        _ => vec![invalid(p, value, "must be a valid IPv6 address")],
    }
}

/// Go's `net.ParseCIDR`, sloppy about leading zeros.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let ip = parse_ip(ip)?;
    if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// IsValidCIDR.
pub fn validate_cidr(p: &Path, value: &str) -> ErrorList {
    if parse_cidr(value).is_some() {
        return Vec::new();
    }
    vec![invalid(p, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
}

/// ValidateNonSpecialIP: no unspecified, loopback or link-local addresses.
pub fn validate_non_special_ip(value: &str, p: &Path) -> ErrorList {
    let Some(ip) = parse_ip(value) else {
        return vec![invalid(p, value, "must be a valid IP address")];
    };
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let checks: [(bool, String); 4] = [
        (ip.is_unspecified(), format!("may not be unspecified ({value})")),
        (ip.is_loopback(), "may not be in the loopback range (127.0.0.0/8, ::1/128)".to_string()),
        (link_local_unicast(&ip), "may not be in the link-local range (169.254.0.0/16, fe80::/10)".to_string()),
        (
            link_local_multicast(&ip),
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)".to_string(),
        ),
    ];
    checks.into_iter().filter(|(bad, _)| *bad).map(|(_, msg)| invalid(p, value, msg)).collect()
}

fn link_local_unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[0] == 169 && v4.octets()[1] == 254,
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

fn link_local_multicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
        IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_with_leading_zeros_is_accepted_sloppily() {
        assert!(parse_ip("010.001.002.003").is_some());
        assert!(parse_ip("1.2.3.256").is_none());
        assert!(parse_ip("10.233.10.10").is_some());
        assert!(parse_ip("2001:db8::1").is_some());
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_ipv4() {
        assert!(!is_ipv6_string("::ffff:1.2.3.4"));
        assert!(is_ipv6_string("fd00::1"));
    }

    #[test]
    fn cidrs_need_a_prefix_in_range() {
        assert!(parse_cidr("10.233.64.0/24").is_some());
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("10.0.0.0").is_none());
    }

    #[test]
    fn loopback_addresses_are_special() {
        let errs = validate_non_special_ip("127.0.0.1", &Path::new("ip"));
        assert_eq!(
            errs[0].message(),
            "ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)"
        );
    }
}
