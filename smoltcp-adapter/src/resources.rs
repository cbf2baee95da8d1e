//! Caller-provided memory, in the style of embassy-net's `StackResources`:
//! nothing is allocated, every byte lives where the caller put it (a
//! `static`, a `StaticCell`, or the stack in tests).

use zmtp_core::socket::PeerBuffers;

/// The memory of one peer slot: the smoltcp TCP socket's ring buffers and
/// the core's per-peer queues.
///
/// Sizes: `tcp_rx` bounds the TCP receive window; `tcp_tx` how much output
/// waits for acknowledgement. `peer.rx` must hold the largest message the
/// peer may send (frame bodies plus a small header each), `peer.tx` at least
/// the greeting and READY (about 120 bytes plus the socket's metadata) and
/// the largest message the application sends. `peer.subs` is only used by
/// PUB and XPUB (the peer's subscriptions).
#[derive(Debug)]
pub struct SlotBuffers<'a> {
    /// smoltcp TCP receive ring.
    pub tcp_rx: &'a mut [u8],
    /// smoltcp TCP transmit ring.
    pub tcp_tx: &'a mut [u8],
    /// The core's queues for the peer attached to this slot.
    pub peer: PeerBuffers<'a>,
}

/// Storage of one slot inside [`Resources`].
#[derive(Debug)]
struct SlotStorage<const TCP: usize, const QUEUE: usize, const SUBS: usize> {
    tcp_rx: [u8; TCP],
    tcp_tx: [u8; TCP],
    rx: [u8; QUEUE],
    tx: [u8; QUEUE],
    subs: [u8; SUBS],
}

impl<const TCP: usize, const QUEUE: usize, const SUBS: usize> SlotStorage<TCP, QUEUE, SUBS> {
    const fn new() -> Self {
        Self {
            tcp_rx: [0; TCP],
            tcp_tx: [0; TCP],
            rx: [0; QUEUE],
            tx: [0; QUEUE],
            subs: [0; SUBS],
        }
    }
}

/// Memory for `PEERS` slots with fixed sizes, meant for a `static`:
/// `TCP` bytes for each of the TCP socket's receive and transmit rings,
/// `QUEUE` bytes for each of the core's receive and transmit queues, and
/// `SUBS` bytes of subscription store (PUB/XPUB only; 0 otherwise).
///
/// For other shapes build [`SlotBuffers`] by hand.
///
/// ```
/// use zmtp_smoltcp::Resources;
/// static _SIZE_CHECK: usize = core::mem::size_of::<Resources<2, 1024, 2048>>();
/// let mut r: Resources<2, 1024, 2048> = Resources::new();
/// let slots = r.slots();
/// assert_eq!(slots[1].peer.rx.len(), 2048);
/// ```
#[derive(Debug)]
pub struct Resources<
    const PEERS: usize,
    const TCP: usize,
    const QUEUE: usize,
    const SUBS: usize = 0,
> {
    slots: [SlotStorage<TCP, QUEUE, SUBS>; PEERS],
}

impl<const PEERS: usize, const TCP: usize, const QUEUE: usize, const SUBS: usize>
    Resources<PEERS, TCP, QUEUE, SUBS>
{
    /// Zeroed storage (a `const fn`, so it can initialise a `static`).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            slots: [const { SlotStorage::new() }; PEERS],
        }
    }

    /// Splits the storage into one [`SlotBuffers`] per slot.
    pub fn slots(&mut self) -> [SlotBuffers<'_>; PEERS] {
        self.slots.each_mut().map(|s| {
            let SlotStorage {
                tcp_rx,
                tcp_tx,
                rx,
                tx,
                subs,
            } = s;
            SlotBuffers {
                tcp_rx,
                tcp_tx,
                peer: PeerBuffers { rx, tx, subs },
            }
        })
    }
}

impl<const PEERS: usize, const TCP: usize, const QUEUE: usize, const SUBS: usize> Default
    for Resources<PEERS, TCP, QUEUE, SUBS>
{
    fn default() -> Self {
        Self::new()
    }
}
