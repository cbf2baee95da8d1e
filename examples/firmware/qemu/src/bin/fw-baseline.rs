//! The same board, driver, network stack and logging as `fw-server`, with
//! a plain TCP echo on port 5555 instead of ZeroMQ: the size report
//! subtracts it from `fw-server` to find what ZeroMQ costs. It also runs:
//! it echoes one connection and exits 0 when the peer closes it.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use static_cell::StaticCell;
use zmtp_firmware_qemu::app::{self, EXIT_OK, EXIT_TIMEOUT};
use zmtp_firmware_qemu::board;

/// The echo port (the one `fw-server`'s REP socket uses).
const PORT: u16 = 5555;
/// The run gives up after this long.
const RUN_LIMIT_MS: u64 = 60_000;
/// TCP ring sizes.
const TCP_BUF: usize = 2048;

static SOCKETS: StaticCell<[SocketStorage<'static>; 1]> = StaticCell::new();
static RX: StaticCell<[u8; TCP_BUF]> = StaticCell::new();
static TX: StaticCell<[u8; TCP_BUF]> = StaticCell::new();

#[entry]
fn main() -> ! {
    let (mut clock, mut nic) = app::start_board();
    let mut iface = app::interface(&mut nic, clock.now());
    let mut sockets = SocketSet::new(&mut SOCKETS.init([SocketStorage::EMPTY; 1])[..]);
    let socket = tcp::Socket::new(
        tcp::SocketBuffer::new(&mut RX.init([0; TCP_BUF])[..]),
        tcp::SocketBuffer::new(&mut TX.init([0; TCP_BUF])[..]),
    );
    let handle = sockets.add(socket);
    if sockets
        .get_mut::<tcp::Socket<'_>>(handle)
        .listen(PORT)
        .is_err()
    {
        board::exit(app::EXIT_SETUP);
    }
    defmt::info!("fw-baseline: TCP echo on port {=u16}", PORT);
    let mut served = false;
    loop {
        let now = clock.now();
        let _ = iface.poll(now, &mut nic, &mut sockets);
        let s = sockets.get_mut::<tcp::Socket<'_>>(handle);
        if s.is_active() {
            served = true;
        }
        if s.can_recv() && s.can_send() {
            let mut buf = [0u8; 512];
            let room = s
                .send_capacity()
                .saturating_sub(s.send_queue())
                .min(buf.len());
            let chunk = buf.get_mut(..room).unwrap_or(&mut []);
            let n = s.recv_slice(chunk).unwrap_or(0);
            let _ = s.send_slice(chunk.get(..n).unwrap_or(&[]));
        }
        if s.state() == tcp::State::CloseWait && !s.can_recv() {
            s.close();
        }
        if served && !s.is_active() {
            defmt::info!("fw-baseline: peer left, stats {}", nic.stats());
            board::exit(EXIT_OK);
        }
        if now.total_millis() > i64::try_from(RUN_LIMIT_MS).unwrap_or(i64::MAX) {
            defmt::error!("fw-baseline: timeout");
            board::exit(EXIT_TIMEOUT);
        }
        let next = iface.poll_at(now, &sockets);
        clock.sleep_until(next, 100, || nic.rx_pending());
    }
}
