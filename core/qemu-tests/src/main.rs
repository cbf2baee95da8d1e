//! zmtp-core's two-endpoint scenarios as no_std firmware: two or three
//! sockets linked by in-memory byte pipes on a virtual clock, no allocator,
//! run on QEMU's `microbit` (Cortex-M0, thumbv6m-none-eabi) and
//! `lm3s6965evb` (Cortex-M3, thumbv7m-none-eabi).
//!
//! Output goes over semihosting: `ok <name>` or `FAILED <name>: <why>` per
//! scenario, then `N passed, N failed`; the semihosting exit code is 0 if
//! and only if every scenario passed. A panic prints its message and exits
//! with a failure code.
#![no_std]
#![no_main]

mod harness;
mod scenarios;

use core::panic::PanicInfo;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

#[entry]
fn main() -> ! {
    let mut passed = 0u32;
    let mut failed = 0u32;
    for (name, run) in scenarios::ALL {
        match run() {
            Ok(()) => {
                passed += 1;
                hprintln!("ok {}", name);
            }
            Err(why) => {
                failed += 1;
                hprintln!("FAILED {}: {}", name, why);
            }
        }
    }
    hprintln!("{} passed, {} failed", passed, failed);
    debug::exit(if failed == 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    halt()
}

/// Where the firmware ends if the emulator ignores the exit request.
fn halt() -> ! {
    loop {
        cortex_m::asm::bkpt();
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    hprintln!("PANIC: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    halt()
}
