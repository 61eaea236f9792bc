//! Shared by the integration tests: the vector files and deterministic RNGs.
#![allow(dead_code)]

use std::convert::Infallible;
use std::path::PathBuf;

use rand_core::{TryCryptoRng, TryRng};
use serde_json::Value;

/// The repository's `tests/vectors`, or `$PSSST_VECTORS_DIR` if set.
/// A missing file fails the test loudly: the vectors are not optional.
pub fn load_vectors(name: &str) -> Value {
    let dir = std::env::var_os("PSSST_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors"));
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read test vectors {}: {e} (set PSSST_VECTORS_DIR)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("vector file is valid JSON")
}

pub fn hex(value: &Value) -> Vec<u8> {
    let s = value.as_str().expect("hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

pub fn hex32(value: &Value) -> [u8; 32] {
    hex(value).try_into().expect("32 bytes")
}

/// Hands out exactly the bytes it was given, then fails: a test that draws
/// more randomness than expected is caught.
pub struct ScriptedRng(pub Vec<u8>);

#[derive(Debug)]
pub struct Exhausted;

impl core::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("scripted RNG exhausted")
    }
}
impl core::error::Error for Exhausted {}

impl TryRng for ScriptedRng {
    type Error = Exhausted;
    fn try_next_u32(&mut self) -> Result<u32, Exhausted> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Exhausted> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Exhausted> {
        if dst.len() > self.0.len() {
            return Err(Exhausted);
        }
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl TryCryptoRng for ScriptedRng {}

/// The vector generator's RNG: SHA-256(seed || be64(counter)) blocks.
pub struct Sha256CounterRng {
    seed: Vec<u8>,
    counter: u64,
    buffered: Vec<u8>,
}

impl Sha256CounterRng {
    pub fn new(seed: &str) -> Self {
        Sha256CounterRng {
            seed: seed.as_bytes().to_vec(),
            counter: 0,
            buffered: Vec::new(),
        }
    }
}

impl TryRng for Sha256CounterRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        use sha2::Digest;
        while self.buffered.len() < dst.len() {
            let mut h = sha2::Sha256::new();
            h.update(&self.seed);
            h.update(self.counter.to_be_bytes());
            self.counter += 1;
            self.buffered.extend_from_slice(&h.finalize());
        }
        let rest = self.buffered.split_off(dst.len());
        dst.copy_from_slice(&self.buffered);
        self.buffered = rest;
        Ok(())
    }
}
impl TryCryptoRng for Sha256CounterRng {}

/// An RNG that always fails.
pub struct FailingRng;

impl TryRng for FailingRng {
    type Error = Exhausted;
    fn try_next_u32(&mut self) -> Result<u32, Exhausted> {
        Err(Exhausted)
    }
    fn try_next_u64(&mut self) -> Result<u64, Exhausted> {
        Err(Exhausted)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Exhausted> {
        Err(Exhausted)
    }
}
impl TryCryptoRng for FailingRng {}
