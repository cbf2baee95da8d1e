//! Security options (libzmq `ZMQ_PLAIN_*`, `ZMQ_ZAP_DOMAIN`,
//! `ZMQ_MECHANISM`) and the ZAP handler side of a socket.

use zmtp_core::conn::{CREDENTIAL_CAP, MechanismConfig};
use zmtp_core::wire::Mechanism;

use crate::error::{Error, Result};
use crate::io::Command;
use crate::socket::{Socket, State};
use crate::zap::{self, Answer, Take};

/// The PLAIN credentials as set, kept whatever the mechanism (libzmq keeps
/// `plain_username` and `plain_password` apart from `mechanism`, and its
/// getters return them either way).
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    username: Vec<u8>,
    password: Vec<u8>,
    /// The socket was ever a PLAIN server or had a ZAP domain: its
    /// connections may ask ZAP (the I/O thread looks for requests only
    /// then).
    pub(crate) may_ask_zap: bool,
}

/// Checks a credential or domain length (libzmq: at most `UCHAR_MAX`).
fn check_len(v: &[u8]) -> Result<()> {
    if v.len() > CREDENTIAL_CAP {
        Err(Error::Invalid)
    } else {
        Ok(())
    }
}

/// Makes the socket a PLAIN client with the stored credentials.
fn become_plain_client(st: &mut State) -> Result<()> {
    let m = MechanismConfig::plain_client(&st.credentials.username, &st.credentials.password)
        .map_err(|_| Error::Invalid)?;
    st.core.config_mut().mechanism = m;
    Ok(())
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
        st.credentials.may_ask_zap |= server;
        st.core.config_mut().mechanism = if server {
            MechanismConfig::PlainServer
        } else {
            MechanismConfig::Null
        };
        Ok(())
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
            st.core.config_mut().mechanism = MechanismConfig::Null;
            return Ok(());
        }
        username.clone_into(&mut st.credentials.username);
        become_plain_client(&mut st)
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
            st.core.config_mut().mechanism = MechanismConfig::Null;
            return Ok(());
        }
        password.clone_into(&mut st.credentials.password);
        become_plain_client(&mut st)
    }

    /// `ZMQ_PLAIN_PASSWORD`: the password last set (empty if none).
    #[must_use]
    pub fn plain_password(&self) -> Vec<u8> {
        self.lock().credentials.password.clone()
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
    /// ([`Mechanism::Null`] or [`Mechanism::Plain`]).
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
