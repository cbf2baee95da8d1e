//! One zmtp-core `Connection` driven over a blocking `TcpStream` with short
//! read timeouts, on a clock that follows real time: our side of the live
//! comparisons with libzmq (PLAIN with the `zmq` crate, CURVE with pyzmq).
//! Included by `#[path]` from those tests.
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::time::Duration;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Instant as StdInstant;

use zmtp_core::Instant;
use zmtp_core::conn::{Config, ConnEvent, Connection, ZapReply, ZapRequest};

/// The test's ZAP handler: `None` answers "no handler".
pub type ZapFn<'f> = &'f mut dyn FnMut(&ZapRequest<'_>) -> Option<ZapReply<'static>>;

pub struct Driver {
    pub conn: Connection<'static>,
    pub cfg: Config,
    stream: TcpStream,
    pub start: StdInstant,
    deadline: Duration,
    pending: Vec<u8>,
    pub events: Vec<ConnEvent>,
    eof: bool,
    /// Each ZAP request's frames, in order.
    pub zap_seen: Vec<Vec<Vec<u8>>>,
    /// Every byte read and written, for failure messages and captures.
    pub received: Vec<u8>,
    pub sent: Vec<u8>,
    /// Drop the peer's metadata unit as soon as it is queued (else
    /// [`Driver::recv`] drops it).
    pub drop_metadata: bool,
}

/// Receive and transmit buffers for a driven connection.
pub fn buffers() -> (&'static mut [u8], &'static mut [u8]) {
    (
        Box::leak(vec![0u8; 8192].into_boxed_slice()),
        Box::leak(vec![0u8; 8192].into_boxed_slice()),
    )
}

impl Driver {
    /// A NULL or PLAIN connection with `cfg` over `stream`; `run` gives up
    /// after `deadline`.
    pub fn new(cfg: Config, stream: TcpStream, deadline: Duration) -> Self {
        let (rx, tx) = buffers();
        let conn = Connection::new(Instant::from_millis(0), &cfg, rx, tx).unwrap();
        Self::with_conn(cfg, stream, conn, deadline)
    }

    /// `conn` (made with `cfg`) over `stream`.
    pub fn with_conn(
        cfg: Config,
        stream: TcpStream,
        conn: Connection<'static>,
        deadline: Duration,
    ) -> Self {
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        Self {
            conn,
            cfg,
            stream,
            start: StdInstant::now(),
            deadline,
            pending: Vec::new(),
            events: Vec::new(),
            eof: false,
            zap_seen: Vec::new(),
            received: Vec::new(),
            sent: Vec::new(),
            drop_metadata: false,
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.start.elapsed().as_millis()).unwrap())
    }

    /// One round: write, read, feed, ZAP, feed again, timers, events.
    pub fn turn(&mut self, zap: ZapFn<'_>) {
        let now = self.now();
        let mut out = [0u8; 4096];
        loop {
            let n = self.conn.poll_transmit(now, &mut out);
            if n == 0 {
                break;
            }
            self.sent.extend_from_slice(&out[..n]);
            if self.stream.write_all(&out[..n]).is_err() {
                break;
            }
        }
        if self.conn.is_closed() {
            return;
        }
        if !self.eof {
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    self.received.extend_from_slice(&buf[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => self.eof = true,
            }
        }
        let used = self.conn.handle_input(now, &self.pending);
        self.pending.drain(..used);
        if let Some(req) = self.conn.poll_zap_request(&self.cfg) {
            let frames = req.frames(b"127.0.0.1").map(<[u8]>::to_vec).collect();
            let reply = zap(&req);
            self.zap_seen.push(frames);
            match reply {
                Some(r) => self.conn.handle_zap_reply(now, &r).unwrap(),
                None => self.conn.handle_zap_unavailable(now).unwrap(),
            }
        }
        if self.drop_metadata {
            let _ = self.conn.pop_metadata();
        }
        // What a ZAP answer or a dropped metadata unit let in.
        let used = self.conn.handle_input(now, &self.pending);
        self.pending.drain(..used);
        if self.eof && self.pending.is_empty() {
            self.conn.handle_transport_closed(now);
        }
        self.conn.handle_timeout(now);
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
    }

    /// Turns until `done` says so or the connection closed (then its last
    /// output is flushed).
    pub fn run(&mut self, zap: ZapFn<'_>, done: impl Fn(&Self) -> bool) {
        self.run_or(zap, done, String::new);
    }

    /// [`Driver::run`], whose failure message includes `context()`.
    pub fn run_or(
        &mut self,
        zap: ZapFn<'_>,
        done: impl Fn(&Self) -> bool,
        mut context: impl FnMut() -> String,
    ) {
        let end = StdInstant::now() + self.deadline;
        while StdInstant::now() < end {
            self.turn(zap);
            if done(self) || self.conn.is_closed() {
                self.turn(zap);
                return;
            }
        }
        panic!(
            "driver deadline: {:?}; sent {} bytes, received {:02x?}; {}",
            self.events,
            self.sent.len(),
            &self.received[..self.received.len().min(120)],
            context()
        );
    }

    /// Runs until the first event (the handshake's outcome).
    pub fn handshake(&mut self, zap: ZapFn<'_>) {
        self.run(zap, |d| !d.events.is_empty());
    }

    /// The next message, driving until it arrives.
    pub fn recv(&mut self, zap: ZapFn<'_>) -> Vec<Vec<u8>> {
        let _ = self.conn.pop_metadata();
        self.run(zap, |d| d.conn.has_message());
        let mut parts = Vec::new();
        loop {
            let (flags, body) = self.conn.front_frame().expect("a message");
            parts.push(body.to_vec());
            self.conn.pop_frame();
            if flags & zmtp_core::conn::REC_MORE == 0 {
                return parts;
            }
        }
    }
}
