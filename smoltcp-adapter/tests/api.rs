//! The adapter's synchronous API: errors, the events they raise, handles,
//! slot bookkeeping. No packets flow here.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected results"
)]

use smoltcp::iface::SocketSet;
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};
use zmtp_core::conn::Config;
use zmtp_core::monitor::{Event, EventMask, EventVersion, MonitorEvent, errno};
use zmtp_core::socket::{AttachError, PeerBuffers, Socket};
use zmtp_core::socket_type::SocketType;
use zmtp_smoltcp::{
    BindError, ConnectError, MonitorPublisher, NotFound, NotXPub, Options, Resources, SlotBuffers,
    ZmtpSocket,
};

type Zs = ZmtpSocket<'static, 3, 16, 64>;

fn make(sockets: &mut SocketSet<'static>, t: SocketType, options: Options) -> Zs {
    let mut core = Socket::new(Config::new(t), Box::leak(vec![0u8; 256].into_boxed_slice()));
    core.monitor_mut()
        .start("inproc://m", EventMask::ALL, EventVersion::V1)
        .unwrap();
    let res = Box::leak(Box::new(Resources::<3, 512, 512, 64>::new()));
    ZmtpSocket::new(core, res.slots(), sockets, options, 42).unwrap()
}

fn events(z: &mut Zs) -> Vec<MonitorEvent<64>> {
    core::iter::from_fn(|| z.socket_mut().monitor_mut().pop()).collect()
}

const LOCALHOST: IpAddress = IpAddress::v4(127, 0, 0, 1);

#[test]
fn new_adds_one_tcp_socket_per_slot() {
    let mut sockets = SocketSet::new(Vec::new());
    let z = make(&mut sockets, SocketType::Dealer, Options::default());
    assert_eq!(sockets.iter().count(), 3);
    assert_eq!(z.tcp_handles().count(), 3);
    assert_eq!((z.listening(), z.attached(), z.broken()), (0, 0, 0));
    assert_eq!(z.bound(), None);
}

#[test]
fn new_refuses_buffers_too_small_for_the_greeting() {
    let mut sockets = SocketSet::new(Vec::new());
    let core: Socket<'static, 1> = Socket::new(Config::new(SocketType::Dealer), &mut []);
    let slots = [SlotBuffers {
        tcp_rx: Box::leak(vec![0u8; 64].into_boxed_slice()),
        tcp_tx: Box::leak(vec![0u8; 64].into_boxed_slice()),
        peer: PeerBuffers {
            rx: Box::leak(vec![0u8; 64].into_boxed_slice()),
            tx: Box::leak(vec![0u8; 16].into_boxed_slice()),
            subs: &mut [],
        },
    }];
    let r = ZmtpSocket::<1>::new(core, slots, &mut sockets, Options::default(), 1);
    assert_eq!(r.err(), Some(AttachError::BufferTooSmall));
    // Nothing was added to the socket set.
    assert_eq!(sockets.iter().count(), 0);
}

#[test]
fn handles_follow_handle_base() {
    let mut sockets = SocketSet::new(Vec::new());
    let mut o = Options::default();
    o.handle_base = 100;
    let mut z = make(&mut sockets, SocketType::Dealer, o);
    assert_eq!(z.listener_handle(), 100);
    assert_eq!(z.slot_handle(0), 101);
    assert_eq!(z.slot_handle(2), 103);
    z.bind(5555, &mut sockets).unwrap();
    assert_eq!(events(&mut z)[0].event, Event::Listening { fd: 100 });
}

#[test]
fn bind_errors_raise_bind_failed() {
    let mut sockets = SocketSet::new(Vec::new());
    let mut z = make(&mut sockets, SocketType::Dealer, Options::default());
    let ep = z.bind(5555, &mut sockets).unwrap();
    assert_eq!(ep, IpListenEndpoint::from(5555));
    assert_eq!(z.listening(), 3);
    assert_eq!(z.bind(5555, &mut sockets), Err(BindError::AddressInUse));
    assert_eq!(z.bind(5556, &mut sockets), Err(BindError::AlreadyBound));
    let e = events(&mut z);
    let got: Vec<_> = e
        .iter()
        .map(|e| (e.event, e.endpoints.local().to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (Event::Listening { fd: 3 }, "tcp://0.0.0.0:5555".to_string()),
            (
                Event::BindFailed {
                    errno: errno::EADDRINUSE
                },
                "0.0.0.0:5555".to_string()
            ),
            (
                Event::BindFailed {
                    errno: errno::EMFILE
                },
                "0.0.0.0:5556".to_string()
            ),
        ]
    );
    assert_eq!(BindError::NoFreeSlot.errno(), errno::EMFILE);
}

#[test]
fn bind_to_port_zero_picks_an_ephemeral_port_and_a_specific_address() {
    let mut sockets = SocketSet::new(Vec::new());
    let mut z = make(&mut sockets, SocketType::Dealer, Options::default());
    let ep = z
        .bind(
            IpListenEndpoint {
                addr: Some(LOCALHOST),
                port: 0,
            },
            &mut sockets,
        )
        .unwrap();
    assert!(ep.port >= 49152);
    assert_eq!(z.bound(), Some(ep));
    let e = events(&mut z);
    assert_eq!(
        e[0].endpoints.local(),
        format!("tcp://127.0.0.1:{}", ep.port)
    );
}

#[test]
fn unbind_raises_closed_and_frees_the_slots() {
    let mut sockets = SocketSet::new(Vec::new());
    let mut z = make(&mut sockets, SocketType::Dealer, Options::default());
    assert_eq!(z.unbind(&mut sockets), Err(NotFound));
    z.bind(5555, &mut sockets).unwrap();
    z.unbind(&mut sockets).unwrap();
    assert_eq!(z.listening(), 0);
    let e = events(&mut z);
    assert_eq!(e[1].event, Event::Closed { fd: 3 });
    assert_eq!(e[1].endpoints.local(), "tcp://0.0.0.0:5555");
    // Bind again on another port.
    z.bind(5556, &mut sockets).unwrap();
    assert_eq!(z.listening(), 3);
}

#[test]
fn connect_errors_and_slot_lending() {
    let mut sockets = SocketSet::new(Vec::new());
    let mut z = make(&mut sockets, SocketType::Dealer, Options::default());
    assert_eq!(
        z.connect(IpEndpoint::new(LOCALHOST, 0)),
        Err(ConnectError::Unaddressable)
    );
    assert_eq!(
        z.connect(IpEndpoint::new(IpAddress::v4(0, 0, 0, 0), 5)),
        Err(ConnectError::Unaddressable)
    );
    z.bind(5555, &mut sockets).unwrap();
    // Three listening slots: two can be lent, one keeps listening.
    z.connect(IpEndpoint::new(LOCALHOST, 6001)).unwrap();
    assert_eq!(
        z.connect(IpEndpoint::new(LOCALHOST, 6001)),
        Err(ConnectError::AlreadyConnected)
    );
    z.connect(IpEndpoint::new(LOCALHOST, 6002)).unwrap();
    assert_eq!(
        z.connect(IpEndpoint::new(LOCALHOST, 6003)),
        Err(ConnectError::NoFreeSlot)
    );
    assert_eq!(z.listening(), 1);
    // Nothing is raised before the SYN goes out.
    assert_eq!(events(&mut z).len(), 1);
    z.disconnect(IpEndpoint::new(LOCALHOST, 6002), &mut sockets)
        .unwrap();
    assert_eq!(
        z.disconnect(IpEndpoint::new(LOCALHOST, 6002), &mut sockets),
        Err(NotFound)
    );
    // The freed slot rejoins the listening slots (armed at the next poll)
    // and can be lent again.
    z.connect(IpEndpoint::new(LOCALHOST, 6003)).unwrap();
    assert_eq!(
        z.connect(IpEndpoint::new(LOCALHOST, 6004)),
        Err(ConnectError::NoFreeSlot)
    );
    // Unbound, a slot freed by a disconnect is free for anything.
    z.unbind(&mut sockets).unwrap();
    z.disconnect(IpEndpoint::new(LOCALHOST, 6003), &mut sockets)
        .unwrap();
    z.connect(IpEndpoint::new(LOCALHOST, 6004)).unwrap();
}

#[test]
fn publisher_needs_xpub() {
    let mut sockets = SocketSet::new(Vec::new());
    let z = make(&mut sockets, SocketType::Pub, Options::default());
    let r: Result<MonitorPublisher<'static, 3, 8, 64, 16>, _> = MonitorPublisher::new(z);
    assert_eq!(r.err(), Some(NotXPub));
}

#[test]
fn errors_display() {
    assert_eq!(
        BindError::AddressInUse.to_string(),
        "already bound to this endpoint"
    );
    assert_eq!(
        ConnectError::NoFreeSlot.to_string(),
        "no free slot to connect from"
    );
    assert_eq!(NotFound.to_string(), "no such endpoint");
    assert_eq!(
        NotXPub.to_string(),
        "a monitor publisher needs an XPUB socket"
    );
}
