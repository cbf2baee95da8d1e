//! A DEALER socket with the NULL mechanism and a monitor, driven the way an
//! adapter would (see the library): the size report's measure of the core.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_halt as _;
use zmtp_core::conn::Config;
use zmtp_core::socket::PeerBuffers;
use zmtp_core::{Instant, SocketType};

#[entry]
fn main() -> ! {
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 1024];
    let bufs = PeerBuffers {
        rx: &mut rx,
        tx: &mut tx,
        subs: &mut [],
    };
    zmtp_firmware::run(
        Config::new(SocketType::Dealer),
        bufs,
        |socket, bufs, endpoints| socket.attach(Instant::ZERO, bufs, 1, endpoints),
        |_, _| {},
    )
}
