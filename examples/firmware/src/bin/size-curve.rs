//! The DEALER of `size-dealer` with the CURVE mechanism (RFC 26), client
//! or server (chosen at run time, so both are linked), its state lent to
//! the socket, and a ZAP handler in the firmware that accepts one client
//! key: the size report's measure of what CURVE adds.
//!
//! The random source is a stand-in that only keeps the optimiser from
//! folding the key schedule away: this binary is measured, never run. A
//! firmware uses its TRNG driver here (see `zmtp_core::conn::curve`).
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use panic_halt as _;
use zmtp_core::conn::{Config, CurveState, MechanismConfig, ZapReply};
use zmtp_core::socket::PeerBuffers;
use zmtp_core::{Instant, SocketType};

/// Not random: see the module documentation.
struct Opaque(u32);

impl rand_core::RngCore for Opaque {
    fn next_u32(&mut self) -> u32 {
        self.0 = black_box(self.0.wrapping_add(1));
        self.0
    }
    fn next_u64(&mut self) -> u64 {
        u64::from(self.next_u32()) << 32 | u64::from(self.next_u32())
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for Opaque {}

#[entry]
fn main() -> ! {
    let key = black_box([7u8; 32]);
    let mut config = Config::new(SocketType::Dealer);
    config.mechanism = if black_box(true) {
        MechanismConfig::curve_server(key)
    } else {
        MechanismConfig::curve_client(key, key, key)
    };
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 1024];
    let bufs = PeerBuffers {
        rx: &mut rx,
        tx: &mut tx,
        subs: &mut [],
    };
    let mut states = [CurveState::new()];
    let mut rng = Opaque(black_box(1));
    zmtp_firmware::run(
        config,
        bufs,
        |socket, bufs, endpoints| {
            socket.lend_curve_states(&mut states);
            socket.attach_with_rng(Instant::ZERO, bufs, &mut rng, 1, endpoints)
        },
        |socket, now| {
            if let Some((peer, request)) = socket.poll_zap_request() {
                let reply = if request.credentials() == [&key[..]] {
                    ZapReply::ok(b"client")
                } else {
                    ZapReply::new(b"400")
                };
                let _ = socket.handle_zap_reply(now, peer, &reply);
            }
        },
    )
}
