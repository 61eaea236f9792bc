//! X25519 takes the same number of instructions whatever its scalar and
//! point: the device build's compiler tuning on RISC-V (devices/.cargo/
//! config.toml) lets LLVM turn selects into short branches, which on a
//! secret would leak through timing. Run under QEMU `-icount shift=0` (one
//! instruction per ns, so `minstret` counts instructions exactly); prints
//! every count and "0 failures" when each operation's counts are all equal.
#![no_std]
#![no_main]

use pssst_core::backend;
use pssst_core::rand_core::TryRng;
use pssst_firmware::meter;
use pssst_firmware::test_rng::TestRng;
use pssst_firmware::{board, say};

const SCALARS: usize = 6;
const POINTS: usize = 6;

/// 32 bytes from `rng` (the test RNG cannot fail).
fn random_bytes(rng: &mut TestRng) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rng.try_fill_bytes(&mut bytes)
        .unwrap_or_else(|_| board::exit(false));
    bytes
}

/// Whether every count is the same; prints them under `name`.
fn all_equal(name: &str, counts: &[u32]) -> bool {
    for count in counts {
        say!("{name} {count}\n");
    }
    counts.iter().all(|&count| count == counts[0])
}

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    meter::start();
    let mut failures = 0;
    // Without -icount the counter is not an instruction count: say so. (The
    // meter's call adds a few instructions to the loop's 2,000,000.)
    let ((), calibration) = meter::measure(|| meter::spin(1_000_000));
    if !(2_000_000..2_000_064).contains(&calibration.instructions) {
        say!(
            "FAIL: the calibration loop counted {} instructions, not 2000000 (QEMU without -icount shift=0?)\n",
            calibration.instructions
        );
        failures += 1;
    }

    let mut rng = TestRng::new(b"constant-time");
    // Scalars of every bit pattern (X25519 clamps them: the ladder sees
    // bits 254..3), and points in and outside the canonical range.
    let scalars: [[u8; 32]; SCALARS] = [
        [0x00; 32],
        [0xFF; 32],
        [0x55; 32],
        [0xAA; 32],
        random_bytes(&mut rng),
        random_bytes(&mut rng),
    ];
    let points: [[u8; 32]; POINTS] = [
        backend::x25519_base(&random_bytes(&mut rng)),
        backend::x25519_base(&random_bytes(&mut rng)),
        [0xFF; 32],
        random_bytes(&mut rng),
        random_bytes(&mut rng),
        {
            let mut nine = [0u8; 32];
            nine[0] = 9;
            nine
        },
    ];

    let mut by_scalar = [0u32; SCALARS];
    let mut by_base_scalar = [0u32; SCALARS];
    for (scalar, (count, base_count)) in scalars
        .iter()
        .zip(by_scalar.iter_mut().zip(by_base_scalar.iter_mut()))
    {
        let (shared, cost) = meter::measure(|| backend::x25519(scalar, &points[0]));
        failures += usize::from(shared.is_err());
        *count = cost.instructions;
        *base_count = meter::measure(|| backend::x25519_base(scalar))
            .1
            .instructions;
    }
    let mut by_point = [0u32; POINTS];
    for (point, count) in points.iter().zip(by_point.iter_mut()) {
        let (shared, cost) = meter::measure(|| backend::x25519(&scalars[4], point));
        failures += usize::from(shared.is_err());
        *count = cost.instructions;
    }
    for (name, counts) in [
        ("x25519_by_scalar", &by_scalar[..]),
        ("x25519_by_point", &by_point[..]),
        ("x25519_base_by_scalar", &by_base_scalar[..]),
    ] {
        if !all_equal(name, counts) {
            say!("FAIL: {name}: the counts differ\n");
            failures += 1;
        }
    }
    say!("{failures} failures\n");
    board::exit(failures == 0)
}
