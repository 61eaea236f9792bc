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

/// Prints a string, without the formatting machinery (for size builds).
pub fn print_str(text: &str) {
    #[cfg(target_arch = "arm")]
    cortex_m_semihosting::hprint!(text);
    #[cfg(target_arch = "riscv32")]
    riscv_semihosting::hprint!(text);
}

/// Prints a number in decimal, without the formatting machinery.
pub fn print_u32(mut n: u32) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    print_str(core::str::from_utf8(&digits[start..]).unwrap_or("?"));
}

/// A panic is a bug: say so (without formatting its message, which would
/// pull the formatting machinery into every firmware) and fail.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    print_str("PANIC\n");
    exit(false)
}
