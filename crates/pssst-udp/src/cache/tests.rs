use super::*;

fn id(i: u32) -> RequestId {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&i.to_le_bytes());
    RequestId::from_bytes(id)
}

/// Handles request `i` with `reply` if it is new; what a copy gets if not.
fn answer(cache: &ReplyCache, i: u32, reply: &[u8]) -> Lookup {
    match cache.lookup(&id(i)) {
        Lookup::New(reservation) => {
            let verdict = verdict_of(reply);
            reservation.settle(verdict.clone());
            Lookup::Known(Known::Answered(verdict))
        }
        other => other,
    }
}

fn reply_of(lookup: Lookup) -> Option<Box<[u8]>> {
    match lookup {
        Lookup::Known(Known::Answered(Verdict::Reply { packet, .. })) => Some(packet),
        _ => None,
    }
}

fn long_lived(budget: usize) -> ReplyCache {
    ReplyCache::new(budget, Duration::from_secs(60)).unwrap()
}

#[test]
fn a_copy_gets_the_first_verdict() {
    let cache = long_lived(1 << 20);
    assert_eq!(
        reply_of(answer(&cache, 1, b"one")).as_deref(),
        Some(&b"one"[..])
    );
    assert_eq!(
        reply_of(answer(&cache, 1, b"two")).as_deref(),
        Some(&b"one"[..])
    );
    assert!(matches!(cache.peek(&id(1)), Some(Known::Answered(_))));
    assert_eq!(cache.len(), 1);
}

#[test]
fn a_copy_of_a_request_in_progress_is_not_run_again() {
    let cache = long_lived(1 << 20);
    let Lookup::New(reservation) = cache.lookup(&id(1)) else {
        panic!("new")
    };
    assert!(matches!(
        cache.lookup(&id(1)),
        Lookup::Known(Known::InProgress)
    ));
    assert!(matches!(cache.peek(&id(1)), Some(Known::InProgress)));
    reservation.settle(Verdict::Dropped(Counter::NoReply));
    assert!(matches!(
        cache.lookup(&id(1)),
        Lookup::Known(Known::Answered(Verdict::Dropped(Counter::NoReply)))
    ));
}

#[test]
fn replies_past_the_byte_budget_evict_the_oldest_and_their_copies_are_never_run_again() {
    let per_entry = ENTRY_OVERHEAD + 100;
    let cache = long_lived(10 * per_entry);
    // Far more bytes of replies than the budget: every new request is
    // still handled (bytes cannot lock new requests out)...
    for i in 0..1000 {
        assert!(
            reply_of(answer(&cache, i, &[i as u8; 100])).is_some(),
            "{i}"
        );
    }
    assert!(cache.used_bytes() <= 10 * per_entry);
    assert_eq!(cache.len(), 10);
    // ...the newest replies are still sent again as they were...
    for i in 990..1000 {
        assert_eq!(
            reply_of(answer(&cache, i, b"other")).as_deref(),
            Some(&[i as u8; 100][..])
        );
    }
    // ...and a copy of an evicted one gets nothing: never a second run.
    for i in 0..990 {
        assert!(
            matches!(answer(&cache, i, b"other"), Lookup::Known(Known::Forgotten)),
            "{i}"
        );
    }
}

#[test]
fn a_reply_larger_than_the_budget_is_sent_once_and_not_kept() {
    let cache = long_lived(ENTRY_OVERHEAD + 10);
    assert!(reply_of(answer(&cache, 1, &[0; 11])).is_some());
    assert_eq!((cache.len(), cache.used_bytes()), (0, 0));
    assert!(matches!(
        answer(&cache, 1, b"x"),
        Lookup::Known(Known::Forgotten)
    ));
}

#[test]
fn new_requests_past_the_id_capacity_fail_closed() {
    let cache = ReplyCache::new_unchecked(1 << 20, Duration::from_secs(60), 100);
    let mut handled = 0;
    for i in 0..1000 {
        if let Lookup::New(reservation) = cache.lookup(&id(i)) {
            reservation.settle(Verdict::Dropped(Counter::NoReply));
            handled += 1;
        }
    }
    // Two generations of 100, both younger than the TTL.
    assert_eq!(handled, 200);
    // A new id gets no reservation: Full, or for the one in about 60 the
    // full Bloom filters take for answered (a false positive, which `peek`
    // sees too), what a copy gets. Never New.
    let fresh: Vec<u32> = (5000..5100)
        .filter(|&i| cache.peek(&id(i)).is_none())
        .collect();
    assert!(!fresh.is_empty());
    for i in fresh {
        assert!(matches!(cache.lookup(&id(i)), Lookup::Full), "{i}");
    }
    assert!((5000..5100).all(|i| !matches!(cache.lookup(&id(i)), Lookup::New(_))));
    // Every id handled is still known.
    assert!((0..200).all(|i| cache.peek(&id(i)).is_some()));
}

#[test]
fn a_dropped_reservation_forgets_the_request() {
    let cache = long_lived(1 << 20);
    let Lookup::New(reservation) = cache.lookup(&id(1)) else {
        panic!("new")
    };
    drop(reservation);
    assert_eq!((cache.len(), cache.used_bytes()), (0, 0));
    assert!(cache.peek(&id(1)).is_none());
    assert!(matches!(cache.lookup(&id(1)), Lookup::New(_)));
}

#[test]
fn replies_expire_after_the_ttl_and_free_their_bytes() {
    let cache = ReplyCache::new_unchecked(1 << 20, Duration::from_millis(20), 1000);
    answer(&cache, 1, b"one");
    std::thread::sleep(Duration::from_millis(40));
    assert!(matches!(answer(&cache, 2, b"two"), Lookup::Known(_)));
    assert_eq!(cache.len(), 1);
    assert_eq!(cache.used_bytes(), ENTRY_OVERHEAD + 3);
}

#[test]
fn a_verdict_settled_late_is_still_the_only_one() {
    // A handler slower than the TTL: its id stays in progress, so no copy
    // runs it again meanwhile, and its reply is the one copies get.
    let cache = ReplyCache::new_unchecked(1 << 20, Duration::from_millis(20), 1000);
    let Lookup::New(slow) = cache.lookup(&id(1)) else {
        panic!("new")
    };
    std::thread::sleep(Duration::from_millis(40));
    assert!(matches!(
        cache.lookup(&id(1)),
        Lookup::Known(Known::InProgress)
    ));
    slow.settle(verdict_of(b"late"));
    assert_eq!(
        reply_of(answer(&cache, 1, b"again")).as_deref(),
        Some(&b"late"[..])
    );
}

#[test]
fn a_ttl_shorter_than_the_protocols_window_is_refused() {
    let short = ReplyCache::min_ttl() - Duration::from_millis(1);
    assert!(ReplyCache::new(1 << 20, short).is_err());
    assert!(ReplyCache::new(1 << 20, ReplyCache::min_ttl()).is_ok());
    assert!(ReplyCache::min_ttl() > pssst_core::RETRANSMISSION_WINDOW);
    assert!(ReplyCache::min_ttl() >= pssst_core::RetrySchedule::DEFAULT.give_up_after());
}

#[test]
fn the_default_ids_fit_in_a_few_mebibytes() {
    let cache = long_lived(1 << 20);
    assert_eq!(cache.id_capacity(), 3_000_000);
    let mib = cache.id_memory_bytes() as f64 / (1 << 20) as f64;
    assert!(mib < 8.0, "{mib} MiB");
}

fn verdict_of(packet: &[u8]) -> Verdict {
    Verdict::Reply {
        packet: packet.into(),
        key_replies: ReplyCount::default(),
    }
}
