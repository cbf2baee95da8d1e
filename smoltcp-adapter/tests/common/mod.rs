//! The loopback harness shared by the adapter tests: one smoltcp
//! interface over `phy::Loopback` (127.0.0.1/8), one socket set, a virtual
//! clock, and helpers to make sockets and read messages and events.
//! Every loop is bounded; every run is deterministic (fixed seeds).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected results; each test file uses a subset"
)]

use smoltcp::iface::{Config as IfaceConfig, Interface, SocketSet};
use smoltcp::phy::{Loopback, Medium};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint};
use zmtp_core::conn::Config;
use zmtp_core::monitor::{EventMask, EventVersion, MonitorEvent};
use zmtp_core::socket::Socket;
use zmtp_core::socket_type::SocketType;
use zmtp_smoltcp::{Drive, MonitorPublisher, Options, Resources, ZmtpSocket, poll};

pub const PEERS: usize = 2;
pub type Zs = ZmtpSocket<'static, PEERS, 64, 64>;
pub type Publisher<const BACKLOG: usize> = MonitorPublisher<'static, PEERS, BACKLOG, 64, 64>;

pub const LOCALHOST: IpAddress = IpAddress::v4(127, 0, 0, 1);
pub const DATA_PORT: u16 = 5555;

pub struct Net {
    pub device: Loopback,
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    pub now: Instant,
}

impl Net {
    pub fn new() -> Self {
        Self::with_medium(Medium::Ip)
    }

    pub fn with_medium(medium: Medium) -> Self {
        let mut device = Loopback::new(medium);
        let hw = match medium {
            Medium::Ethernet => HardwareAddress::Ethernet(EthernetAddress([2, 0, 0, 0, 0, 1])),
            _ => HardwareAddress::Ip,
        };
        let mut iface = Interface::new(IfaceConfig::new(hw), &mut device, Instant::ZERO);
        iface.update_ip_addrs(|a| a.push(IpCidr::new(LOCALHOST, 8)).unwrap());
        Self {
            device,
            iface,
            sockets: SocketSet::new(Vec::new()),
            now: Instant::ZERO,
        }
    }

    /// Runs the network for `span` of virtual time: poll, then jump to the
    /// next deadline (never past the end). Bounded, and fails on a busy
    /// loop (a deadline that stays "now").
    pub fn run(&mut self, drivers: &mut [&mut dyn Drive<'static>], span: Duration) {
        let end = self.now + span;
        let mut same_instant = 0;
        for _ in 0..100_000 {
            // Loopback's queue is invisible to `poll_at` (a real device
            // interrupts): poll a few times per instant so that packets
            // sent at this instant are also received at it.
            let mut next = None;
            for _ in 0..3 {
                next = poll(
                    self.now,
                    &mut self.iface,
                    &mut self.device,
                    &mut self.sockets,
                    drivers,
                );
            }
            if self.now >= end {
                return;
            }
            match next {
                Some(t) if t <= self.now => {
                    same_instant += 1;
                    assert!(same_instant < 100, "busy loop at {}", self.now);
                }
                Some(t) => {
                    same_instant = 0;
                    self.now = t.min(end);
                }
                None => self.now = end,
            }
        }
        panic!("run did not finish");
    }
}

pub fn options() -> Options {
    let mut o = Options::default();
    o.reconnect_ivl_ms = 100;
    o.reconnect_ivl_max_ms = 400;
    o
}

pub fn leak<T>(t: T) -> &'static mut T {
    Box::leak(Box::new(t))
}

pub fn make(net: &mut Net, t: SocketType, aux: usize, options: Options, seed: u32) -> Zs {
    make_with(net, Config::new(t), aux, options, seed)
}

/// A socket with `config`, its monitor started for every v2 event.
pub fn make_with(net: &mut Net, config: Config, aux: usize, options: Options, seed: u32) -> Zs {
    let aux: &'static mut [u8] = Box::leak(vec![0u8; aux].into_boxed_slice());
    let mut core = Socket::new(config, aux);
    core.monitor_mut()
        .start("inproc://monitor", EventMask::ALL_V2, EventVersion::V2)
        .unwrap();
    let res = leak(Resources::<PEERS, 4096, 4096, 256>::new());
    ZmtpSocket::new(core, res.slots(), &mut net.sockets, options, seed).unwrap()
}

pub fn dealer(net: &mut Net, options: Options, seed: u32) -> Zs {
    make(net, SocketType::Dealer, 0, options, seed)
}

pub fn events(z: &mut Zs) -> Vec<MonitorEvent<64>> {
    let mut v = Vec::new();
    while let Some(e) = z.socket_mut().monitor_mut().pop() {
        v.push(e);
    }
    v
}

pub fn names(v: &[MonitorEvent<64>]) -> Vec<&'static str> {
    v.iter().map(|e| e.event.name()).collect()
}

pub fn recv_message(z: &mut Zs) -> Option<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match z.socket_mut().recv(&mut buf) {
            Ok(info) => {
                frames.push(buf[..info.len].to_vec());
                if !info.more {
                    return Some(frames);
                }
            }
            Err(nb::Error::WouldBlock) if frames.is_empty() => return None,
            Err(e) => panic!("recv: {e:?}"),
        }
    }
}

pub fn data_endpoint() -> IpEndpoint {
    IpEndpoint::new(LOCALHOST, DATA_PORT)
}

/// Binds `server` on DATA_PORT and connects `client` to it; runs until
/// both handshakes finished.
pub fn connect_pair(net: &mut Net, server: &mut Zs, client: &mut Zs) {
    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    client.connect(data_endpoint()).unwrap();
    net.run(&mut [server, client], Duration::from_secs(5));
    assert_eq!(server.socket().ready_peers(), 1);
    assert_eq!(client.socket().ready_peers(), 1);
}
