//! Scenario C: authentication on the board. A REP socket on port 5555 is a
//! PLAIN server (RFC 24); the firmware itself is the ZAP handler (RFC 27):
//! it accepts the user `admin` with the password `secret` (status 200,
//! user id `admin`) and answers 400 to everything else. Requests are
//! echoed; `quit` ends the run. The remote monitor (XPUB on port 5557)
//! publishes REP's events, HANDSHAKE_FAILED_AUTH included.
//!
//! The run ends with status 0 once a client was refused, another was
//! accepted and has left (or after `quit`), and the remote monitor has
//! drained; with a non-zero status after [`RUN_LIMIT_MS`].
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use smoltcp::iface::{SocketSet, SocketStorage};
use static_cell::StaticCell;
use zmtp_core::conn::{Config, MechanismConfig, ZapReply};
use zmtp_core::monitor::Event;
use zmtp_core::socket_type::SocketType;
use zmtp_firmware_qemu::app::{self, Message, PEERS, Zmq};
use zmtp_firmware_qemu::board;
use zmtp_smoltcp::{Resources, poll};

/// REP (PLAIN server) listens here.
const REP_PORT: u16 = 5555;
/// The one user the ZAP handler accepts.
const USER: &[u8] = b"admin";
/// That user's password.
const PASSWORD: &[u8] = b"secret";
/// The ZAP domain of the REP socket.
const DOMAIN: &[u8] = b"board";
/// The run fails after this long.
const RUN_LIMIT_MS: u64 = 120_000;
/// After the end condition, how long the remote monitor may take to drain.
const DRAIN_MS: u64 = 5_000;
/// Longest sleep between two looks at the network.
const MAX_SLEEP_MS: u64 = 50;

static SOCKETS: StaticCell<[SocketStorage<'static>; 2 * PEERS]> = StaticCell::new();
static REP_MEM: StaticCell<Resources<PEERS, 2048, 2048, 0>> = StaticCell::new();
static MON_MEM: StaticCell<Resources<PEERS, 2048, 2048, 64>> = StaticCell::new();
static MON_AUX: StaticCell<[u8; 256]> = StaticCell::new();
static REQUEST: StaticCell<Message> = StaticCell::new();

/// What the firmware has seen so far.
#[derive(Debug, Default)]
struct Progress {
    refused: u32,
    accepted: u32,
    left: bool,
    quit: bool,
}

#[entry]
fn main() -> ! {
    let (mut clock, mut nic) = app::start_board();
    let mut iface = app::interface(&mut nic, clock.now());
    let mut sockets = SocketSet::new(&mut SOCKETS.init([SocketStorage::EMPTY; 2 * PEERS])[..]);

    let mut config = Config::new(SocketType::Rep);
    config.mechanism = MechanismConfig::PlainServer;
    if config.set_zap_domain(DOMAIN).is_err() {
        board::exit(app::EXIT_SETUP);
    }
    let mut options = app::options(3);
    options.zap_handler = true;
    let mut rep = app::zmq_socket_with(
        config,
        &mut [],
        REP_MEM.init(Resources::new()).slots(),
        &mut sockets,
        options,
        0x5345_4331,
    );
    let mut monitor = app::remote_monitor(
        MON_AUX.init([0; 256]),
        MON_MEM.init(Resources::new()).slots(),
        &mut sockets,
    );
    if rep.bind(REP_PORT, &mut sockets).is_err() {
        board::exit(app::EXIT_SETUP);
    }
    defmt::info!(
        "fw-secure: REP (PLAIN server, ZAP domain {=str}) on {=u16}, remote monitor on {=u16}",
        core::str::from_utf8(DOMAIN).unwrap_or("?"),
        REP_PORT,
        app::MONITOR_PORT
    );

    let request = REQUEST.init(Message::new());
    let mut progress = Progress::default();
    let mut done_at: Option<u64> = None;
    loop {
        let now = clock.now();
        let next = poll(
            now,
            &mut iface,
            &mut nic,
            &mut sockets,
            &mut [&mut rep, &mut monitor],
        );
        let mut busy = authenticate(&mut rep, now);

        let n = app::forward_events("rep", &mut rep, Some(&mut monitor), |e| match e {
            Event::HandshakeFailedAuth { .. } => {
                progress.refused = progress.refused.saturating_add(1)
            }
            Event::HandshakeSucceeded => progress.accepted = progress.accepted.saturating_add(1),
            Event::Disconnected { .. } if progress.accepted > 0 => progress.left = true,
            _ => {}
        });
        busy |= n > 0;
        busy |= app::forward_events("mon", monitor.inner_mut(), None, |_| {}) > 0;

        if request.recv(rep.socket_mut()) {
            busy = true;
            serve(request, &mut rep, &mut progress);
        }

        let ms = clock.now_ms();
        let finished = progress.quit || (progress.refused > 0 && progress.left);
        if finished && done_at.is_none() {
            defmt::info!(
                "fw-secure: done ({=u32} refused, {=u32} accepted), waiting for the remote monitor",
                progress.refused,
                progress.accepted
            );
            done_at = Some(ms);
        }
        if let Some(at) = done_at {
            let drained = (monitor.pending() == 0 || !monitor.is_subscribed())
                && monitor.inner().attached() == 0
                && rep.attached() == 0;
            if drained || ms >= at.saturating_add(DRAIN_MS) {
                defmt::info!(
                    "fw-secure: exit 0 (monitor events published {=u64}, dropped {=u64}, drained {=bool}: pending {=usize}, monitor peers {=usize}, REP peers {=usize})",
                    monitor.published(),
                    monitor.dropped(),
                    drained,
                    monitor.pending(),
                    monitor.inner().attached(),
                    rep.attached()
                );
                board::exit(app::EXIT_OK);
            }
        }
        if ms >= RUN_LIMIT_MS {
            defmt::error!("fw-secure: timeout after {=u64} ms", ms);
            board::exit(app::EXIT_TIMEOUT);
        }
        if !busy {
            clock.sleep_until(next, MAX_SLEEP_MS, || nic.rx_pending());
        }
    }
}

/// The firmware's ZAP handler: answers every pending request. Returns
/// whether there was one (its answer needs another turn of the network).
fn authenticate(rep: &mut Zmq<'_>, now: smoltcp::time::Instant) -> bool {
    let mut answered = false;
    // At most one request per peer is pending.
    for _ in 0..PEERS {
        let Some(query) = rep.poll_zap_request() else {
            break;
        };
        let peer = query.peer;
        let ok = query.request.domain() == DOMAIN
            && query.request.plain_credentials() == Some((USER, PASSWORD));
        let user = query
            .request
            .plain_credentials()
            .map_or(&b""[..], |(u, _)| u);
        defmt::info!(
            "zap: {=str} from {=str} user {=str}: {=str}",
            core::str::from_utf8(query.request.mechanism()).unwrap_or("?"),
            query.address.as_str(),
            core::str::from_utf8(user).unwrap_or("?"),
            if ok { "200" } else { "400" }
        );
        let reply = if ok {
            ZapReply::ok(USER)
        } else {
            ZapReply::new(b"400")
        };
        let now = zmtp_smoltcp::time::to_core(now);
        if rep
            .socket_mut()
            .handle_zap_reply(now, peer, &reply)
            .is_err()
        {
            defmt::warn!("zap: the connection went away before the answer");
        }
        answered = true;
    }
    answered
}

/// Answers one request on REP: an echo, or `bye` to `quit`.
fn serve(request: &Message, rep: &mut Zmq<'_>, progress: &mut Progress) {
    let sent = if request.truncated() {
        defmt::warn!("fw-secure: request too large, truncated");
        rep.socket_mut().send(&[b"error: request too large"])
    } else if request.first() == b"quit" {
        defmt::info!("fw-secure: quit requested");
        progress.quit = true;
        rep.socket_mut().send(&[b"bye"])
    } else {
        rep.socket_mut().send(&request.parts())
    };
    match sent {
        Ok(()) => {}
        Err(nb::Error::WouldBlock) => defmt::error!("fw-secure: reply not sent: would block"),
        Err(nb::Error::Other(e)) => defmt::error!("fw-secure: reply not sent: {}", e),
    }
}
