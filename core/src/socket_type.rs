//! ZeroMQ socket types, their ZMTP names and the RFC 23/37 compatibility
//! table (libzmq `mechanism.cpp` `check_socket_type`).

use core::fmt;

/// A ZeroMQ socket type implemented by this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SocketType {
    /// Exclusive pair (`ZMQ_PAIR`, 0).
    Pair,
    /// Publisher (`ZMQ_PUB`, 1).
    Pub,
    /// Subscriber (`ZMQ_SUB`, 2).
    Sub,
    /// Requester (`ZMQ_REQ`, 3).
    Req,
    /// Replier (`ZMQ_REP`, 4).
    Rep,
    /// Asynchronous requester (`ZMQ_DEALER`, 5).
    Dealer,
    /// Asynchronous replier with routing ids (`ZMQ_ROUTER`, 6).
    Router,
    /// Pipeline sink (`ZMQ_PULL`, 7).
    Pull,
    /// Pipeline source (`ZMQ_PUSH`, 8).
    Push,
    /// Publisher that sees subscriptions (`ZMQ_XPUB`, 9).
    XPub,
    /// Subscriber that sends subscriptions as messages (`ZMQ_XSUB`, 10).
    XSub,
}

impl SocketType {
    /// Every socket type, in libzmq's numbering order.
    pub const ALL: [Self; 11] = [
        Self::Pair,
        Self::Pub,
        Self::Sub,
        Self::Req,
        Self::Rep,
        Self::Dealer,
        Self::Router,
        Self::Pull,
        Self::Push,
        Self::XPub,
        Self::XSub,
    ];

    /// The name sent in the `Socket-Type` property (RFC 23).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pair => "PAIR",
            Self::Pub => "PUB",
            Self::Sub => "SUB",
            Self::Req => "REQ",
            Self::Rep => "REP",
            Self::Dealer => "DEALER",
            Self::Router => "ROUTER",
            Self::Pull => "PULL",
            Self::Push => "PUSH",
            Self::XPub => "XPUB",
            Self::XSub => "XSUB",
        }
    }

    /// libzmq's `ZMQ_*` number for the type (also the ZMTP 2.0 socket-type byte).
    #[must_use]
    pub const fn number(self) -> u8 {
        match self {
            Self::Pair => 0,
            Self::Pub => 1,
            Self::Sub => 2,
            Self::Req => 3,
            Self::Rep => 4,
            Self::Dealer => 5,
            Self::Router => 6,
            Self::Pull => 7,
            Self::Push => 8,
            Self::XPub => 9,
            Self::XSub => 10,
        }
    }

    /// Parses a `Socket-Type` property value. Matching is exact and
    /// case-sensitive, as in libzmq.
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().as_bytes() == name)
    }

    /// Parses a type name in any case (for command lines and configuration).
    #[must_use]
    pub fn from_name_ignore_case(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether a peer announcing `peer` (as its raw `Socket-Type` value) may
    /// talk to this type (RFC 23/37 table). Names of types this crate does not
    /// implement are never compatible.
    #[must_use]
    pub fn accepts_peer_name(self, peer: &[u8]) -> bool {
        Self::from_name(peer).is_some_and(|p| self.is_compatible(p))
    }

    /// Whether this type may talk to `peer` (RFC 23/37 table).
    #[must_use]
    pub const fn is_compatible(self, peer: Self) -> bool {
        use SocketType::*;
        matches!(
            (self, peer),
            (Req, Rep | Router)
                | (Rep, Req | Dealer)
                | (Dealer, Rep | Dealer | Router)
                | (Router, Req | Dealer | Router)
                | (Pub | XPub, Sub | XSub)
                | (Sub | XSub, Pub | XPub)
                | (Push, Pull)
                | (Pull, Push)
                | (Pair, Pair)
        )
    }

    /// Whether libzmq puts an `Identity` property in this type's READY
    /// (`mechanism.cpp` add_basic_properties: REQ, DEALER and ROUTER).
    #[must_use]
    pub const fn sends_identity(self) -> bool {
        matches!(self, Self::Req | Self::Dealer | Self::Router)
    }
}

impl fmt::Display for SocketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in SocketType::ALL {
            assert_eq!(SocketType::from_name(t.as_str().as_bytes()), Some(t));
            assert_eq!(SocketType::ALL[usize::from(t.number())], t);
        }
        assert_eq!(SocketType::from_name(b"dealer"), None);
        assert_eq!(
            SocketType::from_name_ignore_case("dealer"),
            Some(SocketType::Dealer)
        );
    }

    #[test]
    fn compatibility_is_symmetric_and_matches_rfc() {
        for a in SocketType::ALL {
            for b in SocketType::ALL {
                assert_eq!(a.is_compatible(b), b.is_compatible(a), "{a} {b}");
            }
        }
        assert!(SocketType::Req.is_compatible(SocketType::Router));
        assert!(!SocketType::Req.is_compatible(SocketType::Req));
        assert!(!SocketType::Pub.is_compatible(SocketType::Pub));
        assert!(SocketType::XPub.accepts_peer_name(b"SUB"));
        assert!(!SocketType::Pair.accepts_peer_name(b"STREAM"));
    }
}
