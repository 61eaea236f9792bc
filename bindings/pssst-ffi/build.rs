//! Gives libpssst.so its SONAME, so programs linked against it record
//! `libpssst.so.0` and keep working across compatible upgrades.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpssst.so.0");
    }
}
