//! Security options (libzmq `ZMQ_PLAIN_*`, `ZMQ_CURVE_*`, `ZMQ_ZAP_DOMAIN`,
//! `ZMQ_MECHANISM`) and the ZAP handler side of a socket.
//!
//! As in libzmq (`options.cpp`) the socket keeps a mechanism, a server flag
//! and every credential apart; each option changes some of them (the last
//! one set wins) and the mechanism of new connections follows from them.

use zmtp_core::conn::{CREDENTIAL_CAP, MechanismConfig};
use zmtp_core::wire::Mechanism;

use crate::error::{Error, Result};
use crate::io::Command;
use crate::socket::{Socket, State};
use crate::zap::{self, Answer, Take};

/// The security options as set (libzmq `options_t`: `mechanism`,
/// `as_server`, `plain_username`, `plain_password`, `curve_*_key`), kept
/// whatever the mechanism: libzmq's getters return them either way.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    mechanism: Mechanism,
    as_server: bool,
    username: Vec<u8>,
    password: Vec<u8>,
    #[cfg(feature = "curve")]
    curve_public: [u8; 32],
    #[cfg(feature = "curve")]
    curve_secret: [u8; 32],
    #[cfg(feature = "curve")]
    curve_server: [u8; 32],
    /// The socket was ever a PLAIN or CURVE server or had a ZAP domain:
    /// its connections may ask ZAP (the I/O thread looks for requests only
    /// then).
    pub(crate) may_ask_zap: bool,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            mechanism: Mechanism::Null,
            as_server: false,
            username: Vec::new(),
            password: Vec::new(),
            #[cfg(feature = "curve")]
            curve_public: [0; 32],
            #[cfg(feature = "curve")]
            curve_secret: [0; 32],
            #[cfg(feature = "curve")]
            curve_server: [0; 32],
            may_ask_zap: false,
        }
    }
}

/// Checks a credential or domain length (libzmq: at most `UCHAR_MAX`).
fn check_len(v: &[u8]) -> Result<()> {
    if v.len() > CREDENTIAL_CAP {
        Err(Error::Invalid)
    } else {
        Ok(())
    }
}

/// Sets the core's mechanism from the options as set.
fn apply(st: &mut State) -> Result<()> {
    let c = &st.credentials;
    let m = match (c.mechanism, c.as_server) {
        (Mechanism::Plain, true) => MechanismConfig::PlainServer,
        (Mechanism::Plain, false) => {
            MechanismConfig::plain_client(&c.username, &c.password).map_err(|_| Error::Invalid)?
        }
        #[cfg(feature = "curve")]
        (Mechanism::Curve, true) => MechanismConfig::curve_server(c.curve_secret),
        #[cfg(feature = "curve")]
        (Mechanism::Curve, false) => {
            MechanismConfig::curve_client(c.curve_public, c.curve_secret, c.curve_server)
        }
        _ => MechanismConfig::Null,
    };
    st.credentials.may_ask_zap |= st.credentials.as_server && m != MechanismConfig::Null;
    st.core.config_mut().mechanism = m;
    Ok(())
}

/// A CURVE key as libzmq's `set_curve_key` takes it: 32 raw bytes, 40 Z85
/// characters, or 40 Z85 characters and a NUL.
#[cfg(feature = "curve")]
fn parse_key(key: &[u8]) -> Result<[u8; 32]> {
    let text = match key.len() {
        32 => return <[u8; 32]>::try_from(key).map_err(|_| Error::Invalid),
        40 => key,
        41 if key.last() == Some(&0) => key.get(..40).ok_or(Error::Invalid)?,
        _ => return Err(Error::Invalid),
    };
    zmtp_core::z85::decode_key(text).map_err(|_| Error::Invalid)
}

/// A fresh CURVE key pair from the operating system's random source, as
/// libzmq's `zmq_curve_keypair`.
#[cfg(feature = "curve")]
#[must_use]
pub fn curve_keypair() -> zmtp_core::conn::CurveKeypair {
    zmtp_core::conn::CurveKeypair::generate(&mut rand_core::OsRng)
}

/// The public key of a CURVE secret key given as 32 raw bytes or 40 Z85
/// characters (libzmq `zmq_curve_public`).
///
/// # Errors
///
/// [`Error::Invalid`] when `secret` is neither.
#[cfg(feature = "curve")]
pub fn curve_public(secret: &[u8]) -> Result<[u8; 32]> {
    Ok(zmtp_core::conn::curve_public_key(&parse_key(secret)?))
}

/// Encodes a 32-byte key in Z85 (40 characters).
#[cfg(feature = "curve")]
fn key_z85(key: &[u8; 32]) -> String {
    zmtp_core::z85::encode_key(key)
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

impl Socket {
    /// `ZMQ_PLAIN_SERVER`: `true` makes the socket a PLAIN server (every
    /// client is authenticated by the context's ZAP handler, see
    /// [`Socket::bind`] with `inproc://zeromq.zap.01`); `false` sets the
    /// NULL mechanism, as libzmq does (also when the socket was a PLAIN
    /// client). Applies to connections made afterwards.
    ///
    /// # Errors
    ///
    /// None; kept fallible like libzmq's `setsockopt`.
    pub fn set_plain_server(&self, server: bool) -> Result<()> {
        let mut st = self.lock();
        st.credentials.as_server = server;
        st.credentials.mechanism = if server {
            Mechanism::Plain
        } else {
            Mechanism::Null
        };
        apply(&mut st)
    }

    /// `ZMQ_PLAIN_SERVER`: whether the socket is a PLAIN server.
    #[must_use]
    pub fn plain_server(&self) -> bool {
        self.lock().core.config().mechanism == MechanismConfig::PlainServer
    }

    /// `ZMQ_PLAIN_USERNAME`: a non-empty username makes the socket a PLAIN
    /// client (with the password set so far, possibly empty); an empty one
    /// sets the NULL mechanism and keeps the stored username, as libzmq
    /// does for a null option value. Applies to connections made
    /// afterwards.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] above 255 bytes.
    pub fn set_plain_username(&self, username: &[u8]) -> Result<()> {
        check_len(username)?;
        let mut st = self.lock();
        if username.is_empty() {
            st.credentials.mechanism = Mechanism::Null;
        } else {
            username.clone_into(&mut st.credentials.username);
            st.credentials.as_server = false;
            st.credentials.mechanism = Mechanism::Plain;
        }
        apply(&mut st)
    }

    /// `ZMQ_PLAIN_USERNAME`: the username last set (empty if none).
    #[must_use]
    pub fn plain_username(&self) -> Vec<u8> {
        self.lock().credentials.username.clone()
    }

    /// `ZMQ_PLAIN_PASSWORD`: a non-empty password makes the socket a PLAIN
    /// client (with the username set so far, possibly empty); an empty one
    /// sets the NULL mechanism, as libzmq does for a null option value.
    /// Applies to connections made afterwards.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] above 255 bytes.
    pub fn set_plain_password(&self, password: &[u8]) -> Result<()> {
        check_len(password)?;
        let mut st = self.lock();
        if password.is_empty() {
            st.credentials.mechanism = Mechanism::Null;
        } else {
            password.clone_into(&mut st.credentials.password);
            st.credentials.as_server = false;
            st.credentials.mechanism = Mechanism::Plain;
        }
        apply(&mut st)
    }

    /// `ZMQ_PLAIN_PASSWORD`: the password last set (empty if none).
    #[must_use]
    pub fn plain_password(&self) -> Vec<u8> {
        self.lock().credentials.password.clone()
    }

    /// `ZMQ_CURVE_SERVER`: `true` makes the socket a CURVE server (it needs
    /// its secret key, [`Socket::set_curve_secretkey`]; clients are checked
    /// by the context's ZAP handler if one is bound, and all accepted
    /// otherwise); `false` sets the NULL mechanism, as libzmq does. Applies
    /// to connections made afterwards.
    ///
    /// # Errors
    ///
    /// None; kept fallible like libzmq's `setsockopt`.
    #[cfg(feature = "curve")]
    pub fn set_curve_server(&self, server: bool) -> Result<()> {
        let mut st = self.lock();
        st.credentials.as_server = server;
        st.credentials.mechanism = if server {
            Mechanism::Curve
        } else {
            Mechanism::Null
        };
        apply(&mut st)
    }

    /// `ZMQ_CURVE_SERVER`: whether the socket is a CURVE server.
    #[cfg(feature = "curve")]
    #[must_use]
    pub fn curve_server(&self) -> bool {
        let st = self.lock();
        st.credentials.as_server && st.credentials.mechanism == Mechanism::Curve
    }

    /// `ZMQ_CURVE_PUBLICKEY`: the socket's long-term public key, as 32 raw
    /// bytes or 40 Z85 characters (41 with a trailing NUL). Sets the CURVE
    /// mechanism (the server flag is kept), as libzmq does.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for any other length or invalid Z85.
    #[cfg(feature = "curve")]
    pub fn set_curve_publickey(&self, key: &[u8]) -> Result<()> {
        let key = parse_key(key)?;
        let mut st = self.lock();
        st.credentials.curve_public = key;
        st.credentials.mechanism = Mechanism::Curve;
        apply(&mut st)
    }

    /// `ZMQ_CURVE_PUBLICKEY`: the public key last set (zeros if none).
    #[cfg(feature = "curve")]
    #[must_use]
    pub fn curve_publickey(&self) -> [u8; 32] {
        self.lock().credentials.curve_public
    }

    /// `ZMQ_CURVE_PUBLICKEY` in Z85 (40 characters).
    #[cfg(feature = "curve")]
    #[must_use]
    pub fn curve_publickey_z85(&self) -> String {
        key_z85(&self.curve_publickey())
    }

    /// `ZMQ_CURVE_SECRETKEY`: the socket's long-term secret key, as 32 raw
    /// bytes or 40 Z85 characters (41 with a trailing NUL). Sets the CURVE
    /// mechanism (the server flag is kept), as libzmq does.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for any other length or invalid Z85.
    #[cfg(feature = "curve")]
    pub fn set_curve_secretkey(&self, key: &[u8]) -> Result<()> {
        let key = parse_key(key)?;
        let mut st = self.lock();
        st.credentials.curve_secret = key;
        st.credentials.mechanism = Mechanism::Curve;
        apply(&mut st)
    }

    /// `ZMQ_CURVE_SECRETKEY`: the secret key last set (zeros if none).
    #[cfg(feature = "curve")]
    #[must_use]
    pub fn curve_secretkey(&self) -> [u8; 32] {
        self.lock().credentials.curve_secret
    }

    /// `ZMQ_CURVE_SECRETKEY` in Z85 (40 characters).
    #[cfg(feature = "curve")]
    #[must_use]
    pub fn curve_secretkey_z85(&self) -> String {
        key_z85(&self.curve_secretkey())
    }

    /// `ZMQ_CURVE_SERVERKEY`: the server's long-term public key, as 32 raw
    /// bytes or 40 Z85 characters (41 with a trailing NUL). Makes the
    /// socket a CURVE client, as libzmq does. Applies to connections made
    /// afterwards.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for any other length or invalid Z85.
    #[cfg(feature = "curve")]
    pub fn set_curve_serverkey(&self, key: &[u8]) -> Result<()> {
        let key = parse_key(key)?;
        let mut st = self.lock();
        st.credentials.curve_server = key;
        st.credentials.mechanism = Mechanism::Curve;
        st.credentials.as_server = false;
        apply(&mut st)
    }

    /// `ZMQ_CURVE_SERVERKEY`: the server key last set (zeros if none).
    #[cfg(feature = "curve")]
    #[must_use]
    pub fn curve_serverkey(&self) -> [u8; 32] {
        self.lock().credentials.curve_server
    }

    /// `ZMQ_CURVE_SERVERKEY` in Z85 (40 characters).
    #[cfg(feature = "curve")]
    #[must_use]
    pub fn curve_serverkey_z85(&self) -> String {
        key_z85(&self.curve_serverkey())
    }

    /// `ZMQ_ZAP_DOMAIN`: the domain of this socket's ZAP requests (0 to 255
    /// bytes, empty by default). With the NULL mechanism a non-empty domain
    /// makes the socket ask the ZAP handler about every peer (libzmq
    /// 4.3); a PLAIN server asks in any case.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] above 255 bytes.
    pub fn set_zap_domain(&self, domain: &[u8]) -> Result<()> {
        let mut st = self.lock();
        st.core
            .config_mut()
            .set_zap_domain(domain)
            .map_err(|_| Error::Invalid)?;
        st.credentials.may_ask_zap |= !domain.is_empty();
        Ok(())
    }

    /// `ZMQ_ZAP_DOMAIN`.
    #[must_use]
    pub fn zap_domain(&self) -> Vec<u8> {
        self.lock().core.config().zap_domain.to_vec()
    }

    /// `ZMQ_MECHANISM`: the security mechanism of new connections
    /// ([`Mechanism::Null`], [`Mechanism::Plain`] or [`Mechanism::Curve`]).
    #[must_use]
    pub fn mechanism(&self) -> Mechanism {
        self.lock().core.config().mechanism.wire()
    }

    /// `zmq_bind` to `inproc://zeromq.zap.01`: this socket becomes the
    /// context's ZAP handler.
    pub(crate) fn bind_zap(&self) -> Result<()> {
        let mut st = self.lock();
        self.ctx.zap.bind(
            &self.shared,
            self.socket_type(),
            crate::socket::random_u32(),
        )?;
        st.add_endpoint(self.ctx.next_id(), zap::ENDPOINT);
        zap::ENDPOINT.clone_into(&mut st.last_endpoint);
        Ok(())
    }

    /// `zmq_unbind` of `inproc://zeromq.zap.01`.
    pub(crate) fn unbind_zap(&self) -> Result<()> {
        if !self.lock().remove_endpoint(zap::ENDPOINT) {
            return Err(Error::NotFound);
        }
        self.release_zap();
        Ok(())
    }

    /// Stops serving ZAP (unbind, close): the requests not answered yet
    /// are answered as if no handler were bound.
    pub(crate) fn release_zap(&self) {
        for key in self.ctx.zap.unbind(self.shared.id) {
            self.ctx.send(Command::Zap {
                key,
                answer: Answer::Unavailable,
            });
        }
    }

    /// A ZAP handler's receive: the next request, before the socket's own
    /// messages.
    pub(crate) fn take_zap(&self) -> Option<Result<Vec<Vec<u8>>>> {
        if !self.ctx.zap.serves(self.shared.id) {
            return None;
        }
        match self.ctx.zap.take(self.shared.id) {
            Take::Request(m) => Some(Ok(m)),
            Take::Fsm => Some(Err(Error::Fsm)),
            Take::Nothing => None,
        }
    }

    /// A ZAP handler's send: whether `parts` answered a request (they then
    /// went to the I/O thread).
    pub(crate) fn reply_zap(&self, parts: &[&[u8]]) -> bool {
        if !self.ctx.zap.serves(self.shared.id) {
            return false;
        }
        let Some((key, frames)) = self.ctx.zap.reply(self.shared.id, parts) else {
            return false;
        };
        self.ctx.send(Command::Zap {
            key,
            answer: Answer::Frames(frames),
        });
        true
    }
}
