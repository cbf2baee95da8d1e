//! The empty firmware the size report subtracts: reset handler, vector
//! table, panic handler, and a loop that reads and writes volatile data so
//! the comparison binary's I/O skeleton is the same.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use panic_halt as _;

#[entry]
fn main() -> ! {
    let mut input = [0u8; 64];
    loop {
        let n = black_box(&mut input).len();
        black_box(n);
    }
}
