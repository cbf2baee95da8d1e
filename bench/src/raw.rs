//! The reference the ZeroMQ stacks are held against: the same bytes over a
//! plain TCP or Unix stream socket, no framing, no queues, no threads.
//!
//! Throughput: the sender writes each message with one `write_all` of
//! `size` bytes (`raw`), or as many messages as make up [`BATCH`] bytes
//! with one `write_all` (`raw-batch`: what a stack that coalesces messages
//! into large writes could reach at best); the receiver reads 256 KiB at a
//! time (the read size of `zmtp-std`'s I/O thread; 64 KiB until the
//! seventh performance slice, with which the reference carried 10-30 %
//! less over TCP) and times from the first byte to the last.
//! Latency: `size` bytes one way, the same `size` bytes back, `TCP_NODELAY`
//! set (as libzmq sets it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Instant;

use crate::report::{Latency, Throughput};
use crate::{Result, announce};

/// Bytes per read on the receiving side.
pub const READ_CHUNK: usize = 256 * 1024;
/// Bytes per write of the `raw-batch` sender (the size of `zmtp-std`'s
/// transmit chunk and of the reads above).
pub const BATCH: usize = 256 * 1024;

/// Messages of `size` bytes per write of the `raw-batch` sender: as many
/// as fill [`BATCH`] bytes, at least one.
#[must_use]
pub fn batch_of(size: usize) -> usize {
    BATCH.checked_div(size).unwrap_or(1).max(1)
}

/// A parsed `tcp://host:port` (port `*` or `0`: any) or `ipc://path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `host:port` as `std::net` takes it.
    Tcp(String),
    /// A filesystem path.
    Ipc(String),
}

impl Endpoint {
    /// Parses a ZeroMQ-style endpoint.
    ///
    /// # Errors
    ///
    /// A message for other transports.
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(addr) = s.strip_prefix("tcp://") {
            let addr = addr
                .strip_suffix(":*")
                .map_or_else(|| addr.to_owned(), |host| format!("{host}:0"));
            Ok(Self::Tcp(addr))
        } else if let Some(path) = s.strip_prefix("ipc://") {
            Ok(Self::Ipc(path.to_owned()))
        } else {
            Err(format!(
                "the raw stack takes tcp:// and ipc:// endpoints, not {s:?}"
            ))
        }
    }
}

/// A connected stream of either kind.
#[derive(Debug)]
pub enum Stream {
    /// TCP, with `TCP_NODELAY`.
    Tcp(TcpStream),
    /// A Unix stream socket.
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            Self::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn io_err(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Binds, announces the resolved endpoint, accepts one connection.
fn accept_one(endpoint: &str) -> Result<Stream> {
    match Endpoint::parse(endpoint)? {
        Endpoint::Tcp(addr) => {
            let l = TcpListener::bind(&addr).map_err(io_err("bind"))?;
            let local = l.local_addr().map_err(io_err("local address"))?;
            announce(&format!("tcp://{local}"));
            let (s, _) = l.accept().map_err(io_err("accept"))?;
            s.set_nodelay(true).map_err(io_err("TCP_NODELAY"))?;
            Ok(Stream::Tcp(s))
        }
        Endpoint::Ipc(path) => {
            // Like libzmq, replace a socket file left behind.
            let _ = std::fs::remove_file(&path);
            let l = UnixListener::bind(&path).map_err(io_err("bind"))?;
            announce(&format!("ipc://{path}"));
            let accepted = l.accept().map_err(io_err("accept"));
            let _ = std::fs::remove_file(&path);
            Ok(Stream::Unix(accepted?.0))
        }
    }
}

fn connect(endpoint: &str) -> Result<Stream> {
    match Endpoint::parse(endpoint)? {
        Endpoint::Tcp(addr) => {
            let s = TcpStream::connect(&addr).map_err(io_err("connect"))?;
            s.set_nodelay(true).map_err(io_err("TCP_NODELAY"))?;
            Ok(Stream::Tcp(s))
        }
        Endpoint::Ipc(path) => UnixStream::connect(&path)
            .map(Stream::Unix)
            .map_err(io_err("connect")),
    }
}

fn total_bytes(size: usize, count: u64) -> Result<u64> {
    u64::try_from(size)
        .ok()
        .and_then(|s| s.checked_mul(count))
        .filter(|&t| t > 0)
        .ok_or_else(|| "size x count must be positive and fit 64 bits".to_owned())
}

/// Throughput receiver: `size x count` bytes.
///
/// # Errors
///
/// A failed bind or read, or the stream ending early.
pub fn local_thr(endpoint: &str, size: usize, count: u64) -> Result<Throughput> {
    let total = total_bytes(size, count)?;
    let mut s = accept_one(endpoint)?;
    let mut buf = vec![0u8; READ_CHUNK];
    let mut got = 0u64;
    let mut start = None;
    while got < total {
        let n = s.read(&mut buf).map_err(io_err("read"))?;
        if n == 0 {
            return Err(format!("stream ended after {got} of {total} bytes"));
        }
        start.get_or_insert_with(Instant::now);
        got = got.saturating_add(n as u64);
    }
    let elapsed = start.map(|t| t.elapsed()).unwrap_or_default();
    Ok(Throughput {
        size,
        count,
        elapsed,
    })
}

/// Throughput sender: `count` messages of `size` bytes, `batch` of them
/// per write (the last write may carry fewer).
///
/// # Errors
///
/// A failed connect or write.
pub fn remote_thr(endpoint: &str, size: usize, count: u64, batch: usize) -> Result<()> {
    let mut left = total_bytes(size, count)?;
    let mut s = connect(endpoint)?;
    // A whole number of messages: every write but the last fills it.
    let buf = vec![0u8; size.saturating_mul(batch.max(1))];
    while left > 0 {
        let chunk = buf
            .get(..usize::try_from(left).unwrap_or(usize::MAX).min(buf.len()))
            .unwrap_or(&buf);
        s.write_all(chunk).map_err(io_err("write"))?;
        left = left.saturating_sub(chunk.len() as u64);
    }
    Ok(())
}

/// Latency echo side.
///
/// # Errors
///
/// A failed bind, read or write.
pub fn local_lat(endpoint: &str, size: usize, roundtrips: u64) -> Result<()> {
    total_bytes(size, roundtrips)?;
    let mut s = accept_one(endpoint)?;
    let mut buf = vec![0u8; size];
    for _ in 0..roundtrips {
        s.read_exact(&mut buf).map_err(io_err("read"))?;
        s.write_all(&buf).map_err(io_err("write"))?;
    }
    Ok(())
}

/// Latency requesting side.
///
/// # Errors
///
/// A failed connect, read or write.
pub fn remote_lat(endpoint: &str, size: usize, roundtrips: u64) -> Result<Latency> {
    total_bytes(size, roundtrips)?;
    let mut s = connect(endpoint)?;
    let mut buf = vec![0u8; size];
    let start = Instant::now();
    for _ in 0..roundtrips {
        s.write_all(&buf).map_err(io_err("write"))?;
        s.read_exact(&mut buf).map_err(io_err("read"))?;
    }
    Ok(Latency {
        size,
        roundtrips,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:*").unwrap(),
            Endpoint::Tcp("127.0.0.1:0".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:5555").unwrap(),
            Endpoint::Tcp("127.0.0.1:5555".into())
        );
        assert_eq!(
            Endpoint::parse("ipc:///tmp/a").unwrap(),
            Endpoint::Ipc("/tmp/a".into())
        );
        assert!(Endpoint::parse("inproc://a").is_err());
    }

    #[test]
    fn batches() {
        assert_eq!(batch_of(65_536), 4);
        assert_eq!(batch_of(100), 2_621);
        assert_eq!(batch_of(1 << 20), 1);
        assert_eq!(batch_of(0), 1);
    }
}
