//! The in-place API allocates nothing per transaction: a counting global
//! allocator proves it. (One test per binary, so no other thread allocates.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use pssst_core::{CipherSuite, Client, PrivateKey, Server};

struct CountingAllocator;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
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

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for client in clients.iter().flatten() {
        for _ in 0..20 {
            let (n, mut client_handler) = client.pack_request_into(&[7; 64], &mut request).unwrap();
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
    let allocations = ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert_eq!(
        allocations, 0,
        "the in-place API allocated {allocations} times"
    );
}
