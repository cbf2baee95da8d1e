//! A raw ZMTP peer over a [`TcpStream`]: sends bytes as given and reads
//! exactly what libzmq writes, with a timeout on every read.

use core::net::SocketAddr;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use core::time::Duration;

use crate::raw::{FLAG_COMMAND, FLAG_LONG, FLAG_MORE};
use crate::{Error, READ_TIMEOUT, Result};

/// One frame as libzmq wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The frame exactly as it was on the wire: flags, size field, body.
    pub wire: Vec<u8>,
    /// The flags octet.
    pub flags: u8,
    /// Length of the size field plus the flags octet (2 or 9).
    pub header_len: usize,
}

impl RawFrame {
    /// The body (everything after the size field).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        self.wire.get(self.header_len..).unwrap_or_default()
    }

    /// Whether the COMMAND flag is set.
    #[must_use]
    pub const fn is_command(&self) -> bool {
        self.flags & FLAG_COMMAND != 0
    }

    /// Whether the MORE flag is set.
    #[must_use]
    pub const fn is_more(&self) -> bool {
        self.flags & FLAG_MORE != 0
    }

    /// The command name if this is a command frame with a well-formed name.
    #[must_use]
    pub fn command_name(&self) -> Option<&[u8]> {
        if !self.is_command() {
            return None;
        }
        let (len, rest) = self.body().split_first()?;
        rest.get(..usize::from(*len))
    }

    /// The command data (after the name) if this is a command frame.
    #[must_use]
    pub fn command_data(&self) -> Option<&[u8]> {
        let name = self.command_name()?;
        self.body().get(name.len().checked_add(1)?..)
    }

    /// Whether this is a PING command.
    #[must_use]
    pub fn is_ping(&self) -> bool {
        self.command_name() == Some(b"PING")
    }
}

/// A TCP connection to libzmq driven by hand.
#[derive(Debug)]
pub struct RawPeer {
    stream: TcpStream,
    /// Bytes read but not yet handed out.
    rx: Vec<u8>,
}

impl RawPeer {
    /// Connects to a libzmq endpoint of the form `tcp://127.0.0.1:PORT`
    /// (only loopback addresses are accepted).
    ///
    /// # Errors
    ///
    /// [`Error::Unexpected`] for an endpoint that is not a loopback TCP
    /// address, [`Error::Io`] if the connection fails.
    pub fn connect(endpoint: &str) -> Result<Self> {
        let addr: SocketAddr = endpoint
            .strip_prefix("tcp://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| Error::Unexpected(format!("not a tcp endpoint: {endpoint}")))?;
        if !addr.ip().is_loopback() {
            return Err(Error::Unexpected(format!("not loopback: {endpoint}")));
        }
        let stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT)?;
        Self::from_stream(stream)
    }

    /// Wraps an accepted or connected stream.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if socket options cannot be set.
    pub fn from_stream(stream: TcpStream) -> Result<Self> {
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(READ_TIMEOUT))?;
        Ok(Self {
            stream,
            rx: Vec::new(),
        })
    }

    /// Writes all of `bytes`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the write fails.
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Reads once, waiting at most `wait`. Returns the number of new bytes
    /// (0 if the wait expired).
    fn read_some(&mut self, wait: Duration, what: &'static str) -> Result<usize> {
        // A zero timeout means "block forever" to the OS: never pass it.
        let wait = wait.max(Duration::from_millis(1));
        self.stream.set_read_timeout(Some(wait))?;
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(Error::Closed(what)),
            Ok(n) => {
                self.rx
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                Ok(n)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(0),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until at least `n` bytes are buffered, at most
    /// [`READ_TIMEOUT`].
    fn fill(&mut self, n: usize, what: &'static str) -> Result<()> {
        let deadline = Instant::now() + READ_TIMEOUT;
        while self.rx.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(what));
            }
            self.read_some(left, what)?;
        }
        Ok(())
    }

    /// Reads exactly `n` bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] if they do not arrive within [`READ_TIMEOUT`],
    /// [`Error::Closed`] if libzmq closes first, [`Error::Io`].
    pub fn recv_exact(&mut self, n: usize, what: &'static str) -> Result<Vec<u8>> {
        self.fill(n, what)?;
        Ok(self.rx.drain(..n).collect())
    }

    /// Reads one whole frame (RFC 23 framing, parsed here by hand).
    ///
    /// # Errors
    ///
    /// As [`RawPeer::recv_exact`]; [`Error::Unexpected`] for a frame larger
    /// than 16 MiB.
    pub fn recv_frame(&mut self, what: &'static str) -> Result<RawFrame> {
        self.fill(1, what)?;
        let flags = self.rx.first().copied().unwrap_or_default();
        let (header_len, size) = if flags & FLAG_LONG != 0 {
            self.fill(9, what)?;
            let mut size = [0u8; 8];
            size.copy_from_slice(self.rx.get(1..9).unwrap_or(&[0; 8]));
            (9, u64::from_be_bytes(size))
        } else {
            self.fill(2, what)?;
            (2, u64::from(self.rx.get(1).copied().unwrap_or_default()))
        };
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s <= 16 << 20)
            .ok_or_else(|| Error::Unexpected(format!("frame of {size} bytes")))?;
        let total = header_len + size;
        let wire = self.recv_exact(total, what)?;
        Ok(RawFrame {
            wire,
            flags,
            header_len,
        })
    }

    /// Reads frames until one is not a PING (libzmq's heartbeats), and
    /// returns it. Every PING is answered with a PONG so libzmq's heartbeat
    /// timeout never fires. At most 64 PINGs are skipped.
    ///
    /// # Errors
    ///
    /// As [`RawPeer::recv_frame`]; [`Error::Unexpected`] after 64 PINGs.
    pub fn recv_frame_skipping_pings(&mut self, what: &'static str) -> Result<RawFrame> {
        for _ in 0..64 {
            let frame = self.recv_frame(what)?;
            if !frame.is_ping() {
                return Ok(frame);
            }
            let context = frame
                .command_data()
                .and_then(|d| d.get(2..))
                .unwrap_or_default()
                .to_vec();
            self.send(&crate::raw::command_frame(&crate::raw::pong(&context)))?;
        }
        Err(Error::Unexpected(format!(
            "only PINGs while waiting for {what}"
        )))
    }

    /// Whether nothing arrives for `window`. Bytes that do arrive are kept
    /// for the next read.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] if libzmq closes, [`Error::Io`].
    pub fn is_quiet_for(&mut self, window: Duration) -> Result<bool> {
        if !self.rx.is_empty() {
            return Ok(false);
        }
        let deadline = Instant::now() + window;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(true);
            }
            if self.read_some(left, "silence")? > 0 {
                return Ok(false);
            }
        }
    }

    /// Waits until libzmq closes the connection. Data that arrives first is
    /// discarded.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] if the connection is still open after
    /// [`READ_TIMEOUT`]; [`Error::Io`] other than a reset.
    pub fn wait_closed(&mut self) -> Result<()> {
        let deadline = Instant::now() + READ_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout("libzmq to close the connection"));
            }
            match self.read_some(left, "close") {
                Ok(_) => self.rx.clear(),
                Err(Error::Closed(_)) => return Ok(()),
                Err(Error::Io(e)) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}
