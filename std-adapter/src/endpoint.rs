//! Endpoint strings: parsing (`tcp://`, `ipc://`), resolution and
//! libzmq's formatting of addresses in monitor events and
//! `ZMQ_LAST_ENDPOINT`.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::net::ToSocketAddrs;
use std::os::unix::net::SocketAddr as UnixAddr;

use socket2::SockAddr;

use crate::error::{Error, Result};

/// Longest `sun_path` (Linux `sockaddr_un`).
const SUN_PATH_LEN: usize = 108;

/// A transport this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Tcp,
    Ipc,
}

/// Splits `transport://address` with libzmq's checks (`socket_base.cpp`
/// `parse_uri` and `check_protocol`).
pub(crate) fn split(endpoint: &str) -> Result<(Transport, &str)> {
    let (scheme, address) = endpoint.split_once("://").ok_or(Error::Invalid)?;
    if scheme.is_empty() || address.is_empty() {
        return Err(Error::Invalid);
    }
    match scheme {
        "tcp" => Ok((Transport::Tcp, address)),
        "ipc" => Ok((Transport::Ipc, address)),
        // libzmq only allows udp for RADIO, DISH and DGRAM.
        "udp" => Err(Error::IncompatibleProtocol),
        _ => Err(Error::ProtocolNotSupported),
    }
}

/// Where a connecter connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A TCP host (name or literal, brackets removed) and port text,
    /// resolved before every attempt.
    Tcp { host: String, port: String },
    /// A Unix domain socket path, or an abstract name (`@name`).
    Ipc(IpcPath),
}

/// An IPC address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IpcPath {
    /// A filesystem path.
    Path(String),
    /// A Linux abstract socket name (without the `@`).
    Abstract(String),
}

impl IpcPath {
    /// Parses the part after `ipc://` (libzmq `ipc_address_t::resolve`).
    pub(crate) fn parse(address: &str) -> Result<Self> {
        if address.len() >= SUN_PATH_LEN {
            return Err(Error::NameTooLong);
        }
        match address.strip_prefix('@') {
            Some("") => Err(Error::Invalid),
            Some(name) => Ok(Self::Abstract(name.to_owned())),
            None => Ok(Self::Path(address.to_owned())),
        }
    }

    /// The socket address.
    pub(crate) fn sock_addr(&self) -> Result<SockAddr> {
        match self {
            Self::Path(p) => SockAddr::unix(p).map_err(Error::from_io),
            Self::Abstract(name) => {
                let mut raw = String::with_capacity(name.len().saturating_add(1));
                raw.push('\0');
                raw.push_str(name);
                SockAddr::unix(raw).map_err(Error::from_io)
            }
        }
    }

    /// The filesystem path, for a path address.
    pub(crate) fn file(&self) -> Option<&str> {
        match self {
            Self::Path(p) => Some(p),
            Self::Abstract(_) => None,
        }
    }

    /// `ipc://path` or `ipc://@name`.
    pub(crate) fn endpoint(&self) -> String {
        match self {
            Self::Path(p) => format!("ipc://{p}"),
            Self::Abstract(n) => format!("ipc://@{n}"),
        }
    }
}

/// Parses a TCP port: `*` and `0` mean "any" (bind only).
fn parse_port(port: &str, bind: bool) -> Result<u16> {
    if bind && (port == "*" || port == "0") {
        return Ok(0);
    }
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Invalid);
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(Error::Invalid),
        Ok(p) => Ok(p),
    }
}

/// Splits `host:port`, removing brackets around an IPv6 host.
fn split_host_port(address: &str) -> Result<(&str, &str)> {
    let (host, port) = address.rsplit_once(':').ok_or(Error::Invalid)?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']').ok_or(Error::Invalid)?,
        None => host,
    };
    if host.is_empty() {
        return Err(Error::Invalid);
    }
    Ok((host, port))
}

/// The address a TCP bind uses (libzmq `tcp_address_t::resolve` with
/// `local = true`: `*` for any interface, numeric addresses; interface names
/// are not supported and give `ENODEV`, as an unknown one does in libzmq).
pub(crate) fn tcp_bind_addr(address: &str) -> Result<SocketAddr> {
    let (host, port) = split_host_port(address)?;
    let port = parse_port(port, true)?;
    let ip = if host == "*" {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        host.parse::<IpAddr>().map_err(|_| Error::NoDevice)?
    };
    Ok(SocketAddr::new(ip, port))
}

/// libzmq's quick syntax check of a TCP connect address
/// (`socket_base_t::connect_internal`): host characters, then `:` and a
/// port that starts with a digit. Resolution happens at connect time.
pub(crate) fn tcp_connect_target(address: &str) -> Result<Target> {
    let bytes = address.as_bytes();
    let mut i = 0usize;
    if bytes
        .first()
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'[' || c == b':')
    {
        i = 1;
        while bytes
            .get(i)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || b".-:%;[]_*".contains(&c))
        {
            i = i.saturating_add(1);
        }
    }
    if i != bytes.len() {
        return Err(Error::Invalid);
    }
    let (host, port) = address.rsplit_once(':').ok_or(Error::Invalid)?;
    if !port.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err(Error::Invalid);
    }
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Ok(Target::Tcp {
        host: host.to_owned(),
        port: port.to_owned(),
    })
}

/// Resolves a TCP connect target; IPv4 results are preferred (libzmq
/// resolves IPv4 only unless `ZMQ_IPV6` is set), IPv6 is used when there is
/// no IPv4 address.
pub(crate) fn resolve_tcp(host: &str, port: &str) -> std::io::Result<SocketAddr> {
    // libzmq attempts port 0 too (the connect then fails).
    let port = if port == "0" {
        0
    } else {
        parse_port(port, false).map_err(std::io::Error::from)?
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| std::io::Error::from(Error::Invalid))
}

/// The canonical string of a TCP endpoint given by the user, when it is
/// numeric (libzmq `resolve_tcp_addr`, used to match `unbind` and
/// `disconnect` arguments against bound and connected endpoints).
pub(crate) fn tcp_canonical(address: &str) -> Option<String> {
    let (host, port) = split_host_port(address).ok()?;
    let port = parse_port(port, false).ok()?;
    let ip = if host == "*" {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        host.parse::<IpAddr>().ok()?
    };
    Some(tcp_string(&SocketAddr::new(ip, port)))
}

/// libzmq's TCP address format: `tcp://A.B.C.D:port`, `tcp://[v6]:port`.
pub(crate) fn tcp_string(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("tcp://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("tcp://[{}]:{}", a.ip(), a.port()),
    }
}

/// libzmq's IPC address format: `ipc://path`, `ipc://@name`, or `ipc://`
/// for an unnamed socket (the connecting side).
pub(crate) fn unix_string(addr: &UnixAddr) -> String {
    if let Some(p) = addr.as_pathname() {
        return format!("ipc://{}", p.display());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = addr.as_abstract_name() {
            return format!("ipc://@{}", String::from_utf8_lossy(name));
        }
    }
    "ipc://".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_checks() {
        assert!(matches!(split("tcp://a:1"), Ok((Transport::Tcp, "a:1"))));
        assert!(matches!(
            split("ipc:///tmp/x"),
            Ok((Transport::Ipc, "/tmp/x"))
        ));
        assert!(matches!(split("tcp:/a:1"), Err(Error::Invalid)));
        assert!(matches!(split("://a"), Err(Error::Invalid)));
        assert!(matches!(split("tcp://"), Err(Error::Invalid)));
        assert!(matches!(
            split("inproc://x"),
            Err(Error::ProtocolNotSupported)
        ));
        assert!(matches!(split("foo://x"), Err(Error::ProtocolNotSupported)));
        assert!(matches!(
            split("udp://x:1"),
            Err(Error::IncompatibleProtocol)
        ));
    }

    #[test]
    fn bind_addresses() {
        assert_eq!(
            tcp_bind_addr("127.0.0.1:*").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(tcp_bind_addr("*:0").unwrap(), "0.0.0.0:0".parse().unwrap());
        assert_eq!(
            tcp_bind_addr("[::1]:5555").unwrap(),
            "[::1]:5555".parse().unwrap()
        );
        assert!(matches!(tcp_bind_addr("127.0.0.1"), Err(Error::Invalid)));
        assert!(matches!(
            tcp_bind_addr("127.0.0.1:70000"),
            Err(Error::Invalid)
        ));
        assert!(matches!(tcp_bind_addr("127.0.0.1:x"), Err(Error::Invalid)));
        assert!(matches!(tcp_bind_addr("eth99:1"), Err(Error::NoDevice)));
    }

    #[test]
    fn connect_syntax() {
        assert_eq!(
            tcp_connect_target("localhost:5555").unwrap(),
            Target::Tcp {
                host: "localhost".into(),
                port: "5555".into()
            }
        );
        assert_eq!(
            tcp_connect_target("[::1]:5555").unwrap(),
            Target::Tcp {
                host: "::1".into(),
                port: "5555".into()
            }
        );
        assert!(matches!(
            tcp_connect_target("127.0.0.1:*"),
            Err(Error::Invalid)
        ));
        assert!(matches!(
            tcp_connect_target("127.0.0.1"),
            Err(Error::Invalid)
        ));
        assert!(matches!(tcp_connect_target("a b:1"), Err(Error::Invalid)));
        assert!(resolve_tcp("127.0.0.1", "5555").is_ok());
        assert!(resolve_tcp("127.0.0.1", "99999").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(
            tcp_string(&"127.0.0.1:5".parse().unwrap()),
            "tcp://127.0.0.1:5"
        );
        assert_eq!(tcp_string(&"[::1]:5".parse().unwrap()), "tcp://[::1]:5");
        assert_eq!(tcp_canonical("*:5").unwrap(), "tcp://0.0.0.0:5");
        assert_eq!(tcp_canonical("[::1]:5").unwrap(), "tcp://[::1]:5");
        assert!(tcp_canonical("localhost:5").is_none());
    }

    #[test]
    fn ipc_paths() {
        assert_eq!(
            IpcPath::parse("@name").unwrap(),
            IpcPath::Abstract("name".into())
        );
        assert!(matches!(IpcPath::parse("@"), Err(Error::Invalid)));
        assert!(matches!(
            IpcPath::parse(&"x".repeat(200)),
            Err(Error::NameTooLong)
        ));
        assert_eq!(IpcPath::parse("/tmp/a").unwrap().endpoint(), "ipc:///tmp/a");
        assert_eq!(IpcPath::parse("@a").unwrap().endpoint(), "ipc://@a");
    }
}
