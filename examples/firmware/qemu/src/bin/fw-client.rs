//! Scenario B: the board connects out to the host.
//!
//! A REQ socket connects to `10.0.2.2:<port>` (QEMU's user network maps
//! that to the host's `127.0.0.1:<port>`). The port comes from the
//! semihosting command line (`port=<n>`, for example
//! `-semihosting-config enable=on,arg=fw-client,arg=port=40000`), else from
//! `ZMTP_FW_HOST_PORT` at build time, else 5560. Until the host binds, every
//! attempt fails: the monitor shows CONNECT_DELAYED, CLOSED and
//! CONNECT_RETRIED, then CONNECTED and HANDSHAKE_SUCCEEDED once the host is
//! up.
//!
//! Once connected the firmware sends [`ROUNDS`] requests `hello`, `<i>` and
//! expects each back unchanged (the host echoes). When the host leaves
//! (DISCONNECTED) the firmware stops connecting, waits (a few seconds at
//! most) for the remote monitor (XPUB on port 5557, as in `fw-server`) to
//! drain and its subscriber to leave, and ends with status 0; with a
//! non-zero status after [`RUN_LIMIT_MS`] or a wrong reply.
#![no_std]
#![no_main]

use core::fmt::Write as _;

use cortex_m_rt::entry;
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::time::Duration;
use smoltcp::wire::IpEndpoint;
use static_cell::StaticCell;
use zmtp_core::monitor::Event;
use zmtp_core::socket_type::SocketType;
use zmtp_firmware_qemu::app::{self, HOST_IP, Message, PEERS};
use zmtp_firmware_qemu::board;
use zmtp_smoltcp::{Resources, poll};

/// Round trips before the firmware waits for the host to leave.
const ROUNDS: u32 = 5;
/// The host port when the command line names none.
const DEFAULT_HOST_PORT: u16 = 5560;
/// The run fails after this long.
const RUN_LIMIT_MS: u64 = 120_000;
/// After the end condition, how long the remote monitor may take to drain.
const DRAIN_MS: u64 = 5_000;
/// Longest sleep between two looks at the network.
const MAX_SLEEP_MS: u64 = 50;
/// A connect attempt without an answer is abandoned after this long
/// (QEMU's user network answers a closed host port with a reset, but a
/// lost SYN must not stall the scenario).
const CONNECT_TIMEOUT_MS: u64 = 1_000;

static SOCKETS: StaticCell<[SocketStorage<'static>; 2 * PEERS]> = StaticCell::new();
static REQ_MEM: StaticCell<Resources<PEERS, 2048, 2048>> = StaticCell::new();
static MON_MEM: StaticCell<Resources<PEERS, 2048, 2048, 64>> = StaticCell::new();
static MON_AUX: StaticCell<[u8; 256]> = StaticCell::new();
static REPLY: StaticCell<Message> = StaticCell::new();

/// The host port: the command line's `port=`, the build's
/// `ZMTP_FW_HOST_PORT`, or [`DEFAULT_HOST_PORT`].
fn host_port() -> u16 {
    board::arg_u16("port")
        .or_else(|| option_env!("ZMTP_FW_HOST_PORT").and_then(|p| p.parse().ok()))
        .unwrap_or(DEFAULT_HOST_PORT)
}

#[entry]
fn main() -> ! {
    let (mut clock, mut nic) = app::start_board();
    let mut iface = app::interface(&mut nic, clock.now());
    let mut sockets = SocketSet::new(&mut SOCKETS.init([SocketStorage::EMPTY; 2 * PEERS])[..]);

    let mut options = app::options(3);
    options.connect_timeout = Some(Duration::from_millis(CONNECT_TIMEOUT_MS));
    let mut req = app::zmq_socket(
        SocketType::Req,
        &mut [],
        REQ_MEM.init(Resources::new()).slots(),
        &mut sockets,
        options,
        0x5245_5131,
    );
    let mut monitor = app::remote_monitor(
        MON_AUX.init([0; 256]),
        MON_MEM.init(Resources::new()).slots(),
        &mut sockets,
    );
    let remote = IpEndpoint::new(HOST_IP.into(), host_port());
    if let Err(e) = req.connect(remote) {
        defmt::error!("fw-client: connect: {}", e);
        board::exit(app::EXIT_SETUP);
    }
    defmt::info!(
        "fw-client: REQ connecting to {}, remote monitor on {=u16}",
        remote,
        app::MONITOR_PORT
    );

    let reply = REPLY.init(Message::new());
    let mut handshakes = 0u32;
    let mut host_left = false;
    let mut rounds = 0u32;
    let mut waiting = false;
    let mut done_at: Option<u64> = None;
    loop {
        let now = clock.now();
        let next = poll(
            now,
            &mut iface,
            &mut nic,
            &mut sockets,
            &mut [&mut req, &mut monitor],
        );
        let mut busy = false;
        busy |= app::forward_events("req", &mut req, Some(&mut monitor), |e| match e {
            Event::HandshakeSucceeded => handshakes = handshakes.saturating_add(1),
            Event::Disconnected { .. } if rounds >= ROUNDS => host_left = true,
            _ => {}
        }) > 0;
        busy |= app::forward_events("mon", monitor.inner_mut(), None, |_| {}) > 0;

        if waiting && reply.recv(req.socket_mut()) {
            busy = true;
            waiting = false;
            let parts = reply.parts();
            let mut index: heapless::String<12> = heapless::String::new();
            let _ = write!(index, "{rounds}");
            if parts.as_slice() != [b"hello".as_slice(), index.as_bytes()] {
                defmt::error!("fw-client: unexpected reply {=[?]}", parts.as_slice());
                board::exit(app::EXIT_PROTOCOL);
            }
            rounds = rounds.saturating_add(1);
            defmt::info!("fw-client: reply {=u32} of {=u32}", rounds, ROUNDS);
            if rounds == ROUNDS {
                defmt::info!(
                    "fw-client: {=u32} round trips done, waiting for the host to leave",
                    ROUNDS
                );
            }
        }
        if !waiting && rounds < ROUNDS && handshakes > 0 && req.socket().ready_peers() > 0 {
            let mut index: heapless::String<12> = heapless::String::new();
            let _ = write!(index, "{rounds}");
            if req.socket_mut().send(&[b"hello", index.as_bytes()]).is_ok() {
                busy = true;
                waiting = true;
            }
        }

        let ms = clock.now_ms();
        if host_left && done_at.is_none() {
            // Stop reconnecting: the scenario is over.
            let _ = req.disconnect(remote, &mut sockets);
            defmt::info!("fw-client: host left, waiting for the remote monitor");
            done_at = Some(ms);
        }
        if let Some(at) = done_at {
            // Events left in the backlog with no subscriber have nowhere to go.
            let drained = (monitor.pending() == 0 || !monitor.is_subscribed())
                && monitor.inner().attached() == 0;
            if drained || ms >= at.saturating_add(DRAIN_MS) {
                defmt::info!(
                    "fw-client: exit 0 (monitor events published {=u64}, dropped {=u64}, drained {=bool}); {}",
                    monitor.published(),
                    monitor.dropped(),
                    drained,
                    nic.stats()
                );
                board::exit(app::EXIT_OK);
            }
        }
        if ms >= RUN_LIMIT_MS {
            defmt::error!("fw-client: timeout after {=u64} ms", ms);
            board::exit(app::EXIT_TIMEOUT);
        }
        if !busy {
            clock.sleep_until(next, MAX_SLEEP_MS, || nic.rx_pending());
        }
    }
}
