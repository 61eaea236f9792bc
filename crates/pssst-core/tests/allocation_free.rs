//! The in-place API allocates nothing per transaction: a counting global
//! allocator proves it. It counts only the thread that runs the measured
//! code: the test harness's main thread still allocates for its own
//! bookkeeping while a test runs, and counting every thread made this test
//! fail by chance (issue 27).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pssst_core::{CipherSuite, Client, PrivateKey, Server};

struct CountingAllocator;

thread_local! {
    // `const` and `Copy`: using them neither allocates nor registers a
    // destructor. Both per thread: tests measuring at once on other
    // threads must not see each other's allocations.
    static COUNTING_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Runs `measured` on this thread and returns how many allocations this
/// thread made meanwhile (other threads' allocations are not counted).
fn allocations_during(measured: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.get();
    COUNTING_THIS_THREAD.set(true);
    measured();
    COUNTING_THIS_THREAD.set(false);
    ALLOCATIONS.get() - before
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING_THIS_THREAD.get() {
            ALLOCATIONS.set(ALLOCATIONS.get() + 1);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn in_place_transactions_allocate_nothing() {
    let server_private = PrivateKey::from_bytes([1; 32]);
    let server_public = server_private.public_key();
    let server = Server::new(server_private);
    let clients = CipherSuite::ALL.map(|suite| {
        [
            Client::new(server_public).unwrap().with_suite(suite),
            Client::with_client_auth(server_public, &PrivateKey::from_bytes([2; 32]))
                .unwrap()
                .with_suite(suite),
        ]
    });
    let mut request = [0u8; 256];
    let mut reply = [0u8; 256];
    let mut plaintext = [0u8; 256];
    let mut rng = getrandom::SysRng;
    // Warm up anything lazily initialised (CPU feature detection, RNG).
    let _ = clients[0][0]
        .pack_request_into_with_rng(b"warm-up", &mut request, &mut rng)
        .unwrap();

    let allocations = allocations_during(|| {
        for client in clients.iter().flatten() {
            for _ in 0..20 {
                let (n, mut client_handler) =
                    client.pack_request_into(&[7; 64], &mut request).unwrap();
                let incoming = server.unpack_request_in_place(&mut request[..n]).unwrap();
                assert_eq!(&incoming.message[..], &[7; 64]);
                let server_handler = incoming.reply_handler;
                let m = server_handler
                    .pack_reply_into(&[9; 64], &mut reply)
                    .unwrap();
                let message = client_handler
                    .unpack_reply_in_place(&mut reply[..m])
                    .unwrap();
                assert_eq!(&message[..], &[9; 64]);

                let (n, _) = client.pack_request_into(&[7; 64], &mut request).unwrap();
                let unpacked = server
                    .unpack_request_into(&request[..n], &mut plaintext)
                    .unwrap();
                assert_eq!(unpacked.message, &[7; 64]);
            }
        }
    });
    assert_eq!(
        allocations, 0,
        "the in-place API allocated {allocations} times"
    );
}

#[test]
fn the_counter_sees_this_threads_allocations_and_no_other_threads() {
    let own = allocations_during(|| drop(std::hint::black_box(Box::new([0u8; 64]))));
    assert!(
        own >= 1,
        "an allocation on the measured thread was not counted"
    );
    const OTHER_THREADS_ALLOCATIONS: usize = 1000;
    let counted = allocations_during(|| {
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..OTHER_THREADS_ALLOCATIONS {
                    drop(std::hint::black_box(Box::new([0u8; 64])));
                }
            });
        })
    });
    // Spawning makes a few allocations on this thread; the other thread's
    // thousand must not be among them.
    assert!(
        counted < OTHER_THREADS_ALLOCATIONS,
        "another thread's allocations were counted ({counted})"
    );
}
