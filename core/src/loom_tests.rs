//! loom models of the ring protocol: a producer that wraps and laps, readers
//! that copy while being lapped. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p shmcast --release --lib loom`.
//!
//! Bound: loom explores every interleaving with at most `PREEMPTIONS` (2)
//! preemptions per execution (1 for the two-reader model), under the C11
//! model including stale relaxed loads; the ring is 64 bytes, so two 8-byte
//! messages fill a lap and the third overwrites the first.

use crate::header::{Header, Slot};
use crate::sync::AtomicU64;
use crate::{Read, Ring, RingConfig, Start};
use loom::sync::Arc;
use loom::thread;
use std::vec::Vec;

const PREEMPTIONS: usize = 2;

struct Parts {
    hdr: Header,
    slots: Vec<Slot>,
    data: Vec<AtomicU64>,
    cfg: RingConfig,
}

impl Parts {
    fn new(capacity: usize) -> Arc<Parts> {
        Self::with_slots(capacity, 0)
    }
    fn with_slots(capacity: usize, slots: usize) -> Arc<Parts> {
        Arc::new(Self::plain(capacity, slots))
    }
    fn plain(capacity: usize, slots: usize) -> Parts {
        Self::with_config(RingConfig::new(capacity).max_message(8).slots(slots), slots)
    }
    /// Parts for `cfg`, which has `slots` consumer slots.
    fn with_config(cfg: RingConfig, slots: usize) -> Parts {
        let capacity = cfg.capacity();
        let parts = Parts {
            hdr: Header::zeroed(),
            slots: (0..slots).map(|_| Slot::zeroed()).collect(),
            data: (0..capacity / 8).map(|_| AtomicU64::new(0)).collect(),
            cfg,
        };
        parts.ring().init();
        parts
    }
    fn ring(&self) -> Ring<'_> {
        Ring::from_parts(&self.hdr, &self.slots, &self.data, &self.cfg)
    }
}

fn payload(seq: u64) -> [u8; 8] {
    (seq.wrapping_mul(0x0101_0101_0101_0101) ^ 0xA5A5_0000_0000_5A5A).to_le_bytes()
}

/// Read up to `reads` times; check content, order and exact gap accounting.
fn reader_thread(parts: Arc<Parts>, reads: usize) {
    lossy_reads(parts.ring(), reads, false);
}

/// A message read in a model: the one `expect`ed, whole.
fn check_message(m: crate::Message, bytes: &[u8], expect: &mut u64) {
    assert_eq!(m.seq, *expect, "messages in order, gaps only after a lap");
    assert_eq!(m.len, 8);
    assert_eq!(bytes, payload(m.seq), "no torn message");
    *expect += 1;
}

/// [`reader_thread`]'s reads, one message at a time or (`batched`) by
/// batches of up to two.
fn lossy_reads(ring: Ring<'_>, reads: usize, batched: bool) {
    // The model lets relaxed loads return stale values for ever, so a join may
    // give up with `Unstable` ("try again"); there is then nothing to check.
    let mut r = match ring.reader(Start::Oldest) {
        Ok(r) => r,
        Err(crate::JoinError::Unstable) => return,
        Err(e) => panic!("join failed: {e:?}"),
    };
    let mut expect = r.next_seq();
    let mut buf = [0u8; 2 * crate::batch_space(8)];
    for _ in 0..reads {
        let read = if batched {
            r.try_read_batch(&mut buf).map(|batch| match batch {
                crate::Batch::Messages(batch) => {
                    assert_eq!(batch.first_seq(), expect, "gaps only after a lap");
                    for (m, bytes) in batch {
                        check_message(m, bytes, &mut expect);
                    }
                    None
                }
                crate::Batch::Empty => Some(Read::Empty),
                crate::Batch::Lapped {
                    lost_messages,
                    lost_bytes,
                } => Some(Read::Lapped {
                    lost_messages,
                    lost_bytes,
                }),
                crate::Batch::Restarted { .. } => panic!("no restart in this model"),
            })
        } else {
            r.try_read(&mut buf).map(|read| match read {
                Read::Message(m) => {
                    check_message(m, &buf[..m.len], &mut expect);
                    None
                }
                other => Some(other),
            })
        };
        match read {
            Ok(None) => {}
            Ok(Some(Read::Lapped { lost_messages, .. })) => {
                assert!(lost_messages > 0);
                assert_eq!(
                    r.next_seq(),
                    expect + lost_messages,
                    "lap count matches the gap"
                );
                expect += lost_messages;
            }
            Ok(Some(Read::Empty)) | Err(crate::ReadError::Overrun) => thread::yield_now(),
            Ok(Some(other)) => panic!("no {other:?} in this model"),
            Err(e) => panic!("unexpected read error {e:?}"),
        }
    }
}

fn model(messages: u64, readers: usize, reads: usize, preemptions: usize) {
    let cfg = RingConfig::new(64).max_message(8);
    model_of(cfg, 0, messages, readers, reads, preemptions);
}

fn model_of(
    cfg: RingConfig,
    stride: usize,
    messages: u64,
    readers: usize,
    reads: usize,
    preemptions: usize,
) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(preemptions);
    b.check(move || {
        let parts = Arc::new(Parts::with_config(cfg, 0));
        let handles: Vec<_> = (0..readers)
            .map(|_| {
                let p = parts.clone();
                thread::spawn(move || reader_thread(p, reads))
            })
            .collect();
        let ring = parts.ring();
        let mut w = ring.writer().expect("first producer");
        w.set_intent_stride(stride);
        for seq in 0..messages {
            assert_eq!(w.write(&payload(seq)).unwrap(), seq);
        }
        drop(w);
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn loom_one_reader_lapped_while_copying() {
    model(3, 1, 3, PREEMPTIONS);
}

/// A line-aligned ring, where the producer zeroes the words where records
/// will end ahead of its position (before a publication where it has not
/// yet, else after it): a reader that reaches the next record's word, or is
/// lapped while it copies, still sees zero or a whole record. Four records
/// a lap; the widest stride, so that most records are sealed between
/// raises of the intent.
#[test]
fn loom_line_aligned_clears_ahead() {
    let cfg = RingConfig::new(crate::layout::MIN_LINE_ALIGNED_CAPACITY as usize)
        .max_message(8)
        .line_aligned(true);
    model_of(cfg, 128, 5, 1, 6, 1);
}

/// A reader that takes up to two messages a batch, lapped while it copies
/// them: the one check of the intent after the run must catch an overwrite
/// (it fails without the check: checked by mutation). Three messages
/// through a ring that holds two: the third overwrites the first and dooms
/// the second. (The margin that bounds a run keeps a reader this close to
/// the overwrite at one record a run unless a stale load of the intent
/// widens it, so this model does not tell a check against the run's first
/// record from one against its last.)
#[test]
fn loom_batch_reader_lapped_while_copying() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(PREEMPTIONS);
    b.check(|| {
        let parts = Arc::new(Parts::with_config(RingConfig::new(64).max_message(8), 0));
        let p = parts.clone();
        let reader = thread::spawn(move || lossy_reads(p.ring(), 2, true));
        let mut w = parts.ring().writer().expect("first producer");
        w.set_intent_stride(0);
        for seq in 0..3 {
            assert_eq!(w.write(&payload(seq)).unwrap(), seq);
        }
        drop(w);
        reader.join().unwrap();
    });
}

#[test]
fn loom_two_readers_wrap_and_lap() {
    model(3, 2, 1, 1);
}

/// A producer that runs `publish` on a ring of `cfg` with intent stride
/// `stride`, beside a reader that reads three times.
fn batched_model(cfg: RingConfig, stride: usize, publish: fn(&mut crate::Writer<'_>)) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(PREEMPTIONS);
    b.check(move || {
        let parts = Arc::new(Parts::with_config(cfg, 0));
        let p = parts.clone();
        let h = thread::spawn(move || reader_thread(p, 3));
        let ring = parts.ring();
        let mut w = ring.writer().unwrap();
        w.set_intent_stride(stride);
        publish(&mut w);
        drop(w);
        h.join().unwrap();
    });
}

#[test]
fn loom_batched_publish() {
    batched_model(RingConfig::new(64).max_message(8), 0, |w| {
        w.stage(0, &payload(0)).unwrap();
        w.stage(0, &payload(1)).unwrap();
        w.flush();
        w.write(&payload(2)).unwrap();
    });
}

/// Two batches: records 0 and 1, flushed, then record 2, flushed.
fn two_batches(w: &mut crate::Writer<'_>) {
    w.stage(0, &payload(0)).unwrap();
    w.stage(0, &payload(1)).unwrap();
    w.flush();
    w.stage(0, &payload(2)).unwrap();
    w.flush();
}

/// Batches staged under an intent raised a stride ahead, so that staging
/// takes the sealing fast path: a batch's first record held back for the
/// flush (records 0 and 2) and one stored behind it (record 1). A reader
/// sees every record of a batch only after its flush, whole and in order.
#[test]
fn loom_batched_publish_between_raises() {
    // 24-byte records: the intent, raised for record 0, covers 1 and 2.
    batched_model(RingConfig::new(128).max_message(8), 64, two_batches);
}

/// The same batches on a line-aligned ring (64-byte records), where a
/// record stored behind the held word zeroes the lines ahead after its
/// first word, as a publication does.
#[test]
fn loom_line_aligned_batches_between_raises() {
    let cfg = RingConfig::new(crate::layout::MIN_LINE_ALIGNED_CAPACITY as usize)
        .max_message(8)
        .line_aligned(true);
    // The intent, raised for record 0, covers 1 and 2.
    batched_model(cfg, 128, two_batches);
}

/// Read messages 0 to `n - 1` through a gating reader, each intact and in
/// order, yielding while the ring is empty.
fn gating_reads(gating: &mut crate::Reader<'_>, n: u64) {
    let mut buf = [0u8; 8];
    let mut expect = 0;
    while expect < n {
        match gating.try_read(&mut buf) {
            Ok(Read::Message(m)) => {
                assert_eq!(m.seq, expect, "a gating consumer loses nothing");
                assert_eq!(buf, payload(m.seq));
                expect += 1;
            }
            Ok(Read::Empty) => thread::yield_now(),
            other => panic!("gating consumer got {other:?}"),
        }
    }
}

/// Waits by yielding to the other loom threads; never gives up.
struct Yield;

impl crate::Wait for Yield {
    fn wait(&mut self, _: &crate::Blocked) -> crate::WaitAction {
        thread::yield_now();
        crate::WaitAction::Retry
    }
}

/// The gating handshake: a gating consumer (joined before the producer starts)
/// loses nothing while the producer laps a 64-byte ring past it, and a lossy
/// reader beside it sees exact lap counts. The lossy reader reads once: a
/// message intact, the ring empty, or a lap with its count and the position
/// after it checked. What a lossy reader reads after a lap is the work of
/// `loom_one_reader_lapped_while_copying` and `loom_two_readers_wrap_and_lap`;
/// with a second read here, this model took 393 s of CI's loom step (38 s
/// now), which runs its models two at a time.
#[test]
fn loom_gating_consumer_beside_a_lossy_one() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(1);
    b.check(|| {
        // Leaked so the gating reader, made before the producer starts, can move
        // to its thread ('static); a few bytes per explored execution.
        let parts: &'static Parts =
            std::boxed::Box::leak(std::boxed::Box::new(Parts::plain(64, 1)));
        let mut gating = parts.ring().gating_reader().expect("a free slot");
        let g = thread::spawn(move || gating_reads(&mut gating, 3));
        let l = thread::spawn(move || lossy_reads(parts.ring(), 1, false));
        let ring = parts.ring();
        let mut w = ring.writer().unwrap();
        w.set_intent_stride(0);
        for seq in 0..3 {
            let c = w.claim_with(8, &mut Yield).unwrap();
            assert_eq!(c.commit_with(&payload(seq)), seq);
        }
        drop(w);
        g.join().unwrap();
        l.join().unwrap();
    });
}

/// A gating consumer that shows its position only every second record, when
/// it finds the ring empty, or at its next read once the producer waits (a
/// 64-byte ring looks at its slot at every read; see
/// [`crate::Reader::release`]) loses nothing and stalls nobody while the
/// producer laps a 64-byte ring past it: every execution ends, with every
/// message read intact.
#[test]
fn loom_gating_consumer_shows_its_position_in_steps() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(|| {
        let parts: &'static Parts =
            std::boxed::Box::leak(std::boxed::Box::new(Parts::plain(64, 1)));
        let mut gating = parts.ring().gating_reader().expect("a free slot");
        gating.set_release_every(48);
        let g = thread::spawn(move || gating_reads(&mut gating, 4));
        let ring = parts.ring();
        let mut w = ring.writer().unwrap();
        w.set_intent_stride(0);
        for seq in 0..4 {
            let c = w.claim_with(8, &mut Yield).unwrap();
            assert_eq!(c.commit_with(&payload(seq)), seq);
        }
        drop(w);
        g.join().unwrap();
    });
}

fn no_wake(_: &crate::sync::AtomicU32) {}

/// The sleep/wake handshake of [`crate::wake`]: a consumer that finds the ring
/// empty announces itself and "sleeps" (waits while the data word is
/// unchanged, the check a futex makes atomically, modelled by a read-modify-
/// write that sees the latest value; loom's yield lets the producer run),
/// with a timeout, as every adapter sleeps: it gives up after a few looks.
/// The producer only loads the word unless the flag is set. Every execution
/// must end with the message read and intact; a wake-up that is late (the
/// race the module describes) is caught by the timeout, and one that never
/// came would leave the consumer looping for ever, which loom reports.
#[test]
fn loom_sleep_and_wake_up() {
    use crate::wake::Side;
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.max_branches = 100_000;
    b.check(|| {
        // Leaked so the reader, joined before the producer starts, can move
        // to its thread.
        let parts: &'static Parts =
            std::boxed::Box::leak(std::boxed::Box::new(Parts::plain(64, 0)));
        let ring = parts.ring();
        let mut r = ring.reader(Start::Tail).unwrap();
        let consumer = thread::spawn(move || {
            let mut buf = [0u8; 8];
            loop {
                match r.try_read(&mut buf).unwrap() {
                    Read::Message(m) => {
                        assert_eq!(buf, payload(m.seq));
                        return;
                    }
                    Read::Empty => {}
                    other => panic!("{other:?}"),
                }
                let w = ring.prepare_sleep(Side::Data).unwrap().value;
                if !ring.has_data_after(r.position()) {
                    let word = ring.futex_word(Side::Data);
                    // The sleep's timeout: two looks.
                    for _ in 0..2 {
                        if word.fetch_add(0, crate::sync::Ordering::SeqCst) != w {
                            break;
                        }
                        thread::yield_now();
                    }
                }
            }
        });
        let mut w = ring.writer().unwrap();
        w.set_wake(Some(no_wake));
        w.write(&payload(0)).unwrap();
        drop(w);
        consumer.join().unwrap();
    });
}

loom::lazy_static! {
    /// Whether the producer's wake function ran (reset for every execution).
    static ref WOKEN: loom::sync::atomic::AtomicBool = loom::sync::atomic::AtomicBool::new(false);
}

fn note_wake(_: &crate::sync::AtomicU32) {
    WOKEN.store(true, crate::sync::Ordering::Relaxed);
}

/// The other half of the handshake, the one that rules out the race: a
/// sleeper whose announcement happens before the producer publishes (here
/// through a flag the producer waits for) is always woken, so a producer
/// that loads the word after its tail store must see the flag and call the
/// wake function. (`loom_sleep_and_wake_up` still passes if the producer
/// never wakes anyone, thanks to the sleep's timeout; this one would not.)
#[test]
fn loom_announced_sleeper_is_woken() {
    use crate::wake::Side;
    use loom::sync::atomic::AtomicBool;
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(PREEMPTIONS);
    b.check(|| {
        let parts: &'static Parts =
            std::boxed::Box::leak(std::boxed::Box::new(Parts::plain(64, 0)));
        let announced: &'static AtomicBool =
            std::boxed::Box::leak(std::boxed::Box::new(AtomicBool::new(false)));
        let ring = parts.ring();
        let sleeper = thread::spawn(move || {
            let a = ring.prepare_sleep(Side::Data).unwrap();
            assert!(a.fresh);
            announced.store(true, crate::sync::Ordering::Release);
        });
        let mut w = ring.writer().unwrap();
        w.set_wake(Some(note_wake));
        while !announced.load(crate::sync::Ordering::Acquire) {
            thread::yield_now();
        }
        w.write(&payload(0)).unwrap();
        assert!(
            WOKEN.load(crate::sync::Ordering::Relaxed),
            "announced sleeper not woken"
        );
        sleeper.join().unwrap();
    });
}

/// A producer that dies (its writer forgotten: no release of anything) is
/// taken over by a thread that learnt of the death only through a relaxed
/// flag, so nothing orders the dead producer's stores before the new one's
/// reads. The new producer must still go on after the message the dead one
/// published: a sequence number is never used twice.
#[test]
fn loom_take_over_from_a_producer_that_died() {
    use loom::sync::atomic::AtomicBool;
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(PREEMPTIONS);
    b.check(|| {
        let parts = Parts::new(64);
        let dead = Arc::new(AtomicBool::new(false));
        let (p, d) = (parts.clone(), dead.clone());
        let first = thread::spawn(move || {
            let mut w = p.ring().writer().unwrap();
            assert_eq!(w.write(&payload(0)).unwrap(), 0);
            core::mem::forget(w);
            d.store(true, crate::sync::Ordering::Relaxed);
        });
        while !dead.load(crate::sync::Ordering::Relaxed) {
            thread::yield_now();
        }
        let mut w = parts.ring().take_over(crate::Continuation::Continue);
        assert_eq!(w.write(&payload(1)).unwrap(), 1);
        drop(w);
        first.join().unwrap();
    });
}
