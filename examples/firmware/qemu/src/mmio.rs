//! The only `unsafe` of the firmware: volatile 32-bit accesses to the
//! LAN9118's register window.
//!
//! [`Lan9118Window`] can be created once ([`Lan9118Window::take`]); it
//! reads and writes only word-aligned offsets inside the controller's
//! 256-byte window at [`LAN9118_BASE`], so no access can touch memory
//! that Rust owns.
#![allow(
    unsafe_code,
    reason = "memory-mapped I/O needs volatile pointer accesses"
)]

use core::sync::atomic::{AtomicBool, Ordering};

/// Where the mps2-an385 board maps its Ethernet controller (QEMU
/// `hw/arm/mps2.c`: "lan9118" at 0x40200000, interrupt 13; on the real
/// board a LAN9220, register-compatible).
pub const LAN9118_BASE: usize = 0x4020_0000;

/// Size of the controller's register window (QEMU `lan9118-mmio`, 0x100).
pub const LAN9118_WINDOW: usize = 0x100;

static TAKEN: AtomicBool = AtomicBool::new(false);

/// Exclusive access to the LAN9118 register window.
#[derive(Debug)]
pub struct Lan9118Window {
    _private: (),
}

impl Lan9118Window {
    /// The window, the first time only (`None` afterwards), so that one
    /// driver owns the controller.
    pub fn take() -> Option<Self> {
        if TAKEN.swap(true, Ordering::AcqRel) {
            None
        } else {
            Some(Self { _private: () })
        }
    }

    /// The address of `offset`, if it is a word inside the window.
    fn address(offset: usize) -> Option<usize> {
        (offset < LAN9118_WINDOW && offset.is_multiple_of(4))
            .then(|| LAN9118_BASE.wrapping_add(offset))
    }

    /// Reads the 32-bit register at `offset` (0 for an offset outside the
    /// window). Reading a FIFO port pops the FIFO.
    pub fn read(&mut self, offset: usize) -> u32 {
        match Self::address(offset) {
            // SAFETY: the address is word-aligned and inside the LAN9118's
            // register window, which is device memory on this board (not
            // RAM that Rust objects live in); `self` proves exclusive
            // ownership of the window, so there are no concurrent users.
            Some(addr) => unsafe { core::ptr::read_volatile(addr as *const u32) },
            None => 0,
        }
    }

    /// Writes the 32-bit register at `offset` (ignored outside the window).
    pub fn write(&mut self, offset: usize, value: u32) {
        if let Some(addr) = Self::address(offset) {
            // SAFETY: as in `read`: an aligned device register inside the
            // window that `self` owns exclusively.
            unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
        }
    }
}
