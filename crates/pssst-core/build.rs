//! Tells the `cortex-m4-asm` backend whether the target has the Cortex-M4's
//! DSP instructions (UMAAL): rustc's cfg does not say, the target name does.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(pssst_cortex_m4)");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em") || target.starts_with("thumbv8m.main") {
        println!("cargo::rustc-cfg=pssst_cortex_m4");
    }
}
