//! The perf tools on libzmq (the `zmq` crate, which builds libzmq 4.3.4),
//! as libzmq's own `perf/` programs do it: one reused `zmq_msg_t` on the
//! receiving side, a message built per send (`zmq_msg_init_size` and a
//! copy), default options.

use std::time::Instant;

use crate::report::{Latency, Throughput};
use crate::{Result, announce, check_size};

fn err(what: &str) -> impl Fn(zmq::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn bound(ctx: &zmq::Context, t: zmq::SocketType, endpoint: &str) -> Result<zmq::Socket> {
    let s = ctx.socket(t).map_err(err("socket"))?;
    s.bind(endpoint).map_err(err("bind"))?;
    let ep = s
        .get_last_endpoint()
        .map_err(err("last endpoint"))?
        .map_err(|_| "last endpoint is not UTF-8".to_owned())?;
    announce(&ep);
    Ok(s)
}

fn recv_checked(s: &zmq::Socket, msg: &mut zmq::Message, size: usize) -> Result<()> {
    s.recv(msg, 0).map_err(err("recv"))?;
    if msg.get_more() {
        return Err("expected one frame, got more".to_owned());
    }
    check_size(msg.len(), size)
}

/// `local_thr`: PULL, receive `count` messages.
///
/// # Errors
///
/// A failed bind or receive, a message of the wrong size.
pub fn local_thr(endpoint: &str, size: usize, count: u64) -> Result<Throughput> {
    let ctx = zmq::Context::new();
    let s = bound(&ctx, zmq::PULL, endpoint)?;
    let mut msg = zmq::Message::new();
    recv_checked(&s, &mut msg, size)?;
    let start = Instant::now();
    for _ in 1..count {
        recv_checked(&s, &mut msg, size)?;
    }
    let elapsed = start.elapsed();
    drop(s);
    drop(ctx);
    Ok(Throughput {
        size,
        count,
        elapsed,
    })
}

/// `remote_thr`: PUSH, send `count` messages; closing the context lingers
/// until they are out.
///
/// # Errors
///
/// A failed connect or send.
pub fn remote_thr(endpoint: &str, size: usize, count: u64) -> Result<()> {
    let ctx = zmq::Context::new();
    let s = ctx.socket(zmq::PUSH).map_err(err("socket"))?;
    s.connect(endpoint).map_err(err("connect"))?;
    let buf = vec![0u8; size];
    for _ in 0..count {
        s.send(buf.as_slice(), 0).map_err(err("send"))?;
    }
    drop(s);
    drop(ctx);
    Ok(())
}

/// `local_lat`: REP, echo `roundtrips` requests (the received message is
/// sent back as it is, like libzmq's tool).
///
/// # Errors
///
/// A failed bind, receive or send, a message of the wrong size.
pub fn local_lat(endpoint: &str, size: usize, roundtrips: u64) -> Result<()> {
    let ctx = zmq::Context::new();
    let s = bound(&ctx, zmq::REP, endpoint)?;
    for _ in 0..roundtrips {
        let mut msg = zmq::Message::new();
        recv_checked(&s, &mut msg, size)?;
        s.send(msg, 0).map_err(err("send"))?;
    }
    drop(s);
    drop(ctx);
    Ok(())
}

/// `remote_lat`: REQ, `roundtrips` request/reply pairs, timed from before
/// the first request.
///
/// # Errors
///
/// A failed connect, send or receive, a reply of the wrong size.
pub fn remote_lat(endpoint: &str, size: usize, roundtrips: u64) -> Result<Latency> {
    let ctx = zmq::Context::new();
    let s = ctx.socket(zmq::REQ).map_err(err("socket"))?;
    s.connect(endpoint).map_err(err("connect"))?;
    let buf = vec![0u8; size];
    let mut reply = zmq::Message::new();
    let start = Instant::now();
    for _ in 0..roundtrips {
        s.send(buf.as_slice(), 0).map_err(err("send"))?;
        recv_checked(&s, &mut reply, size)?;
    }
    let elapsed = start.elapsed();
    drop(s);
    drop(ctx);
    Ok(Latency {
        size,
        roundtrips,
        elapsed,
    })
}
