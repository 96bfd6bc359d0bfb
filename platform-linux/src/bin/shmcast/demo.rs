//! `shmcast demo`: a two-second broadcast between three processes, told in
//! plain words. A paced producer sends to a gating consumer that pauses now
//! and then (so the producer must wait for it) and to a lossy consumer that
//! reads slowly on purpose (so the producer laps it, and it is told exactly
//! what it lost). The ring is removed at the end, or on Ctrl-C.

use std::time::Duration;

use shmcast_linux::bench::{percentiles, ConsumerReport, Mode, Params};

use crate::args::DemoArgs;
use crate::bench::spawn_and_wait;
use crate::output::{bytes, count, duration_ns};
use crate::spawn::{Place, Run};
use crate::{Failure, Outcome};

/// Messages the producer sends.
const MESSAGES: u64 = 20_000;
/// At this rate (so the run lasts about two seconds).
const RATE: u64 = 10_000;
/// Bytes per message.
const SIZE: usize = 64;
/// A small ring, so that a slow reader is lapped quickly.
const CAPACITY: usize = 64 << 10;
/// The gating consumer pauses after every this many messages...
const GATING_EVERY: u64 = 7_000;
/// ... for this long.
const GATING_PAUSE: Duration = Duration::from_millis(250);
/// The lossy consumer pauses after every this many messages...
const LOSSY_EVERY: u64 = 10;
/// ... for this long.
const LOSSY_PAUSE: Duration = Duration::from_millis(5);

/// Run the demo and tell what happened.
pub fn run(a: &DemoArgs) -> Outcome {
    let params = Params {
        consumers: 2,
        size: SIZE,
        messages: MESSAGES,
        mode: Mode::Lossy,
        rate: Some(RATE),
        capacity: CAPACITY,
        line_aligned: false,
    };
    params.check().map_err(Failure::Runtime)?;
    let place = match &a.path {
        Some(p) => Place::Path(p),
        None => Place::Shm,
    };
    let mut run = Run::create("shmcast-demo", place, &params.ring_config())?;
    let name = run.location().display();
    println!(
        "shmcast demo: one producer and two consumers, each in its own process, share ring {name} of {} in shared memory.",
        bytes(CAPACITY as u64)
    );
    println!(
        "The producer sends {} messages of {SIZE} bytes, {} a second. The gating consumer pauses for {} ms after every {} messages; the lossy one pauses {} ms after every {}.",
        count(MESSAGES),
        count(RATE),
        GATING_PAUSE.as_millis(),
        count(GATING_EVERY),
        LOSSY_PAUSE.as_millis(),
        LOSSY_EVERY
    );
    println!();
    let consumer_args = |i: usize| -> Vec<String> {
        let (gating, every, pause) = if i == 0 {
            (true, GATING_EVERY, GATING_PAUSE)
        } else {
            (false, LOSSY_EVERY, LOSSY_PAUSE)
        };
        let mut args = vec![
            "--pause-every".to_string(),
            every.to_string(),
            "--pause-us".into(),
            pause.as_micros().to_string(),
        ];
        if gating {
            args.push("--gating".into());
        }
        args
    };
    let (producer, consumers) = spawn_and_wait(&mut run, &params, Some(&consumer_args))?;
    let waits = |c: &ConsumerReport| {
        run.ring()
            .ring()
            .consumer(c.slot)
            .map_or(0, |info| info.producer_waits)
    };

    println!(
        "The producer sent {} messages in {}.",
        count(producer.sent),
        duration_ns(producer.elapsed_ns)
    );
    for c in &consumers {
        if c.gating {
            let pauses = c.received / GATING_EVERY;
            println!(
                "The gating consumer (slot {}) received {} of them and lost {}. It paused {} times; each time the ring filled up and the producer waited for it rather than overwrite what it had not read ({} in all, in {} rounds of waiting){}.",
                c.slot,
                count(c.received),
                count(c.lost),
                pauses,
                duration_ns(producer.blocked_ns),
                count(waits(c)),
                if c.still_gating {
                    ""
                } else {
                    "; it was then demoted to lossy for holding the producer back too long"
                }
            );
            let p = percentiles(&c.latency);
            println!(
                "  Its one-way latency, from the time each message was due: median {}, 99% under {}, worst {} (the messages queued behind its pauses).",
                duration_ns(p[0].1),
                duration_ns(p[2].1),
                duration_ns(p[5].1)
            );
        } else {
            println!(
                "The lossy consumer (slot {}) read slowly: it received {} messages and was lapped {} times (resuming each time at the oldest message still in the ring), and was told it lost {}; {} + {} = {}, every message accounted for. The producer never waited for it ({} rounds of waiting).",
                c.slot,
                count(c.received),
                count(c.laps),
                count(c.lost),
                count(c.received),
                count(c.lost),
                count(c.received.saturating_add(c.lost)),
                count(waits(c))
            );
        }
    }
    drop(run);
    println!("Ring {name} removed.");
    Ok(())
}
