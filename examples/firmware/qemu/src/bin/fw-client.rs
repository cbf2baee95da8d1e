//! Placeholder.
#![no_std]
#![no_main]
use cortex_m_rt::entry;
use zmtp_firmware_qemu as _;
#[entry]
fn main() -> ! {
    zmtp_firmware_qemu::board::exit(0)
}
