//! UART0 of QEMU's mps2-an386 (an Arm CMSDK APB UART), polled, with the
//! relay's framing: a 2-byte big-endian length, then that many bytes.

use core::ptr::{read_volatile, write_volatile};

const BASE: usize = 0x4000_4000;
const DATA: *mut u32 = BASE as *mut u32;
const STATE: *mut u32 = (BASE + 0x4) as *mut u32;
const CTRL: *mut u32 = (BASE + 0x8) as *mut u32;
const BAUDDIV: *mut u32 = (BASE + 0x10) as *mut u32;
const TX_FULL: u32 = 1;
const RX_FULL: u32 = 2;

/// The serial port to the host relay (tests/device/relay.py).
#[derive(Debug)]
pub struct Uart(());

impl Uart {
    /// Enables transmit and receive (the divider only has to be valid).
    pub fn take() -> Uart {
        // SAFETY: UART0's registers on this machine; only this value
        // touches them, and there is one (the firmware calls take once).
        unsafe {
            write_volatile(BAUDDIV, 16);
            write_volatile(CTRL, 0b11);
        }
        Uart(())
    }

    fn write_byte(&mut self, byte: u8) {
        // SAFETY: UART0's registers (see take).
        unsafe {
            while read_volatile(STATE) & TX_FULL != 0 {}
            write_volatile(DATA, u32::from(byte));
        }
    }

    fn read_byte(&mut self) -> u8 {
        // SAFETY: UART0's registers (see take).
        unsafe {
            while read_volatile(STATE) & RX_FULL == 0 {}
            read_volatile(DATA) as u8
        }
    }

    /// Sends one frame.
    pub fn send(&mut self, frame: &[u8]) {
        let len = u16::try_from(frame.len()).unwrap_or(u16::MAX);
        for byte in len
            .to_be_bytes()
            .into_iter()
            .chain(frame.iter().copied().take(len.into()))
        {
            self.write_byte(byte);
        }
    }

    /// Receives one frame into `buf`; returns its length, or `None` when
    /// it does not fit (the frame is read and dropped).
    pub fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        let len = usize::from(u16::from_be_bytes([self.read_byte(), self.read_byte()]));
        for i in 0..len {
            let byte = self.read_byte();
            if let Some(slot) = buf.get_mut(i) {
                *slot = byte;
            }
        }
        (len <= buf.len()).then_some(len)
    }
}
