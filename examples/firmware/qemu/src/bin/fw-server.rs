//! Scenario A: the board serves ZeroMQ sockets that a host reaches through
//! QEMU's port forwards.
//!
//! - REP on port 5555 echoes every request (all frames), except the
//!   commands `sync` (publishes one `sync` message on PUB, replies `sync`),
//!   `stream <N>` (streams `N` messages `stream`, `<i>` on PUB, replies
//!   `streaming <N>`) and `quit` (replies `bye` and ends the run).
//! - PUB on port 5556 carries the stream, paced so that no subscriber's
//!   queue overflows.
//! - The remote monitor (XPUB on port 5557) publishes the monitor events of
//!   REP and PUB in libzmq's v2 layout; every event is also logged.
//!
//! The run ends with status 0 once the REQ peer has left (REP saw
//! DISCONNECTED after a handshake) and no subscriber is left on PUB, or
//! after `quit`; then the firmware waits (a few seconds at most) for the
//! remote monitor's backlog to drain and its subscriber to leave. It ends
//! with a non-zero status after [`RUN_LIMIT_MS`].
#![no_std]
#![no_main]

use core::fmt::Write as _;

use cortex_m_rt::entry;
use smoltcp::iface::{SocketSet, SocketStorage};
use static_cell::StaticCell;
use zmtp_core::monitor::Event;
use zmtp_core::socket_type::SocketType;
use zmtp_firmware_qemu::app::{self, Message, PEERS, Zmq};
use zmtp_firmware_qemu::board;
use zmtp_smoltcp::{Resources, poll};

/// REP listens here.
const REP_PORT: u16 = 5555;
/// PUB listens here.
const PUB_PORT: u16 = 5556;
/// The run fails after this long.
const RUN_LIMIT_MS: u64 = 120_000;
/// Longest sleep between two looks at the network.
const MAX_SLEEP_MS: u64 = 50;
/// Stream messages queued per turn of the main loop.
const STREAM_BATCH: u32 = 16;
/// Largest `stream <N>` accepted.
const MAX_STREAM: u32 = 100_000;

type Mem<const Q: usize, const S: usize> = Resources<PEERS, 2048, Q, S>;

static SOCKETS: StaticCell<[SocketStorage<'static>; 3 * PEERS]> = StaticCell::new();
static REP_MEM: StaticCell<Mem<2048, 0>> = StaticCell::new();
static PUB_MEM: StaticCell<Mem<4096, 256>> = StaticCell::new();
static MON_MEM: StaticCell<Mem<2048, 64>> = StaticCell::new();
static MON_AUX: StaticCell<[u8; 256]> = StaticCell::new();
static REQUEST: StaticCell<Message> = StaticCell::new();

/// What the firmware has seen so far.
#[derive(Debug, Default)]
struct Progress {
    rep_handshakes: u32,
    rep_left: bool,
    quit: bool,
    stream_left: u32,
    stream_next: u32,
    streamed: u32,
}

#[entry]
fn main() -> ! {
    let (mut clock, mut nic) = app::start_board();
    let mut iface = app::interface(&mut nic, clock.now());
    let mut sockets = SocketSet::new(&mut SOCKETS.init([SocketStorage::EMPTY; 3 * PEERS])[..]);

    let mut rep = app::zmq_socket(
        SocketType::Rep,
        &mut [],
        REP_MEM.init(Resources::new()).slots(),
        &mut sockets,
        app::options(3),
        0x5245_5031,
    );
    let mut publ = app::zmq_socket(
        SocketType::Pub,
        &mut [],
        PUB_MEM.init(Resources::new()).slots(),
        &mut sockets,
        app::options(10),
        0x5055_4231,
    );
    let mut monitor = app::remote_monitor(
        MON_AUX.init([0; 256]),
        MON_MEM.init(Resources::new()).slots(),
        &mut sockets,
    );
    if rep.bind(REP_PORT, &mut sockets).is_err() || publ.bind(PUB_PORT, &mut sockets).is_err() {
        board::exit(app::EXIT_SETUP);
    }
    defmt::info!(
        "fw-server: REP on {=u16}, PUB on {=u16}, remote monitor on {=u16}",
        REP_PORT,
        PUB_PORT,
        app::MONITOR_PORT
    );

    let request = REQUEST.init(Message::new());
    let mut progress = Progress::default();
    let mut end = app::RunEnd::new("fw-server", RUN_LIMIT_MS);
    loop {
        let now = clock.now();
        let next = poll(
            now,
            &mut iface,
            &mut nic,
            &mut sockets,
            &mut [&mut rep, &mut publ, &mut monitor],
        );
        let mut busy = false;

        let n = app::forward_events("rep", &mut rep, Some(&mut monitor), |e| match e {
            Event::HandshakeSucceeded => {
                progress.rep_handshakes = progress.rep_handshakes.saturating_add(1)
            }
            Event::Disconnected { .. } if progress.rep_handshakes > 0 => progress.rep_left = true,
            _ => {}
        });
        busy |= n > 0;
        busy |= app::forward_events("pub", &mut publ, Some(&mut monitor), |_| {}) > 0;
        busy |= app::forward_events("mon", monitor.inner_mut(), None, |_| {}) > 0;

        if request.recv(rep.socket_mut()) {
            busy = true;
            serve(request, &mut rep, &mut publ, &mut progress);
        }
        busy |= stream(&mut publ, &mut progress);

        let finished = progress.quit
            || (progress.rep_left && publ.attached() == 0 && progress.stream_left == 0);
        end.check(
            clock.now_ms(),
            finished,
            &monitor,
            &[&rep],
            || {
                defmt::info!(
                    "fw-server: done ({=u32} messages streamed), waiting for the remote monitor",
                    progress.streamed
                );
            },
            |drained| {
                defmt::info!(
                    "fw-server: exit 0 (monitor events published {=u64}, dropped {=u64}, drained {=bool}); {}",
                    monitor.published(),
                    monitor.dropped(),
                    drained,
                    nic.stats()
                );
            },
        );
        if !busy {
            clock.sleep_until(next, MAX_SLEEP_MS, || nic.rx_pending());
        }
    }
}

/// Answers one request on REP.
fn serve(request: &Message, rep: &mut Zmq<'_>, publ: &mut Zmq<'_>, progress: &mut Progress) {
    let mut text: heapless::String<32> = heapless::String::new();
    let first = request.first();
    let sent = if request.truncated() {
        defmt::warn!("fw-server: request too large, truncated");
        rep.socket_mut().send(&[b"error: request too large"])
    } else if first == b"quit" {
        defmt::info!("fw-server: quit requested");
        progress.quit = true;
        rep.socket_mut().send(&[b"bye"])
    } else if first == b"sync" {
        // The subscriber checks its subscription with this message.
        let _ = publ.socket_mut().send(&[b"sync"]);
        rep.socket_mut().send(&[b"sync"])
    } else if let Some(n) = first
        .strip_prefix(b"stream ")
        .and_then(|n| core::str::from_utf8(n).ok())
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n <= MAX_STREAM)
    {
        defmt::info!("fw-server: streaming {=u32} messages on PUB", n);
        progress.stream_left = n;
        progress.stream_next = 0;
        let _ = write!(text, "streaming {n}");
        rep.socket_mut().send(&[text.as_bytes()])
    } else {
        rep.socket_mut().send(&request.parts())
    };
    match sent {
        Ok(()) => {}
        Err(nb::Error::WouldBlock) => defmt::error!("fw-server: reply not sent: would block"),
        Err(nb::Error::Other(e)) => defmt::error!("fw-server: reply not sent: {}", e),
    }
}

/// Queues stream messages on PUB while every subscriber has room; returns
/// whether it queued any.
fn stream(publ: &mut Zmq<'_>, progress: &mut Progress) -> bool {
    let mut queued = false;
    for _ in 0..STREAM_BATCH {
        if progress.stream_left == 0 {
            break;
        }
        let mut index: heapless::String<12> = heapless::String::new();
        let _ = write!(index, "{}", progress.stream_next);
        let parts: [&[u8]; 2] = [b"stream", index.as_bytes()];
        let socket = publ.socket();
        let mut ready = 0usize;
        let mut room = true;
        for h in socket.peers() {
            if let Some(c) = socket.peer(h)
                && c.is_ready()
            {
                ready = ready.saturating_add(1);
                room &= c.can_send_message(&parts);
            }
        }
        if ready == 0 || !room {
            break;
        }
        if publ.socket_mut().send(&parts).is_err() {
            break;
        }
        queued = true;
        progress.stream_left = progress.stream_left.saturating_sub(1);
        progress.stream_next = progress.stream_next.saturating_add(1);
        progress.streamed = progress.streamed.saturating_add(1);
        if progress.stream_left == 0 {
            defmt::info!("fw-server: streamed {=u32} messages", progress.stream_next);
        }
    }
    queued
}
