//! A deterministic RNG for tests only: SHA-256 in counter mode over a seed.
//! QEMU's machines have no TRNG; a real device must use its own (see
//! docs/embedded.md: never reuse an ephemeral).

use core::convert::Infallible;

use pssst_core::rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};

/// SHA-256(seed || be64(counter)) blocks, one after another.
#[derive(Debug)]
pub struct TestRng {
    seed: [u8; 32],
    counter: u64,
}

impl TestRng {
    /// From any seed (hashed to 32 bytes).
    pub fn new(seed: &[u8]) -> TestRng {
        TestRng {
            seed: Sha256::digest(seed).into(),
            counter: 0,
        }
    }
}

impl TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(32) {
            let block = Sha256::new()
                .chain_update(self.seed)
                .chain_update(self.counter.to_be_bytes())
                .finalize();
            self.counter += 1;
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}

/// Yields the 32 bytes it was given, once: a known-answer case's ephemeral.
#[derive(Debug)]
pub struct OnceRng(pub Option<[u8; 32]>);

/// The known answer was asked for twice, or for other than 32 bytes.
#[derive(Debug)]
pub struct Exhausted;

impl core::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the known-answer RNG was already used")
    }
}

impl core::error::Error for Exhausted {}

impl TryRng for OnceRng {
    type Error = Exhausted;

    fn try_next_u32(&mut self) -> Result<u32, Exhausted> {
        Err(Exhausted)
    }

    fn try_next_u64(&mut self) -> Result<u64, Exhausted> {
        Err(Exhausted)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Exhausted> {
        match self.0.take() {
            Some(bytes) if dst.len() == 32 => {
                dst.copy_from_slice(&bytes);
                Ok(())
            }
            _ => Err(Exhausted),
        }
    }
}

impl TryCryptoRng for OnceRng {}
