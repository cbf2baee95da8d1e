//! ZAP (RFC 27) served like libzmq's: an application socket of type REP or
//! ROUTER bound to `inproc://zeromq.zap.01` answers the authentication
//! requests of every socket of its context.
//!
//! The core raises one request per connection whose handshake needs ZAP
//! ([`zmtp_core::socket::Socket::poll_zap_request`]). The I/O thread turns
//! it into the request frames libzmq's `zap_client.cpp` sends (an empty
//! delimiter, `1.0`, `1`, the domain, the peer's IP address, the socket's
//! own routing id, the mechanism and its credentials) and queues it for the
//! handler socket, whose `recv` returns it (REP strips the delimiter as
//! usual; ROUTER puts a generated routing id in front). The handler's reply
//! goes back to the I/O thread, which hands the frames to the connection
//! ([`zmtp_core::socket::Socket::handle_zap_reply_frames`]), so malformed
//! replies fail the handshake with libzmq's `ZAP_*` protocol codes.
//!
//! Without a handler a request is answered at once with
//! [`zmtp_core::socket::Socket::handle_zap_unavailable`] (a PLAIN server then
//! fails with `HANDSHAKE_FAILED_NO_DETAIL` `EFAULT`, NULL goes on), as
//! libzmq does when nothing is bound at the ZAP endpoint. When the handler
//! closes or unbinds, the requests it has not answered yet (received or
//! not) are answered the same way.
//!
//! Nothing here blocks the I/O thread: a request is pushed onto the
//! handler's queue under a short lock. Each connection has at most one
//! request out, and the queue holds at most [`crate::ZAP_QUEUE_CAP`] requests waiting
//! to be received or answered; a request that finds it full is answered as
//! if no handler were bound.

use core::sync::atomic::{AtomicU64, Ordering};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use zmtp_core::socket::PeerHandle;
use zmtp_core::{Instant, SocketType};

use crate::error::{Error, Result};
use crate::socket::{CoreSocket, SocketShared};
use crate::sync::lock;

/// The inproc endpoint a ZAP handler binds (RFC 27).
pub(crate) const ENDPOINT: &str = "inproc://zeromq.zap.01";

/// One connection's request: the socket and the connection (its I/O
/// token, never reused, so a late reply cannot reach a newer connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) sid: u64,
    pub(crate) conn: usize,
}

/// The answer to a request, for the I/O thread.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The handler's reply frames (7 when well-formed).
    Frames(Vec<Vec<u8>>),
    /// No handler can answer (it closed or unbound, or none is bound).
    Unavailable,
}

/// What a handler socket's receive found.
pub(crate) enum Take {
    /// A request, framed for the handler's socket type.
    Request(Vec<Vec<u8>>),
    /// A REP handler must answer its last request first.
    Fsm,
    /// Nothing for the handler: use the socket's own queue.
    Nothing,
}

/// The socket serving ZAP, and its requests.
struct Handler {
    sid: u64,
    shared: Weak<SocketShared>,
    kind: SocketType,
    /// Requests not received yet.
    inbox: VecDeque<(Key, Vec<Vec<u8>>)>,
    /// REP: the request received last and not answered.
    current: Option<Key>,
    /// ROUTER: requests received and not answered, by their routing id.
    routes: HashMap<Vec<u8>, Key>,
    /// ROUTER: the next generated routing id (libzmq: `0x00` and a
    /// big-endian counter starting at a random value).
    next_id: u32,
}

impl Handler {
    fn outstanding(&self) -> usize {
        self.inbox
            .len()
            .saturating_add(self.routes.len())
            .saturating_add(usize::from(self.current.is_some()))
    }

    fn keys(self) -> Vec<Key> {
        let mut keys: Vec<Key> = self.inbox.into_iter().map(|(k, _)| k).collect();
        keys.extend(self.current);
        keys.extend(self.routes.into_values());
        keys
    }
}

/// A context's ZAP endpoint: which socket serves it, and the requests in
/// flight to that socket.
#[derive(Default)]
pub(crate) struct Broker {
    /// The handler's socket id, 0 without one: lets every other socket's
    /// send and receive skip the lock.
    handler_sid: AtomicU64,
    handler: Mutex<Option<Handler>>,
}

impl Broker {
    /// Whether socket `sid` serves ZAP.
    pub(crate) fn serves(&self, sid: u64) -> bool {
        self.handler_sid.load(Ordering::Acquire) == sid
    }

    /// Makes `shared` (of type `kind`) the handler (`zmq_bind` to the ZAP
    /// endpoint).
    ///
    /// # Errors
    ///
    /// [`Error::IncompatibleProtocol`] for a type other than REP and ROUTER,
    /// [`Error::AddrInUse`] when another socket serves ZAP.
    pub(crate) fn bind(
        &self,
        shared: &Arc<SocketShared>,
        kind: SocketType,
        first_id: u32,
    ) -> Result<()> {
        if !matches!(kind, SocketType::Rep | SocketType::Router) {
            return Err(Error::IncompatibleProtocol);
        }
        let mut h = lock(&self.handler);
        if h.is_some() {
            return Err(Error::AddrInUse);
        }
        *h = Some(Handler {
            sid: shared.id,
            shared: Arc::downgrade(shared),
            kind,
            inbox: VecDeque::new(),
            current: None,
            routes: HashMap::new(),
            next_id: first_id,
        });
        self.handler_sid.store(shared.id, Ordering::Release);
        Ok(())
    }

    /// Socket `sid` stops serving ZAP (unbind or close). Returns the
    /// requests it had not answered.
    pub(crate) fn unbind(&self, sid: u64) -> Vec<Key> {
        let mut h = lock(&self.handler);
        if h.as_ref().is_none_or(|h| h.sid != sid) {
            return Vec::new();
        }
        self.handler_sid.store(0, Ordering::Release);
        h.take().map(Handler::keys).unwrap_or_default()
    }

    /// Queues a request for the handler. Returns the handler's socket to
    /// wake, or `None` when nobody can take the request (no handler, or its
    /// queue is full).
    fn submit(&self, key: Key, frames: Vec<Vec<u8>>) -> Option<Arc<SocketShared>> {
        let mut guard = lock(&self.handler);
        let h = guard.as_mut()?;
        let shared = h.shared.upgrade()?;
        if h.outstanding() >= crate::ZAP_QUEUE_CAP {
            return None;
        }
        h.inbox.push_back((key, frames));
        Some(shared)
    }

    /// The handler socket `sid` receives: the next request, if any.
    pub(crate) fn take(&self, sid: u64) -> Take {
        let mut guard = lock(&self.handler);
        let Some(h) = guard.as_mut().filter(|h| h.sid == sid) else {
            return Take::Nothing;
        };
        if h.kind == SocketType::Rep && h.current.is_some() {
            return Take::Fsm;
        }
        let Some((key, mut frames)) = h.inbox.pop_front() else {
            return Take::Nothing;
        };
        if h.kind == SocketType::Rep {
            // REP strips the envelope: the request's leading delimiter.
            if frames.first().is_some_and(Vec::is_empty) {
                frames.remove(0);
            }
            h.current = Some(key);
        } else {
            let mut id = Vec::with_capacity(5);
            id.push(0u8);
            id.extend_from_slice(&h.next_id.to_be_bytes());
            h.next_id = h.next_id.wrapping_add(1);
            h.routes.insert(id.clone(), key);
            frames.insert(0, id);
        }
        Take::Request(frames)
    }

    /// The handler socket `sid` sends `parts`: when they answer a request,
    /// returns it with the reply frames as the connection sees them (REP
    /// puts the delimiter back; ROUTER removes the routing id).
    pub(crate) fn reply(&self, sid: u64, parts: &[&[u8]]) -> Option<(Key, Vec<Vec<u8>>)> {
        let mut guard = lock(&self.handler);
        let h = guard.as_mut().filter(|h| h.sid == sid)?;
        if h.kind == SocketType::Rep {
            let key = h.current.take()?;
            let mut frames = Vec::with_capacity(parts.len().saturating_add(1));
            frames.push(Vec::new());
            frames.extend(parts.iter().map(|p| p.to_vec()));
            Some((key, frames))
        } else {
            let (id, rest) = parts.split_first()?;
            let key = h.routes.remove(*id)?;
            Some((key, rest.iter().map(|p| p.to_vec()).collect()))
        }
    }
}

/// Hands every ZAP request `core` raised to the handler, or answers it as
/// unavailable. `locate` gives a peer's connection token and IP address.
/// Returns the handler socket to wake (after the caller released `core`'s
/// lock, see [`wake`]) and whether a request was answered here (the
/// connection then wants another turn).
pub(crate) fn dispatch(
    broker: &Broker,
    sid: u64,
    core: &mut CoreSocket,
    now: Instant,
    locate: impl Fn(PeerHandle) -> Option<(usize, String)>,
) -> (Option<Arc<SocketShared>>, bool) {
    let mut wake = None;
    let mut answered = false;
    // Each request is returned once; the bound only guards against a bug.
    for _ in 0..crate::MAX_PEERS {
        let Some((peer, request)) = core.poll_zap_request() else {
            break;
        };
        let handed = locate(peer).and_then(|(conn, address)| {
            let frames = request
                .frames(address.as_bytes())
                .map(<[u8]>::to_vec)
                .collect();
            broker.submit(Key { sid, conn }, frames)
        });
        match handed {
            Some(h) => wake = Some(h),
            None => {
                let _ = core.handle_zap_unavailable(now, peer);
                answered = true;
            }
        }
    }
    (wake, answered)
}

/// Wakes a handler socket blocked in `recv` after a request was queued.
/// Call without holding any socket's lock: taking the handler's lock
/// before notifying makes sure a receive that found nothing is already
/// waiting.
pub(crate) fn wake(handler: &SocketShared) {
    drop(lock(&handler.state));
    handler.cond.notify_all();
}

/// Gives a connection its answer.
pub(crate) fn apply(core: &mut CoreSocket, now: Instant, peer: PeerHandle, answer: &Answer) {
    // A connection that closed meanwhile has no request any more.
    let _ = match answer {
        Answer::Frames(frames) => {
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            core.handle_zap_reply_frames(now, peer, &refs)
        }
        Answer::Unavailable => core.handle_zap_unavailable(now, peer),
    };
}

/// An IPC peer's address in a ZAP request, as libzmq builds it on Linux
/// (`stream_engine_base.cpp` with `ZMQ_HAVE_SO_PEERCRED`): `localhost`,
/// then `:uid:gid:pid` from `SO_PEERCRED`.
#[cfg(target_os = "linux")]
pub(crate) fn unix_peer_address(s: &mio::net::UnixStream) -> String {
    match rustix::net::sockopt::socket_peercred(s) {
        Ok(c) => format!(
            "localhost:{}:{}:{}",
            c.uid.as_raw(),
            c.gid.as_raw(),
            c.pid.as_raw_nonzero()
        ),
        Err(_) => "localhost".to_owned(),
    }
}

/// An IPC peer's address in a ZAP request where `SO_PEERCRED` does not
/// exist: `localhost`, as libzmq builds without it.
#[cfg(not(target_os = "linux"))]
pub(crate) fn unix_peer_address(_: &mio::net::UnixStream) -> String {
    "localhost".to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::Context;

    fn key(conn: usize) -> Key {
        Key { sid: 99, conn }
    }

    fn request(tag: &str) -> Vec<Vec<u8>> {
        vec![Vec::new(), b"1.0".to_vec(), tag.as_bytes().to_vec()]
    }

    fn take(b: &Broker, sid: u64) -> Vec<Vec<u8>> {
        match b.take(sid) {
            Take::Request(m) => m,
            Take::Fsm => panic!("EFSM"),
            Take::Nothing => panic!("nothing"),
        }
    }

    #[test]
    fn rep_strips_the_delimiter_and_alternates() {
        let ctx = Context::new().unwrap();
        let s = ctx.socket(SocketType::Rep).unwrap();
        let sid = s.shared.id;
        let b = Broker::default();
        assert!(b.submit(key(1), request("a")).is_none(), "no handler");
        b.bind(&s.shared, SocketType::Rep, 0).unwrap();
        assert!(b.serves(sid) && !b.serves(sid + 1));
        assert!(matches!(b.take(sid), Take::Nothing));
        assert!(b.submit(key(1), request("a")).is_some());
        assert!(b.submit(key(2), request("b")).is_some());
        assert_eq!(take(&b, sid), [b"1.0".to_vec(), b"a".to_vec()]);
        // REP answers before it takes the next request.
        assert!(matches!(b.take(sid), Take::Fsm));
        let (k, frames) = b.reply(sid, &[b"1.0", b"1", b"200"]).unwrap();
        assert_eq!(k, key(1));
        assert_eq!(
            frames,
            [
                b"".to_vec(),
                b"1.0".to_vec(),
                b"1".to_vec(),
                b"200".to_vec()
            ]
        );
        // Nothing to answer now: the send is the socket's own.
        assert!(b.reply(sid, &[b"x"]).is_none());
        assert_eq!(take(&b, sid)[1], b"b");
        // Unbinding hands back what was not answered (received or not).
        assert!(b.submit(key(3), request("c")).is_some());
        let mut left = b.unbind(sid);
        left.sort_by_key(|k| k.conn);
        assert_eq!(left, [key(2), key(3)]);
        assert!(!b.serves(sid));
        assert!(b.submit(key(4), request("d")).is_none());
    }

    #[test]
    fn router_routes_by_generated_ids() {
        let ctx = Context::new().unwrap();
        let s = ctx.socket(SocketType::Router).unwrap();
        let sid = s.shared.id;
        let b = Broker::default();
        b.bind(&s.shared, SocketType::Router, 0xFFFF_FFFF).unwrap();
        assert!(b.submit(key(1), request("a")).is_some());
        assert!(b.submit(key(2), request("b")).is_some());
        let a = take(&b, sid);
        let c = take(&b, sid);
        assert_eq!(a[0], [0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(c[0], [0, 0, 0, 0, 0], "the counter wraps");
        assert_eq!(a[1..], request("a")[..]);
        // Answered in any order; an unknown id is the socket's own send.
        let (k, frames) = b.reply(sid, &[&c[0], b"", b"reply"]).unwrap();
        assert_eq!((k, frames), (key(2), vec![Vec::new(), b"reply".to_vec()]));
        assert!(b.reply(sid, &[&c[0], b""]).is_none());
        assert!(b.reply(sid, &[b"other", b""]).is_none());
        assert_eq!(b.reply(sid, &[&a[0]]).unwrap(), (key(1), Vec::new()));
    }

    #[test]
    fn one_handler_of_rep_or_router() {
        let ctx = Context::new().unwrap();
        let b = Broker::default();
        let dealer = ctx.socket(SocketType::Dealer).unwrap();
        assert!(matches!(
            b.bind(&dealer.shared, SocketType::Dealer, 0),
            Err(Error::IncompatibleProtocol)
        ));
        let rep = ctx.socket(SocketType::Rep).unwrap();
        let router = ctx.socket(SocketType::Router).unwrap();
        b.bind(&rep.shared, SocketType::Rep, 0).unwrap();
        assert!(matches!(
            b.bind(&router.shared, SocketType::Router, 0),
            Err(Error::AddrInUse)
        ));
        // Another socket's unbind changes nothing.
        assert!(b.unbind(router.shared.id).is_empty());
        assert!(b.serves(rep.shared.id));
    }

    #[test]
    fn the_queue_is_bounded() {
        let ctx = Context::new().unwrap();
        let s = ctx.socket(SocketType::Router).unwrap();
        let b = Broker::default();
        b.bind(&s.shared, SocketType::Router, 0).unwrap();
        for i in 0..crate::ZAP_QUEUE_CAP {
            assert!(b.submit(key(i), request("x")).is_some(), "{i}");
        }
        assert!(b.submit(key(usize::MAX), request("x")).is_none());
        // Received but unanswered requests still count.
        let r = take(&b, s.shared.id);
        assert!(b.submit(key(usize::MAX), request("x")).is_none());
        b.reply(s.shared.id, &[&r[0]]).unwrap();
        assert!(b.submit(key(usize::MAX), request("x")).is_some());
    }
}
