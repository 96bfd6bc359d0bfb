//! The protocol conformance suite: one behaviour per function, run against
//! every kind of region (inline, heap, /dev/shm, hugetlbfs) by the crates
//! that provide them, through [`conformance_tests!`](crate::conformance_tests).
//! Enabled by the `conformance` feature (it needs `std`).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::boxed::Box;
use std::ptr::NonNull;
use std::vec;
use std::vec::Vec;

use crate::{
    Continuation, Event, JoinError, LapPolicy, ProducerError, Read, ReadError, Region, Ring,
    RingConfig, Start, WriteError,
};

/// Makes a fresh region big enough for a configuration.
pub type Make<'m> = dyn Fn(&RingConfig) -> Box<dyn Region> + 'm;

const CAP: usize = 1024;

fn ring_cfg() -> RingConfig {
    RingConfig::new(CAP).slots(2)
}

fn read_msg(r: &mut crate::Reader<'_>, buf: &mut [u8]) -> (Vec<u8>, u64, u32) {
    match r.try_read(buf).unwrap() {
        Read::Message(m) => (buf[..m.len].to_vec(), m.seq, m.tag),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// A zeroed heap region aligned for a ring.
#[derive(Debug)]
pub struct HeapRegion {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl HeapRegion {
    /// A zeroed region of `size` bytes (at least one).
    ///
    /// # Panics
    /// If the allocation fails.
    pub fn new(size: usize) -> HeapRegion {
        let layout = Layout::from_size_align(size.max(1), crate::layout::REGION_ALIGN)
            .expect("region layout");
        // SAFETY: the layout's size is at least 1.
        let raw = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).expect("allocation failed");
        HeapRegion { ptr, layout }
    }

    /// A region for `cfg`, boxed for a [`Make`].
    pub fn boxed(cfg: &RingConfig) -> Box<dyn Region> {
        Box::new(HeapRegion::new(cfg.region_size()))
    }
}

impl Drop for HeapRegion {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc_zeroed(layout)` and is freed once, here.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

// SAFETY: the bytes are reached only through `Region::base`, and rings touch
// them only atomically.
unsafe impl Send for HeapRegion {}
// SAFETY: as above.
unsafe impl Sync for HeapRegion {}

// SAFETY: `ptr` is a live allocation of `layout.size()` bytes from the global
// allocator (raw provenance, valid for shared mutation), 128-byte aligned,
// fixed until drop.
unsafe impl Region for HeapRegion {
    fn base(&self) -> NonNull<u8> {
        self.ptr
    }
    fn size(&self) -> usize {
        self.layout.size()
    }
}

/// Conformance case.
pub fn messages_arrive_in_order_with_seq_and_tag(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Tail).unwrap();
    let mut buf = [0u8; 256];
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    for i in 0..100u32 {
        let msg = vec![i as u8; (i % 37) as usize];
        assert_eq!(w.write_tagged(i * 3, &msg).unwrap(), i as u64);
        let (got, seq, tag) = read_msg(&mut r, &mut buf);
        assert_eq!((got, seq, tag), (msg, i as u64, i * 3));
    }
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    assert_eq!(r.stats().messages, 100);
}

/// Conformance case.
pub fn oversize_message_is_an_error(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg().max_message(100)).unwrap();
    let mut w = ring.writer().unwrap();
    assert_eq!(
        w.write(&[0; 101]),
        Err(WriteError::TooLong { len: 101, max: 100 })
    );
    assert!(w.write(&[0; 100]).is_ok());
    assert!(w.claim(usize::MAX).is_err());
}

/// Conformance case.
pub fn dropped_claim_publishes_nothing(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Tail).unwrap();
    let mut buf = [0u8; 256];
    {
        let mut c = w.claim(10).unwrap();
        c.put(b"half").unwrap();
    }
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    // A panic while filling a claim aborts it too.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut c = w.claim(10).unwrap();
        c.put(b"half").unwrap();
        panic!("producer bug");
    }));
    assert!(caught.is_err());
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    assert_eq!(
        w.write(b"whole").unwrap(),
        0,
        "aborted claims use no sequence"
    );
    assert_eq!(read_msg(&mut r, &mut buf).0, b"whole");
}

/// Conformance case.
pub fn claims_fill_by_parts_and_check_bounds(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Tail).unwrap();
    let mut c = w.claim(13).unwrap();
    c.put(b"abc").unwrap();
    c.write_at(9, b"wxyz").unwrap();
    c.put(b"def").unwrap();
    c.fill_from(6, b'.');
    c.write_at(9, b"wxyz").unwrap();
    assert!(c.write_at(10, b"wxyz").is_err());
    assert!(c.put(&[0; 11]).is_err());
    let mut back = [0u8; 13];
    c.read_at(0, &mut back).unwrap();
    assert_eq!(&back, b"abcdef...wxyz");
    c.set_tag(5);
    c.commit();
    let mut buf = [0u8; 64];
    assert_eq!(
        read_msg(&mut r, &mut buf),
        (b"abcdef...wxyz".to_vec(), 0, 5)
    );
}

/// Conformance case.
pub fn staged_records_wait_for_flush(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Tail).unwrap();
    let mut buf = [0u8; 64];
    for i in 0..5u8 {
        w.stage(0, &[i; 3]).unwrap();
    }
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    assert_eq!(r.backlog(), 0, "nothing staged is behind the reader");
    w.flush();
    // Five records of a 16-byte header and 3 bytes padded to 8.
    assert_eq!(r.backlog(), 5 * 24);
    for i in 0..5u8 {
        assert_eq!(read_msg(&mut r, &mut buf).0, vec![i; 3]);
        assert_eq!(r.backlog(), u64::from(4 - i) * 24);
    }
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    // A second batch, under the intent the first one raised: its first
    // record is held back too.
    w.stage(0, &[5; 3]).unwrap();
    w.stage(0, &[6; 3]).unwrap();
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    w.flush();
    assert_eq!(read_msg(&mut r, &mut buf).0, vec![5; 3]);
    assert_eq!(read_msg(&mut r, &mut buf).0, vec![6; 3]);
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
}

/// Conformance case.
pub fn lapped_reader_gets_exact_counts_then_resumes_at_oldest(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    w.set_intent_stride(0);
    let mut r = ring.reader(Start::Oldest).unwrap();
    // 40-byte payloads make 56-byte records: 18 fit in 1024 bytes, then 16 pad.
    for i in 0..100u64 {
        w.write(&[i as u8; 40]).unwrap();
    }
    // Five laps and a half behind: more than the ring holds.
    assert_eq!(r.backlog(), 5 * 1024 + 10 * 56);
    let mut buf = [0u8; 64];
    let Read::Lapped {
        lost_messages,
        lost_bytes,
    } = r.try_read(&mut buf).unwrap()
    else {
        panic!("expected a lap")
    };
    let (msg, seq, _) = read_msg(&mut r, &mut buf);
    assert_eq!(seq, lost_messages, "the gap matches the count");
    assert_eq!(msg, vec![seq as u8; 40]);
    // Record positions: 18 per lap, 1024 bytes a lap.
    let pos = |s: u64| (s / 18) * 1024 + (s % 18) * 56;
    assert_eq!(lost_bytes, pos(seq));
    // Everything after is intact and in order.
    let mut next = seq + 1;
    while let Read::Message(m) = r.try_read(&mut buf).unwrap() {
        assert_eq!(m.seq, next);
        next += 1;
    }
    assert_eq!(next, 100);
    assert_eq!(r.backlog(), 0);
    // The oldest message resumed at is the oldest whole record still in the ring.
    assert!(100 - seq <= 18 && 100 - seq >= 17, "resumed at {seq}");
}

/// Conformance case.
pub fn line_aligned_records_start_on_lines_and_lap_exactly(make: &Make<'_>) {
    let cfg = ring_cfg().line_aligned(true);
    let region = make(&cfg);
    let ring = Ring::create(&*region, &cfg).unwrap();
    let mut w = ring.writer().unwrap();
    w.set_intent_stride(0);
    let mut r = ring.reader(Start::Oldest).unwrap();
    let mut buf = [0u8; 256];
    // Every size from 0 to 200 bytes: each record starts on a line, and the
    // reader waits on the first word of the next line.
    for len in 0..=200usize {
        let msg: Vec<u8> = (0..len).map(|i| (i + len) as u8).collect();
        w.write(&msg).unwrap();
        let (got, seq, _) = read_msg(&mut r, &mut buf);
        assert_eq!((got, seq), (msg, len as u64));
        assert_eq!(r.position() % 64, 0, "after {len} bytes");
        assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    }
    // 40-byte payloads take one line each: 16 a lap, and a lapped reader
    // gets exact counts.
    let base = r.next_seq();
    for i in 0..100u64 {
        w.write(&[i as u8; 40]).unwrap();
    }
    let Read::Lapped { lost_messages, .. } = r.try_read(&mut buf).unwrap() else {
        panic!("expected a lap")
    };
    let (msg, seq, _) = read_msg(&mut r, &mut buf);
    assert_eq!(seq, base + lost_messages, "the gap matches the count");
    assert_eq!(msg, vec![(seq - base) as u8; 40]);
    assert!(base + 100 - seq <= 16, "resumed at {seq}");
    // Another build's view of the same memory: attach keeps the alignment.
    assert!(Ring::attach(&*region).unwrap().line_aligned());
}

/// Conformance case.
pub fn line_aligned_record_ends_stay_zero_over_laps(make: &Make<'_>) {
    // The producer of a line-aligned ring zeroes the words where records
    // will end ahead of itself: over many laps, with aborted claims that
    // wrote over those words, staged batches and a new producer, a reader
    // that keeps up finds each message and then nothing, never a record of
    // an earlier lap.
    let cfg = ring_cfg().line_aligned(true);
    let region = make(&cfg);
    let ring = Ring::create(&*region, &cfg).unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    let mut buf = [0u8; 256];
    let mut seq = 0u64;
    for round in 0..3u64 {
        let mut w = ring.writer_with(Continuation::Continue).unwrap();
        for i in 0..400u64 {
            let len = ((i * 37 + round) % 201) as usize;
            let msg: Vec<u8> = (0..len).map(|b| (b as u64 + seq) as u8 | 1).collect();
            if i % 7 == 3 {
                // Claimed, filled with set bits and dropped: aborted.
                let mut claim = w.claim(200).unwrap();
                claim.fill_from(0, 0xff);
            }
            if i % 11 == 5 {
                w.claim(len).unwrap().stage_with(&msg);
                w.claim(8).unwrap().stage_with(&[7; 8]);
                assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
                w.flush();
                assert_eq!(read_msg(&mut r, &mut buf), (msg, seq, 0));
                assert_eq!(read_msg(&mut r, &mut buf), (vec![7; 8], seq + 1, 0));
                seq += 2;
            } else {
                w.write(&msg).unwrap();
                assert_eq!(
                    read_msg(&mut r, &mut buf),
                    (msg, seq, 0),
                    "round {round}, {i}"
                );
                seq += 1;
            }
            assert_eq!(
                r.try_read(&mut buf).unwrap(),
                Read::Empty,
                "round {round}, {i}"
            );
        }
    }
    assert!(seq > 4 * (CAP as u64 / 64), "the messages lapped the ring");
}

/// Conformance case.
pub fn a_claim_aborted_inside_a_batch_leaves_it_whole(make: &Make<'_>) {
    // Over many laps of packed and line-aligned rings: a batch whose middle
    // claim is filled with set bits and dropped publishes its other records
    // whole, only at the flush, and nothing after them.
    for line_aligned in [false, true] {
        let cfg = ring_cfg().line_aligned(line_aligned);
        let region = make(&cfg);
        let ring = Ring::create(&*region, &cfg).unwrap();
        let mut w = ring.writer().unwrap();
        let mut r = ring.reader(Start::Tail).unwrap();
        let mut buf = [0u8; 256];
        for i in 0..300u64 {
            let len = (i * 29 % 97) as usize;
            let msg: Vec<u8> = (0..len).map(|b| (b as u64 ^ i) as u8 | 1).collect();
            w.claim(len).unwrap().stage_with(&msg);
            let mut aborted = w.claim(120).unwrap();
            aborted.fill_from(0, 0xff);
            drop(aborted);
            w.claim(8).unwrap().stage_with(&i.to_le_bytes());
            assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty, "{i}");
            w.flush();
            assert_eq!(read_msg(&mut r, &mut buf), (msg, 2 * i, 0), "{i}");
            assert_eq!(
                read_msg(&mut r, &mut buf),
                (i.to_le_bytes().to_vec(), 2 * i + 1, 0)
            );
            assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty, "{i}");
        }
    }
}

/// Conformance case.
pub fn latest_policy_skips_to_the_newest(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    r.set_lap_policy(LapPolicy::Latest);
    for i in 0..100u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    let mut buf = [0u8; 64];
    // 24-byte records: 42 a lap (1008 bytes), then 16 bytes of padding.
    assert_eq!(
        r.try_read(&mut buf).unwrap(),
        Read::Lapped {
            lost_messages: 99,
            lost_bytes: (99 / 42) * 1024 + (99 % 42) * 24
        }
    );
    assert_eq!(read_msg(&mut r, &mut buf).1, 99);
}

/// Conformance case.
pub fn fall_behind_tolerance_laps_early(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    w.set_intent_stride(0);
    let mut strict = ring.reader(Start::Oldest).unwrap();
    let mut tolerant = ring.reader(Start::Oldest).unwrap();
    tolerant.set_fall_behind_tolerance(1, 4);
    // 24-byte records: 42 fill 1008 bytes. Write 36 (864 bytes): both still
    // intact, but the tolerant reader is within a quarter of being lapped.
    for i in 0..36u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    let mut buf = [0u8; 8];
    assert_eq!(read_msg(&mut strict, &mut buf).1, 0);
    match tolerant.try_read(&mut buf).unwrap() {
        Read::Lapped { lost_messages, .. } => assert!(lost_messages > 0),
        other => panic!("expected an early lap, got {other:?}"),
    }
}

/// Conformance case: past the first lap, each raise of the intent stops at
/// a record start the producer noted, so the head stands exactly a capacity
/// below the intent (no walk over headers a lap old), the intent clears
/// the record it was raised for by half a stride to a stride, and a reader
/// joining at the head finds the record there whole.
pub fn the_head_moves_onto_noted_record_starts(make: &Make<'_>) {
    for line_aligned in [false, true] {
        let cap = 4096u64;
        // Slices of 64 bytes; a stride of 256 (a sixteenth), whose half
        // always holds a noted start: records are at most 64 bytes.
        let cfg = RingConfig::new(cap as usize)
            .max_message(40)
            .line_aligned(line_aligned);
        let region = make(&cfg);
        let ring = Ring::create(&*region, &cfg).unwrap();
        let mut w = ring.writer().unwrap();
        let stride = 256;
        let mut intent = 0;
        let mut raises = 0;
        let mut buf = [0u8; 40];
        // Message `i`: 0 to 40 bytes, each telling its index and `i`.
        let message = |i: u64| -> Vec<u8> { (0..i * 7 % 41).map(|k| (i ^ k) as u8).collect() };
        for i in 0..2000u64 {
            w.write(&message(i)).unwrap();
            let st = ring.status();
            if st.tail_intent == intent {
                continue;
            }
            intent = st.tail_intent;
            if intent <= cap + stride {
                continue;
            }
            raises += 1;
            let (tail, head) = (st.tail, st.head);
            assert_eq!(head, intent - cap, "message {i}: the head was walked");
            assert!(
                (tail + 8 + stride / 2..=tail + 8 + stride).contains(&intent),
                "message {i}: intent {intent} for a record ending at {tail}"
            );
            let mut r = ring.reader(Start::Oldest).unwrap();
            match r.try_read(&mut buf).unwrap() {
                Read::Message(m) => {
                    assert_eq!(
                        &buf[..m.len],
                        &message(m.seq)[..],
                        "the message at the head"
                    );
                }
                other => panic!("joined at the head: {other:?}"),
            }
        }
        assert!(raises > 50, "only {raises} raises checked");
    }
}

/// Conformance case.
pub fn join_points(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    let mut buf = [0u8; 64];
    // An empty ring: every start waits for message 0.
    for start in [Start::Tail, Start::Latest, Start::Oldest, Start::Seq(0)] {
        let mut r = ring.reader(start).unwrap();
        assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
        assert_eq!(r.next_seq(), 0);
    }
    for i in 0..10u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    let mut r = ring.reader(Start::Oldest).unwrap();
    assert_eq!(read_msg(&mut r, &mut buf).1, 0);
    let mut r = ring.reader(Start::Latest).unwrap();
    assert_eq!(read_msg(&mut r, &mut buf).1, 9);
    let mut r = ring.reader(Start::Tail).unwrap();
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    let mut r = ring.reader(Start::Seq(4)).unwrap();
    assert_eq!(read_msg(&mut r, &mut buf).1, 4);
    let mut r = ring.reader(Start::Seq(10)).unwrap();
    assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    assert_eq!(
        ring.reader(Start::Seq(11)).unwrap_err(),
        JoinError::NotPresent { seq: 11 }
    );
    for i in 10..200u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    assert_eq!(
        ring.reader(Start::Seq(4)).unwrap_err(),
        JoinError::NotPresent { seq: 4 }
    );
    let mut r = ring.reader(Start::Seq(190)).unwrap();
    assert_eq!(read_msg(&mut r, &mut buf).1, 190);
}

/// Conformance case.
pub fn small_buffer_is_an_error_that_keeps_the_position(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Tail).unwrap();
    w.write(&[1; 20]).unwrap();
    let mut small = [0u8; 10];
    assert_eq!(
        r.try_read(&mut small),
        Err(ReadError::BufferTooSmall { needed: 20 })
    );
    let mut buf = [0u8; 20];
    assert_eq!(read_msg(&mut r, &mut buf).0, vec![1; 20]);
}

/// Conformance case.
pub fn pending_iterates_lazily_and_detects_overwritten_handles(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    w.set_intent_stride(0);
    let mut r = ring.reader(Start::Tail).unwrap();
    for i in 0..5u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    let handles: Vec<_> = r
        .pending()
        .map(|e| match e.unwrap() {
            Event::Message(m) => m,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(handles.len(), 5);
    let mut buf = [0u8; 8];
    let copy = handles[3];
    assert_eq!(copy.read(&mut buf).unwrap().seq, 3);
    assert_eq!(u64::from_le_bytes(buf), 3);
    for i in 5..100u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    assert!(!handles[0].is_current());
    assert_eq!(
        handles[0].read(&mut buf),
        Err(ReadError::Overwritten { seq: 0 })
    );
    // The reader itself resumes after the handles and reports the lap.
    assert!(matches!(r.try_read(&mut buf).unwrap(), Read::Lapped { .. }));
}

/// Conformance case.
pub fn one_producer_at_a_time(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let w = ring.writer().unwrap();
    let epoch = w.epoch();
    assert_eq!(
        Ring::attach(&*region).unwrap().writer().unwrap_err(),
        ProducerError::Active { epoch }
    );
    drop(w);
    let w2 = ring.writer().unwrap();
    assert_ne!(w2.epoch(), epoch);
}

/// Conformance case.
pub fn a_new_producer_continues_or_restarts(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut buf = [0u8; 64];
    let mut r = ring.reader(Start::Oldest).unwrap();
    let mut w = ring.writer().unwrap();
    w.write(b"a").unwrap();
    w.write(b"b").unwrap();
    // The producer "dies" (forgotten, so it never releases the ring).
    std::mem::forget(w);
    let mut w = ring.take_over(Continuation::Continue);
    assert_eq!(w.write(b"c").unwrap(), 2);
    let seqs: Vec<u64> = (0..3).map(|_| read_msg(&mut r, &mut buf).1).collect();
    assert_eq!(seqs, [0, 1, 2], "a clean continuation");
    std::mem::forget(w);
    let mut w = ring.take_over(Continuation::Restart);
    let epoch = w.epoch();
    assert_eq!(w.write(b"d").unwrap(), 3, "sequences never repeat");
    assert_eq!(
        r.try_read(&mut buf).unwrap(),
        Read::Restarted { epoch, seq: 3 }
    );
    assert_eq!(read_msg(&mut r, &mut buf), (b"d".to_vec(), 3, 0));
    // A reader joining after the restart is not told about it.
    let mut late = ring.reader(Start::Latest).unwrap();
    assert_eq!(read_msg(&mut late, &mut buf).1, 3);
}

/// Conformance case.
///
/// A producer dies with a batch staged and not flushed; its successor
/// goes on from the published tail with the same sequence numbers, and
/// stages records that end exactly where a dead record begins, whose
/// header carries the very sequence number readers expect next. The
/// successor's flush zeroes that word before it publishes, so readers
/// (single and batched) stop there rather than read the dead record.
pub fn a_dead_producers_unflushed_batch_is_never_read(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    w.write(b"published").unwrap();
    let mut single = ring.reader(Start::Tail).unwrap();
    let mut batched = ring.reader(Start::Tail).unwrap();
    // Three 24-byte records, sequences 1 to 3, never flushed.
    for i in 0..3u8 {
        assert_eq!(w.stage(0, &[0xd0 + i; 8]).unwrap(), 1 + u64::from(i));
    }
    std::mem::forget(w);
    let mut w = ring.take_over(Continuation::Continue);
    // Two records of the same size: they end where the dead third one,
    // sequence 3, begins.
    assert_eq!(w.stage(0, &[1; 8]).unwrap(), 1);
    assert_eq!(w.stage(0, &[2; 8]).unwrap(), 2);
    w.flush();
    let expected = [
        Seen::Message(1, 0, vec![1; 8]),
        Seen::Message(2, 0, vec![2; 8]),
    ];
    let mut seen = Vec::new();
    drain_single(&mut single, &mut seen);
    assert_eq!(seen, expected, "single reads");
    let mut seen = Vec::new();
    drain_batches(&mut batched, 1024, &mut seen);
    assert_eq!(seen, expected, "batch reads");
    // What comes next is read as written.
    w.write(b"next").unwrap();
    assert_eq!(
        read_msg(&mut single, &mut [0u8; 64]),
        (b"next".to_vec(), 3, 0)
    );
}

/// Conformance case.
pub fn restart_is_reported_even_when_the_marker_was_lapped(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut buf = [0u8; 64];
    let mut w = ring.writer().unwrap();
    w.write(b"x").unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    std::mem::forget(w);
    let mut w = ring.take_over(Continuation::Restart);
    for i in 0..200u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    assert!(matches!(r.try_read(&mut buf).unwrap(), Read::Lapped { .. }));
    assert!(matches!(
        r.try_read(&mut buf).unwrap(),
        Read::Restarted { .. }
    ));
    assert!(r.try_read(&mut buf).unwrap().message().is_some());
}

/// Conformance case.
pub fn checksums_catch_every_single_bit_flip(make: &Make<'_>) {
    const C: usize = 256;
    let region = make(&RingConfig::new(C).checksum(true));
    let base = region.base().as_ptr();
    let data = crate::layout::data_offset(0);
    let ring = Ring::create(&*region, &RingConfig::new(C).checksum(true)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut buf = [0u8; 64];
    for len in [0usize, 1, 7, 8, 13, 31] {
        let payload: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
        let before = ring.reader(Start::Tail).unwrap();
        let rec = data + (before.position() as usize % C);
        w.write_tagged(9, &payload).unwrap();
        for bit in 0..(24 + len) * 8 {
            let byte = rec + bit / 8;
            // SAFETY: single thread, nothing reads or writes the ring meanwhile, and
            // the region's bytes are UnsafeCell-backed.
            unsafe { *base.add(byte) ^= 1 << (bit % 8) };
            let got = before.clone().try_read(&mut buf);
            let mut batch = [0u8; 80];
            let got_batch = before.clone().try_read_batch(&mut batch);
            // SAFETY: as above.
            unsafe { *base.add(byte) ^= 1 << (bit % 8) };
            if let Ok(Read::Message(m)) = got {
                panic!("bit {bit} of a {len}-byte record went unnoticed: {m:?}");
            }
            if let Ok(crate::Batch::Messages(m)) = got_batch {
                panic!("bit {bit} of a {len}-byte record went unnoticed in a batch: {m:?}");
            }
        }
        let (got, seq, tag) = read_msg(&mut before.clone(), &mut buf);
        assert_eq!((got, tag), (payload, 9));
        assert_eq!(seq, w.next_seq() - 1);
    }
}

/// What a reader saw, message by message: the common ground of
/// [`crate::Reader::try_read`] and [`crate::Reader::try_read_batch`].
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Message(u64, u32, Vec<u8>),
    Lapped(u64, u64),
    Restarted(u64, u64),
}

/// Everything `r` reads one message at a time until the ring is empty.
fn drain_single(r: &mut crate::Reader<'_>, seen: &mut Vec<Seen>) {
    let mut buf = [0u8; 128];
    loop {
        match r.try_read(&mut buf).unwrap() {
            Read::Message(m) => seen.push(Seen::Message(m.seq, m.tag, buf[..m.len].to_vec())),
            Read::Lapped {
                lost_messages,
                lost_bytes,
            } => seen.push(Seen::Lapped(lost_messages, lost_bytes)),
            Read::Restarted { epoch, seq } => seen.push(Seen::Restarted(epoch, seq)),
            Read::Empty => return,
        }
    }
}

/// Everything `r` reads in batches into buffers of `room` bytes (grown
/// when the next message needs more) until the ring is empty.
fn drain_batches(r: &mut crate::Reader<'_>, mut room: usize, seen: &mut Vec<Seen>) {
    let mut buf = [0u8; 1024];
    loop {
        match r.try_read_batch(&mut buf[..room]) {
            Ok(crate::Batch::Messages(batch)) => {
                let mut seq = batch.first_seq();
                for (m, payload) in &batch {
                    assert_eq!((m.seq, m.len), (seq, payload.len()));
                    seq += 1;
                    seen.push(Seen::Message(m.seq, m.tag, payload.to_vec()));
                }
                assert_eq!(seq - batch.first_seq(), batch.len() as u64);
            }
            Ok(crate::Batch::Lapped {
                lost_messages,
                lost_bytes,
            }) => seen.push(Seen::Lapped(lost_messages, lost_bytes)),
            Ok(crate::Batch::Restarted { epoch, seq }) => seen.push(Seen::Restarted(epoch, seq)),
            Ok(crate::Batch::Empty) => return,
            Err(ReadError::BufferTooSmall { needed }) => {
                assert!(
                    needed > room && needed <= 8 + 128,
                    "needed {needed}, room {room}"
                );
                room = needed;
            }
            Err(e) => panic!("batch read: {e}"),
        }
    }
}

/// Conformance case.
pub fn batch_reads_see_what_single_reads_see(make: &Make<'_>) {
    // Each ring, and whether its readers have a fall-behind tolerance.
    let configs = [
        (RingConfig::new(CAP).slots(1), false),
        (RingConfig::new(CAP).slots(1).line_aligned(true), false),
        (RingConfig::new(CAP).slots(1).checksum(true), false),
        (RingConfig::new(CAP).slots(1), true),
    ];
    for (c, (cfg, tolerant)) in configs.iter().enumerate() {
        let region = make(cfg);
        let ring = Ring::create(&*region, cfg).unwrap();
        let mut w = ring.writer().unwrap();
        let mut single = ring.reader(Start::Oldest).unwrap();
        let mut batched = ring.reader(Start::Oldest).unwrap();
        if *tolerant {
            single.set_fall_behind_tolerance(1, 4);
            batched.set_fall_behind_tolerance(1, 4);
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        // A small generator: lengths, tags, counts and buffer sizes.
        let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ c as u64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for round in 0..if cfg!(miri) { 40 } else { 300 } {
            // Up to a ring and a half of writes: some rounds lap the readers.
            let count = next(if round % 8 == 7 { 40 } else { 12 });
            let staged = round % 3 == 1;
            for _ in 0..count {
                let len = next(100) as usize;
                let payload: Vec<u8> = (0..len).map(|_| next(256) as u8).collect();
                let tag = next(4) as u32;
                if staged {
                    w.stage(tag, &payload).unwrap();
                } else {
                    w.write_tagged(tag, &payload).unwrap();
                }
            }
            w.flush();
            if round % 31 == 30 {
                // A new producer restarts the stream.
                std::mem::forget(w);
                w = ring.take_over(Continuation::Restart);
            }
            drain_single(&mut single, &mut a);
            // From no room for a frame to room for most of a ring.
            drain_batches(&mut batched, next(600) as usize, &mut b);
            assert_eq!(a, b, "ring {c}, round {round}");
            assert_eq!(single.position(), batched.position());
            assert_eq!(single.stats(), batched.stats());
        }
        assert!(
            a.iter().any(|s| matches!(s, Seen::Lapped(..))),
            "ring {c} lapped"
        );
        assert!(
            a.iter().any(|s| matches!(s, Seen::Restarted(..))),
            "ring {c} restarted"
        );
    }
}

/// Conformance case.
pub fn a_gating_batch_reader_frees_room_as_it_reads(make: &Make<'_>) {
    let region = make(&ring_cfg());
    let ring = Ring::create(&*region, &ring_cfg()).unwrap();
    let mut w = ring.writer().unwrap();
    let mut g = ring.gating_reader().unwrap();
    let slot = g.slot().unwrap();
    let mut buf = [0u8; 4 * 56];
    let mut sent = 0u64;
    let mut got = 0u64;
    for _ in 0..if cfg!(miri) { 6 } else { 40 } {
        // Fill the ring, then read a few batches of a few messages.
        loop {
            let len = (sent % 41) as usize;
            match w.try_claim(len) {
                Ok(c) => {
                    c.commit_with(&vec![sent as u8; len]);
                    sent += 1;
                }
                Err(WriteError::Full { slot: s }) => {
                    assert_eq!(s, slot);
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        for _ in 0..3 {
            let batch = g.try_read_batch(&mut buf).unwrap().messages().unwrap();
            let space: usize = batch.iter().map(|(m, _)| crate::batch_space(m.len)).sum();
            assert!(!batch.is_empty() && space <= 4 * 56 + 7, "{space} bytes");
            for (m, payload) in batch {
                assert_eq!(m.seq, got);
                assert_eq!(payload, &vec![got as u8; (got % 41) as usize][..]);
                got += 1;
            }
        }
    }
    // The rest, then an empty read shows the position in the slot.
    while let Some(batch) = g.try_read_batch(&mut buf).unwrap().messages() {
        got += batch.len() as u64;
    }
    assert_eq!(got, sent);
    let info = ring.consumer(slot).unwrap();
    assert_eq!((info.position, info.read_messages), (g.position(), sent));
    assert_eq!(g.stats().laps, 0);
}

/// Conformance case: a batch reads on across the end of the ring, where a
/// record ends the lap exactly and the next lap's first one follows.
pub fn a_batch_reads_on_across_the_end_of_the_ring(make: &Make<'_>) {
    const C: usize = 1024;
    // Payloads that make 64-byte records, sixteen to a lap.
    for (cfg, len) in [
        (RingConfig::new(C).slots(1), 48),
        (RingConfig::new(C).slots(1).checksum(true), 40),
        (RingConfig::new(C).slots(1).line_aligned(true), 20),
    ] {
        let region = make(&cfg);
        let ring = Ring::create(&*region, &cfg).unwrap();
        let mut w = ring.writer().unwrap();
        let mut g = ring.gating_reader().unwrap();
        let mut buf = [0u8; 8 * crate::batch_space(48)];
        let mut sent = 0u64;
        // Twelve records, read; then eight more, from 768 to 1280.
        for (write, end) in [(12, 768), (8, 1280)] {
            for _ in 0..write {
                w.write_tagged(sent as u32, &vec![sent as u8; len]).unwrap();
                sent += 1;
            }
            let first = g.next_seq();
            let mut got = 0;
            while let Some(batch) = g.try_read_batch(&mut buf).unwrap().messages() {
                // The second turn's eight fit `buf` and come as one batch.
                assert!(write == 12 || batch.len() == 8, "{cfg:?}: {}", batch.len());
                for (m, payload) in batch {
                    assert_eq!((m.seq, m.tag), (first + got, (first + got) as u32));
                    assert_eq!(payload, &vec![m.seq as u8; len][..]);
                    got += 1;
                }
            }
            assert_eq!((got, g.position()), (write, end), "{cfg:?}");
        }
    }
}

/// Generate one `#[test]` per conformance case, each making its regions
/// with `$make` (an expression of type `&Make`-compatible closure).
///
/// With `skip_if: $skip` (a `Fn() -> Option<String>`), each case first asks
/// `$skip`; a `Some(why)` prints `SKIPPED: why` on standard output and ends
/// the case, for region kinds the machine may not offer (huge pages).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases (@each $make;));
    };
    ($make:expr, skip_if: $skip:expr) => {
        $crate::conformance_tests!(@cases (@skip $make; $skip;));
    };
    (@cases ($($head:tt)*)) => {
        $crate::conformance_tests!($($head)* messages_arrive_in_order_with_seq_and_tag, oversize_message_is_an_error, dropped_claim_publishes_nothing, claims_fill_by_parts_and_check_bounds, staged_records_wait_for_flush, lapped_reader_gets_exact_counts_then_resumes_at_oldest, line_aligned_records_start_on_lines_and_lap_exactly, line_aligned_record_ends_stay_zero_over_laps, a_claim_aborted_inside_a_batch_leaves_it_whole, latest_policy_skips_to_the_newest, fall_behind_tolerance_laps_early, the_head_moves_onto_noted_record_starts, join_points, small_buffer_is_an_error_that_keeps_the_position, pending_iterates_lazily_and_detects_overwritten_handles, one_producer_at_a_time, a_new_producer_continues_or_restarts, a_dead_producers_unflushed_batch_is_never_read, restart_is_reported_even_when_the_marker_was_lapped, checksums_catch_every_single_bit_flip, batch_reads_see_what_single_reads_see, a_gating_batch_reader_frees_room_as_it_reads, a_batch_reads_on_across_the_end_of_the_ring);
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::$name(&$make)
            }
        )*
    };
    (@skip $make:expr; $skip:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                if let ::core::option::Option::Some(why) = $skip() {
                    ::std::println!("SKIPPED: {why}");
                    return;
                }
                $crate::conformance::$name(&$make)
            }
        )*
    };
}
