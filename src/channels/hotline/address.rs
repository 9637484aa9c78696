//! Which addresses a recording may be fetched from: public ones, or hosts the source allows.

#[allow(unused_imports)]
use super::*;

pub(super) fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_unspecified()
        || o[0] == 0 // 0.0.0.0/8 "this network"
        || ip.is_loopback() // 127.0.0.0/8
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local() // 169.254/16 (cloud metadata lives here)
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10 carrier-grade NAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24 IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15 benchmarking
        || ip.is_documentation()
        || ip.is_multicast() // 224/4
        || o[0] >= 240 // 240/4 reserved, and broadcast
}

/// Whether `ip` is not a public unicast address: private, loopback, link-local, CGNAT,
/// multicast, unspecified, reserved — for IPv6 also unique-local, site-local, and IPv4
/// addresses embedded in IPv6 (mapped, compatible, NAT64, 6to4) by their IPv4 rules.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            if s[..6] == [0; 6] {
                // ::/96 IPv4-compatible (also :: and ::1)
                return true;
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return forbidden_v4(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return forbidden_v4(embedded(s[1], s[2]));
            }
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast() // ff00::/8
                || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
                || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
                || (s[0] & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // 100::/64 discard
        }
    }
}

/// The address of a URL host written as an IP literal (`[…]` for IPv6). The URL parser has
/// already turned other IPv4 spellings (`2130706433`, `0x7f.1`) into dotted form.
pub(super) fn literal_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

pub(super) fn host_allowed(allow: &[String], host: &str) -> bool {
    let bare = |h: &str| {
        h.trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    };
    let host = bare(host);
    allow.iter().any(|a| bare(a) == host)
}

/// Intake-time check of `recording_url`: an http(s) URL without credentials whose host, if
/// written as an IP address, is public or allowed. Host names are resolved and checked when
/// the recording is fetched.
pub(super) fn check_recording_url(u: &str, source: &HotlineSource) -> Result<String, ()> {
    if u.len() > 2048 {
        return Err(());
    }
    let url = reqwest::Url::parse(u).map_err(|_| ())?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(());
    }
    let host = url.host_str().ok_or(())?;
    if let Some(ip) = literal_ip(host) {
        if is_forbidden(ip) && !host_allowed(&source.allow_recording_hosts, host) {
            return Err(());
        }
    }
    Ok(url.to_string())
}
