//! The context: one I/O thread, the monitor registry, and socket creation.

use core::sync::atomic::{AtomicU64, Ordering};
use std::fmt;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use zmtp_core::SocketType;

use crate::error::{Error, Result};
use crate::io::{Command, Io, WAKER};
use crate::monitor::{MonitorSocket, Registry, inproc_name};
use crate::socket::Socket;
use crate::sync::lock;
use crate::time::Clock;

/// What every handle of a context shares.
pub(crate) struct ContextInner {
    commands: mpsc::Sender<Command>,
    waker: mio::Waker,
    pub(crate) registry: Arc<Registry>,
    /// The ZAP endpoint.
    pub(crate) zap: Arc<crate::zap::Broker>,
    next_id: AtomicU64,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl ContextInner {
    /// Queues a command for the I/O thread and wakes it. Returns `false`
    /// when the I/O thread is gone.
    pub(crate) fn send(&self, cmd: Command) -> bool {
        let sent = self.commands.send(cmd).is_ok();
        if sent {
            let _ = self.waker.wake();
        }
        sent
    }

    /// A fresh id for a socket or an endpoint.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

impl Drop for ContextInner {
    /// Like `zmq_ctx_term`: waits until every socket finished lingering.
    fn drop(&mut self) {
        self.send(Command::Shutdown);
        if let Some(t) = lock(&self.thread).take()
            && t.thread().id() != std::thread::current().id()
        {
            let _ = t.join();
        }
    }
}

/// A ZeroMQ context (libzmq `zmq_ctx_new`): owns one background I/O thread
/// that drives every socket's connections, and the names of inproc monitor
/// endpoints. Cheap to clone; the I/O thread exits when the last clone and
/// the last socket are gone and every socket finished lingering.
#[derive(Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl Context {
    /// A context with its I/O thread.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the poller or the thread cannot be created.
    pub fn new() -> Result<Self> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER)?;
        let (tx, rx) = mpsc::channel();
        let registry = Arc::new(Registry::default());
        let zap = Arc::new(crate::zap::Broker::default());
        let io = Io::new(
            poll,
            rx,
            Clock::new(),
            Arc::clone(&registry),
            Arc::clone(&zap),
        );
        let thread = std::thread::Builder::new()
            .name("zmtp-io".to_owned())
            .spawn(move || io.run())?;
        Ok(Self {
            inner: Arc::new(ContextInner {
                commands: tx,
                waker,
                registry,
                zap,
                next_id: AtomicU64::new(1),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// `zmq_socket`: a new socket of type `t`.
    ///
    /// # Errors
    ///
    /// [`Error::Terminated`] when the I/O thread is gone.
    pub fn socket(&self, t: SocketType) -> Result<Socket> {
        Socket::new(Arc::clone(&self.inner), t)
    }

    /// Connects a consumer to the inproc monitor endpoint `endpoint`
    /// (`inproc://name`), before or after a socket's monitor binds it.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for a malformed endpoint,
    /// [`Error::ProtocolNotSupported`] for a transport other than `inproc`.
    pub fn monitor_socket(&self, endpoint: &str) -> Result<MonitorSocket> {
        let name = inproc_name(endpoint)?;
        Ok(MonitorSocket::new(Arc::clone(&self.inner.registry), name))
    }
}

#[allow(dead_code)]
fn _assert_traits() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Context>();
    send_sync::<Socket>();
    send_sync::<MonitorSocket>();
    send_sync::<Error>();
}
