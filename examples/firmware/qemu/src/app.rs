//! What the firmware binaries share: the network interface on QEMU's user
//! network, message buffers, logging of monitor events, and how a server
//! firmware's run ends.

use smoltcp::iface::{Config as IfaceConfig, Interface, SocketSet};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address};
use zmtp_core::conn::Config;
use zmtp_core::monitor::{Event, EventMask, EventVersion, MonitorEvent};
use zmtp_core::socket::{RecvError, Socket};
use zmtp_core::socket_type::SocketType;
use zmtp_smoltcp::{MonitorPublisher, Options, SlotBuffers, ZmtpSocket};

use crate::board::{self, Clock};
use crate::lan9118::Lan9118;
use crate::mmio::Lan9118Window;

/// The guest's address on QEMU's user network (slirp's first DHCP lease
/// and the default target of `hostfwd`).
pub const GUEST_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
/// QEMU user networking's gateway; connections to it reach the host's
/// loopback interface.
pub const HOST_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// Prefix length of QEMU's user network (10.0.2.0/24).
pub const PREFIX_LEN: u8 = 24;
/// A locally administered MAC address for a controller without one.
pub const FALLBACK_MAC: [u8; 6] = [0x02, 0x00, 0x5A, 0x4D, 0x54, 0x50];

/// Exit status: the scenario ran to its end.
pub const EXIT_OK: i32 = 0;
/// Exit status: the scenario did not finish in time.
pub const EXIT_TIMEOUT: i32 = 2;
/// Exit status: the board or the network could not be set up.
pub const EXIT_SETUP: i32 = 3;
/// Exit status: a peer broke the scenario's protocol.
pub const EXIT_PROTOCOL: i32 = 4;

/// The port of the remote monitor (an XPUB publishing monitor events).
pub const MONITOR_PORT: u16 = 5557;
/// Peer slots of every ZeroMQ socket of the firmware: one peer, and room
/// for its successor while the old connection winds down.
pub const PEERS: usize = 2;
/// Monitor events a socket queues between two turns of the main loop.
pub const EVENTS: usize = 16;
/// Bytes of an endpoint string in a monitor event (every IPv4 endpoint
/// fits).
pub const EP: usize = 64;
/// Monitor events the remote monitor holds while nobody has subscribed.
pub const MONITOR_BACKLOG: usize = 64;

/// A ZeroMQ socket of the firmware.
pub type Zmq<'a> = ZmtpSocket<'a, PEERS, EVENTS, EP>;
/// The remote monitor: monitor events (libzmq's v2 layout) on an XPUB.
pub type RemoteMonitor<'a> = MonitorPublisher<'a, PEERS, MONITOR_BACKLOG, EP, EVENTS>;

/// After a server firmware's scenario is done, how long the remote monitor
/// may take to drain.
pub const DRAIN_MS: u64 = 5_000;

/// How a server firmware's run ends: once its scenario is done, the remote
/// monitor gets up to [`DRAIN_MS`] to publish its backlog and see its
/// subscriber leave, then the run ends with [`EXIT_OK`]; a run that takes
/// longer than its limit ends with [`EXIT_TIMEOUT`].
#[derive(Debug)]
pub struct RunEnd {
    /// The firmware's name, in its log lines.
    name: &'static str,
    /// The run fails after this many milliseconds.
    limit_ms: u64,
    /// When the scenario was done.
    done_at: Option<u64>,
}

impl RunEnd {
    /// A run called `name` that fails after `limit_ms` milliseconds.
    #[must_use]
    pub const fn new(name: &'static str, limit_ms: u64) -> Self {
        Self {
            name,
            limit_ms,
            done_at: None,
        }
    }

    /// The end of one turn of the main loop, at `ms`. The first time
    /// `finished` holds, calls `done` (to log what the run did) and starts
    /// the wait. While waiting, ends the run with [`EXIT_OK`], after
    /// `exiting` (given whether the monitor drained, to log the exit), once
    /// the remote monitor's backlog is empty or has nobody to go to and
    /// neither it nor any of `served` has a peer left, or when [`DRAIN_MS`]
    /// have passed. Past the run's limit, ends it with [`EXIT_TIMEOUT`].
    pub fn check(
        &mut self,
        ms: u64,
        finished: bool,
        monitor: &RemoteMonitor<'_>,
        served: &[&Zmq<'_>],
        done: impl FnOnce(),
        exiting: impl FnOnce(bool),
    ) {
        if finished && self.done_at.is_none() {
            done();
            self.done_at = Some(ms);
        }
        if let Some(at) = self.done_at {
            // Events left in the backlog with no subscriber have nowhere to go.
            let drained = (monitor.pending() == 0 || !monitor.is_subscribed())
                && monitor.inner().attached() == 0
                && served.iter().all(|s| s.attached() == 0);
            if drained || ms >= at.saturating_add(DRAIN_MS) {
                exiting(drained);
                board::exit(EXIT_OK);
            }
        }
        if ms >= self.limit_ms {
            defmt::error!("{=str}: timeout after {=u64} ms", self.name, ms);
            board::exit(EXIT_TIMEOUT);
        }
    }
}

/// Frames per message the firmware handles.
pub const MAX_PARTS: usize = 8;
/// Bytes per message the firmware handles.
pub const MAX_MESSAGE: usize = 1024;

/// Starts the clock and the Ethernet controller, or ends the run with
/// [`EXIT_SETUP`].
pub fn start_board() -> (Clock, Lan9118) {
    let Some(cp) = cortex_m::Peripherals::take() else {
        defmt::error!("core peripherals already taken");
        board::exit(EXIT_SETUP)
    };
    let clock = Clock::start(cp.SYST);
    let Some(window) = Lan9118Window::take() else {
        defmt::error!("LAN9118 already taken");
        board::exit(EXIT_SETUP)
    };
    let mut nic = match Lan9118::new(window, FALLBACK_MAC) {
        Ok(nic) => nic,
        Err(e) => {
            defmt::error!("LAN9118: {}", e);
            board::exit(EXIT_SETUP)
        }
    };
    let mac = nic.mac_address();
    defmt::info!("LAN9118 up: MAC {=[u8]:02x}, link {}", mac, nic.link_up());
    (clock, nic)
}

/// The smoltcp interface: [`GUEST_IP`]/24, default route via
/// [`HOST_IP`].
pub fn interface(nic: &mut Lan9118, now: Instant) -> Interface {
    let hw = HardwareAddress::Ethernet(EthernetAddress(nic.mac_address()));
    let mut config = IfaceConfig::new(hw);
    config.random_seed = 0x5A4D_5450;
    let mut iface = Interface::new(config, nic, now);
    iface.update_ip_addrs(|addrs| {
        if addrs
            .push(IpCidr::new(GUEST_IP.into(), PREFIX_LEN))
            .is_err()
        {
            defmt::warn!("no room for the interface address");
        }
    });
    if iface.routes_mut().add_default_ipv4_route(HOST_IP).is_err() {
        defmt::warn!("no room for the default route");
    }
    defmt::info!("interface {} via {}", GUEST_IP, HOST_IP);
    iface
}

/// A ZeroMQ socket of type `ty` over `slots`, its monitor started (all
/// events, version 2), its listener reporting `handle_base` and its
/// connections `handle_base + 1 + slot` as libzmq reports file
/// descriptors. Ends the run with [`EXIT_SETUP`] if the buffers are too
/// small.
pub fn zmq_socket<'a>(
    ty: SocketType,
    aux: &'a mut [u8],
    slots: [SlotBuffers<'a>; PEERS],
    sockets: &mut SocketSet<'a>,
    options: Options,
    seed: u32,
) -> Zmq<'a> {
    zmq_socket_with(Config::new(ty), aux, slots, sockets, options, seed)
}

/// [`zmq_socket`] with a whole core configuration (a security mechanism,
/// a ZAP domain).
pub fn zmq_socket_with<'a>(
    config: Config,
    aux: &'a mut [u8],
    slots: [SlotBuffers<'a>; PEERS],
    sockets: &mut SocketSet<'a>,
    options: Options,
    seed: u32,
) -> Zmq<'a> {
    setup(ZmtpSocket::new(
        monitored(config, aux),
        slots,
        sockets,
        options,
        seed,
    ))
}

/// [`zmq_socket_with`] for a CURVE socket: `states` (one per slot) and the
/// random source of its connections (see `ZmtpSocket::new_curve`).
#[cfg(feature = "curve")]
pub fn zmq_curve_socket<'a>(
    config: Config,
    slots: [SlotBuffers<'a>; PEERS],
    sockets: &mut SocketSet<'a>,
    options: Options,
    seed: u32,
    states: &'a mut [zmtp_core::conn::CurveState],
    rng: &'a mut dyn rand_core::CryptoRngCore,
) -> Zmq<'a> {
    setup(ZmtpSocket::new_curve(
        monitored(config, &mut []),
        slots,
        sockets,
        options,
        seed,
        states,
        rng,
    ))
}

/// A core socket with `config`, its monitor started (all events, v2).
fn monitored(config: Config, aux: &mut [u8]) -> Socket<'_, PEERS, EVENTS, EP> {
    let mut core = Socket::new(config, aux);
    if core
        .monitor_mut()
        .start("inproc://monitor", EventMask::ALL_V2, EventVersion::V2)
        .is_err()
    {
        defmt::error!("monitor refused to start");
        board::exit(EXIT_SETUP)
    }
    core
}

/// The socket, or the end of the run with [`EXIT_SETUP`].
fn setup<'a>(made: Result<Zmq<'a>, zmtp_core::socket::AttachError>) -> Zmq<'a> {
    match made {
        Ok(z) => z,
        Err(e) => {
            defmt::error!("socket setup: {}", e);
            board::exit(EXIT_SETUP)
        }
    }
}

/// Transport options with the given monitor handle base.
#[must_use]
pub fn options(handle_base: u32) -> Options {
    let mut o = Options::default();
    o.handle_base = handle_base;
    o
}

/// The remote monitor: an XPUB on [`MONITOR_PORT`] that publishes the
/// events handed to it. Its own monitor events are logged as `mon`.
pub fn remote_monitor<'a>(
    aux: &'a mut [u8],
    slots: [SlotBuffers<'a>; PEERS],
    sockets: &mut SocketSet<'a>,
) -> RemoteMonitor<'a> {
    let xpub = zmq_socket(
        SocketType::XPub,
        aux,
        slots,
        sockets,
        options(20),
        0x4D4F_4E31,
    );
    let Ok(mut publisher) = MonitorPublisher::new(xpub) else {
        board::exit(EXIT_SETUP)
    };
    if let Err(e) = publisher.bind(MONITOR_PORT, sockets) {
        defmt::error!("remote monitor bind: {}", e);
        board::exit(EXIT_SETUP)
    }
    publisher
}

/// Logs every event queued in `socket`'s monitor under `label`, hands each
/// to `seen`, and queues it on `publisher` (if any) for the remote
/// monitor. Returns how many events there were.
pub fn forward_events(
    label: &str,
    socket: &mut Zmq<'_>,
    mut publisher: Option<&mut RemoteMonitor<'_>>,
    mut seen: impl FnMut(&Event),
) -> usize {
    let mut n = 0usize;
    // The queue holds at most EVENTS events.
    for _ in 0..EVENTS {
        let Some(ev) = socket.socket_mut().monitor_mut().pop() else {
            break;
        };
        log_event(label, &ev);
        seen(&ev.event);
        if let Some(p) = publisher.as_deref_mut()
            && !p.publish(ev)
        {
            defmt::warn!("{=str}: remote monitor backlog full, event dropped", label);
        }
        n = n.saturating_add(1);
    }
    n
}

/// Logs one monitor event of the socket called `label` (one line per
/// event: name, value, local and remote endpoint).
pub fn log_event<const EP: usize>(label: &str, ev: &MonitorEvent<EP>) {
    defmt::info!(
        "{=str}: {=str} value={=u64} local={=str} remote={=str}",
        label,
        ev.event.name(),
        ev.event.value(),
        ev.endpoints.local(),
        ev.endpoints.remote()
    );
}

/// One received message, frames stored back to back.
#[derive(Debug)]
pub struct Message {
    data: [u8; MAX_MESSAGE],
    ends: heapless::Vec<usize, MAX_PARTS>,
    truncated: bool,
}

impl Default for Message {
    fn default() -> Self {
        Self::new()
    }
}

impl Message {
    /// An empty message.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            data: [0; MAX_MESSAGE],
            ends: heapless::Vec::new(),
            truncated: false,
        }
    }

    /// Receives the next whole message from `socket` into `self`. Returns
    /// `false` when no message waits. Frames beyond [`MAX_PARTS`] or
    /// [`MAX_MESSAGE`] bytes are read and dropped, and
    /// [`Message::truncated`] says so.
    pub fn recv<const P: usize, const E: usize, const EP: usize>(
        &mut self,
        socket: &mut Socket<'_, P, E, EP>,
    ) -> bool {
        self.ends.clear();
        self.truncated = false;
        // A message has at most `zmtp_core` MAX_PARTS frames; bound the
        // loop generously all the same.
        for _ in 0..1024 {
            let start = self.ends.last().copied().unwrap_or(0);
            let room = self.data.get_mut(start..).unwrap_or(&mut []);
            let more = match socket.recv(room) {
                Ok(info) => {
                    let end = start.saturating_add(info.len);
                    if self.ends.push(end).is_err() {
                        self.truncated = true;
                    }
                    info.more
                }
                Err(nb::Error::WouldBlock) => return !self.ends.is_empty() || self.truncated,
                Err(nb::Error::Other(RecvError::BufferTooSmall { .. })) => {
                    self.truncated = true;
                    match socket.recv_with(|_| (), None) {
                        Ok(((), info)) => info.more,
                        Err(_) => false,
                    }
                }
                Err(nb::Error::Other(_)) => return false,
            };
            if !more {
                return true;
            }
        }
        true
    }

    /// Whether frames were dropped because they did not fit.
    #[must_use]
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The frames.
    #[must_use]
    pub fn parts(&self) -> heapless::Vec<&[u8], MAX_PARTS> {
        let mut parts = heapless::Vec::new();
        let mut start = 0;
        for &end in &self.ends {
            let part = self.data.get(start..end).unwrap_or(&[]);
            // `ends` holds at most MAX_PARTS entries.
            let _ = parts.push(part);
            start = end;
        }
        parts
    }

    /// The first frame (empty if none).
    #[must_use]
    pub fn first(&self) -> &[u8] {
        let end = self.ends.first().copied().unwrap_or(0);
        self.data.get(..end).unwrap_or(&[])
    }
}
