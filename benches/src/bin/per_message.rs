//! Instructions per message, counted by callgrind, for the single-thread
//! paths where the clock on a shared VM is too noisy to compare small
//! differences (instruction counts are exact and repeat from run to run):
//!
//! ```text
//! cargo build --release -p shmcast-benches --bin per_message
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='per_message::measured*' \
//!     target/release/per_message write shmcast 8
//! ```
//!
//! then divide the `I refs` line by the number of messages it prints (about
//! 1000000, or the fourth argument). Operations: `write`, `read`, and for
//! shmcast alone `claim`, `stage` (batches of 64), `read-gating` (`read` by
//! a gating reader, which keeps a consumer slot) and `read-batch` (batches
//! of up to 64, their payloads looked at); contenders:
//! `shmcast`, `bcast-rc` (1.0.0-rc.7); the size in bytes. Only [`measured`]
//! is counted: for `read` the messages are written (up to 256 at a time, into
//! a 32 KiB ring) outside it. The count includes the loop and the
//! `black_box` around each call, the same for both contenders.

use shmcast::{Read, Ring, RingConfig, Start};
use shmcast_benches::HeapRegion;
use std::hint::black_box;
use std::process::ExitCode;

/// Data bytes of the rings: small enough to stay in L1, so that callgrind's
/// count is not mixed with what a real run would spend waiting on memory.
const CAPACITY: usize = 32 << 10;
/// Messages written, then read, per turn of a read run: at most 256, and no
/// more than half the ring holds, so that no read is lapped.
fn batch(size: usize) -> u64 {
    (CAPACITY as u64 / 2 / (size as u64 + 24)).clamp(1, 256)
}

/// Run `f` `n` times: the only code callgrind counts.
#[inline(never)]
fn measured<F: FnMut()>(n: u64, mut f: F) {
    for _ in 0..n {
        f();
    }
}

/// Run `n` operations (a read run: the whole batches in `n`); how many.
fn shmcast(op: &str, msg: &[u8], n: u64) -> u64 {
    // A slot for the gating reader of `read-gating`.
    let cfg = RingConfig::new(CAPACITY).slots(1);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).expect("create");
    let mut w = ring.writer().expect("writer");
    if op == "write" {
        measured(n, || {
            w.write(black_box(msg)).expect("write");
        });
        return n;
    }
    if op == "stage" {
        // Batches of 64 staged messages, each published by one flush (the
        // flush counted with the batch).
        measured(n / 64, || {
            for _ in 0..64 {
                w.stage(0, black_box(msg)).expect("stage");
            }
            w.flush();
        });
        return n / 64 * 64;
    }
    if op == "claim" {
        let mut wait = shmcast_benches::Patient::default();
        measured(n, || {
            w.claim_with(msg.len(), &mut wait)
                .expect("claim")
                .commit_with(black_box(msg));
        });
        return n;
    }
    let mut r = if op == "read-gating" {
        ring.gating_reader().expect("gating reader")
    } else {
        ring.reader(Start::Tail).expect("reader")
    };
    let batch = batch(msg.len());
    if op == "read-batch" {
        // Batches of up to 64 messages (the turn's writes end them too),
        // each message's payload looked at as a read run's is.
        let mut buf = vec![0u8; 64 * shmcast::batch_space(msg.len())];
        let mut read = 0;
        for _ in 0..n / batch {
            for _ in 0..batch {
                w.write(msg).expect("write");
            }
            measured(1, || {
                let mut left = batch;
                while left > 0 {
                    let got = r.try_read_batch(black_box(&mut buf)).expect("read");
                    let batch = got.messages().expect("messages");
                    for (_, payload) in batch {
                        black_box(payload);
                    }
                    left -= batch.len() as u64;
                }
            });
            read += batch;
        }
        return read;
    }
    let mut buf = vec![0u8; msg.len()];
    for _ in 0..n / batch {
        for _ in 0..batch {
            w.write(msg).expect("write");
        }
        measured(batch, || {
            let got = r.try_read(black_box(&mut buf)).expect("read");
            assert!(matches!(got, Read::Message(_)));
        });
    }
    n / batch * batch
}

/// As [`shmcast`], for bcast 1.0.0-rc.7.
fn bcast_rc(op: &str, msg: &[u8], n: u64) -> u64 {
    use bcast_rc::StorageExt;
    let storage = bcast_rc::LocalStorage::with_capacity(CAPACITY).into_shared();
    let mut w = storage.clone().into_writer();
    if op == "write" {
        measured(n, || w.send(black_box(msg), true));
        return n;
    }
    let mut r = storage.into_reader();
    let mut buf = vec![0u8; msg.len()];
    let batch = batch(msg.len());
    for _ in 0..n / batch {
        for _ in 0..batch {
            w.send(msg, true);
        }
        measured(batch, || {
            let got = r.receive_next(black_box(&mut buf)).expect("a message");
            black_box(got.expect("bcast read").payload.len());
        });
    }
    n / batch * batch
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: per_message write|read shmcast|bcast-rc SIZE [MESSAGES]\n       \
                 per_message claim|stage|read-gating|read-batch shmcast SIZE [MESSAGES]";
    let (Some(op), Some(who), Some(size)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let size: usize = match size.parse() {
        Ok(s) if (1..=4096).contains(&s) => s,
        _ => {
            eprintln!("per_message: SIZE must be 1..=4096\n{usage}");
            return ExitCode::from(2);
        }
    };
    let n: u64 = match args.get(3).map(|m| m.parse()) {
        None => 1_000_000,
        Some(Ok(m)) if m >= 256 => m,
        Some(_) => {
            eprintln!("per_message: MESSAGES must be a number of at least 256\n{usage}");
            return ExitCode::from(2);
        }
    };
    let msg = vec![7u8; size];
    let done = match (op.as_str(), who.as_str()) {
        ("write" | "read" | "read-gating" | "claim" | "stage" | "read-batch", "shmcast") => {
            shmcast(op, &msg, n)
        }
        ("write" | "read", "bcast-rc") => bcast_rc(op, &msg, n),
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    println!("{op} {who} {size} B: {done} messages measured");
    ExitCode::SUCCESS
}
