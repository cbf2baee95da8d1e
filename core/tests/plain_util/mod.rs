//! Helpers for the PLAIN and ZAP tests: configs, PLAIN command builders, and
//! [`ZapPair`], a [`Pair`] whose sides answer ZAP requests through a
//! handler closure (the test's stand-in for a ZAP handler), with every
//! request recorded. Nothing here reads a real clock or touches the network.
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../conn_util/mod.rs"]
mod conn_util;

use std::boxed::Box;
use std::vec::Vec;

pub use conn_util::*;
#[cfg(feature = "plain")]
use zmtp_core::conn::MechanismConfig;
use zmtp_core::conn::{Config, Connection, ZapReply};
use zmtp_core::{Instant, SocketType};

/// The credentials of libzmq `tests/test_security_plain.cpp`.
pub const USER: &[u8] = b"admin";
pub const PASS: &[u8] = b"password";
/// The address the harness puts in ZAP request frames.
pub const ADDRESS: &[u8] = b"127.0.0.1";

/// A PLAIN client config.
#[cfg(feature = "plain")]
pub fn plain_client(t: SocketType, user: &[u8], pass: &[u8]) -> Config {
    let mut c = Config::new(t);
    c.mechanism = MechanismConfig::plain_client(user, pass).unwrap();
    c
}

/// A PLAIN server config.
#[cfg(feature = "plain")]
pub fn plain_server(t: SocketType) -> Config {
    let mut c = Config::new(t);
    c.mechanism = MechanismConfig::PlainServer;
    c
}

/// The PLAIN ZMTP 3.1 greeting (as-server byte 0, as libzmq sends it).
pub fn plain_greeting() -> Vec<u8> {
    greeting(3, 1, b"PLAIN")
}

/// A HELLO command frame.
pub fn hello(user: &[u8], pass: &[u8]) -> Vec<u8> {
    let mut body = b"\x05HELLO".to_vec();
    body.push(user.len() as u8);
    body.extend_from_slice(user);
    body.push(pass.len() as u8);
    body.extend_from_slice(pass);
    command(&body)
}

/// The WELCOME command frame.
pub fn welcome() -> Vec<u8> {
    command(b"\x07WELCOME")
}

/// An INITIATE command frame with these properties.
pub fn initiate(list: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = b"\x08INITIATE".to_vec();
    body.extend_from_slice(&props(list));
    command(&body)
}

/// An INITIATE command frame announcing `t`.
pub fn initiate_for(t: SocketType) -> Vec<u8> {
    initiate(&[("Socket-Type", t.as_str().as_bytes())])
}

/// An ERROR command frame.
pub fn error_cmd(reason: &[u8]) -> Vec<u8> {
    let mut body = b"\x05ERROR".to_vec();
    body.push(reason.len() as u8);
    body.extend_from_slice(reason);
    command(&body)
}

/// A ZAP request as the handler saw it: its frames, with [`ADDRESS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub frames: Vec<Vec<u8>>,
}

impl SeenRequest {
    pub fn mechanism(&self) -> &[u8] {
        &self.frames[6]
    }
    pub fn credentials(&self) -> &[Vec<u8>] {
        &self.frames[7..]
    }
}

/// A handler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A typed reply: status code, user id, metadata.
    Reply(Vec<u8>, Vec<u8>, Vec<u8>),
    /// Raw reply frames.
    Frames(Vec<Vec<u8>>),
    /// No handler.
    Unavailable,
    /// Keep the request unanswered.
    Later,
}

impl Answer {
    pub fn status(code: &str) -> Self {
        Self::Reply(code.as_bytes().to_vec(), Vec::new(), Vec::new())
    }
    pub fn ok(user_id: &[u8]) -> Self {
        Self::Reply(b"200".to_vec(), user_id.to_vec(), Vec::new())
    }
}

/// A ZAP handler: sees the request, decides the answer.
pub type Handler = Box<dyn FnMut(&SeenRequest) -> Answer>;

/// Polls `c` for a ZAP request and answers it with `handler`. Returns
/// whether anything happened.
pub fn serve_zap(
    c: &mut Connection<'static>,
    cfg: &Config,
    now: Instant,
    handler: &mut Handler,
    seen: &mut Vec<SeenRequest>,
) -> bool {
    let Some(req) = c.poll_zap_request(cfg) else {
        return false;
    };
    let req = SeenRequest {
        frames: req.frames(ADDRESS).map(<[u8]>::to_vec).collect(),
    };
    let answer = handler(&req);
    seen.push(req);
    answer_zap(c, now, &answer);
    true
}

/// Gives `answer` to `c`'s pending request.
pub fn answer_zap(c: &mut Connection<'static>, now: Instant, answer: &Answer) {
    match answer {
        Answer::Reply(code, user, meta) => {
            let reply = ZapReply {
                status_code: code,
                status_text: b"",
                user_id: user,
                metadata: meta,
            };
            c.handle_zap_reply(now, &reply).unwrap();
        }
        Answer::Frames(frames) => {
            let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            c.handle_zap_reply_frames(now, &frames).unwrap();
        }
        Answer::Unavailable => c.handle_zap_unavailable(now).unwrap(),
        Answer::Later => {}
    }
}

/// A [`Pair`] whose sides answer ZAP requests with their handlers.
pub struct ZapPair {
    pub pair: Pair,
    pub cfg_a: Config,
    pub cfg_b: Config,
    pub zap_a: Handler,
    pub zap_b: Handler,
    pub seen_a: Vec<SeenRequest>,
    pub seen_b: Vec<SeenRequest>,
}

fn no_handler() -> Handler {
    Box::new(|_| panic!("unexpected ZAP request"))
}

impl ZapPair {
    /// `a` and `b` with no ZAP handler (a request panics).
    pub fn new(cfg_a: Config, cfg_b: Config) -> Self {
        let pair = Pair::new(&cfg_a, &cfg_b);
        Self {
            pair,
            cfg_a,
            cfg_b,
            zap_a: no_handler(),
            zap_b: no_handler(),
            seen_a: Vec::new(),
            seen_b: Vec::new(),
        }
    }

    /// `a` a PLAIN client of type `ta`, `b` a PLAIN server of type `tb`
    /// whose handler is `zap`.
    #[cfg(feature = "plain")]
    pub fn plain(
        ta: SocketType,
        tb: SocketType,
        user: &[u8],
        pass: &[u8],
        zap: impl FnMut(&SeenRequest) -> Answer + 'static,
    ) -> Self {
        let mut p = Self::new(plain_client(ta, user, pass), plain_server(tb));
        p.zap_b = Box::new(zap);
        p
    }

    pub fn a(&mut self) -> &mut Side {
        &mut self.pair.a
    }

    pub fn b(&mut self) -> &mut Side {
        &mut self.pair.b
    }

    fn collect(&mut self) {
        self.pair.a.events.extend(events(&mut self.pair.a.c));
        self.pair.b.events.extend(events(&mut self.pair.b.c));
    }

    #[track_caller]
    pub fn drive(&mut self) {
        settle(self);
    }

    #[track_caller]
    pub fn advance_to(&mut self, at_ms: u64) {
        advance_clock(self, Instant::from_millis(at_ms));
    }

    /// Both sides ready; both metadata units dropped.
    #[track_caller]
    pub fn handshake(&mut self) {
        self.drive();
        assert!(self.pair.a.c.is_ready(), "a: {:?}", self.pair.a.events);
        assert!(self.pair.b.c.is_ready(), "b: {:?}", self.pair.b.events);
        assert!(self.pair.a.c.pop_metadata());
        assert!(self.pair.b.c.pop_metadata());
    }
}

impl Sim for ZapPair {
    fn step(&mut self) -> bool {
        let now = self.pair.now;
        let mut p = self.pair.step();
        p |= serve_zap(
            &mut self.pair.a.c,
            &self.cfg_a,
            now,
            &mut self.zap_a,
            &mut self.seen_a,
        );
        p |= serve_zap(
            &mut self.pair.b.c,
            &self.cfg_b,
            now,
            &mut self.zap_b,
            &mut self.seen_b,
        );
        self.collect();
        p
    }

    fn clock(&mut self) -> &mut Instant {
        &mut self.pair.now
    }

    fn next_timeout(&self) -> Option<Instant> {
        self.pair.next_timeout()
    }

    fn fire_timers(&mut self, now: Instant) {
        self.pair.fire_timers(now);
        self.collect();
    }
}
