//! A short broadcast between threads: one producer, a fast reader that keeps
//! up and a slow one that is lapped, with what happened in plain words.
//!
//! `cargo run --release -p shmcast --example demo`

use shmcast::{InlineRegion, Read, Ring, RingConfig, Start};
use std::time::{Duration, Instant};

const CAP: usize = 1 << 16;
const MESSAGES: u64 = 2_000_000;

fn main() {
    let region: Box<InlineRegion<{ shmcast::layout::ring_size(CAP, 0) }>> = {
        let b = Box::new_zeroed();
        // SAFETY: an InlineRegion is an UnsafeCell of bytes; all zeros is valid.
        unsafe { b.assume_init() }
    };
    let ring = Ring::create(&*region, &RingConfig::new(CAP).max_message(256)).expect("create");
    println!(
        "ring: {} KiB of records, messages up to {} bytes",
        ring.capacity() / 1024,
        ring.max_message()
    );
    let started = Instant::now();
    std::thread::scope(|s| {
        let fast = s.spawn(move || follow(ring, "fast reader", Duration::ZERO));
        let slow = s.spawn(move || follow(ring, "slow reader", Duration::from_micros(50)));
        let mut w = ring.writer().expect("producer");
        std::thread::sleep(Duration::from_millis(20));
        for seq in 0..MESSAGES {
            let len = 16 + (seq % 200) as usize;
            let mut c = w.claim(len).unwrap();
            c.put(&seq.to_le_bytes()).unwrap();
            c.fill_from(8, seq as u8);
            c.commit();
        }
        let elapsed = started.elapsed();
        println!(
            "producer: {MESSAGES} messages of 16-215 bytes in {:.0} ms, never waiting for a reader",
            elapsed.as_secs_f64() * 1e3
        );
        for r in [fast, slow] {
            println!("{}", r.join().unwrap());
        }
    });
}

fn follow(ring: Ring<'_>, name: &str, pause: Duration) -> String {
    let mut r = ring.reader(Start::Oldest).expect("join");
    let mut buf = [0u8; 256];
    let (mut read, mut laps, mut lost, mut idle) = (0u64, 0u64, 0u64, 0u32);
    while r.next_seq() < MESSAGES {
        match r.try_read(&mut buf) {
            Ok(Read::Message(m)) => {
                assert_eq!(u64::from_le_bytes(buf[..8].try_into().unwrap()), m.seq);
                assert!(
                    buf[8..m.len].iter().all(|&b| b == m.seq as u8),
                    "torn message"
                );
                read += 1;
                idle = 0;
                if !pause.is_zero() && read % 1000 == 0 {
                    std::thread::sleep(pause);
                }
            }
            Ok(Read::Lapped { lost_messages, .. }) => {
                laps += 1;
                lost += lost_messages;
            }
            Ok(_) | Err(_) => {
                idle += 1;
                if idle > 100 {
                    std::thread::yield_now();
                }
            }
        }
    }
    format!(
        "{name}: read {read} messages, every one byte-exact and in order; lapped {laps} times, \
         losing exactly {lost} (read + lost = {})",
        read + lost
    )
}
