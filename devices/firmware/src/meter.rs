//! Instruction counts and peak stack of one call, for devices/measure.sh.
//!
//! Instructions: QEMU run with `-icount shift=0` advances its virtual clock
//! 1 ns per instruction, so a timer of known frequency counts instructions
//! (SysTick on Cortex-M at the machine's CPU clock; `minstret` on RISC-V).
//! Stack: the free stack below the caller is painted with a pattern before
//! the call and scanned for the deepest overwritten word after it.

use core::ptr::{read_volatile, write_volatile};

const PAINT: u32 = 0xA5A5_A5A5;
/// Paint at most this much below the caller (the M0 has 16 KiB of RAM).
const MAX_DEPTH: usize = 12 * 1024;

/// What one call cost.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub instructions: u32,
    pub stack_bytes: u32,
}

#[cfg(target_arch = "arm")]
mod clock {
    use cortex_m::peripheral::syst::SystClkSource;

    /// Instructions per SysTick tick: 1e9 / the machine's CPU clock.
    #[cfg(feature = "microbit")]
    const NS_PER_TICK_X8: u64 = 500; // 16 MHz: 62.5 ns
    #[cfg(feature = "mps2-an386")]
    const NS_PER_TICK_X8: u64 = 320; // 25 MHz: 40 ns

    pub fn start() {
        // SAFETY: only the meter uses SysTick, and the firmware is single-threaded.
        let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
    }

    pub fn now() -> u32 {
        cortex_m::peripheral::SYST::get_current()
    }

    /// Instructions between two readings (SysTick counts down, 24 bits).
    pub fn instructions(start: u32, end: u32) -> u32 {
        let ticks = u64::from(start.wrapping_sub(end) & 0x00FF_FFFF);
        (ticks * NS_PER_TICK_X8 / 8) as u32
    }
}

#[cfg(target_arch = "riscv32")]
mod clock {
    pub fn start() {}

    pub fn now() -> u32 {
        riscv::register::minstret::read() as u32
    }

    pub fn instructions(start: u32, end: u32) -> u32 {
        end.wrapping_sub(start)
    }
}

unsafe extern "C" {
    // End of .bss: the free RAM between it and the stack is what the stack can use.
    #[cfg_attr(target_arch = "arm", link_name = "__ebss")]
    #[cfg_attr(target_arch = "riscv32", link_name = "_ebss")]
    static END_OF_BSS: u32;
}

/// Two instructions a turn, `turns` turns: checks the instruction clock.
pub fn spin(turns: u32) {
    #[cfg(target_arch = "arm")]
    // SAFETY: a register-only countdown loop.
    unsafe {
        core::arch::asm!("1:", "subs r0, #1", "bne 1b", inout("r0") turns => _, options(nomem, nostack));
    }
    #[cfg(target_arch = "riscv32")]
    // SAFETY: a register-only countdown loop.
    unsafe {
        core::arch::asm!("1:", "addi {0}, {0}, -1", "bnez {0}, 1b", inout(reg) turns => _, options(nomem, nostack));
    }
}

/// Starts the clock (once, before the first measurement).
pub fn start() {
    clock::start();
}

/// An address just below the caller's frame: where the callee frames of
/// the caller start.
#[inline(never)]
fn below_caller() -> usize {
    let marker = 0u32;
    core::hint::black_box(core::ptr::addr_of!(marker)) as usize & !3
}

/// Paints `[bottom, top)`. Its own frame (a few saved registers) lies
/// above `top`, which is well below the caller's frame.
#[inline(never)]
fn paint(bottom: usize, top: usize) {
    let mut word = bottom;
    while word < top {
        // SAFETY: free RAM between .bss and the live stack: no frame
        // reaches down there while the meter's caller is the deepest.
        unsafe { write_volatile(word as *mut u32, PAINT) };
        word += 4;
    }
}

/// The lowest word in `[bottom, top)` that is no longer painted.
#[inline(never)]
fn deepest_used(bottom: usize, top: usize) -> usize {
    let mut word = bottom;
    while word < top {
        // SAFETY: as in paint; reading it back.
        if unsafe { read_volatile(word as *const u32) } != PAINT {
            return word;
        }
        word += 4;
    }
    top
}

#[inline(never)]
fn call<R>(f: impl FnOnce() -> R) -> R {
    core::hint::black_box(f())
}

/// Runs `f` once and says what it cost. Stack use below 256 bytes (the
/// unpainted margin for the meter's own frames) reads as 256.
#[inline(never)]
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Cost) {
    let frames = below_caller();
    let top = frames - 256;
    let bottom = (core::ptr::addr_of!(END_OF_BSS) as usize + 4).max(top - MAX_DEPTH);
    paint(bottom, top);
    let start = clock::now();
    let result = call(f);
    let end = clock::now();
    let cost = Cost {
        instructions: clock::instructions(start, end),
        stack_bytes: (frames - deepest_used(bottom, top)) as u32,
    };
    (result, cost)
}
