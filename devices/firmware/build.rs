//! Picks the memory map of the QEMU machine (feature) and turns the JSON
//! vectors of tests/vectors into Rust constants: the JSON stays their one owner.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

const BOARDS: [&str; 3] = ["microbit", "mps2-an386", "riscv-virt"];

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    select_memory_map(&manifest, &out);
    let vectors = env::var("PSSST_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest.join("../../tests/vectors"));
    println!("cargo:rerun-if-env-changed=PSSST_VECTORS_DIR");
    fs::write(out.join("vectors.rs"), vectors_rs(&vectors)).unwrap();
    #[cfg(feature = "monocypher")]
    build_monocypher();
}

/// Monocypher's C, compiled by the target's C compiler at -O3 (Rust's
/// opt-level of these firmware), freestanding and without a frame pointer
/// (as rustc builds these targets), for the side-by-side X25519 measurement.
#[cfg(feature = "monocypher")]
fn build_monocypher() {
    println!("cargo:rerun-if-env-changed=MONOCYPHER_SRC");
    let dir = PathBuf::from(env::var("MONOCYPHER_SRC").expect("MONOCYPHER_SRC: Monocypher's src/"));
    cc::Build::new()
        .file(dir.join("monocypher.c"))
        .include(&dir)
        .opt_level(3)
        .debug(false)
        .force_frame_pointer(false)
        .flag("-ffreestanding")
        .flag("-ffunction-sections")
        .flag("-fdata-sections")
        .compile("monocypher");
}

fn select_memory_map(manifest: &Path, out: &Path) {
    let chosen: Vec<&str> = BOARDS
        .into_iter()
        .filter(|board| {
            let var = format!("CARGO_FEATURE_{}", board.to_uppercase().replace('-', "_"));
            env::var_os(var).is_some()
        })
        .collect();
    let [board] = chosen[..] else {
        panic!("enable exactly one board feature of {BOARDS:?}, not {chosen:?}");
    };
    let source = manifest.join("../memory").join(format!("{board}.x"));
    println!("cargo:rerun-if-changed={}", source.display());
    fs::copy(&source, out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    if board == "riscv-virt" {
        println!("cargo:rustc-link-arg=-Tmemory.x");
    }
    println!("cargo:rustc-link-arg=-Tlink.x");
}

fn hex(value: &serde_json::Value) -> Vec<u8> {
    let text = value.as_str().expect("a hex string");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn bytes(value: &serde_json::Value) -> String {
    format!("&{:?}", hex(value))
}

fn key(value: &serde_json::Value) -> String {
    let key = hex(value);
    assert_eq!(key.len(), 32, "a 32-byte key");
    format!("{key:?}")
}

fn optional_key(value: &serde_json::Value) -> String {
    if value.is_null() {
        "None".into()
    } else {
        format!("Some({})", key(value))
    }
}

/// The error each `expected_failure` kind names. A 36..51-byte packet has a
/// DH parameter but no room for a tag: failing its decryption is right too
/// (as in crates/pssst-core/tests/reject.rs).
fn expected(kind: &str, packet_len: usize) -> (&'static str, &'static str) {
    let error = match kind {
        "truncated" => "Truncated",
        "not a request" => "NotRequest",
        "unsupported cipher suite" => "UnsupportedCipherSuite",
        "decryption failed" => "DecryptionFailed",
        "client auth failed" => "ClientAuthFailed",
        "low-order point" => "LowOrderPoint",
        other => panic!("unknown expected_failure kind {other:?}"),
    };
    let also = if kind == "truncated" && (36..52).contains(&packet_len) {
        "DecryptionFailed"
    } else {
        error
    };
    (error, also)
}

fn vectors_rs(dir: &Path) -> String {
    let mut kat = String::new();
    let mut kat_names = String::new();
    let mut reject = String::new();
    for stem in ["suite1", "suiteff01"] {
        let read = |kind: &str| {
            let path = dir.join(format!("{stem}-{kind}.json"));
            println!("cargo:rerun-if-changed={}", path.display());
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            let cases = json["cases"].as_array().unwrap().clone();
            assert!(!cases.is_empty(), "no cases in {path:?}");
            cases
        };
        for case in read("kat") {
            let name = format!("KAT_{stem}_{}", case["id"].as_str().unwrap())
                .to_uppercase()
                .replace('-', "_");
            writeln!(kat_names, "{name},").unwrap();
            writeln!(
                kat,
                "pub const {name}: Kat = Kat {{ id: \"{stem}/{}\", suite: {}, server_private: {}, client_private: {}, \
                 client_public: {}, ephemeral_rng_bytes: {}, request_plaintext: {}, \
                 request_packet: {}, reply_plaintext: {}, reply_packet: {} }};",
                case["id"].as_str().unwrap(),
                case["suite"].as_u64().unwrap(),
                key(&case["server_private"]),
                optional_key(&case["client_private"]),
                optional_key(&case["client_public"]),
                key(&case["ephemeral_rng_bytes"]),
                bytes(&case["request_plaintext"]),
                bytes(&case["request_packet"]),
                bytes(&case["reply_plaintext"]),
                bytes(&case["reply_packet"]),
            )
            .unwrap();
        }
        for case in read("reject") {
            let packet = hex(&case["request_packet"]);
            assert_eq!(packet.len() as u64, case["packet_len"].as_u64().unwrap());
            let (error, also) = expected(case["expected_failure"].as_str().unwrap(), packet.len());
            writeln!(
                reject,
                "Reject {{ id: \"{stem}/{}\", server_private: {}, request_packet: &{packet:?}, \
                 expected: Error::{error}, also_accepted: Error::{also} }},",
                case["id"].as_str().unwrap(),
                key(&case["server_private"]),
            )
            .unwrap();
        }
    }
    format!(
        "// Generated by build.rs from tests/vectors: do not edit.\n\
         {kat}\n\
         pub const KAT: &[Kat] = &[\n{kat_names}];\n\
         pub const REJECT: &[Reject] = &[\n{reject}];\n"
    )
}
