//! The adapter's error type, with libzmq's errno for every case.

use std::fmt;
use std::io;

use zmtp_core::monitor::errno;

/// What went wrong, named after libzmq's errno for the same case.
///
/// [`Error::errno`] gives the number (Linux values, and libzmq's own numbers
/// for `EFSM`, `ENOCOMPATPROTO` and `ETERM`); [`Error::name`] gives the
/// symbolic name. `From<Error> for io::Error` keeps the error as the source,
/// so it can be recovered with `io::Error::get_ref` and `downcast_ref`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `EAGAIN`: nothing can be done now (non-blocking call), or the timeout
    /// (`ZMQ_RCVTIMEO`, `ZMQ_SNDTIMEO`, an explicit timeout) expired.
    WouldBlock,
    /// `EINVAL`: an invalid argument (malformed endpoint, option value out of
    /// range, option not valid for the socket type).
    Invalid,
    /// `EPROTONOSUPPORT`: the endpoint's transport is not supported (only
    /// `tcp://` and `ipc://` are; monitors need `inproc://`).
    ProtocolNotSupported,
    /// `ENOCOMPATPROTO`: the transport does not work with this socket type
    /// (`udp://`).
    IncompatibleProtocol,
    /// `EADDRINUSE`: the address is already bound, or another monitor uses
    /// the inproc name.
    AddrInUse,
    /// `EADDRNOTAVAIL`: the address is not local.
    AddrNotAvailable,
    /// `ENODEV`: a bind address names no known interface.
    NoDevice,
    /// `ENOENT`: `unbind`/`disconnect` of an endpoint that is not bound or
    /// connected.
    NotFound,
    /// `ENAMETOOLONG`: an IPC path or monitor endpoint is too long.
    NameTooLong,
    /// `ENOTSUP`: the socket type cannot do this (send on SUB, recv on PUB).
    NotSupported,
    /// `EFSM`: wrong moment in the socket's state machine (REQ sending
    /// twice, REP replying before a request).
    Fsm,
    /// `EMSGSIZE`: the message can never fit a connection's transmit buffer,
    /// or has more frames than a connection takes in one message.
    MessageTooLarge,
    /// `ENOMEM`: a fixed store is full (the subscription store).
    OutOfMemory,
    /// `ETERM`: the context's I/O thread is gone.
    Terminated,
    /// Any other operating-system error.
    Io(io::Error),
}

/// The errno of an operating-system error, as the core's Linux numbers.
pub(crate) fn os_errno(e: &io::Error) -> Option<u32> {
    e.raw_os_error().and_then(|n| u32::try_from(n).ok())
}

impl Error {
    /// The errno libzmq reports in the same case (Linux numbers).
    #[must_use]
    pub fn errno(&self) -> i32 {
        let n = match self {
            Self::WouldBlock => errno::EAGAIN,
            Self::Invalid => errno::EINVAL,
            Self::ProtocolNotSupported => errno::EPROTONOSUPPORT,
            Self::IncompatibleProtocol => errno::ENOCOMPATPROTO,
            Self::AddrInUse => errno::EADDRINUSE,
            Self::AddrNotAvailable => errno::EADDRNOTAVAIL,
            Self::NoDevice => errno::ENODEV,
            Self::NotFound => errno::ENOENT,
            Self::NameTooLong => errno::ENAMETOOLONG,
            Self::NotSupported => errno::ENOTSUP,
            Self::Fsm => errno::EFSM,
            Self::MessageTooLarge => errno::EMSGSIZE,
            Self::OutOfMemory => errno::ENOMEM,
            Self::Terminated => errno::ETERM,
            Self::Io(e) => os_errno(e).unwrap_or(errno::EIO),
        };
        i32::try_from(n).unwrap_or(i32::MAX)
    }

    /// The symbolic errno name (`"EAGAIN"`, `"EADDRINUSE"`, ...), or `None`
    /// for an operating-system error this crate has no name for.
    #[must_use]
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Self::Io(e) => os_errno(e).and_then(errno::name),
            other => u32::try_from(other.errno()).ok().and_then(errno::name),
        }
    }

    /// The error for an operating-system error, with the variants above for
    /// the errno values they name.
    #[must_use]
    pub fn from_io(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::WouldBlock {
            return Self::WouldBlock;
        }
        let Some(n) = os_errno(&e) else {
            return Self::Io(e);
        };
        match n {
            errno::EINVAL => Self::Invalid,
            errno::EADDRINUSE => Self::AddrInUse,
            errno::EADDRNOTAVAIL => Self::AddrNotAvailable,
            errno::ENOENT => Self::NotFound,
            errno::ENAMETOOLONG => Self::NameTooLong,
            errno::ENOMEM => Self::OutOfMemory,
            errno::EPROTONOSUPPORT => Self::ProtocolNotSupported,
            errno::ENODEV => Self::NoDevice,
            _ => Self::Io(e),
        }
    }

    fn kind(&self) -> io::ErrorKind {
        match self {
            Self::WouldBlock => io::ErrorKind::WouldBlock,
            Self::Invalid | Self::NameTooLong => io::ErrorKind::InvalidInput,
            Self::ProtocolNotSupported | Self::IncompatibleProtocol | Self::NotSupported => {
                io::ErrorKind::Unsupported
            }
            Self::AddrInUse => io::ErrorKind::AddrInUse,
            Self::AddrNotAvailable | Self::NoDevice => io::ErrorKind::AddrNotAvailable,
            Self::NotFound => io::ErrorKind::NotFound,
            Self::OutOfMemory => io::ErrorKind::OutOfMemory,
            Self::Fsm | Self::MessageTooLarge | Self::Terminated => io::ErrorKind::Other,
            Self::Io(e) => e.kind(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // libzmq's zmq_strerror texts.
        f.write_str(match self {
            Self::WouldBlock => "Resource temporarily unavailable",
            Self::Invalid => "Invalid argument",
            Self::ProtocolNotSupported => "Protocol not supported",
            Self::IncompatibleProtocol => "The protocol is not compatible with the socket type",
            Self::AddrInUse => "Address already in use",
            Self::AddrNotAvailable => "Cannot assign requested address",
            Self::NoDevice => "No such device",
            Self::NotFound => "No such file or directory",
            Self::NameTooLong => "File name too long",
            Self::NotSupported => "Operation not supported",
            Self::Fsm => "Operation cannot be accomplished in current state",
            Self::MessageTooLarge => "Message too long",
            Self::OutOfMemory => "Cannot allocate memory",
            Self::Terminated => "Context was terminated",
            Self::Io(e) => return e.fmt(f),
        })
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::from_io(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(inner) => inner,
            other => Self::new(other.kind(), other),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_values_and_names() {
        assert_eq!(Error::WouldBlock.errno(), 11);
        assert_eq!(Error::AddrInUse.errno(), 98);
        assert_eq!(Error::ProtocolNotSupported.errno(), 93);
        assert_eq!(Error::Invalid.errno(), 22);
        assert_eq!(Error::NotFound.errno(), 2);
        assert_eq!(Error::NoDevice.errno(), 19);
        assert_eq!(Error::Fsm.errno(), 156_384_763);
        assert_eq!(Error::AddrInUse.name(), Some("EADDRINUSE"));
        assert_eq!(Error::NoDevice.name(), Some("ENODEV"));
        assert_eq!(Error::Fsm.name(), Some("EFSM"));
    }

    #[test]
    fn io_round_trip() {
        let e = Error::from_io(io::Error::from_raw_os_error(98));
        assert!(matches!(e, Error::AddrInUse));
        let io: io::Error = Error::AddrInUse.into();
        assert_eq!(io.kind(), io::ErrorKind::AddrInUse);
        let inner = io.get_ref().and_then(|e| e.downcast_ref::<Error>());
        assert!(matches!(inner, Some(Error::AddrInUse)));
        let io: io::Error = Error::Io(io::Error::from_raw_os_error(104)).into();
        assert_eq!(io.raw_os_error(), Some(104));
        assert_eq!(
            Error::WouldBlock.to_string(),
            "Resource temporarily unavailable"
        );
    }
}
