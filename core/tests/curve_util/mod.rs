//! Helpers for the CURVE tests: key pairs, configs, a deterministic test
//! random source, and [`curve_pair`], a [`ZapPair`] of CURVE connections.
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../plain_util/mod.rs"]
mod plain_util;

pub use plain_util::*;

#[path = "../rng_util/mod.rs"]
mod rng_util;

pub use rng_util::TestRng;

use std::vec::Vec;
use zmtp_core::conn::{Config, Connection, CurveKeypair, CurveState, MechanismConfig};
use zmtp_core::{Instant, SocketType};

/// The key pairs of the zmq_curve(7) manual page example.
pub const CLIENT_PUBLIC: &[u8] = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
pub const CLIENT_SECRET: &[u8] = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
pub const SERVER_PUBLIC: &[u8] = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
pub const SERVER_SECRET: &[u8] = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

pub fn client_keys() -> CurveKeypair {
    CurveKeypair::from_secret_z85(CLIENT_SECRET).unwrap()
}

pub fn server_keys() -> CurveKeypair {
    CurveKeypair::from_secret_z85(SERVER_SECRET).unwrap()
}

/// A CURVE client config that trusts `server_public`.
pub fn curve_client(t: SocketType, keys: &CurveKeypair, server_public: [u8; 32]) -> Config {
    let mut c = Config::new(t);
    c.mechanism = MechanismConfig::curve_client(keys.public, keys.secret, server_public);
    c
}

/// A CURVE server config.
pub fn curve_server(t: SocketType, keys: &CurveKeypair) -> Config {
    let mut c = Config::new(t);
    c.mechanism = MechanismConfig::curve_server(keys.secret);
    c
}

/// A CURVE connection with default buffers.
pub fn curve_conn(cfg: &Config, seed: u64) -> Connection<'static> {
    curve_conn_with(cfg, seed, RX, TX)
}

/// A CURVE connection with `rx` / `tx` byte buffers.
pub fn curve_conn_with(cfg: &Config, seed: u64, rx: usize, tx: usize) -> Connection<'static> {
    Connection::new_with_rng(
        Instant::from_millis(T0),
        cfg,
        leak(rx),
        leak(tx),
        Box::leak(Box::new(CurveState::new())),
        &mut TestRng(seed),
    )
    .expect("connection")
}

fn side(c: Connection<'static>) -> Side {
    Side {
        c,
        sent: Vec::new(),
        in_flight: Vec::new(),
        deliver: true,
        events: Vec::new(),
    }
}

/// `a` (client config) and `b` (server config) as a [`ZapPair`]; `b`
/// answers ZAP with `zap` (pass `|_| Answer::Unavailable` for none).
pub fn curve_pair(
    cfg_a: Config,
    cfg_b: Config,
    zap: impl FnMut(&SeenRequest) -> Answer + 'static,
) -> ZapPair {
    let pair = Pair {
        a: side(curve_conn(&cfg_a, 1)),
        b: side(curve_conn(&cfg_b, 2)),
        now: Instant::from_millis(T0),
        chunk: 65_536,
    };
    ZapPair {
        pair,
        cfg_a,
        cfg_b,
        zap_a: Box::new(|_| panic!("client asked ZAP")),
        zap_b: Box::new(zap),
        seen_a: Vec::new(),
        seen_b: Vec::new(),
    }
}

/// A DEALER client and a ROUTER server with the manual page's keys.
pub fn default_pair(zap: impl FnMut(&SeenRequest) -> Answer + 'static) -> ZapPair {
    let ck = client_keys();
    let sk = server_keys();
    curve_pair(
        curve_client(SocketType::Dealer, &ck, sk.public),
        curve_server(SocketType::Router, &sk),
        zap,
    )
}
