//! The semihosting console and exit status, per core. QEMU's exit status is
//! the firmware's verdict.

use core::fmt;

/// Prints to the host's console (QEMU's stdout).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::board::print(format_args!($($arg)*)) };
}

#[cfg(target_arch = "arm")]
pub fn print(args: fmt::Arguments) {
    cortex_m_semihosting::hprint!("{}", args);
}

#[cfg(target_arch = "riscv32")]
pub fn print(args: fmt::Arguments) {
    riscv_semihosting::hprint!("{}", args);
}

/// Ends the emulation: exit status 0 when `ok`, 1 otherwise.
pub fn exit(ok: bool) -> ! {
    #[cfg(target_arch = "arm")]
    use cortex_m_semihosting::debug;
    #[cfg(target_arch = "riscv32")]
    use riscv_semihosting::debug;
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say!("PANIC: {info}\n");
    exit(false)
}
