//! The storage sizes include/pssst_device.h states, per pointer width; each
//! object module proves at compile time that its state fits. Headroom is
//! left so that a dependency update does not change the ABI. A build of one
//! half uses only its own.
#![allow(dead_code)]

#[cfg(target_pointer_width = "32")]
mod width {
    pub const CLIENT: usize = 128;
    pub const CLIENT_REPLY_HANDLER: usize = 336;
    pub const SERVER: usize = 96;
    pub const SERVER_REPLY_HANDLER: usize = 336;
}

#[cfg(target_pointer_width = "64")]
mod width {
    pub const CLIENT: usize = 128;
    pub const CLIENT_REPLY_HANDLER: usize = 624;
    pub const SERVER: usize = 96;
    pub const SERVER_REPLY_HANDLER: usize = 624;
}

pub use width::*;
