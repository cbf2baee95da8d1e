//! Endpoint strings in libzmq's format (`src/tcp_address.cpp`): always
//! numeric, `tcp://A.B.C.D:port` or `tcp://[v6]:port`.

use core::fmt::Write;

use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

/// Bytes of the longest TCP endpoint libzmq prints,
/// `tcp://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535` (53 bytes),
/// rounded up.
pub const TCP_ENDPOINT_LEN: usize = 64;

/// A formatted endpoint string.
pub type EndpointString = heapless::String<TCP_ENDPOINT_LEN>;

/// Writes `addr:port` (brackets around IPv6 addresses), optionally after
/// `tcp://`.
fn write_endpoint(out: &mut EndpointString, scheme: bool, addr: Option<IpAddress>, port: u16) {
    if scheme {
        let _ = out.push_str("tcp://");
    }
    // The longest result is 53 bytes, so the writes below cannot run out
    // of room.
    let _ = match addr {
        // libzmq prints a wildcard IPv4 bind as 0.0.0.0.
        None => write!(out, "0.0.0.0:{port}"),
        #[cfg(feature = "proto-ipv6")]
        Some(IpAddress::Ipv6(a)) => write!(out, "[{a}]:{port}"),
        #[allow(unreachable_patterns, reason = "only IPv4 without proto-ipv6")]
        Some(a) => write!(out, "{a}:{port}"),
    };
}

/// `tcp://addr:port` for a connected endpoint (CONNECTED, ACCEPTED, and
/// the connecter's endpoint).
#[must_use]
pub fn tcp(ep: IpEndpoint) -> EndpointString {
    let mut s = EndpointString::new();
    write_endpoint(&mut s, true, Some(ep.addr), ep.port);
    s
}

/// `tcp://addr:port` for a listener (LISTENING, CLOSED); an unspecified
/// address prints as `0.0.0.0`.
#[must_use]
pub fn tcp_listen(ep: IpListenEndpoint) -> EndpointString {
    let mut s = EndpointString::new();
    write_endpoint(&mut s, true, ep.addr, ep.port);
    s
}

/// `addr:port` without the scheme, as libzmq reports BIND_FAILED.
#[must_use]
pub fn bare_listen(ep: IpListenEndpoint) -> EndpointString {
    let mut s = EndpointString::new();
    write_endpoint(&mut s, false, ep.addr, ep.port);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::wire::Ipv4Address;

    #[test]
    fn ipv4_formats() {
        let a = IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1));
        assert_eq!(
            tcp(IpEndpoint::new(a, 5555)).as_str(),
            "tcp://127.0.0.1:5555"
        );
        assert_eq!(
            tcp_listen(IpListenEndpoint::from(5555)).as_str(),
            "tcp://0.0.0.0:5555"
        );
        assert_eq!(
            tcp_listen(IpListenEndpoint {
                addr: Some(a),
                port: 1
            })
            .as_str(),
            "tcp://127.0.0.1:1"
        );
        assert_eq!(
            bare_listen(IpListenEndpoint::from(5555)).as_str(),
            "0.0.0.0:5555"
        );
        let longest = IpAddress::Ipv4(Ipv4Address::new(255, 255, 255, 255));
        assert_eq!(
            tcp(IpEndpoint::new(longest, 65535)).as_str(),
            "tcp://255.255.255.255:65535"
        );
    }

    #[cfg(feature = "proto-ipv6")]
    #[test]
    fn ipv6_formats() {
        use smoltcp::wire::Ipv6Address;
        let a = IpAddress::Ipv6(Ipv6Address::LOCALHOST);
        assert_eq!(tcp(IpEndpoint::new(a, 5555)).as_str(), "tcp://[::1]:5555");
        let longest = IpAddress::Ipv6(Ipv6Address::new(
            0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
        ));
        assert_eq!(
            tcp(IpEndpoint::new(longest, 65535)).as_str(),
            "tcp://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"
        );
    }
}
