//! A [`smoltcp::phy::Device`] for the SMSC LAN9118 Ethernet controller
//! (the LAN9220 of ARM's MPS2 boards, and QEMU's `lan9118` model), driven
//! by programmed I/O through its FIFO ports: no DMA, no interrupts.
//!
//! Register offsets and bit fields follow the SMSC LAN9118 datasheet
//! (section 5, "Register Description"), as QEMU's `hw/net/lan9118.c`
//! implements them.
//!
//! ## Receive
//!
//! The controller stores each frame it accepts in the RX data FIFO and one
//! status word in the RX status FIFO. [`Device::receive`] pops a status
//! word, reads the frame (rounded up to whole words, the 4-byte FCS
//! included) into the driver's buffer and hands smoltcp the frame without
//! its FCS. Frames with an error, shorter than an Ethernet header or longer
//! than the buffer are read out and dropped (counted in [`Stats`]).
//!
//! ## Transmit
//!
//! smoltcp writes the frame into the driver's buffer; the driver pushes
//! TX command A (first and last segment, buffer size), TX command B (packet
//! tag and length) and the frame's words into the TX data FIFO. The status
//! word the controller produces for each frame is popped and checked on the
//! next call.

use smoltcp::phy::{Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::mmio::Lan9118Window;

/// Register offsets (datasheet table 5.1, "System Control and Status
/// Registers", and the FIFO ports below 0x50).
mod reg {
    /// RX data FIFO port (0x00..0x1C alias it).
    pub(crate) const RX_DATA_FIFO: usize = 0x00;
    /// TX data FIFO port (0x20..0x3C alias it).
    pub(crate) const TX_DATA_FIFO: usize = 0x20;
    /// RX status FIFO port (pops).
    pub(crate) const RX_STATUS_FIFO: usize = 0x40;
    /// TX status FIFO port (pops).
    pub(crate) const TX_STATUS_FIFO: usize = 0x48;
    /// Chip id (bits 31:16) and revision (15:0).
    pub(crate) const ID_REV: usize = 0x50;
    /// Interrupt configuration.
    pub(crate) const IRQ_CFG: usize = 0x54;
    /// Interrupt status (write 1 to clear).
    pub(crate) const INT_STS: usize = 0x58;
    /// Interrupt enable.
    pub(crate) const INT_EN: usize = 0x5C;
    /// Reads 0x87654321 whatever the bus configuration.
    pub(crate) const BYTE_TEST: usize = 0x64;
    /// Receive configuration.
    pub(crate) const RX_CFG: usize = 0x6C;
    /// Transmit configuration.
    pub(crate) const TX_CFG: usize = 0x70;
    /// Hardware configuration (soft reset, TX FIFO size).
    pub(crate) const HW_CFG: usize = 0x74;
    /// RX FIFO information: status words used (23:16), data bytes used (15:0).
    pub(crate) const RX_FIFO_INF: usize = 0x7C;
    /// TX FIFO information: status words used (23:16), data bytes free (15:0).
    pub(crate) const TX_FIFO_INF: usize = 0x80;
    /// MAC CSR indirect access: command.
    pub(crate) const MAC_CSR_CMD: usize = 0xA4;
    /// MAC CSR indirect access: data.
    pub(crate) const MAC_CSR_DATA: usize = 0xA8;
}

/// MAC control and status registers, reached through `MAC_CSR_CMD`
/// (datasheet table 5.2).
mod mac {
    /// MAC control.
    pub(crate) const MAC_CR: u32 = 1;
    /// MAC address, bytes 4 and 5.
    pub(crate) const ADDRH: u32 = 2;
    /// MAC address, bytes 0 to 3.
    pub(crate) const ADDRL: u32 = 3;
    /// MII (PHY) access command.
    pub(crate) const MII_ACC: u32 = 6;
    /// MII (PHY) access data.
    pub(crate) const MII_DATA: u32 = 7;

    /// MAC_CR: receiver enable.
    pub(crate) const CR_RXEN: u32 = 1 << 2;
    /// MAC_CR: transmitter enable.
    pub(crate) const CR_TXEN: u32 = 1 << 3;
    /// MAC_CR: promiscuous mode (set after reset).
    pub(crate) const CR_PRMS: u32 = 1 << 18;
}

/// MAC_CSR_CMD: the command is in progress.
const CSR_BUSY: u32 = 1 << 31;
/// MAC_CSR_CMD: read (1) or write (0).
const CSR_READ: u32 = 1 << 30;
/// HW_CFG: soft reset (self-clearing).
const HW_CFG_SRST: u32 = 1;
/// TX_CFG: transmitter on.
const TX_CFG_TX_ON: u32 = 1 << 1;
/// MII_ACC: the PHY access is in progress.
const MII_BUSY: u32 = 1;
/// MII_ACC: write (1) or read (0).
const MII_WRITE: u32 = 1 << 1;
/// The internal PHY's address.
const PHY_ADDR: u32 = 1;
/// PHY basic status register and its link-up bit (IEEE 802.3 clause 22).
const PHY_BSR: u32 = 1;
const PHY_BSR_LINK: u32 = 1 << 2;
/// BYTE_TEST's fixed value.
const BYTE_TEST_VALUE: u32 = 0x8765_4321;
/// Chip ids this driver accepts: QEMU's LAN9118, the MPS2's LAN9220.
const CHIP_IDS: [u32; 2] = [0x0118, 0x9220];

/// RX status word: frame length, FCS included (bits 29:16).
const RX_STS_LEN_SHIFT: u32 = 16;
const RX_STS_LEN_MASK: u32 = 0x3FFF;
/// RX status word: error summary.
const RX_STS_ES: u32 = 1 << 15;
/// TX status word: error summary.
const TX_STS_ES: u32 = 1 << 15;
/// TX command A: first and last segment of a frame.
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;

/// Length of the Ethernet frame check sequence the controller appends to
/// every received frame.
const FCS_LEN: usize = 4;
/// Ethernet header (destination, source, EtherType).
const ETHERNET_HEADER_LEN: usize = 14;
/// The largest frame smoltcp sends or receives: a 1500-byte payload plus
/// the header (IEEE 802.3, no VLAN tag).
pub const MAX_FRAME_LEN: usize = 1514;
/// The driver's receive and transmit buffers: the largest frame and its
/// FCS, rounded up to whole 32-bit words.
const BUFFER_LEN: usize = 1520;
/// Space a whole frame takes in the TX FIFO: the frame and two command
/// words.
const TX_FIFO_NEED: u32 = 1522;
/// Bound of every busy-wait on the controller (polls).
const SPIN_LIMIT: u32 = 100_000;
/// Frames dropped in one `receive` call before it gives up for now.
const MAX_DROPS_PER_CALL: usize = 8;

/// Why [`Lan9118::new`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
#[non_exhaustive]
pub enum InitError {
    /// BYTE_TEST or ID_REV do not read as a LAN9118/LAN9220: the value of
    /// ID_REV.
    NotFound(u32),
    /// The soft reset did not complete.
    ResetTimeout,
    /// A MAC register access did not complete.
    MacTimeout,
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotFound(id) => write!(f, "no LAN9118 found (ID_REV {id:#010x})"),
            Self::ResetTimeout => f.write_str("LAN9118 soft reset timed out"),
            Self::MacTimeout => f.write_str("LAN9118 MAC register access timed out"),
        }
    }
}

impl core::error::Error for InitError {}

/// Frame counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, defmt::Format)]
pub struct Stats {
    /// Frames handed to smoltcp.
    pub rx_frames: u32,
    /// Received frames dropped (error status, runt, too long).
    pub rx_dropped: u32,
    /// Frames written to the TX FIFO.
    pub tx_frames: u32,
    /// TX status words with the error summary bit.
    pub tx_errors: u32,
}

/// The LAN9118 driver: owns the register window and one receive and one
/// transmit buffer.
#[derive(Debug)]
pub struct Lan9118 {
    regs: Lan9118Window,
    mac: [u8; 6],
    rx: [u8; BUFFER_LEN],
    tx: [u8; BUFFER_LEN],
    tx_tag: u16,
    stats: Stats,
}

impl Lan9118 {
    /// Resets the controller and turns on its transmitter and receiver.
    /// The MAC address is the one the controller loaded from its EEPROM
    /// (QEMU: `52:54:00:12:34:56` unless `-nic ...,mac=` says otherwise);
    /// without one, `fallback_mac`.
    ///
    /// # Errors
    ///
    /// [`InitError`] if no controller answers, or it does not leave reset.
    pub fn new(mut regs: Lan9118Window, fallback_mac: [u8; 6]) -> Result<Self, InitError> {
        let id = regs.read(reg::ID_REV);
        if regs.read(reg::BYTE_TEST) != BYTE_TEST_VALUE || !CHIP_IDS.contains(&(id >> 16)) {
            return Err(InitError::NotFound(id));
        }
        let hw = regs.read(reg::HW_CFG);
        regs.write(reg::HW_CFG, hw | HW_CFG_SRST);
        if !spin_until(|| regs.read(reg::HW_CFG) & HW_CFG_SRST == 0) {
            return Err(InitError::ResetTimeout);
        }
        let mut dev = Self {
            regs,
            mac: [0; 6],
            rx: [0; BUFFER_LEN],
            tx: [0; BUFFER_LEN],
            tx_tag: 0,
            stats: Stats::default(),
        };
        // Polled: no interrupts.
        dev.regs.write(reg::INT_EN, 0);
        dev.regs.write(reg::INT_STS, u32::MAX);
        dev.regs.write(reg::IRQ_CFG, 0);
        let lo = dev.mac_read(mac::ADDRL)?.to_le_bytes();
        let hi = dev.mac_read(mac::ADDRH)?.to_le_bytes();
        let mut addr = [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1]];
        let unicast = addr[0] & 1 == 0 && addr != [0; 6];
        if !unicast {
            addr = fallback_mac;
            let [a, b, c, d, e, g] = addr;
            dev.mac_write(mac::ADDRL, u32::from_le_bytes([a, b, c, d]))?;
            dev.mac_write(mac::ADDRH, u32::from_le_bytes([e, g, 0, 0]))?;
        }
        dev.mac = addr;
        // No RX data offset or end padding: frames start at a word.
        dev.regs.write(reg::RX_CFG, 0);
        dev.regs.write(reg::TX_CFG, TX_CFG_TX_ON);
        // Unicast to our address and broadcast (ARP), nothing else.
        let cr = dev.mac_read(mac::MAC_CR)?;
        dev.mac_write(
            mac::MAC_CR,
            (cr & !mac::CR_PRMS) | mac::CR_TXEN | mac::CR_RXEN,
        )?;
        Ok(dev)
    }

    /// The station's MAC address.
    #[must_use]
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    /// Frame counters so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether the PHY reports a link (`None` if the PHY did not answer).
    pub fn link_up(&mut self) -> Option<bool> {
        let busy = self.mac_read(mac::MII_ACC).ok()?;
        if busy & MII_BUSY != 0 {
            return None;
        }
        let cmd = (PHY_ADDR << 11) | (PHY_BSR << 6) | MII_BUSY;
        self.mac_write(mac::MII_ACC, cmd & !MII_WRITE).ok()?;
        let mut done = false;
        for _ in 0..SPIN_LIMIT {
            if self.mac_read(mac::MII_ACC).ok()? & MII_BUSY == 0 {
                done = true;
                break;
            }
        }
        if !done {
            return None;
        }
        Some(self.mac_read(mac::MII_DATA).ok()? & PHY_BSR_LINK != 0)
    }

    /// Whether a received frame waits in the RX FIFO.
    pub fn rx_pending(&mut self) -> bool {
        (self.regs.read(reg::RX_FIFO_INF) >> 16) & 0xFF != 0
    }

    /// Reads a MAC CSR.
    fn mac_read(&mut self, index: u32) -> Result<u32, InitError> {
        self.regs
            .write(reg::MAC_CSR_CMD, CSR_BUSY | CSR_READ | index);
        self.mac_wait()?;
        Ok(self.regs.read(reg::MAC_CSR_DATA))
    }

    /// Writes a MAC CSR.
    fn mac_write(&mut self, index: u32, value: u32) -> Result<(), InitError> {
        self.regs.write(reg::MAC_CSR_DATA, value);
        self.regs.write(reg::MAC_CSR_CMD, CSR_BUSY | index);
        self.mac_wait()
    }

    fn mac_wait(&mut self) -> Result<(), InitError> {
        let regs = &mut self.regs;
        if spin_until(|| regs.read(reg::MAC_CSR_CMD) & CSR_BUSY == 0) {
            Ok(())
        } else {
            Err(InitError::MacTimeout)
        }
    }

    /// Pops the TX status words of the frames sent so far.
    fn reap_tx_status(&mut self) {
        // The status FIFO holds at most 512 words (QEMU) / 128 (datasheet).
        for _ in 0..512 {
            if (self.regs.read(reg::TX_FIFO_INF) >> 16) & 0xFF == 0 {
                break;
            }
            if self.regs.read(reg::TX_STATUS_FIFO) & TX_STS_ES != 0 {
                self.stats.tx_errors = self.stats.tx_errors.wrapping_add(1);
            }
        }
    }

    /// Reads the next good frame into `self.rx`; returns its length without
    /// the FCS.
    fn pull_frame(&mut self) -> Option<usize> {
        for _ in 0..MAX_DROPS_PER_CALL {
            if (self.regs.read(reg::RX_FIFO_INF) >> 16) & 0xFF == 0 {
                return None;
            }
            let status = self.regs.read(reg::RX_STATUS_FIFO);
            let len = usize::try_from((status >> RX_STS_LEN_SHIFT) & RX_STS_LEN_MASK).ok()?;
            let words = len.div_ceil(4);
            let fits = words.checked_mul(4).is_some_and(|n| n <= BUFFER_LEN);
            let frame_len = len.saturating_sub(FCS_LEN);
            if status & RX_STS_ES != 0 || frame_len < ETHERNET_HEADER_LEN || !fits {
                // Read the frame out word by word (the datasheet's
                // fast-forward needs at least 4 words and QEMU's model of
                // it does not free the FIFO space).
                for _ in 0..words {
                    let _ = self.regs.read(reg::RX_DATA_FIFO);
                }
                self.stats.rx_dropped = self.stats.rx_dropped.wrapping_add(1);
                continue;
            }
            for chunk in self.rx.chunks_exact_mut(4).take(words) {
                chunk.copy_from_slice(&self.regs.read(reg::RX_DATA_FIFO).to_le_bytes());
            }
            self.stats.rx_frames = self.stats.rx_frames.wrapping_add(1);
            return Some(frame_len);
        }
        None
    }

    /// Whether the TX FIFO has room for a whole frame.
    fn tx_room(&mut self) -> bool {
        self.regs.read(reg::TX_FIFO_INF) & 0xFFFF >= TX_FIFO_NEED
    }
}

/// Polls `done` up to [`SPIN_LIMIT`] times; whether it became true.
fn spin_until(mut done: impl FnMut() -> bool) -> bool {
    (0..SPIN_LIMIT).any(|_| done())
}

/// A received frame, already copied out of the RX FIFO.
#[derive(Debug)]
pub struct RxToken<'a> {
    frame: &'a [u8],
}

impl smoltcp::phy::RxToken for RxToken<'_> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(self.frame)
    }
}

/// Permission to send one frame through the TX FIFO.
#[derive(Debug)]
pub struct TxToken<'a> {
    regs: &'a mut Lan9118Window,
    buf: &'a mut [u8; BUFFER_LEN],
    tag: u16,
    stats: &'a mut Stats,
}

impl smoltcp::phy::TxToken for TxToken<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        // smoltcp never asks for more than the MTU it was given.
        let len = len.min(MAX_FRAME_LEN);
        let (frame, _) = self.buf.split_at_mut(len);
        let result = f(frame);
        let len32 = u32::try_from(len).unwrap_or(0);
        self.regs
            .write(reg::TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | len32);
        self.regs
            .write(reg::TX_DATA_FIFO, (u32::from(self.tag) << 16) | len32);
        for chunk in frame.chunks(4) {
            let mut word = [0u8; 4];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            self.regs.write(reg::TX_DATA_FIFO, u32::from_le_bytes(word));
        }
        self.stats.tx_frames = self.stats.tx_frames.wrapping_add(1);
        result
    }
}

impl Device for Lan9118 {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        self.reap_tx_status();
        let len = self.pull_frame()?;
        self.tx_tag = self.tx_tag.wrapping_add(1);
        let Self {
            regs,
            rx,
            tx,
            tx_tag,
            stats,
            ..
        } = self;
        let frame = rx.get(..len)?;
        Some((
            RxToken { frame },
            TxToken {
                regs,
                buf: tx,
                tag: *tx_tag,
                stats,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        self.reap_tx_status();
        if !self.tx_room() {
            return None;
        }
        self.tx_tag = self.tx_tag.wrapping_add(1);
        Some(TxToken {
            regs: &mut self.regs,
            buf: &mut self.tx,
            tag: self.tx_tag,
            stats: &mut self.stats,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME_LEN;
        caps
    }
}
