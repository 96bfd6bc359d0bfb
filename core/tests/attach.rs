//! The trust boundary: attach on bad regions and random or adversarial headers,
//! and readers and a producer on damaged records. Only typed errors or
//! well-formed messages; no panic, no out-of-bounds access, no hang.

mod common;

use common::{boxed, Rng};
use shmcast::layout::{self, field, ring_size};
use shmcast::{
    AttachError, Batch, Continuation, CreateError, InlineRegion, Read, Region, Ring, RingConfig,
    Start,
};
use std::ptr::NonNull;

const CAP: usize = 1024;
const SIZE: usize = ring_size(CAP, 2);

/// A window into another region, to make misaligned and short regions.
struct Window<'a, R: Region> {
    inner: &'a R,
    offset: usize,
    len: usize,
}

// SAFETY: the window lies inside `inner` (offset + len <= inner.size() is
// asserted by `window`), which upholds the contract for 'a.
unsafe impl<R: Region> Region for Window<'_, R> {
    fn base(&self) -> NonNull<u8> {
        // SAFETY: offset <= inner.size(), so the result is in (or one past) the region.
        unsafe { self.inner.base().add(self.offset) }
    }
    fn size(&self) -> usize {
        self.len
    }
}

fn window<R: Region>(inner: &R, offset: usize, len: usize) -> Window<'_, R> {
    assert!(offset + len <= inner.size());
    Window { inner, offset, len }
}

/// Overwrite the header word at `offset` (single-threaded tests only).
fn poke<const N: usize>(region: &InlineRegion<N>, offset: usize, value: u64) {
    assert!(offset + 8 <= N && offset.is_multiple_of(8));
    let p = region.base().as_ptr().wrapping_add(offset).cast::<u64>();
    // SAFETY: in bounds and aligned (asserted; base is 128-aligned); no other
    // thread touches the region during these tests; UnsafeCell-backed bytes.
    unsafe { p.write(value.to_le()) }
}

/// Move a ring's positions `far` bytes on, to the same ring offsets: the
/// tail, the intent and `latest` as `status` has them, and the head to
/// `head`.
fn move_on<const N: usize>(
    region: &InlineRegion<N>,
    status: &shmcast::Status,
    far: u64,
    head: u64,
) {
    poke(region, field::TAIL, status.tail + far);
    poke(region, field::TAIL_INTENT, status.tail_intent + far);
    poke(region, field::LATEST, status.latest + far);
    poke(region, field::HEAD, head);
}

fn peek_word<const N: usize>(region: &InlineRegion<N>, offset: usize) -> u64 {
    let p = region.base().as_ptr().wrapping_add(offset).cast::<u64>();
    // SAFETY: as in `poke`.
    unsafe { u64::from_le(p.read()) }
}

#[test]
fn bad_regions_are_refused() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let w = window(&*region, 8, SIZE - 8);
    assert!(matches!(
        Ring::create(&w, &cfg),
        Err(CreateError::Misaligned { .. })
    ));
    assert!(matches!(
        Ring::attach(&w),
        Err(AttachError::Misaligned { .. })
    ));
    let short = window(&*region, 0, SIZE - 8);
    assert_eq!(
        Ring::create(&short, &cfg).unwrap_err(),
        CreateError::TooSmall {
            needed: SIZE as u64,
            actual: SIZE as u64 - 8
        }
    );
    let tiny = window(&*region, 0, 64);
    assert!(matches!(
        Ring::attach(&tiny),
        Err(AttachError::TooSmall { .. })
    ));
    assert_eq!(
        Ring::attach(&*region).unwrap_err(),
        AttachError::NotInitialised
    );
    assert!(matches!(
        Ring::create(&*region, &RingConfig::new(1000)),
        Err(CreateError::BadCapacity { capacity: 1000 })
    ));
    assert!(matches!(
        Ring::create(&*region, &RingConfig::new(CAP).max_message(CAP)),
        Err(CreateError::BadMaxMessage { .. })
    ));
    assert!(matches!(
        Ring::create(&*region, &RingConfig::new(CAP).slots(5000)),
        Err(CreateError::TooManySlots { .. })
    ));
    // A good ring in a region too short for what its header says.
    Ring::create(&*region, &cfg).unwrap();
    assert!(matches!(
        Ring::attach(&short),
        Err(AttachError::TooSmall { .. })
    ));
    assert!(Ring::attach(&*region).is_ok());
}

#[test]
fn every_header_field_is_checked() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let cases: &[(usize, u64)] = &[
        (field::VERSION, layout::LAYOUT_VERSION + 1),
        (field::FLAGS, 0x80),
        (field::CAPACITY, 1000),
        (field::CAPACITY, 2048),
        (field::CAPACITY, 0),
        (field::MAX_MESSAGE, u64::MAX),
        (field::SLOT_COUNT, 3),
        (field::SLOT_COUNT, u64::MAX),
        (field::DATA_OFFSET, 0),
        (field::TOTAL_SIZE, u64::MAX),
        (field::TAIL, 7),
        (field::TAIL_INTENT, 0),
    ];
    for &(offset, value) in cases {
        Ring::create(&*region, &cfg)
            .unwrap()
            .writer()
            .unwrap()
            .write(b"x")
            .unwrap();
        poke(&region, offset, value);
        let err = Ring::attach(&*region).unwrap_err();
        // Every error says what is wrong in words.
        assert!(!err.to_string().is_empty());
        if offset == field::VERSION {
            assert_eq!(
                err,
                AttachError::Version {
                    found: layout::LAYOUT_VERSION + 1,
                    supported: layout::LAYOUT_VERSION
                }
            );
        }
    }
}

/// Read at most `n` times; every message must be within bounds.
fn drain(ring: Ring<'_>, n: usize) {
    let mut buf = [0u8; CAP];
    for start in [Start::Tail, Start::Latest, Start::Oldest, Start::Seq(3)] {
        let Ok(mut r) = ring.reader(start) else {
            continue;
        };
        for _ in 0..n {
            match r.try_read(&mut buf) {
                Ok(Read::Message(m)) => assert!(m.len <= ring.max_message()),
                Ok(Read::Empty) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let mut batches = r.clone();
        for _ in 0..n {
            match batches.try_read_batch(&mut buf) {
                Ok(Batch::Messages(batch)) => {
                    for (m, payload) in batch {
                        assert!(m.len <= ring.max_message() && m.len == payload.len());
                    }
                }
                Ok(Batch::Empty) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = r.pending().take(n).count();
    }
    let _ = ring.status();
}

#[test]
fn random_headers_give_errors_or_valid_rings() {
    let region = boxed::<SIZE>();
    let mut rng = Rng(7);
    let n = if cfg!(miri) { 20 } else { 20_000 };
    let mut attached = 0;
    for i in 0..n {
        // Random words, mostly with a valid magic and version so deeper checks run.
        for off in (0..layout::HEADER_SIZE).step_by(8) {
            poke(
                &region,
                off,
                rng.next() & [u64::MAX, 0xFFFF, 0x7FFF_FFF8][i % 3],
            );
        }
        if i % 4 != 0 {
            poke(&region, field::MAGIC, layout::MAGIC);
            poke(&region, field::VERSION, layout::LAYOUT_VERSION);
            poke(&region, field::FLAGS, rng.below(2));
            poke(&region, field::CAPACITY, 1 << (6 + rng.below(5)));
            poke(&region, field::SLOT_COUNT, rng.below(3));
            let slots = peek_word(&region, field::SLOT_COUNT) as usize;
            let cap = peek_word(&region, field::CAPACITY);
            poke(&region, field::MAX_MESSAGE, rng.below(cap / 2));
            poke(
                &region,
                field::DATA_OFFSET,
                layout::data_offset(slots) as u64,
            );
            poke(
                &region,
                field::TOTAL_SIZE,
                layout::data_offset(slots) as u64 + cap,
            );
        }
        if let Ok(ring) = Ring::attach(&*region) {
            attached += 1;
            drain(ring, 8);
        }
    }
    assert!(attached > 0, "the generator should make some valid headers");
}

#[test]
fn damaged_records_never_panic_readers_or_the_producer() {
    let region = boxed::<SIZE>();
    let mut rng = Rng(99);
    let rounds = if cfg!(miri) { 10 } else { 3_000 };
    let data = layout::data_offset(2);
    for round in 0..rounds {
        let ring = Ring::create(
            &*region,
            &RingConfig::new(CAP).slots(2).checksum(round % 2 == 0),
        )
        .unwrap();
        let mut w = ring.writer().unwrap();
        for i in 0..(rng.below(120)) {
            let len = rng.below(ring.max_message() as u64 + 1) as usize;
            w.write(&vec![i as u8; len]).unwrap();
        }
        // Damage: random words in the data area, sometimes positions too.
        for _ in 0..1 + rng.below(6) {
            let off = data + 8 * rng.below(CAP as u64 / 8) as usize;
            poke(&region, off, rng.next() >> rng.below(64));
        }
        if round % 5 == 0 {
            let f = [field::TAIL, field::TAIL_INTENT, field::HEAD, field::LATEST]
                [rng.below(4) as usize];
            poke(&region, f, rng.next() >> rng.below(64));
        }
        drain(ring, 200);
        // The producer carries on over damage, and so does a successor.
        for _ in 0..50 {
            w.write(&[1; 24]).unwrap();
        }
        std::mem::forget(w);
        if let Ok(ring) = Ring::attach(&*region) {
            let mut w = ring.take_over(if round % 3 == 0 {
                Continuation::Restart
            } else {
                Continuation::Continue
            });
            for _ in 0..50 {
                w.write(&[2; 40]).unwrap();
            }
            drain(ring, 200);
        }
    }
}

#[test]
fn a_reader_after_recreation_gets_an_error_not_a_hang() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let ring = Ring::create(&*region, &cfg).unwrap();
    let mut w = ring.writer().unwrap();
    for _ in 0..10 {
        w.write(b"0123456789").unwrap();
    }
    let mut r = ring.reader(Start::Tail).unwrap();
    drop(w);
    let ring2 = Ring::create(&*region, &cfg).unwrap();
    ring2.writer().unwrap().write(b"new").unwrap();
    let mut buf = [0u8; 64];
    assert!(r.try_read(&mut buf).is_err());
}

/// Found by the `hostile` fuzz target: a head far behind the intent made the
/// producer's head walk take ~2^37 steps on takeover.
#[test]
fn a_head_far_behind_does_not_stall_a_new_producer() {
    let region = boxed::<SIZE>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(2)).unwrap();
    let mut w = ring.writer().unwrap();
    w.write(b"0123456789").unwrap();
    let status = ring.status();
    std::mem::forget(w);
    // Same ring offsets, 2^40 bytes later; head left at 0.
    let far = (1u64 << 40) / CAP as u64 * CAP as u64;
    move_on(&region, &status, far, 0);
    let ring = Ring::attach(&*region).unwrap();
    let mut w = ring.take_over(Continuation::Restart);
    for _ in 0..100 {
        w.write(&[3; 40]).unwrap();
    }
    let mut r = ring.reader(Start::Oldest).unwrap();
    let mut buf = [0u8; 64];
    assert!(r.try_read(&mut buf).is_ok());
}

/// Found by the `hostile` fuzz target: a tail near `u64::MAX` (with a small
/// intent, or none) let a new producer start there and overflow on its next
/// claim.
#[test]
fn a_tail_near_the_end_of_positions_is_treated_as_damage() {
    // The record at ring offset 0 stays valid. First `latest` points at it
    // 2^64 - 1024 and the tail follows it, the intent as the producer left
    // it; then (found later) `latest` is left at 0, the tail 2^64 - 48 and
    // the intent 0, as on a ring never written to.
    let far = u64::MAX - 1023;
    for (latest, tail, intent) in [(far, far + 24, None), (0, u64::MAX - 47, Some(0))] {
        let region = boxed::<SIZE>();
        let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(2)).unwrap();
        ring.writer().unwrap().write(b"x").unwrap();
        poke(&region, field::LATEST, latest);
        poke(&region, field::TAIL, tail);
        if let Some(intent) = intent {
            poke(&region, field::TAIL_INTENT, intent);
        }
        let mut w = ring.take_over(Continuation::Continue);
        for _ in 0..100 {
            w.write(&[5; 40]).unwrap();
        }
        assert!(ring.status().tail < 1 << 62, "{:?}", ring.status());
        let mut r = ring.reader(Start::Oldest).unwrap();
        let mut buf = [0u8; 64];
        assert!(r.try_read(&mut buf).is_ok());
    }
}

/// Found in review: an intent far past the tail was kept by a new producer,
/// and every reader then found itself overwritten (lapped, or unable to
/// join) until the producer caught up with it, 2^40 bytes later.
#[test]
fn an_intent_far_past_the_tail_is_treated_as_damage() {
    let region = boxed::<SIZE>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(2)).unwrap();
    let mut w = ring.writer().unwrap();
    w.write(b"0123456789").unwrap();
    let status = ring.status();
    std::mem::forget(w);
    poke(&region, field::TAIL_INTENT, status.tail + (1 << 40));
    let mut w = ring.take_over(Continuation::Continue);
    assert!(ring.status().tail_intent <= ring.status().tail + CAP as u64);
    let mut r = ring.reader(Start::Tail).unwrap();
    let mut buf = [0u8; 64];
    let mut got = 0;
    for i in 0..20u8 {
        w.write(&[i; 24]).unwrap();
        loop {
            match r.try_read(&mut buf).unwrap() {
                Read::Message(m) => {
                    assert_eq!(&buf[..m.len], &[i; 24]);
                    got += 1;
                    break;
                }
                Read::Restarted { .. } => continue,
                other => panic!("after the takeover: {other:?}"),
            }
        }
    }
    assert_eq!(got, 20);
}

/// Found in review: a lossy reader far along the positions (past 2^63)
/// with the intent damaged to 0 overflowed computing how far a batch may
/// run.
#[test]
fn a_batch_far_along_the_positions_survives_a_zero_intent() {
    let region = boxed::<SIZE>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(2)).unwrap();
    let mut w = ring.writer().unwrap();
    for i in 0..5u8 {
        w.write(&[i; 24]).unwrap();
    }
    let status = ring.status();
    std::mem::forget(w);
    // The same ring offsets, past 2^63.
    let far = (1u64 << 63) / CAP as u64 * CAP as u64;
    move_on(&region, &status, far, status.head + far);
    let mut r = ring.reader(Start::Oldest).unwrap();
    assert!(r.position() >= far);
    poke(&region, field::TAIL_INTENT, 0);
    let mut buf = [0u8; 4 * shmcast::batch_space(24)];
    for _ in 0..4 {
        let _ = r.try_read_batch(&mut buf);
    }
}

/// Found by the `hostile` fuzz target: damaged sequence numbers at the
/// resynchronisation point claimed losses that overflowed the reader's totals.
#[test]
fn damaged_sequence_numbers_cannot_overflow_loss_totals() {
    let region = boxed::<SIZE>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(2)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    r.set_lap_policy(shmcast::LapPolicy::Latest);
    let mut buf = [0u8; 64];
    for round in 0..2u8 {
        for _ in 0..100 {
            w.write(&[round; 40]).unwrap();
        }
        // Damage the seq of the record a lapped reader resumes at.
        let seq_word = layout::data_offset(2) + (ring.status().latest as usize % CAP) + 8;
        let honest = peek_word(&region, seq_word);
        poke(&region, seq_word, u64::MAX - 1);
        assert!(matches!(r.try_read(&mut buf), Ok(Read::Lapped { .. })));
        assert!(r.try_read(&mut buf).unwrap().message().is_some());
        poke(&region, seq_word, honest);
        // A restart marker brings the reader's expectations back down.
        std::mem::forget(w);
        w = ring.take_over(Continuation::Restart);
        assert!(matches!(r.try_read(&mut buf), Ok(Read::Restarted { .. })));
    }
    assert_eq!(r.stats().lost_messages, u64::MAX, "totals saturate");
}

/// A handle rebuilt from a kept `Shape` never re-reads the header's sizes: a
/// peer that scribbles over the whole header after attach gets typed results
/// from every read, never a panic (the Linux adapter relies on this).
#[test]
fn shape_survives_a_scribbled_header() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let shape = {
        let ring = Ring::create(&*region, &cfg).unwrap();
        let mut w = ring.writer().unwrap();
        for i in 0..20u64 {
            w.write(&i.to_le_bytes()).unwrap();
        }
        ring.shape()
    };
    assert_eq!(shape.region_size(), SIZE);
    let mut rng = Rng(0x5ca1_ab1e);
    for _ in 0..200 {
        for off in (0..layout::HEADER_SIZE).step_by(8) {
            poke(&region, off, rng.next());
        }
        let ring = Ring::with_shape(&*region, shape).unwrap();
        assert!(Ring::attach(&*region).is_err());
        for start in [Start::Tail, Start::Oldest] {
            if let Ok(mut r) = ring.reader(start) {
                let mut buf = [0u8; CAP];
                for _ in 0..64 {
                    match r.try_read(&mut buf) {
                        Ok(Read::Empty) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            }
        }
        let _ = ring.status();
    }
    // A region too small for the shape is refused, not trusted.
    let short = window(&*region, 0, SIZE - 8);
    assert!(matches!(
        Ring::with_shape(&short, shape),
        Err(AttachError::TooSmall { .. })
    ));
    let shifted = window(&*region, 8, SIZE - 8);
    assert!(matches!(
        Ring::with_shape(&shifted, shape),
        Err(AttachError::Misaligned { .. })
    ));
}

/// `latest` naming a record past the tail that was never published (a batch
/// staged and never flushed: its first word was never stored). The next
/// producer finds the newest published record by walking from the head and
/// continues the sequence: no restart, no repeated numbers, nothing
/// unpublished delivered.
#[test]
fn takeover_after_a_death_inside_flush_continues_the_stream() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let ring = Ring::create(&*region, &cfg).unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    {
        let mut w = ring.writer().unwrap();
        for i in 0..30u64 {
            w.write(&i.to_le_bytes()).unwrap();
        }
        // Staged, never published: the producer dies with them.
        let tail = ring.status().tail;
        w.stage(0, b"lost one").unwrap();
        w.stage(0, b"lost two").unwrap();
        // And a claim it never finished.
        let mut claim = w.try_claim(8).unwrap();
        claim.put(b"half").unwrap();
        std::mem::forget(claim);
        std::mem::forget(w);
        // ... after it had stored `latest` for them, before `tail`.
        poke(&region, field::LATEST, tail + 24);
    }
    let mut w = ring.take_over(Continuation::Continue);
    assert_eq!(
        w.next_seq(),
        30,
        "the sequence continues after the last published message"
    );
    w.write(b"next").unwrap();
    let mut buf = [0u8; 64];
    let mut seqs = Vec::new();
    loop {
        match r.try_read(&mut buf).unwrap() {
            Read::Message(m) => seqs.push(m.seq),
            Read::Empty => break,
            Read::Lapped { .. } => {}
            other => panic!("a clean continuation, not {other:?}"),
        }
    }
    assert_eq!(seqs.last(), Some(&30));
    assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1), "{seqs:?}");
    assert!(ring.status().latest < ring.status().tail);
}

/// A producer killed inside `flush` after it stored the first word of its
/// batch (so the batch is published: readers may have read it) and before
/// `latest` and `tail`. The next producer goes on after the batch: a reader
/// that read it sees the next message follow, one that had not reads the
/// batch first, and no sequence number is used twice.
#[test]
fn takeover_after_a_death_inside_flush_keeps_the_published_batch() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let ring = Ring::create(&*region, &cfg).unwrap();
    let mut behind = ring.reader(Start::Oldest).unwrap();
    let mut ahead = ring.reader(Start::Oldest).unwrap();
    let mut buf = [0u8; 64];
    {
        let mut w = ring.writer().unwrap();
        for i in 0..10u64 {
            w.write(&i.to_le_bytes()).unwrap();
        }
        let before = ring.status();
        w.stage(0, b"batch 10").unwrap();
        w.stage(0, b"batch 11").unwrap();
        w.flush();
        for seq in 0..12 {
            assert_eq!(
                ahead.try_read(&mut buf).unwrap().message().unwrap().seq,
                seq
            );
        }
        std::mem::forget(w);
        // ... as if it had died before its stores of `latest` and `tail`.
        poke(&region, field::LATEST, before.latest);
        poke(&region, field::TAIL, before.tail);
    }
    let mut w = ring.take_over(Continuation::Continue);
    assert_eq!(w.next_seq(), 12, "the sequence goes on after the batch");
    assert_eq!(
        ring.status().tail,
        ahead.position(),
        "the batch is published"
    );
    w.write(b"next 12").unwrap();
    assert_eq!(ahead.try_read(&mut buf).unwrap().message().unwrap().seq, 12);
    assert_eq!(&buf[..7], b"next 12");
    let mut seqs = Vec::new();
    while let Read::Message(m) = behind.try_read(&mut buf).unwrap() {
        seqs.push(m.seq);
    }
    assert_eq!(seqs, (0..13).collect::<Vec<_>>());
    // A reader joining now finds the batch too.
    let mut late = ring.reader(Start::Seq(10)).unwrap();
    assert_eq!(late.try_read(&mut buf).unwrap().message().unwrap().seq, 10);
    assert_eq!(&buf[..8], b"batch 10");
}

/// Join hints near the end of positions, pointing at a well-formed record
/// (as a scribbling peer could leave them): joins and reads give errors or
/// valid messages, and no position arithmetic overflows.
#[test]
fn join_hints_near_the_end_of_positions_do_not_overflow() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let ring = Ring::create(&*region, &cfg).unwrap();
    ring.writer().unwrap().write(b"x").unwrap();
    let far = u64::MAX - 15;
    // A 0-byte message record in the last 16 bytes of the ring, where `far`
    // lands.
    poke(
        &region,
        layout::data_offset(2) + CAP - 16,
        1 << layout::LEN_BITS,
    );
    poke(&region, field::LATEST, far & !7);
    poke(&region, field::HEAD, far & !7);
    let mut buf = [0u8; 64];
    for start in [Start::Tail, Start::Latest, Start::Oldest, Start::Seq(0)] {
        if let Ok(mut r) = ring.reader(start) {
            for _ in 0..4 {
                let _ = r.try_read(&mut buf);
            }
        }
    }
}

/// An intent that went backwards (a producer that restarted the positions at
/// 0, or damage) means the bytes at a reader's cursor may be a new stream's:
/// the reader must not deliver them as the message it expected there.
#[test]
fn an_intent_gone_backwards_is_never_read_as_the_expected_record() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let ring = Ring::create(&*region, &cfg).unwrap();
    let mut w = ring.writer().unwrap();
    for i in 0..5u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    let mut r = ring.reader(Start::Oldest).unwrap();
    let mut buf = [0u8; 64];
    for seq in 0..2 {
        assert_eq!(r.try_read(&mut buf).unwrap().message().unwrap().seq, seq);
    }
    // The record at the cursor is intact, but the intent now lies below it.
    poke(&region, field::TAIL_INTENT, 16);
    for _ in 0..4 {
        assert!(
            !matches!(r.try_read(&mut buf), Ok(Read::Message(_))),
            "delivered bytes the producer may be rewriting"
        );
    }
}

/// A restart marker carries 8 bytes even where messages may carry fewer
/// (the default limit of a 64-byte ring is 0): readers see the restart, not
/// damage.
#[test]
fn a_restart_marker_fits_the_smallest_ring() {
    let region = boxed::<{ ring_size(64, 0) }>();
    let ring = Ring::create(&*region, &RingConfig::new(64)).unwrap();
    assert_eq!(ring.max_message(), 0);
    let mut r = ring.reader(Start::Tail).unwrap();
    let mut w = ring.writer().unwrap();
    w.write(b"").unwrap();
    drop(w);
    let mut w = ring.writer_with(Continuation::Restart).unwrap();
    w.write(b"").unwrap();
    let mut buf = [0u8; 8];
    assert!(matches!(r.try_read(&mut buf), Ok(Read::Message(_))));
    assert!(matches!(r.try_read(&mut buf), Ok(Read::Restarted { .. })));
    assert!(matches!(r.try_read(&mut buf), Ok(Read::Message(_))));
}

/// A batch staged past a whole ring is published before the head (where
/// readers join) passes the published tail, so joining never finds the
/// head beyond the tail.
#[test]
fn a_batch_larger_than_the_ring_keeps_the_head_behind_the_tail() {
    let region = boxed::<SIZE>();
    let cfg = RingConfig::new(CAP).slots(2);
    let ring = Ring::create(&*region, &cfg).unwrap();
    let mut w = ring.writer().unwrap();
    for i in 0..500u64 {
        w.stage(0, &i.to_le_bytes()).unwrap();
        let s = ring.status();
        assert!(s.head <= s.tail, "head {} past tail {}", s.head, s.tail);
        assert!(ring.reader(Start::Oldest).is_ok());
    }
    w.flush();
    let mut r = ring.reader(Start::Oldest).unwrap();
    let mut buf = [0u8; 8];
    let first = r.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(u64::from_le_bytes(buf), first.seq);
}
