//! The perf tools on zmq.rs (crate `zeromq` 0.7) on tokio's default
//! multi-threaded runtime, used as its documentation shows: `send` of an
//! owned [`ZmqMessage`] built per message (a copy of the payload, as the
//! other stacks make), `recv` of an owned message, default options.
//!
//! zmq.rs has no `ZMQ_LINGER`: dropping a socket hands its queued messages
//! to writer tasks that finish in the background. The sending side
//! therefore keeps the runtime alive after the last send until those tasks
//! are done ([`LINGER_MAX`] at most), so that nothing is lost at exit.

use core::time::Duration;
use std::time::Instant;

use tokio::runtime::Runtime;
use zeromq::prelude::*;
use zeromq::{PullSocket, PushSocket, RepSocket, ReqSocket, ZmqMessage};

use crate::report::{Latency, Throughput};
use crate::{Result, announce, check_size};

/// Longest wait for zmq.rs's writer tasks after the last send.
pub const LINGER_MAX: Duration = Duration::from_secs(10);

fn err(what: &str) -> impl Fn(zeromq::ZmqError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// Waits until the runtime runs no task (the writer tasks flushed what the
/// dropped sockets had queued), at most [`LINGER_MAX`].
fn linger(rt: &Runtime) {
    let deadline = Instant::now() + LINGER_MAX;
    while rt.metrics().num_alive_tasks() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// zmq.rs takes port 0, not libzmq's `*`, for "any port".
fn bind_endpoint(endpoint: &str) -> String {
    match endpoint.strip_suffix(":*") {
        Some(host) if endpoint.starts_with("tcp://") => format!("{host}:0"),
        _ => endpoint.to_owned(),
    }
}

fn one_frame(msg: &ZmqMessage, size: usize) -> Result<()> {
    match (msg.len(), msg.get(0)) {
        (1, Some(frame)) => check_size(frame.len(), size),
        (n, _) => Err(format!("expected one frame, got {n}")),
    }
}

/// `local_thr`: PULL, receive `count` messages.
///
/// # Errors
///
/// A failed bind or receive, a message of the wrong size.
pub fn local_thr(endpoint: &str, size: usize, count: u64) -> Result<Throughput> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut s = PullSocket::new();
        let ep = s
            .bind(&bind_endpoint(endpoint))
            .await
            .map_err(err("bind"))?;
        announce(&ep.to_string());
        one_frame(&s.recv().await.map_err(err("recv"))?, size)?;
        let start = Instant::now();
        for _ in 1..count {
            one_frame(&s.recv().await.map_err(err("recv"))?, size)?;
        }
        let elapsed = start.elapsed();
        drop(s.close().await);
        Ok(Throughput {
            size,
            count,
            elapsed,
        })
    })
}

/// `remote_thr`: PUSH, send `count` messages, then wait for the writer
/// tasks.
///
/// # Errors
///
/// A failed connect or send.
pub fn remote_thr(endpoint: &str, size: usize, count: u64) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut s = PushSocket::new();
        s.connect(endpoint).await.map_err(err("connect"))?;
        let buf = vec![0u8; size];
        for _ in 0..count {
            s.send(ZmqMessage::from(buf.clone()))
                .await
                .map_err(err("send"))?;
        }
        drop(s);
        Ok::<(), String>(())
    })?;
    linger(&rt);
    Ok(())
}

/// `local_lat`: REP, echo `roundtrips` requests (the received message is
/// sent back).
///
/// # Errors
///
/// A failed bind, receive or send, a message of the wrong size.
pub fn local_lat(endpoint: &str, size: usize, roundtrips: u64) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut s = RepSocket::new();
        let ep = s
            .bind(&bind_endpoint(endpoint))
            .await
            .map_err(err("bind"))?;
        announce(&ep.to_string());
        for _ in 0..roundtrips {
            let msg = s.recv().await.map_err(err("recv"))?;
            one_frame(&msg, size)?;
            s.send(msg).await.map_err(err("send"))?;
        }
        drop(s);
        Ok::<(), String>(())
    })?;
    linger(&rt);
    Ok(())
}

/// `remote_lat`: REQ, `roundtrips` request/reply pairs, timed from before
/// the first request.
///
/// # Errors
///
/// A failed connect, send or receive, a reply of the wrong size.
pub fn remote_lat(endpoint: &str, size: usize, roundtrips: u64) -> Result<Latency> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut s = ReqSocket::new();
        s.connect(endpoint).await.map_err(err("connect"))?;
        let buf = vec![0u8; size];
        let start = Instant::now();
        for _ in 0..roundtrips {
            s.send(ZmqMessage::from(buf.clone()))
                .await
                .map_err(err("send"))?;
            one_frame(&s.recv().await.map_err(err("recv"))?, size)?;
        }
        let elapsed = start.elapsed();
        drop(s);
        Ok(Latency {
            size,
            roundtrips,
            elapsed,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_port() {
        assert_eq!(bind_endpoint("tcp://127.0.0.1:*"), "tcp://127.0.0.1:0");
        assert_eq!(
            bind_endpoint("tcp://127.0.0.1:5555"),
            "tcp://127.0.0.1:5555"
        );
        assert_eq!(bind_endpoint("ipc:///tmp/a:*"), "ipc:///tmp/a:*");
    }
}
