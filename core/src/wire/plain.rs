//! The PLAIN mechanism's commands (RFC 24 "ZMTP PLAIN", as libzmq 4.3
//! `plain_client.cpp` / `plain_server.cpp` / `plain_common.hpp` put them on
//! the wire).
//!
//! ```text
//! C: HELLO     S: WELCOME | ERROR
//! C: INITIATE  S: READY   | ERROR
//!
//! hello    = %d5 "HELLO" username password
//! username = short-size 0*255OCTET        ; length byte, then the bytes
//! password = short-size 0*255OCTET
//! welcome  = %d7 "WELCOME"                ; nothing after the name
//! initiate = %d8 "INITIATE" metadata
//! ready    = %d5 "READY" metadata         ; as NULL, see [`super::command`]
//! ```
//!
//! RFC 24 still describes command names as 8 characters padded with spaces;
//! that form is obsolete, the names are length-prefixed like every ZMTP 3
//! command. Like libzmq, the credentials may be any bytes (no character
//! class is enforced) and HELLO must end exactly after the password.
//!
//! Each command has a `parse` that reads a command body (the bytes of a
//! frame whose COMMAND flag is set), a `buffer_len` and an `emit` that
//! cannot fail into `buffer_len()` bytes.

use super::{Error, Properties, Reader, Writer};

/// Name of the HELLO command. RFC 24.
pub const HELLO: &[u8] = b"HELLO";
/// Name of the WELCOME command. RFC 24.
pub const WELCOME: &[u8] = b"WELCOME";
/// Name of the INITIATE command. RFC 24.
pub const INITIATE: &[u8] = b"INITIATE";
/// `\x05HELLO`: the name-length byte and name that start a HELLO body
/// (libzmq `plain_common.hpp` `hello_prefix`).
pub const HELLO_PREFIX: &[u8] = b"\x05HELLO";
/// `\x07WELCOME`: a whole WELCOME body (libzmq `welcome_prefix`; the client
/// rejects anything longer).
pub const WELCOME_BODY: &[u8] = b"\x07WELCOME";
/// `\x08INITIATE`: the start of an INITIATE body (libzmq
/// `initiate_prefix`).
pub const INITIATE_PREFIX: &[u8] = b"\x08INITIATE";
/// The first bytes of the ERROR command as libzmq's PLAIN mechanism writes
/// and reads it: `0x5E "RROR"` (`^RROR`), not `0x05 "ERROR"`. libzmq
/// (`plain_common.hpp`, every release up to at least 4.3.5 and its master
/// branch) spells the prefix `"\x05ERROR"` in C++, where a hex escape takes
/// every hex digit that follows, so it is the 5 bytes `\x5E R R O R`. Its
/// PLAIN server therefore sends ERROR "400" as `5E 'RROR' 03 '400'` (9
/// bytes), and its PLAIN client recognises ERROR only in that form (an RFC
/// ERROR is an unexpected command to it). NULL and CURVE are not affected.
pub const LIBZMQ_ERROR_PREFIX: &[u8] = b"\x5eRROR";
/// Longest username or password: one length byte. RFC 24 username /
/// password = short-size.
pub const MAX_CREDENTIAL_LEN: usize = 255;

/// A HELLO command: the client's username and password.
///
/// ```
/// use zmtp_core::wire::plain::HelloRepr;
///
/// let hello = HelloRepr { username: b"admin", password: b"secret" };
/// let mut buf = [0u8; 32];
/// let n = hello.emit(&mut buf)?;
/// // libzmq plain_client.cpp produce_hello: "\x05HELLO" ulen user plen pass
/// assert_eq!(&buf[..n], b"\x05HELLO\x05admin\x06secret");
/// assert_eq!(HelloRepr::parse(&buf[..n])?, hello);
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HelloRepr<'a> {
    /// The username (0 to 255 bytes).
    pub username: &'a [u8],
    /// The password (0 to 255 bytes).
    pub password: &'a [u8],
}

impl<'a> HelloRepr<'a> {
    /// Parses a HELLO body.
    ///
    /// # Errors
    ///
    /// - [`Error::BadCommandName`] if the body does not start with
    ///   [`HELLO_PREFIX`];
    /// - [`Error::Truncated`] if a length byte is missing or a credential
    ///   runs past the body;
    /// - [`Error::TrailingBytes`] if bytes follow the password.
    pub fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let data = body
            .strip_prefix(HELLO_PREFIX)
            .ok_or(Error::BadCommandName)?;
        let mut r = Reader::new(data);
        let ulen = r.u8().ok_or(Error::Truncated)?;
        let username = r.take(usize::from(ulen)).ok_or(Error::Truncated)?;
        let plen = r.u8().ok_or(Error::Truncated)?;
        let password = r.take(usize::from(plen)).ok_or(Error::Truncated)?;
        if !r.is_empty() {
            return Err(Error::TrailingBytes);
        }
        Ok(Self { username, password })
    }

    /// Length of the body [`HelloRepr::emit`] writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HELLO_PREFIX
            .len()
            .saturating_add(2)
            .saturating_add(self.username.len())
            .saturating_add(self.password.len())
    }

    /// Writes the HELLO body and returns its length,
    /// [`HelloRepr::buffer_len`].
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if `out` is shorter than
    /// [`HelloRepr::buffer_len`] or a credential is longer than
    /// [`MAX_CREDENTIAL_LEN`]. On error nothing is written.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, Error> {
        let ulen = u8::try_from(self.username.len()).map_err(|_| Error::BufferTooSmall)?;
        let plen = u8::try_from(self.password.len()).map_err(|_| Error::BufferTooSmall)?;
        let out = out
            .get_mut(..self.buffer_len())
            .ok_or(Error::BufferTooSmall)?;
        let mut w = Writer::new(out);
        w.bytes(HELLO_PREFIX)?;
        w.u8(ulen)?;
        w.bytes(self.username)?;
        w.u8(plen)?;
        w.bytes(self.password)?;
        Ok(w.len())
    }
}

/// The WELCOME command (no data).
///
/// ```
/// use zmtp_core::wire::plain::WelcomeRepr;
///
/// let mut buf = [0u8; 8];
/// assert_eq!(WelcomeRepr.emit(&mut buf)?, 8);
/// assert_eq!(&buf, b"\x07WELCOME");
/// assert_eq!(WelcomeRepr::parse(&buf)?, WelcomeRepr);
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WelcomeRepr;

impl WelcomeRepr {
    /// Parses a WELCOME body: exactly [`WELCOME_BODY`].
    ///
    /// # Errors
    ///
    /// [`Error::BadCommandName`] if the body does not start with
    /// [`WELCOME_BODY`], [`Error::TrailingBytes`] if anything follows it.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let rest = body
            .strip_prefix(WELCOME_BODY)
            .ok_or(Error::BadCommandName)?;
        if rest.is_empty() {
            Ok(Self)
        } else {
            Err(Error::TrailingBytes)
        }
    }

    /// Length of the body [`WelcomeRepr::emit`] writes (8).
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        WELCOME_BODY.len()
    }

    /// Writes the WELCOME body and returns its length.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if `out` is shorter than 8 bytes; nothing
    /// is written.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, Error> {
        let out = out
            .get_mut(..self.buffer_len())
            .ok_or(Error::BufferTooSmall)?;
        let mut w = Writer::new(out);
        w.bytes(WELCOME_BODY)?;
        Ok(w.len())
    }
}

/// An INITIATE command: the client's metadata.
///
/// ```
/// use zmtp_core::wire::plain::InitiateRepr;
/// use zmtp_core::wire::{Properties, PropertiesWriter};
///
/// let mut props = [0u8; 32];
/// let mut w = PropertiesWriter::new(&mut props);
/// w.add(b"Socket-Type", b"DEALER")?;
/// let n = w.len();
/// let init = InitiateRepr { properties: Properties::parse(&props[..n])? };
/// let mut buf = [0u8; 64];
/// let len = init.emit(&mut buf)?;
/// assert!(buf.starts_with(b"\x08INITIATE\x0bSocket-Type"));
/// assert_eq!(InitiateRepr::parse(&buf[..len])?, init);
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InitiateRepr<'a> {
    /// The client's metadata (Socket-Type, Identity, user properties).
    pub properties: Properties<'a>,
}

impl<'a> InitiateRepr<'a> {
    /// Parses an INITIATE body.
    ///
    /// # Errors
    ///
    /// [`Error::BadCommandName`] if the body does not start with
    /// [`INITIATE_PREFIX`]; any error of [`Properties::parse`] for the
    /// metadata.
    pub fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let data = body
            .strip_prefix(INITIATE_PREFIX)
            .ok_or(Error::BadCommandName)?;
        Ok(Self {
            properties: Properties::parse(data)?,
        })
    }

    /// Length of the body [`InitiateRepr::emit`] writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        INITIATE_PREFIX
            .len()
            .saturating_add(self.properties.as_bytes().len())
    }

    /// Writes the INITIATE body and returns its length,
    /// [`InitiateRepr::buffer_len`].
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if `out` is shorter than
    /// [`InitiateRepr::buffer_len`]; nothing is written.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, Error> {
        let out = out
            .get_mut(..self.buffer_len())
            .ok_or(Error::BufferTooSmall)?;
        let mut w = Writer::new(out);
        w.bytes(INITIATE_PREFIX)?;
        w.bytes(self.properties.as_bytes())?;
        Ok(w.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Command, FrameRepr, PropertiesWriter};
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    /// A HELLO frame as libzmq 4.3 `plain_client.cpp` `produce_hello` sends
    /// it for `ZMQ_PLAIN_USERNAME` "admin" and `ZMQ_PLAIN_PASSWORD`
    /// "password" (the credentials of libzmq `tests/test_security_plain.cpp`).
    /// Body 6 + 1 + 5 + 1 + 8 = 21 = 0x15 bytes.
    const LIBZMQ_HELLO_ADMIN: [u8; 23] = [
        0x04, // flags: COMMAND, short size
        0x15, // size 21
        0x05, b'H', b'E', b'L', b'L', b'O', // name-len 5, "HELLO"
        0x05, b'a', b'd', b'm', b'i', b'n', // username length 5, "admin"
        0x08, b'p', b'a', b's', b's', b'w', b'o', b'r', b'd', // password
    ];

    /// The WELCOME frame of libzmq `plain_server.cpp` `produce_welcome`.
    const LIBZMQ_WELCOME: [u8; 10] = [
        0x04, // flags: COMMAND, short size
        0x08, // size 8
        0x07, b'W', b'E', b'L', b'C', b'O', b'M', b'E', // name-len 7, "WELCOME"
    ];

    /// The INITIATE frame a libzmq DEALER client with no routing id sends
    /// (`plain_client.cpp` `produce_initiate` →
    /// `make_command_with_basic_properties`: Socket-Type, then Identity for
    /// DEALER). Body 9 + 22 + 13 = 44 = 0x2C bytes.
    const LIBZMQ_INITIATE_DEALER: [u8; 46] = [
        0x04, // flags: COMMAND, short size
        0x2C, // size 44
        0x08, b'I', b'N', b'I', b'T', b'I', b'A', b'T', b'E', // "INITIATE"
        0x0B, b'S', b'o', b'c', b'k', b'e', b't', b'-', b'T', b'y', b'p', b'e', // name
        0x00, 0x00, 0x00, 0x06, // value length 6
        b'D', b'E', b'A', b'L', b'E', b'R', // value
        0x08, b'I', b'd', b'e', b'n', b't', b'i', b't', b'y', // name
        0x00, 0x00, 0x00, 0x00, // value length 0
    ];

    fn body(frame: &[u8]) -> &[u8] {
        let (f, n) = FrameRepr::parse(frame).unwrap().unwrap();
        assert!(f.command);
        assert_eq!(n, frame.len());
        f.body
    }

    #[test]
    fn parse_and_emit_libzmq_hello() {
        let hello = HelloRepr::parse(body(&LIBZMQ_HELLO_ADMIN)).unwrap();
        assert_eq!(hello.username, b"admin");
        assert_eq!(hello.password, b"password");
        let mut out = vec![0u8; hello.buffer_len()];
        assert_eq!(hello.emit(&mut out), Ok(21));
        assert_eq!(out, body(&LIBZMQ_HELLO_ADMIN));
        // The generic command parser sees HELLO as an unknown command.
        assert!(matches!(
            Command::parse(&out),
            Ok(Command::Unknown { name: HELLO, .. })
        ));
    }

    #[test]
    fn parse_and_emit_libzmq_welcome() {
        assert_eq!(WelcomeRepr::parse(body(&LIBZMQ_WELCOME)), Ok(WelcomeRepr));
        let mut out = [0u8; 8];
        assert_eq!(WelcomeRepr.emit(&mut out), Ok(8));
        assert_eq!(&out, body(&LIBZMQ_WELCOME));
        assert_eq!(WelcomeRepr.emit(&mut [0u8; 7]), Err(Error::BufferTooSmall));
    }

    #[test]
    fn parse_and_emit_libzmq_initiate() {
        let init = InitiateRepr::parse(body(&LIBZMQ_INITIATE_DEALER)).unwrap();
        assert_eq!(
            init.properties.get_exact(b"Socket-Type"),
            Some(&b"DEALER"[..])
        );
        assert_eq!(init.properties.get_exact(b"Identity"), Some(&b""[..]));
        let mut out = vec![0u8; init.buffer_len()];
        assert_eq!(init.emit(&mut out), Ok(44));
        assert_eq!(out, body(&LIBZMQ_INITIATE_DEALER));
    }

    #[test]
    fn hello_rejects_malformed() {
        // Not HELLO.
        assert_eq!(HelloRepr::parse(b"\x05READY"), Err(Error::BadCommandName));
        assert_eq!(HelloRepr::parse(b""), Err(Error::BadCommandName));
        // Missing username length, short username, missing password length,
        // short password.
        assert_eq!(HelloRepr::parse(b"\x05HELLO"), Err(Error::Truncated));
        assert_eq!(HelloRepr::parse(b"\x05HELLO\x03ab"), Err(Error::Truncated));
        assert_eq!(HelloRepr::parse(b"\x05HELLO\x02ab"), Err(Error::Truncated));
        assert_eq!(
            HelloRepr::parse(b"\x05HELLO\x02ab\x02c"),
            Err(Error::Truncated)
        );
        // Trailing bytes after the password.
        assert_eq!(
            HelloRepr::parse(b"\x05HELLO\x00\x00x"),
            Err(Error::TrailingBytes)
        );
        // Empty credentials are fine.
        assert_eq!(
            HelloRepr::parse(b"\x05HELLO\x00\x00"),
            Ok(HelloRepr {
                username: b"",
                password: b""
            })
        );
    }

    #[test]
    fn hello_emit_checks_lengths() {
        let long = [b'x'; 256];
        let h = HelloRepr {
            username: &long,
            password: b"",
        };
        assert_eq!(h.emit(&mut [0u8; 512]), Err(Error::BufferTooSmall));
        let h = HelloRepr {
            username: b"u",
            password: b"p",
        };
        assert_eq!(h.buffer_len(), 10);
        let mut out = [0xAAu8; 9];
        assert_eq!(h.emit(&mut out), Err(Error::BufferTooSmall));
        assert_eq!(out, [0xAA; 9], "nothing written on error");
    }

    #[test]
    fn welcome_rejects_malformed() {
        assert_eq!(
            WelcomeRepr::parse(b"\x07WELCOMEx"),
            Err(Error::TrailingBytes)
        );
        assert_eq!(
            WelcomeRepr::parse(b"\x07WELCOM"),
            Err(Error::BadCommandName)
        );
        assert_eq!(WelcomeRepr::parse(b"\x05HELLO"), Err(Error::BadCommandName));
    }

    #[test]
    fn initiate_rejects_malformed() {
        assert_eq!(
            InitiateRepr::parse(b"\x05READY"),
            Err(Error::BadCommandName)
        );
        // A lone trailing byte is a truncated property.
        assert_eq!(
            InitiateRepr::parse(b"\x08INITIATE\x01"),
            Err(Error::Truncated)
        );
        assert_eq!(
            InitiateRepr::parse(b"\x08INITIATE"),
            Ok(InitiateRepr {
                properties: Properties::EMPTY
            })
        );
    }

    proptest! {
        #[test]
        fn hello_round_trip(
            user in proptest::collection::vec(any::<u8>(), 0..=255),
            pass in proptest::collection::vec(any::<u8>(), 0..=255),
        ) {
            let h = HelloRepr { username: &user, password: &pass };
            let mut out = vec![0u8; h.buffer_len()];
            prop_assert_eq!(h.emit(&mut out), Ok(out.len()));
            prop_assert_eq!(HelloRepr::parse(&out), Ok(h));
        }

        #[test]
        fn initiate_round_trip(
            props in proptest::collection::vec(
                ("[A-Za-z0-9._+-]{1,12}", proptest::collection::vec(any::<u8>(), 0..20)),
                0..5,
            ),
        ) {
            let mut buf = vec![0u8; 1024];
            let mut w = PropertiesWriter::new(&mut buf);
            for (name, value) in &props {
                w.add(name.as_bytes(), value).unwrap();
            }
            let n = w.len();
            let init = InitiateRepr { properties: Properties::parse(&buf[..n]).unwrap() };
            let mut out = vec![0u8; init.buffer_len()];
            prop_assert_eq!(init.emit(&mut out), Ok(out.len()));
            prop_assert_eq!(InitiateRepr::parse(&out), Ok(init));
        }

        #[test]
        fn parsers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = HelloRepr::parse(&body);
            let _ = WelcomeRepr::parse(&body);
            let _ = InitiateRepr::parse(&body);
            let mut with_prefix: Vec<u8> = HELLO_PREFIX.to_vec();
            with_prefix.extend_from_slice(&body);
            if let Ok(h) = HelloRepr::parse(&with_prefix) {
                prop_assert_eq!(h.buffer_len(), with_prefix.len());
            }
        }
    }
}
