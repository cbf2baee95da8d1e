//! Scenario C: authentication on the board. Two REP sockets echo requests
//! (`quit` ends the run):
//!
//! - port 5555: a PLAIN server (RFC 24);
//! - port 5556: a CURVE server (RFC 26) with the server key pair of the
//!   zmq_curve(7) manual page (a published demo key: never use it for
//!   anything real).
//!
//! The firmware itself is the ZAP handler (RFC 27) of both, domain `board`:
//! it accepts the user `admin` with the password `secret` (user id
//! `admin`) and the CURVE client key of the same manual page (user id
//! `curve-client`), and answers 400 to everything else. The remote monitor
//! (XPUB on port 5557) publishes both sockets' events.
//!
//! CURVE needs secret random bytes and this board (QEMU's mps2-an385) has
//! no TRNG. The host provisions a 32-byte seed per run on the semihosting
//! command line (`seed=<64 hex digits>`), which seeds a ChaCha20 CSPRNG;
//! without it the firmware refuses to start. A real board uses its TRNG,
//! or a per-device secret seed it keeps (see `zmtp_core::conn::curve`).
//!
//! The run ends with status 0 once each socket has refused a client and
//! served one that has left (or after `quit`), and the remote monitor has
//! drained; with a non-zero status after [`RUN_LIMIT_MS`].
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use smoltcp::iface::{SocketSet, SocketStorage};
use static_cell::StaticCell;
use zmtp_core::conn::{Config, CurveKeypair, CurveState, MechanismConfig, ZapReply};
use zmtp_core::monitor::Event;
use zmtp_core::socket_type::SocketType;
use zmtp_core::z85;
use zmtp_firmware_qemu::app::{self, Message, PEERS, Zmq};
use zmtp_firmware_qemu::board;
use zmtp_smoltcp::{Resources, poll};

/// REP (PLAIN server) listens here.
const REP_PORT: u16 = 5555;
/// REP (CURVE server) listens here.
const CURVE_PORT: u16 = 5556;
/// The server's secret key (zmq_curve(7) example; its public key is
/// `rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7`).
const SERVER_SECRET: &[u8] = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
/// The one CURVE client key the ZAP handler accepts (zmq_curve(7)).
const CLIENT_PUBLIC: &[u8] = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
/// The one user the ZAP handler accepts.
const USER: &[u8] = b"admin";
/// That user's password.
const PASSWORD: &[u8] = b"secret";
/// The ZAP domain of the REP socket.
const DOMAIN: &[u8] = b"board";
/// The run fails after this long.
const RUN_LIMIT_MS: u64 = 120_000;
/// Longest sleep between two looks at the network.
const MAX_SLEEP_MS: u64 = 50;

static SOCKETS: StaticCell<[SocketStorage<'static>; 3 * PEERS]> = StaticCell::new();
static REP_MEM: StaticCell<Resources<PEERS, 2048, 2048, 0>> = StaticCell::new();
static CURVE_MEM: StaticCell<Resources<PEERS, 2048, 2048, 0>> = StaticCell::new();
static CURVE_STATES: StaticCell<[CurveState; PEERS]> = StaticCell::new();
static RNG: StaticCell<ChaCha20Rng> = StaticCell::new();
static MON_MEM: StaticCell<Resources<PEERS, 2048, 2048, 64>> = StaticCell::new();
static MON_AUX: StaticCell<[u8; 256]> = StaticCell::new();
static REQUEST: StaticCell<Message> = StaticCell::new();

/// What the firmware has seen of one socket so far.
#[derive(Debug, Default)]
struct Progress {
    refused: u32,
    accepted: u32,
    left: bool,
}

impl Progress {
    fn see(&mut self, e: &Event) {
        match e {
            Event::HandshakeFailedAuth { .. } => self.refused = self.refused.saturating_add(1),
            Event::HandshakeSucceeded => self.accepted = self.accepted.saturating_add(1),
            Event::Disconnected { .. } if self.accepted > 0 => self.left = true,
            _ => {}
        }
    }

    fn done(&self) -> bool {
        self.refused > 0 && self.left
    }
}

#[entry]
fn main() -> ! {
    let (mut clock, mut nic) = app::start_board();
    let mut iface = app::interface(&mut nic, clock.now());
    let mut sockets = SocketSet::new(&mut SOCKETS.init([SocketStorage::EMPTY; 3 * PEERS])[..]);
    let Some(seed) = board::arg_hex32("seed") else {
        defmt::error!("fw-secure: no entropy for CURVE: pass seed=<64 hex digits>");
        board::exit(app::EXIT_SETUP)
    };
    let rng = RNG.init(ChaCha20Rng::from_seed(seed));

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
    let Ok(server_keys) = CurveKeypair::from_secret_z85(SERVER_SECRET) else {
        board::exit(app::EXIT_SETUP)
    };
    let mut config = Config::new(SocketType::Rep);
    config.mechanism = MechanismConfig::curve_server(server_keys.secret);
    if config.set_zap_domain(DOMAIN).is_err() {
        board::exit(app::EXIT_SETUP);
    }
    let mut options = app::options(10);
    options.zap_handler = true;
    let mut curve = app::zmq_curve_socket(
        config,
        CURVE_MEM.init(Resources::new()).slots(),
        &mut sockets,
        options,
        0x4355_5231,
        CURVE_STATES.init([CurveState::new(), CurveState::new()]),
        rng,
    );
    let mut monitor = app::remote_monitor(
        MON_AUX.init([0; 256]),
        MON_MEM.init(Resources::new()).slots(),
        &mut sockets,
    );
    if rep.bind(REP_PORT, &mut sockets).is_err() || curve.bind(CURVE_PORT, &mut sockets).is_err() {
        board::exit(app::EXIT_SETUP);
    }
    defmt::info!(
        "fw-secure: REP PLAIN server on {=u16}, REP CURVE server on {=u16} (ZAP domain {=str}), remote monitor on {=u16}",
        REP_PORT,
        CURVE_PORT,
        core::str::from_utf8(DOMAIN).unwrap_or("?"),
        app::MONITOR_PORT
    );

    let request = REQUEST.init(Message::new());
    let mut plain = Progress::default();
    let mut curved = Progress::default();
    let mut quit = false;
    let mut end = app::RunEnd::new("fw-secure", RUN_LIMIT_MS);
    loop {
        let now = clock.now();
        let next = poll(
            now,
            &mut iface,
            &mut nic,
            &mut sockets,
            &mut [&mut rep, &mut curve, &mut monitor],
        );
        let mut busy = authenticate(&mut rep, now) | authenticate(&mut curve, now);

        busy |= app::forward_events("rep", &mut rep, Some(&mut monitor), |e| plain.see(e)) > 0;
        busy |= app::forward_events("curve", &mut curve, Some(&mut monitor), |e| curved.see(e)) > 0;
        busy |= app::forward_events("mon", monitor.inner_mut(), None, |_| {}) > 0;

        for socket in [&mut rep, &mut curve] {
            if request.recv(socket.socket_mut()) {
                busy = true;
                quit |= serve(request, socket);
            }
        }

        end.check(
            clock.now_ms(),
            quit || (plain.done() && curved.done()),
            &monitor,
            &[&rep, &curve],
            || {
                defmt::info!(
                    "fw-secure: done (PLAIN {=u32} refused, {=u32} accepted; CURVE {=u32} refused, {=u32} accepted), waiting for the remote monitor",
                    plain.refused,
                    plain.accepted,
                    curved.refused,
                    curved.accepted
                );
            },
            |drained| {
                defmt::info!(
                    "fw-secure: exit 0 (monitor events published {=u64}, dropped {=u64}, drained {=bool})",
                    monitor.published(),
                    monitor.dropped(),
                    drained
                );
            },
        );
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
        let request = &query.request;
        let (ok, who) = match request.mechanism() {
            b"PLAIN" => {
                let user = request.plain_credentials().map_or(&b""[..], |(u, _)| u);
                let ok = request.plain_credentials() == Some((USER, PASSWORD));
                (ok, core::str::from_utf8(user).unwrap_or("?"))
            }
            b"CURVE" => {
                let ok = match (request.credentials(), z85::decode_key(CLIENT_PUBLIC)) {
                    ([key], Ok(allowed)) => *key == allowed,
                    _ => false,
                };
                (ok, if ok { "curve-client" } else { "unknown key" })
            }
            _ => (false, "?"),
        };
        let ok = ok && request.domain() == DOMAIN;
        defmt::info!(
            "zap: {=str} from {=str} user {=str}: {=str}",
            core::str::from_utf8(request.mechanism()).unwrap_or("?"),
            query.address.as_str(),
            who,
            if ok { "200" } else { "400" }
        );
        let user_id: &[u8] = if request.mechanism() == b"CURVE" {
            b"curve-client"
        } else {
            USER
        };
        let reply = if ok {
            ZapReply::ok(user_id)
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

/// Answers one request on a REP: an echo, or `bye` to `quit`. Returns
/// whether it was `quit`.
fn serve(request: &Message, rep: &mut Zmq<'_>) -> bool {
    let quit = request.first() == b"quit";
    let sent = if request.truncated() {
        defmt::warn!("fw-secure: request too large, truncated");
        rep.socket_mut().send(&[b"error: request too large"])
    } else if quit {
        defmt::info!("fw-secure: quit requested");
        rep.socket_mut().send(&[b"bye"])
    } else {
        rep.socket_mut().send(&request.parts())
    };
    match sent {
        Ok(()) => {}
        Err(nb::Error::WouldBlock) => defmt::error!("fw-secure: reply not sent: would block"),
        Err(nb::Error::Other(e)) => defmt::error!("fw-secure: reply not sent: {}", e),
    }
    quit
}
