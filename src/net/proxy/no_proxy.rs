//! `no_proxy` matching, with curl's rules: a comma- (or space-) separated list of host names,
//! domain suffixes, IP addresses and CIDR ranges, each optionally with a port; `*` alone matches
//! every host.
//!
//! - `example.com` and `.example.com` both match `example.com` and every name under it
//!   (`a.example.com`), never `badexample.com`; comparison ignores case and a trailing dot.
//! - `192.168.1.2`, `::1` (or `[::1]`) match that address; `10.0.0.0/8`, `fd00::/8` a range. An
//!   address entry matches a URL whose host is that literal address (names are not resolved).
//! - `host:port` (`[::1]:8080` for IPv6) matches only that port.

use std::net::IpAddr;

/// True if `host` (lowercase, IPv6 without brackets) at `port` is excluded by `list`.
pub fn matches(list: &str, host: &str, port: u16) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| entry_matches(entry, &host, ip, port))
}

fn entry_matches(entry: &str, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    let (pattern, entry_port) = split_port(entry);
    if entry_port.is_some_and(|p| p != port) {
        return false;
    }
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if let Some((net, bits)) = pattern.split_once('/') {
        let (Ok(net), Ok(bits), Some(ip)) = (net.parse::<IpAddr>(), bits.parse::<u8>(), ip) else {
            return false;
        };
        return in_range(ip, net, bits);
    }
    if let Ok(addr) = pattern.parse::<IpAddr>() {
        return ip == Some(addr);
    }
    let suffix = pattern.strip_prefix('.').unwrap_or(&pattern);
    if suffix.is_empty() {
        return false;
    }
    host == suffix
        || (host.len() > suffix.len()
            && host.ends_with(suffix)
            && host[..host.len() - suffix.len()].ends_with('.'))
}

/// Splits `host:port`, `[v6]:port`, `[v6]`; a bare IPv6 address (several colons) has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, after)) = rest.split_once(']') {
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return (addr, port);
        }
        return (entry, None);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V4(_)) => ip
            .to_ipv4_mapped()
            .is_some_and(|v4| in_range(IpAddr::V4(v4), net, bits)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_matches_everything() {
        assert!(matches("*", "example.com", 80));
        assert!(matches("a.b, *", "10.1.2.3", 443));
        assert!(!matches("", "example.com", 80));
    }

    #[test]
    fn names_match_themselves_and_subdomains_only() {
        for list in [
            "example.com",
            ".example.com",
            "EXAMPLE.com.",
            " other.org ,example.com",
        ] {
            assert!(matches(list, "example.com", 80), "{list}");
            assert!(matches(list, "ws.example.com", 80), "{list}");
            assert!(matches(list, "a.b.example.com.", 80), "{list}");
            assert!(!matches(list, "badexample.com", 80), "{list}");
            assert!(!matches(list, "example.com.evil.org", 80), "{list}");
        }
        assert!(matches("localhost other", "localhost", 1));
    }

    #[test]
    fn addresses_and_ranges() {
        assert!(matches("127.0.0.1", "127.0.0.1", 9));
        assert!(!matches("127.0.0.1", "127.0.0.2", 9));
        assert!(matches("10.0.0.0/8", "10.200.3.4", 9));
        assert!(!matches("10.0.0.0/8", "11.0.0.1", 9));
        assert!(matches("192.168.1.0/24", "192.168.1.255", 9));
        assert!(!matches("192.168.1.0/24", "192.168.2.1", 9));
        assert!(matches("0.0.0.0/0", "8.8.8.8", 9));
        assert!(matches("::1", "::1", 9));
        assert!(matches("[::1]", "::1", 9));
        assert!(matches("fd00::/8", "fd12::1", 9));
        assert!(!matches("fd00::/8", "fe80::1", 9));
        assert!(matches("127.0.0.0/8", "::ffff:127.0.0.1", 9));
        // An address entry does not match a name, nor a range a name.
        assert!(!matches("127.0.0.1,10.0.0.0/8", "localhost", 9));
        assert!(!matches("10.0.0.0/33", "10.0.0.1", 9));
    }

    #[test]
    fn ports_restrict_an_entry() {
        assert!(matches("example.com:8080", "example.com", 8080));
        assert!(!matches("example.com:8080", "example.com", 80));
        assert!(matches(".example.com:443", "ws.example.com", 443));
        assert!(matches("127.0.0.1:9001", "127.0.0.1", 9001));
        assert!(!matches("127.0.0.1:9001", "127.0.0.1", 9002));
        assert!(matches("[::1]:9001", "::1", 9001));
        assert!(!matches("[::1]:9001", "::1", 9000));
    }
}
