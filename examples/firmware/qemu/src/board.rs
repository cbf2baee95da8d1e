//! The mps2-an385 board as this firmware uses it: a millisecond clock from
//! SysTick, sleeping until a deadline, the semihosting command line, and
//! exiting QEMU with a status code.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;

/// The CPU clock of QEMU's MPS2 boards (`SYSCLK_FRQ` in `hw/arm/mps2.c`),
/// which SysTick counts with its processor clock source.
pub const SYSCLK_HZ: u32 = 25_000_000;

/// SysTick reload for one interrupt per millisecond.
const TICKS_PER_MS: u32 = SYSCLK_HZ / 1000;

/// Milliseconds since [`Clock::start`], counted by the SysTick handler
/// (wraps after 49 days; [`Clock::now_ms`] extends it to 64 bits).
static MILLIS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    MILLIS.fetch_add(1, Ordering::Relaxed);
}

/// A millisecond clock driven by the SysTick interrupt.
#[derive(Debug)]
pub struct Clock {
    last: u32,
    high: u64,
}

impl Clock {
    /// Starts SysTick at one interrupt per millisecond.
    pub fn start(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(TICKS_PER_MS.saturating_sub(1));
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Self { last: 0, high: 0 }
    }

    /// Milliseconds since [`Clock::start`].
    pub fn now_ms(&mut self) -> u64 {
        let now = MILLIS.load(Ordering::Relaxed);
        if now < self.last {
            self.high = self.high.wrapping_add(1 << 32);
        }
        self.last = now;
        self.high | u64::from(now)
    }

    /// The clock as smoltcp's instant.
    pub fn now(&mut self) -> smoltcp::time::Instant {
        smoltcp::time::Instant::from_millis(i64::try_from(self.now_ms()).unwrap_or(i64::MAX))
    }

    /// Sleeps until `deadline` (or for at most `max_ms` milliseconds) unless
    /// `wake` reports work first (a frame waiting in the NIC). `wfi` sleeps
    /// until the next interrupt; SysTick interrupts every millisecond, so
    /// `wake` is asked at least that often.
    pub fn sleep_until(
        &mut self,
        deadline: Option<smoltcp::time::Instant>,
        max_ms: u64,
        mut wake: impl FnMut() -> bool,
    ) {
        let now = self.now_ms();
        let limit = now.saturating_add(max_ms);
        let until = deadline
            .and_then(|d| u64::try_from(d.total_millis()).ok())
            .map_or(limit, |d| d.min(limit));
        // Each pass sleeps about one millisecond: bounded by `max_ms`.
        for _ in 0..=max_ms {
            if self.now_ms() >= until || wake() {
                return;
            }
            cortex_m::asm::wfi();
        }
    }
}

defmt::timestamp!("{=u32:ms}", MILLIS.load(Ordering::Relaxed));

/// Ends the QEMU run with `code` as QEMU's exit status (semihosting
/// `SYS_EXIT_EXTENDED`).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

/// The command-line value `key=value` that QEMU passed by semihosting
/// (`-semihosting-config enable=on,arg=<program>,arg=<key>=<value>`, or the
/// `-kernel` path followed by `-append`), parsed by `parse`.
fn arg<T>(key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let args = semihosting::experimental::env::args::<256>().ok()?;
    for arg in &args {
        let Ok(arg) = arg else { continue };
        if let Some((k, v)) = arg.split_once('=')
            && k == key
        {
            return parse(v);
        }
    }
    None
}

/// The command-line value of `key` as a number (see [`arg`]).
pub fn arg_u16(key: &str) -> Option<u16> {
    arg(key, |v| v.parse().ok())
}

/// The command-line value of `key` as 32 bytes in 64 hexadecimal digits
/// (see [`arg`]).
pub fn arg_hex32(key: &str) -> Option<[u8; 32]> {
    arg(key, |v| {
        let mut out = [0u8; 32];
        if v.len() != 64 {
            return None;
        }
        for (byte, pair) in out.iter_mut().zip(v.as_bytes().chunks_exact(2)) {
            let text = core::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(text, 16).ok()?;
        }
        Some(out)
    })
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    exit(101)
}

#[defmt::panic_handler]
fn defmt_panic() -> ! {
    exit(101)
}
