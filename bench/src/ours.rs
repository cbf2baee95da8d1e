//! The perf tools on this project's `zmtp-std`, used as an application
//! would: blocking `send` of a borrowed buffer, `recv_into` one reused
//! [`Message`] (as libzmq's tools reuse one `zmq_msg_t`), default options
//! (HWM 1000, 4 MiB buffers per connection).

use std::time::Instant;

use zmtp_std::{Context, Message, Socket, SocketType};

use crate::report::{Latency, Throughput};
use crate::{Result, announce, check_size};

fn err(what: &str) -> impl Fn(zmtp_std::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn one_frame(msg: &Message, size: usize) -> Result<()> {
    match (msg.len(), msg.frame(0)) {
        (1, Some(frame)) => check_size(frame.len(), size),
        (n, _) => Err(format!("expected one frame, got {n}")),
    }
}

fn bound(ctx: &Context, t: SocketType, endpoint: &str) -> Result<Socket> {
    let s = ctx.socket(t).map_err(err("socket"))?;
    s.bind(endpoint).map_err(err("bind"))?;
    announce(&s.last_endpoint().map_err(err("last endpoint"))?);
    Ok(s)
}

fn connected(ctx: &Context, t: SocketType, endpoint: &str) -> Result<Socket> {
    let s = ctx.socket(t).map_err(err("socket"))?;
    s.connect(endpoint).map_err(err("connect"))?;
    Ok(s)
}

/// `local_thr`: PULL, receive `count` messages.
///
/// # Errors
///
/// A failed bind or receive, a message of the wrong size.
pub fn local_thr(endpoint: &str, size: usize, count: u64) -> Result<Throughput> {
    let ctx = Context::new().map_err(err("context"))?;
    let s = bound(&ctx, SocketType::Pull, endpoint)?;
    let mut msg = Message::new();
    s.recv_into(&mut msg).map_err(err("recv"))?;
    one_frame(&msg, size)?;
    let start = Instant::now();
    for _ in 1..count {
        s.recv_into(&mut msg).map_err(err("recv"))?;
        one_frame(&msg, size)?;
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

/// `remote_thr`: PUSH, send `count` messages, then close and linger until
/// they are all out (libzmq's default `ZMQ_LINGER` of -1).
///
/// # Errors
///
/// A failed connect or send.
pub fn remote_thr(endpoint: &str, size: usize, count: u64) -> Result<()> {
    let ctx = Context::new().map_err(err("context"))?;
    let s = connected(&ctx, SocketType::Push, endpoint)?;
    let buf = vec![0u8; size];
    for _ in 0..count {
        s.send_frame(&buf).map_err(err("send"))?;
    }
    s.close().map_err(err("close"))?;
    // Dropping the context waits for the lingering socket.
    drop(ctx);
    Ok(())
}

/// `local_lat`: REP, echo `roundtrips` requests.
///
/// # Errors
///
/// A failed bind, receive or send, a message of the wrong size.
pub fn local_lat(endpoint: &str, size: usize, roundtrips: u64) -> Result<()> {
    let ctx = Context::new().map_err(err("context"))?;
    let s = bound(&ctx, SocketType::Rep, endpoint)?;
    let mut msg = Message::new();
    for _ in 0..roundtrips {
        s.recv_into(&mut msg).map_err(err("recv"))?;
        one_frame(&msg, size)?;
        s.send_frame(msg.frame(0).unwrap_or_default())
            .map_err(err("send"))?;
    }
    s.close().map_err(err("close"))?;
    drop(ctx);
    Ok(())
}

/// `remote_lat`: REQ, `roundtrips` request/reply pairs, timed from before
/// the first request (as libzmq's tool, connection set-up included).
///
/// # Errors
///
/// A failed connect, send or receive, a reply of the wrong size.
pub fn remote_lat(endpoint: &str, size: usize, roundtrips: u64) -> Result<Latency> {
    let ctx = Context::new().map_err(err("context"))?;
    let s = connected(&ctx, SocketType::Req, endpoint)?;
    let buf = vec![0u8; size];
    let mut msg = Message::new();
    let start = Instant::now();
    for _ in 0..roundtrips {
        s.send_frame(&buf).map_err(err("send"))?;
        s.recv_into(&mut msg).map_err(err("recv"))?;
        one_frame(&msg, size)?;
    }
    let elapsed = start.elapsed();
    s.close().map_err(err("close"))?;
    drop(ctx);
    Ok(Latency {
        size,
        roundtrips,
        elapsed,
    })
}
