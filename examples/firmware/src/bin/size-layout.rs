//! Not run: its statics' sizes tell the size report how much RAM each part
//! of a socket takes on this target (read from the symbol table).
#![no_std]
#![no_main]

use core::mem::size_of;
use cortex_m_rt::entry;
use panic_halt as _;
use zmtp_core::conn::Connection;
use zmtp_core::monitor::MonitorEvent;
use zmtp_core::socket::Socket;

/// One connection's state (its rx/tx buffers are extra, caller-provided).
#[used]
static ZMTP_LAYOUT_CONNECTION: [u8; size_of::<Connection<'static>>()] =
    [0; size_of::<Connection<'static>>()];
/// A DEALER socket with one peer slot and an 8-event monitor queue.
#[used]
static ZMTP_LAYOUT_SOCKET_1: [u8; size_of::<Socket<'static, 1, 8, 48>>()] =
    [0; size_of::<Socket<'static, 1, 8, 48>>()];
/// The same with two peer slots: the difference is one peer slot.
#[used]
static ZMTP_LAYOUT_SOCKET_2: [u8; size_of::<Socket<'static, 2, 8, 48>>()] =
    [0; size_of::<Socket<'static, 2, 8, 48>>()];
/// One queued monitor event with 48-byte endpoint strings.
#[used]
static ZMTP_LAYOUT_MONITOR_EVENT: [u8; size_of::<MonitorEvent<48>>()] =
    [0; size_of::<MonitorEvent<48>>()];

#[entry]
fn main() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
