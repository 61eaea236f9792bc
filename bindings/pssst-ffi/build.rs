//! Gives libpssst.so its SONAME, so programs linked against it record
//! `libpssst.so.0` and keep working across compatible upgrades.

/// The one place the SONAME's major number is kept: raise it with every
/// incompatible change to the C API. The Makefile reads it from this line.
const SONAME_MAJOR: u32 = 0;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpssst.so.{SONAME_MAJOR}");
    }
}
