//! A DEALER socket with the NULL mechanism and a monitor, driven the way an
//! adapter would (see the library): the size report's measure of the core.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_halt as _;
use zmtp_core::SocketType;
use zmtp_core::conn::Config;

#[entry]
fn main() -> ! {
    zmtp_firmware::run(Config::new(SocketType::Dealer), |_, _| {})
}
