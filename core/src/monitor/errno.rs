//! Linux `errno` numbers, used as the value of errno-valued monitor events on
//! every target.
//!
//! libzmq reports the host's `errno` in `CONNECT_DELAYED`, `BIND_FAILED`,
//! `ACCEPT_FAILED`, `CLOSE_FAILED` and `HANDSHAKE_FAILED_NO_DETAIL`. This crate
//! fixes those values to the Linux numbers (from `asm-generic/errno-base.h`
//! and `asm-generic/errno.h`) on every target, so a board without an OS and a
//! Linux desktop report the same numbers, and they equal libzmq's on Linux.
//! Note that BSD and macOS use other numbers (for example `EINPROGRESS` is 36
//! there).
//!
//! The last block holds libzmq's own error numbers (`include/zmq.h`,
//! `ZMQ_HAUSNUMERO` + n), which have no Linux equivalent.

/// Operation not permitted (Linux `EPERM`).
pub const EPERM: u32 = 1;
/// No such file or directory (Linux `ENOENT`).
pub const ENOENT: u32 = 2;
/// Interrupted system call (Linux `EINTR`).
pub const EINTR: u32 = 4;
/// Input/output error (Linux `EIO`).
pub const EIO: u32 = 5;
/// Bad file descriptor (Linux `EBADF`).
pub const EBADF: u32 = 9;
/// Resource temporarily unavailable (Linux `EAGAIN`, also `EWOULDBLOCK`).
pub const EAGAIN: u32 = 11;
/// Out of memory (Linux `ENOMEM`).
pub const ENOMEM: u32 = 12;
/// Permission denied (Linux `EACCES`).
pub const EACCES: u32 = 13;
/// Bad address (Linux `EFAULT`). libzmq reports it in
/// `HANDSHAKE_FAILED_NO_DETAIL` when a ZAP handler is required but missing.
pub const EFAULT: u32 = 14;
/// No such device (Linux `ENODEV`; libzmq's BIND_FAILED value for an unknown
/// interface name).
pub const ENODEV: u32 = 19;
/// Invalid argument (Linux `EINVAL`).
pub const EINVAL: u32 = 22;
/// Too many open files in the system (Linux `ENFILE`).
pub const ENFILE: u32 = 23;
/// Too many open files in the process (Linux `EMFILE`).
pub const EMFILE: u32 = 24;
/// Broken pipe (Linux `EPIPE`). libzmq maps a peer's orderly close
/// (`read() == 0`) to this value.
pub const EPIPE: u32 = 32;
/// File name too long (Linux `ENAMETOOLONG`).
pub const ENAMETOOLONG: u32 = 36;
/// Protocol error (Linux `EPROTO`).
pub const EPROTO: u32 = 71;
/// Socket operation on non-socket (Linux `ENOTSOCK`).
pub const ENOTSOCK: u32 = 88;
/// Message too long (Linux `EMSGSIZE`).
pub const EMSGSIZE: u32 = 90;
/// Protocol not supported (Linux `EPROTONOSUPPORT`).
pub const EPROTONOSUPPORT: u32 = 93;
/// Operation not supported (Linux `ENOTSUP`, also `EOPNOTSUPP`).
pub const ENOTSUP: u32 = 95;
/// Address family not supported (Linux `EAFNOSUPPORT`).
pub const EAFNOSUPPORT: u32 = 97;
/// Address already in use (Linux `EADDRINUSE`).
pub const EADDRINUSE: u32 = 98;
/// Cannot assign requested address (Linux `EADDRNOTAVAIL`).
pub const EADDRNOTAVAIL: u32 = 99;
/// Network is down (Linux `ENETDOWN`).
pub const ENETDOWN: u32 = 100;
/// Network is unreachable (Linux `ENETUNREACH`).
pub const ENETUNREACH: u32 = 101;
/// Network dropped connection on reset (Linux `ENETRESET`).
pub const ENETRESET: u32 = 102;
/// Software caused connection abort (Linux `ECONNABORTED`).
pub const ECONNABORTED: u32 = 103;
/// Connection reset by peer (Linux `ECONNRESET`).
pub const ECONNRESET: u32 = 104;
/// No buffer space available (Linux `ENOBUFS`).
pub const ENOBUFS: u32 = 105;
/// Transport endpoint is not connected (Linux `ENOTCONN`).
pub const ENOTCONN: u32 = 107;
/// Connection timed out (Linux `ETIMEDOUT`).
pub const ETIMEDOUT: u32 = 110;
/// Connection refused (Linux `ECONNREFUSED`).
pub const ECONNREFUSED: u32 = 111;
/// No route to host (Linux `EHOSTUNREACH`).
pub const EHOSTUNREACH: u32 = 113;
/// Operation now in progress (Linux `EINPROGRESS`): the value of every
/// `CONNECT_DELAYED` event.
pub const EINPROGRESS: u32 = 115;

/// libzmq's `ZMQ_HAUSNUMERO` (`include/zmq.h`), the base of its own error
/// numbers.
pub const ZMQ_HAUSNUMERO: u32 = 156_384_712;
/// Operation cannot be accomplished in the current state (libzmq `EFSM`,
/// `ZMQ_HAUSNUMERO + 51`).
pub const EFSM: u32 = ZMQ_HAUSNUMERO + 51;
/// The transport is not compatible with the socket type (libzmq
/// `ENOCOMPATPROTO`, `ZMQ_HAUSNUMERO + 52`).
pub const ENOCOMPATPROTO: u32 = ZMQ_HAUSNUMERO + 52;
/// The context was terminated (libzmq `ETERM`, `ZMQ_HAUSNUMERO + 53`).
pub const ETERM: u32 = ZMQ_HAUSNUMERO + 53;
/// No I/O thread is available (libzmq `EMTHREAD`, `ZMQ_HAUSNUMERO + 54`).
pub const EMTHREAD: u32 = ZMQ_HAUSNUMERO + 54;

/// The symbolic name of an errno value defined in this module (for example
/// `Some("EINPROGRESS")` for 115), or `None` for any other number.
#[must_use]
pub const fn name(errno: u32) -> Option<&'static str> {
    Some(match errno {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        EINTR => "EINTR",
        EIO => "EIO",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        ENODEV => "ENODEV",
        EINVAL => "EINVAL",
        ENFILE => "ENFILE",
        EMFILE => "EMFILE",
        EPIPE => "EPIPE",
        ENAMETOOLONG => "ENAMETOOLONG",
        EPROTO => "EPROTO",
        ENOTSOCK => "ENOTSOCK",
        EMSGSIZE => "EMSGSIZE",
        EPROTONOSUPPORT => "EPROTONOSUPPORT",
        ENOTSUP => "ENOTSUP",
        EAFNOSUPPORT => "EAFNOSUPPORT",
        EADDRINUSE => "EADDRINUSE",
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        ENETDOWN => "ENETDOWN",
        ENETUNREACH => "ENETUNREACH",
        ENETRESET => "ENETRESET",
        ECONNABORTED => "ECONNABORTED",
        ECONNRESET => "ECONNRESET",
        ENOBUFS => "ENOBUFS",
        ENOTCONN => "ENOTCONN",
        ETIMEDOUT => "ETIMEDOUT",
        ECONNREFUSED => "ECONNREFUSED",
        EHOSTUNREACH => "EHOSTUNREACH",
        EINPROGRESS => "EINPROGRESS",
        EFSM => "EFSM",
        ENOCOMPATPROTO => "ENOCOMPATPROTO",
        ETERM => "ETERM",
        EMTHREAD => "EMTHREAD",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libzmq_numbers() {
        assert_eq!(ETERM, 156_384_765);
        assert_eq!(ENOCOMPATPROTO, 156_384_764);
        assert_eq!(EFSM, 156_384_763);
    }

    #[test]
    fn names() {
        assert_eq!(name(EINPROGRESS), Some("EINPROGRESS"));
        assert_eq!(name(EPIPE), Some("EPIPE"));
        assert_eq!(name(ETERM), Some("ETERM"));
        assert_eq!(name(0), None);
        assert_eq!(name(3), None);
    }
}
