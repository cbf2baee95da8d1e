//! The DEALER of `size-dealer` with the PLAIN mechanism (RFC 24), client
//! or server (chosen at run time, so both are linked), and a ZAP handler
//! in the firmware that accepts one user: the size report's measure of
//! what PLAIN adds.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use panic_halt as _;
use zmtp_core::conn::{Config, MechanismConfig, ZapReply};
use zmtp_core::socket::PeerBuffers;
use zmtp_core::{Instant, SocketType};

#[entry]
fn main() -> ! {
    let mut config = Config::new(SocketType::Dealer);
    config.mechanism = if black_box(true) {
        MechanismConfig::PlainServer
    } else {
        match MechanismConfig::plain_client(b"admin", b"secret") {
            Ok(m) => m,
            Err(_) => loop {
                cortex_m::asm::wfi();
            },
        }
    };
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 1024];
    let bufs = PeerBuffers {
        rx: &mut rx,
        tx: &mut tx,
        subs: &mut [],
    };
    zmtp_firmware::run(
        config,
        bufs,
        |socket, bufs, endpoints| socket.attach(Instant::ZERO, bufs, 1, endpoints),
        |socket, now| {
            if let Some((peer, request)) = socket.poll_zap_request() {
                let ok = request.plain_credentials() == Some((&b"admin"[..], &b"secret"[..]));
                let reply = if ok {
                    ZapReply::ok(b"admin")
                } else {
                    ZapReply::new(b"400")
                };
                let _ = socket.handle_zap_reply(now, peer, &reply);
            }
        },
    )
}
