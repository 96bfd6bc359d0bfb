//! Gating consumers beside lossy ones on one ring.

mod common;

use common::{boxed, check, fill, len_of};
use shmcast::layout::ring_size;
use shmcast::{
    Blocked, BoundedSpin, Event, JoinError, Read, ReadError, Reader, Ring, RingConfig, SlotState,
    Start, Wait, WaitAction, WriteError,
};

/// Spin a little, then yield: never gives up (the consumers in these tests
/// are alive), and leaves the other core to them.
struct Patient(u32);

impl Wait for Patient {
    fn wait(&mut self, _: &Blocked) -> WaitAction {
        self.0 += 1;
        if self.0.is_multiple_of(64) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
        WaitAction::Retry
    }
}

const CAP: usize = 1024;

#[test]
fn full_exactly_when_a_gating_consumer_is_a_ring_behind() {
    let region = boxed::<{ ring_size(CAP, 2) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(2)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut g = ring.gating_reader().unwrap();
    let mut lossy = ring.observed_reader(Start::Oldest).unwrap();
    // 40-byte payloads make 56-byte records: 18 fill 1008 bytes.
    for i in 0..18u8 {
        w.try_claim(40).unwrap().commit_with(&[i; 40]);
    }
    assert!(g.is_gating(), "acknowledged by the producer's first rescan");
    assert_eq!(
        w.try_claim(40).map(|_| ()),
        Err(WriteError::Full { slot: 0 })
    );
    let mut buf = [0u8; 64];
    assert_eq!(g.try_read(&mut buf).unwrap().message().unwrap().seq, 0);
    // A record reserves the word after it as well (its successor's header
    // word, zeroed before it is published): 16 bytes of padding, 56 of
    // record and 8 more do not fit in the 56 bytes one read freed...
    assert_eq!(
        w.try_claim(40).map(|_| ()),
        Err(WriteError::Full { slot: 0 })
    );
    // ... but fit in the 112 that two reads free, and nothing more does.
    assert_eq!(g.try_read(&mut buf).unwrap().message().unwrap().seq, 1);
    w.try_claim(40).unwrap().commit_with(&[18; 40]);
    assert!(w.try_claim(40).is_err());
    for seq in 2..19 {
        let m = g.try_read(&mut buf).unwrap().message().unwrap();
        assert_eq!((m.seq, buf[0]), (seq, seq as u8));
    }
    // The lossy reader was never waited for: it lost exactly messages 0
    // and 1, the records the gating consumer had read when the producer
    // wrapped (the intent went as far as the gating consumer allowed).
    assert_eq!(
        lossy.try_read(&mut buf).unwrap(),
        Read::Lapped {
            lost_messages: 2,
            lost_bytes: 112
        }
    );
    assert_eq!(lossy.try_read(&mut buf).unwrap().message().unwrap().seq, 2);
    let info = ring.consumer(0).unwrap();
    assert_eq!(info.state, SlotState::Gating);
    assert_eq!(info.read_messages, 19);
    assert_eq!(ring.consumer(1).unwrap().state, SlotState::Lossy);
}

#[test]
fn slots_run_out_and_are_freed_on_drop() {
    let region = boxed::<{ ring_size(CAP, 2) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(2)).unwrap();
    let a = ring.gating_reader().unwrap();
    let b = ring.observed_reader(Start::Tail).unwrap();
    assert_eq!(ring.gating_reader().unwrap_err(), JoinError::NoFreeSlot);
    // Anonymous lossy readers need no slot: their number is unbounded.
    let anon: Vec<_> = (0..100)
        .map(|_| ring.reader(Start::Tail).unwrap())
        .collect();
    drop(a);
    assert_eq!(ring.consumer(0).unwrap().state, SlotState::Free);
    let c = ring.gating_reader().unwrap();
    assert_eq!(c.slot(), Some(0));
    assert_eq!(ring.consumer(0).unwrap().generation, 2);
    drop((b, anon));
}

#[test]
fn demotion_releases_a_blocked_producer() {
    let region = boxed::<{ ring_size(CAP, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(1)).unwrap();
    let mut w = ring.writer().unwrap();
    w.set_wait(BoundedSpin {
        budget: 1000,
        then: WaitAction::Demote,
    });
    let mut stuck = ring.gating_reader().unwrap();
    for i in 0..100u64 {
        w.write(&i.to_le_bytes()).unwrap();
    }
    assert!(!stuck.is_gating());
    let info = ring.consumer(0).unwrap();
    assert_eq!(info.state, SlotState::Lossy);
    assert!(info.producer_waits >= 1);
    // The demoted consumer learns of its loss with exact counts.
    let mut buf = [0u8; 8];
    let Read::Lapped { lost_messages, .. } = stuck.try_read(&mut buf).unwrap() else {
        panic!("expected a lap");
    };
    let m = stuck.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(m.seq, lost_messages);
    assert_eq!(u64::from_le_bytes(buf), m.seq);
}

#[test]
fn eviction_releases_a_blocked_producer_and_frees_the_slot() {
    let region = boxed::<{ ring_size(CAP, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(1)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut stuck = ring.gating_reader().unwrap();
    let mut evict = BoundedSpin {
        budget: 10,
        then: WaitAction::Evict,
    };
    for i in 0..100u64 {
        w.claim_with(8, &mut evict)
            .unwrap()
            .commit_with(&i.to_le_bytes());
    }
    assert_eq!(ring.consumer(0).unwrap().state, SlotState::Evicted);
    let mut buf = [0u8; 8];
    assert_eq!(stuck.try_read(&mut buf), Err(ReadError::Evicted));
    assert_eq!(stuck.slot(), None);
    assert_eq!(ring.consumer(0).unwrap().state, SlotState::Free);
    assert!(matches!(
        stuck.try_read(&mut buf).unwrap(),
        Read::Lapped { .. }
    ));
    // A give-up policy reports Full instead.
    let _g = ring.gating_reader().unwrap();
    let mut give_up = BoundedSpin {
        budget: 3,
        then: WaitAction::GiveUp,
    };
    let mut full = false;
    for i in 0..100u64 {
        match w.claim_with(8, &mut give_up) {
            Ok(c) => {
                c.commit_with(&i.to_le_bytes());
            }
            Err(WriteError::Full { slot: 0 }) => {
                full = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(full);
}

const MESSAGES: u64 = if cfg!(miri) { 400 } else { 10_000_000 };
const BIG_CAP: usize = if cfg!(miri) { 1024 } else { 1 << 16 };
const MAX: usize = if cfg!(miri) { 48 } else { 256 };

#[test]
fn slow_gating_and_fast_lossy_consumers_together() {
    let region = boxed::<{ ring_size(BIG_CAP, 2) }>();
    let ring = Ring::create(
        &*region,
        &RingConfig::new(BIG_CAP).slots(2).max_message(MAX),
    )
    .unwrap();
    let mut gating = ring.gating_reader().unwrap();
    let mut lossy = ring.reader(Start::Oldest).unwrap();
    let (waits, lossy_laps) = std::thread::scope(|s| {
        // The gating consumer: loses nothing, checks every byte, pauses now and then.
        s.spawn(move || {
            let mut buf = vec![0u8; MAX];
            let mut expect = 0;
            let mut idle = 0u32;
            while expect < MESSAGES {
                match gating.try_read(&mut buf) {
                    Ok(Read::Message(m)) => {
                        assert_eq!(m.seq, expect, "a gating consumer loses nothing");
                        assert_eq!(m.len, len_of(m.seq, MAX));
                        assert!(check(m.seq, &buf[..m.len]));
                        expect += 1;
                        idle = 0;
                        if expect.is_multiple_of(MESSAGES / 20) {
                            std::thread::sleep(std::time::Duration::from_millis(2));
                        }
                    }
                    Ok(Read::Empty) => {
                        idle += 1;
                        if idle > 64 {
                            std::thread::yield_now();
                        }
                    }
                    other => panic!("gating consumer got {other:?}"),
                }
            }
            assert!(gating.is_gating());
        });
        // The lossy consumer: exact lap counts.
        let lossy_thread = s.spawn(move || {
            let mut buf = vec![0u8; MAX];
            let (mut expect, mut laps, mut idle) = (0u64, 0u64, 0u32);
            while expect < MESSAGES {
                match lossy.try_read(&mut buf) {
                    Ok(Read::Message(m)) => {
                        assert_eq!(m.seq, expect);
                        assert!(check(m.seq, &buf[..m.len]));
                        expect += 1;
                        idle = 0;
                    }
                    Ok(Read::Lapped { lost_messages, .. }) => {
                        expect += lost_messages;
                        assert_eq!(lossy.next_seq(), expect);
                        laps += 1;
                    }
                    Ok(Read::Empty) | Err(ReadError::Overrun) => {
                        idle += 1;
                        if idle > 64 {
                            std::thread::yield_now();
                        }
                    }
                    other => panic!("lossy consumer got {other:?}"),
                }
            }
            laps
        });
        let mut w = ring.writer().unwrap();
        let mut wait = Patient(0);
        let mut payload = vec![0u8; MAX];
        for seq in 0..MESSAGES {
            let len = len_of(seq, MAX);
            fill(seq, &mut payload[..len]);
            let c = w.claim_with(len, &mut wait).unwrap();
            assert_eq!(c.commit_with(&payload[..len]), seq);
        }
        (wait.0, lossy_thread.join().unwrap())
    });
    let info = ring.consumer(0).unwrap();
    println!(
        "producer waited {waits} times ({} episodes); lossy consumer lapped {lossy_laps} times",
        info.producer_waits
    );
    assert!(info.producer_waits > 0, "the producer blocked and resumed");
    assert_eq!(info.read_messages, MESSAGES);
}

/// A fall-behind tolerance never makes a gating consumer skip what the
/// producer holds for it: with the ring full up to that consumer, it reads
/// every message without a lap.
#[test]
fn a_tolerance_does_not_make_a_gating_consumer_lose_messages() {
    let region = boxed::<{ ring_size(CAP, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(1)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut g = ring.gating_reader().unwrap();
    g.set_fall_behind_tolerance(1, 4);
    let mut written = 0u64;
    while let Ok(c) = w.try_claim(40) {
        c.commit_with(&[written as u8; 40]);
        written += 1;
    }
    assert!(g.is_gating());
    let mut buf = [0u8; 64];
    let mut read = 0u64;
    let mut pending = 0u64;
    for ev in g.pending() {
        match ev.unwrap() {
            shmcast::Event::Message(m) => {
                assert_eq!(m.meta().seq, pending);
                m.read(&mut buf).unwrap();
                pending += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    loop {
        match g.try_read(&mut buf).unwrap() {
            Read::Message(m) => {
                assert_eq!(m.seq, pending + read);
                read += 1;
            }
            Read::Empty => break,
            other => panic!("a gating consumer lost nothing, not {other:?}"),
        }
    }
    assert_eq!(pending + read, written);
}

/// Reclaiming a slot by the generation seen when its consumer blocked the
/// producer leaves the slot alone once a new consumer has taken it.
#[test]
fn reclaim_frees_only_the_generation_it_names() {
    let region = boxed::<{ ring_size(CAP, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(1)).unwrap();
    let first = ring.gating_reader().unwrap();
    let old = ring.consumer(0).unwrap().generation;
    drop(first);
    let _second = ring.gating_reader().unwrap();
    let new = ring.consumer(0).unwrap().generation;
    assert_ne!(old, new);
    assert!(
        !ring.reclaim_slot(0, old),
        "a stale generation frees nothing"
    );
    assert_eq!(ring.consumer(0).unwrap().state, SlotState::Joining);
    assert!(ring.reclaim_slot(0, new));
    assert_eq!(ring.consumer(0).unwrap().state, SlotState::Free);
}

/// A producer that fills the ring with staged records publishes them when
/// it finds the ring full, so the gating consumer can make the room it
/// waits for (otherwise it would wait for records it cannot see).
#[test]
fn a_full_ring_publishes_what_was_staged() {
    let region = boxed::<{ ring_size(CAP, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(1)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut g = ring.gating_reader().unwrap();
    let mut staged = 0u64;
    while let Ok(c) = w.try_claim(40) {
        c.stage_with(&[staged as u8; 40]);
        staged += 1;
    }
    let mut buf = [0u8; 64];
    for seq in 0..staged {
        let m = g.try_read(&mut buf).unwrap().message().unwrap();
        assert_eq!((m.seq, buf[0]), (seq, seq as u8));
    }
    // And the producer, waiting with a patient policy, goes on.
    w.claim_with(40, &mut Patient(0))
        .unwrap()
        .commit_with(&[1; 40]);
}

/// A gating consumer shows the producer how far it has read in steps, and at
/// once wherever holding back could stall one side: when a read finds the
/// ring empty, when a `pending` iteration ends, and when it is dropped.
#[test]
fn a_gating_consumer_shows_its_position_in_steps_and_when_it_waits() {
    let region = boxed::<{ ring_size(CAP, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(1)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut g = ring.gating_reader().unwrap();
    let shown = || ring.consumer(0).unwrap().position;
    let mut buf = [0u8; 64];
    // The default step, a sixteenth of the ring (64 bytes): every second
    // 56-byte record.
    for i in 0..4u8 {
        w.try_claim(40).unwrap().commit_with(&[i; 40]);
    }
    let start = shown();
    g.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(shown(), start, "one record is less than a step");
    g.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(shown(), start + 112, "two records make a step");
    g.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(shown(), start + 112);
    assert_eq!(g.try_read(&mut buf).unwrap().message().unwrap().seq, 3);
    assert_eq!(shown(), start + 224);

    g.set_release_every(u64::MAX);
    let fill_up = |w: &mut shmcast::Writer| {
        let mut n = 0;
        while let Ok(c) = w.try_claim(40) {
            c.commit_with(&[7; 40]);
            n += 1;
        }
        n
    };
    let n = fill_up(&mut w);
    assert!(n >= 17, "a ring's worth: {n}");
    for _ in 0..n {
        g.try_read(&mut buf).unwrap().message().unwrap();
    }
    assert_eq!(shown(), start + 224, "read, not shown");
    assert!(w.try_claim(40).is_err(), "so the producer sees no room");
    assert_eq!(g.try_read(&mut buf).unwrap(), Read::Empty);
    assert_eq!(shown(), g.position(), "an empty read shows everything read");

    let m = fill_up(&mut w);
    assert!(m >= 17, "a ring's worth: {m}");
    let mut read = 0;
    for event in g.pending() {
        let Event::Message(msg) = event.unwrap() else {
            panic!("only messages here");
        };
        msg.read(&mut buf).unwrap();
        read += 1;
    }
    assert_eq!(read, m);
    // The handle yielded last stays protected: shown up to its start.
    assert_eq!(shown(), g.position() - 56, "the iteration's end shows it");

    w.try_claim(40).unwrap().commit_with(&[7; 40]);
    g.try_read(&mut buf).unwrap().message().unwrap();
    let total = 4 + n + m + 1;
    assert_eq!(ring.consumer(0).unwrap().read_messages, total - 1);
    drop(g);
    assert_eq!(
        ring.consumer(0).unwrap().read_messages,
        total,
        "a dropped reader shows its last count"
    );
}

/// A producer waiting for room gets it from a consumer that shows its
/// position only in large steps: the consumer shows it at its next read
/// after each round of the producer's waiting (the first wait, then every
/// 64; on this 1 KiB ring a reader looks at its slot at every read), so a
/// slow consumer is never held to its step.
#[test]
fn a_waiting_producer_gets_the_room_a_stepping_consumer_made() {
    struct ReadsAt<'r, 'a> {
        consumer: &'r mut Reader<'a>,
        at: &'static [u64],
        calls: u64,
    }
    impl Wait for ReadsAt<'_, '_> {
        fn wait(&mut self, blocked: &Blocked) -> WaitAction {
            self.calls += 1;
            if blocked.waits > 200 {
                return WaitAction::GiveUp;
            }
            if self.at.contains(&blocked.waits) {
                let mut buf = [0u8; 64];
                assert!(matches!(
                    self.consumer.try_read(&mut buf).unwrap(),
                    Read::Message(_)
                ));
            }
            WaitAction::Retry
        }
    }
    let region = boxed::<{ ring_size(CAP, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(1)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut g = ring.gating_reader().unwrap();
    g.set_release_every(u64::MAX);
    fill_behind(&mut w, &g);
    let start = ring.consumer(0).unwrap().position;
    // A 40-byte record needs two read (see the first test): the consumer
    // reads one at the first wait (shown at once, the round having begun),
    // one at the second (not shown), and one after the second round begins.
    let mut wait = ReadsAt {
        consumer: &mut g,
        at: &[1, 2, 66],
        calls: 0,
    };
    let claim = w.claim_with(40, &mut wait);
    let calls = wait.calls;
    assert!(claim.is_ok(), "room shown after {calls} waits");
    assert_eq!(calls, 66, "the read after the second round showed it");
    drop(claim);
    assert_eq!(ring.consumer(0).unwrap().position, start + 3 * 56);
    assert_eq!(ring.consumer(0).unwrap().producer_waits, 2);
}

/// A wait policy that gives up (or acts) early is not held to the margin a
/// blocked producer holds out for: once the record fits, the claim is made.
#[test]
fn a_short_wait_budget_takes_the_room_that_fits() {
    struct ReadTwiceThenGiveUp<'r, 'a>(&'r mut Reader<'a>);
    impl Wait for ReadTwiceThenGiveUp<'_, '_> {
        fn wait(&mut self, blocked: &Blocked) -> WaitAction {
            if blocked.waits > 1 {
                return WaitAction::GiveUp;
            }
            let mut buf = [0u8; 64];
            for _ in 0..2 {
                assert!(matches!(
                    self.0.try_read(&mut buf).unwrap(),
                    Read::Message(_)
                ));
            }
            WaitAction::Retry
        }
    }
    let region = boxed::<{ ring_size(CAP, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).slots(1)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut g = ring.gating_reader().unwrap();
    fill_behind(&mut w, &g);
    // Two reads, each shown (the first as the round has begun, the second
    // a step): the 112 bytes a 40-byte record needs after the lap's 16 bytes
    // of padding (see the first test), short of the margin of 64 after it.
    g.set_release_every(56);
    let claim = w.claim_with(40, &mut ReadTwiceThenGiveUp(&mut g));
    assert!(claim.is_ok(), "the record fits: {:?}", claim.map(|_| ()));
}

/// Fill a fresh `CAP`-byte ring behind the gating reader `g` with 18
/// 40-byte messages (56-byte records, 1008 bytes): the next claim waits.
fn fill_behind(w: &mut shmcast::Writer<'_>, g: &Reader<'_>) {
    for i in 0..18u8 {
        w.try_claim(40).unwrap().commit_with(&[i; 40]);
    }
    assert!(g.is_gating(), "acknowledged by the producer's rescan");
}

/// Data bytes of the rings where a reader looks at its slot every [`LOOK`]
/// bytes it reads rather than at every read: 64 KiB, where the look comes
/// every kibibyte; 16 KiB under Miri (a look every 256 bytes, the same
/// paths at a quarter of the cost).
const BIG: usize = if cfg!(miri) { 16 << 10 } else { 64 << 10 };
/// Bytes a reader reads between two looks at its slot on a `BIG` ring: a
/// 64th of the ring, at most a kibibyte.
const LOOK: u64 = if BIG / 64 < 1024 {
    BIG as u64 / 64
} else {
    1024
};

/// Run `test` on a fresh `BIG`-byte ring with one slot: the ring, its
/// writer, and a gating reader taking a step every `release_every` bytes.
fn on_big_ring(
    release_every: u64,
    test: impl FnOnce(Ring<'_>, &mut shmcast::Writer<'_>, &mut Reader<'_>),
) {
    let region = boxed::<{ ring_size(BIG, 1) }>();
    let ring = Ring::create(&*region, &RingConfig::new(BIG).slots(1)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut g = ring.gating_reader().unwrap();
    g.set_release_every(release_every);
    test(ring, &mut w, &mut g);
}

/// Fill a fresh `BIG`-byte ring behind the gating reader `g` with 40-byte
/// messages (56-byte records) until the next claim would wait; how many.
fn fill_big(w: &mut shmcast::Writer<'_>, g: &Reader<'_>) -> u64 {
    let mut msg = [0u8; 40];
    let mut n = 0;
    loop {
        fill(n, &mut msg);
        match w.try_claim(40) {
            Ok(c) => {
                c.commit_with(&msg);
                n += 1;
            }
            Err(WriteError::Full { slot: 0 }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(g.is_gating(), "acknowledged by the producer's rescan");
    assert!(n * 56 > BIG as u64 * 9 / 10, "a ring's worth: {n}");
    n
}

/// A reader with a slot looks at it every `LOOK` bytes (a kibibyte) it
/// reads, not at every read: once evicted, it reads on (what it reads is
/// intact, checked against the producer's intent as a lossy reader's reads
/// are) and is told of the eviction within those bytes; then it reads on
/// as a lossy reader without a slot.
#[test]
fn an_evicted_reader_is_told_within_a_kibibyte() {
    on_big_ring(u64::MAX, |ring, w, g| {
        let n = fill_big(w, g);
        // Half the ring read, none of it shown.
        let mut buf = [0u8; 40];
        for seq in 0..n / 2 {
            assert_eq!(g.try_read(&mut buf).unwrap().message().unwrap().seq, seq);
        }
        // The producer evicts it at its first wait, and writes over the half
        // it has read.
        let mut evict = BoundedSpin {
            budget: 0,
            then: WaitAction::Evict,
        };
        let mut msg = [0u8; 40];
        fill(n, &mut msg);
        w.claim_with(40, &mut evict).unwrap().commit_with(&msg);
        assert_eq!(ring.consumer(0).unwrap().state, SlotState::Evicted);
        let mut seq = n / 2;
        loop {
            match g.try_read(&mut buf) {
                Ok(Read::Message(m)) => {
                    assert_eq!(m.seq, seq);
                    assert!(check(seq, &buf[..m.len]), "message {seq} intact");
                    seq += 1;
                }
                Err(ReadError::Evicted) => break,
                other => panic!("message {seq}: {other:?}"),
            }
            let read = (seq - n / 2) * 56;
            assert!(read <= LOOK + 56, "{read} bytes read after the eviction");
        }
        assert!(seq > n / 2, "the eviction is seen at a look, after a read");
        assert_eq!(g.slot(), None);
        assert_eq!(ring.consumer(0).unwrap().state, SlotState::Free);
        let m = g.try_read(&mut buf).unwrap().message().unwrap();
        assert_eq!(m.seq, seq, "it reads on where it was");
        assert!(check(seq, &buf[..m.len]));
    });
}

/// A producer that begins to wait is seen by a gating reader within `LOOK`
/// bytes of reading, even one that shows its position only when asked.
#[test]
fn a_waiting_producer_is_seen_within_a_kibibyte() {
    on_big_ring(u64::MAX, |ring, w, g| {
        fill_big(w, g);
        let shown = || ring.consumer(0).unwrap().position;
        let mut buf = [0u8; 40];
        for _ in 0..100 {
            g.try_read(&mut buf).unwrap().message().unwrap();
        }
        let start = shown();
        assert!(start < g.position(), "read, not shown");
        // One wait, then the producer gives up: a round of waiting began.
        let mut give_up = BoundedSpin {
            budget: 0,
            then: WaitAction::GiveUp,
        };
        assert!(matches!(
            w.claim_with(40, &mut give_up),
            Err(WriteError::Full { slot: 0 })
        ));
        let mut read = 0;
        while shown() == start {
            g.try_read(&mut buf).unwrap().message().unwrap();
            read += 56;
            assert!(read <= LOOK + 56, "not shown after {read} bytes");
        }
        assert_eq!(shown(), g.position(), "shown up to the last read");
    });
}

/// An evicted reader that finds the ring empty is told at once, not at its
/// next look: a consumer waiting for data learns it lost its slot.
#[test]
fn an_evicted_reader_polling_an_empty_ring_is_told_at_once() {
    on_big_ring(u64::MAX, |ring, w, g| {
        let n = fill_big(w, g);
        // All of it read (none shown: no read has found the ring empty yet).
        let mut buf = [0u8; 40];
        for seq in 0..n {
            assert_eq!(g.try_read(&mut buf).unwrap().message().unwrap().seq, seq);
        }
        let mut evict = BoundedSpin {
            budget: 0,
            then: WaitAction::Evict,
        };
        // Evicted at the claim's first wait; the claim, dropped, publishes nothing.
        drop(w.claim_with(40, &mut evict).unwrap());
        assert_eq!(ring.consumer(0).unwrap().state, SlotState::Evicted);
        assert_eq!(g.try_read(&mut buf), Err(ReadError::Evicted));
        assert_eq!(g.try_read(&mut buf), Ok(Read::Empty));
    });
}

/// On a ring where looks come every `LOOK` bytes, a step shorter than that
/// is still taken where it falls due.
#[test]
fn steps_shorter_than_a_look_are_taken_on_time() {
    // Two 56-byte records a step.
    on_big_ring(112, |ring, w, g| {
        for i in 0..40u8 {
            w.try_claim(40).unwrap().commit_with(&[i; 40]);
        }
        let shown = || ring.consumer(0).unwrap().position;
        let start = shown();
        let mut buf = [0u8; 40];
        for i in 1..=20u64 {
            g.try_read(&mut buf).unwrap().message().unwrap();
            assert_eq!(shown(), start + i / 2 * 112, "after {i} reads");
        }
    });
}

/// An evicted reader that the producer then laps is told of the eviction
/// at its next read, before the lap.
#[test]
fn an_evicted_reader_that_is_lapped_is_told_at_once() {
    on_big_ring(BIG as u64 / 16, |_, w, g| {
        let n = fill_big(w, g);
        let mut evict = BoundedSpin {
            budget: 0,
            then: WaitAction::Evict,
        };
        let mut msg = [0u8; 40];
        // Evicted at the first claim's wait; then a ring's worth more.
        for seq in n..2 * n {
            fill(seq, &mut msg);
            w.claim_with(40, &mut evict).unwrap().commit_with(&msg);
        }
        let mut buf = [0u8; 40];
        assert_eq!(g.try_read(&mut buf), Err(ReadError::Evicted));
        let Read::Lapped { lost_messages, .. } = g.try_read(&mut buf).unwrap() else {
            panic!("a lap after the eviction");
        };
        let m = g.try_read(&mut buf).unwrap().message().unwrap();
        assert_eq!(m.seq, lost_messages);
        assert!(check(m.seq, &buf[..m.len]));
    });
}

/// A slot freed under a live reader (`reclaim_slot`, for an owner thought
/// dead) and taken by a new consumer is no longer the old reader's: the old
/// one reads on until its next look, which tells it, and shows nothing in
/// the slot meanwhile, though steps of its own fall due.
#[test]
fn a_reader_whose_slot_was_taken_over_stores_nothing_there() {
    on_big_ring(112, |ring, w, g| {
        // A step every two 56-byte records.
        for i in 0..40u8 {
            w.try_claim(40).unwrap().commit_with(&[i; 40]);
        }
        let mut buf = [0u8; 40];
        g.try_read(&mut buf).unwrap().message().unwrap();
        let info = ring.consumer(0).unwrap();
        assert!(ring.reclaim_slot(0, info.generation));
        let newcomer = ring.gating_reader().unwrap();
        let taken = ring.consumer(0).unwrap();
        assert_ne!(taken.generation, info.generation);
        let mut read = 0;
        loop {
            match g.try_read(&mut buf) {
                Ok(Read::Message(_)) => read += 56,
                Err(ReadError::Evicted) => break,
                other => panic!("{other:?}"),
            }
            assert!(read <= LOOK + 56, "not told after {read} bytes");
            assert_eq!(
                ring.consumer(0).unwrap(),
                taken,
                "the old reader stored into the slot after {read} bytes"
            );
        }
        assert_eq!(g.slot(), None);
        assert_eq!(ring.consumer(0).unwrap(), taken);
        drop(newcomer);
    });
}
