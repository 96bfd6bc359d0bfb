//! `shmcast pub`: each line of standard input becomes one message.
//!
//! A thread reads standard input and hands lines over a bounded channel, so
//! the producer loop can notice Ctrl-C while input is idle, and can publish a
//! burst of lines with one flush (staged, then published together).

use std::io::{BufRead, Read as _};
use std::sync::mpsc;
use std::time::Duration;

use shmcast::Continuation;
use shmcast_linux::{Options, Producer, ShmRing};

use crate::args::PubArgs;
use crate::{interrupt, Failure, Outcome};

/// Lines read ahead of the producer.
const BACKLOG: usize = 1024;

/// Publish standard input, line by line, until end of input (or Ctrl-C).
pub fn run(a: &PubArgs) -> Outcome {
    let loc = a.ring.location()?;
    let ring = ShmRing::open(&loc, &Options::default())?;
    let how = if a.restart {
        Continuation::Restart
    } else {
        Continuation::Continue
    };
    let mut producer = ring.producer_with(how)?;
    let max = producer.max_message();
    let batch = producer.ring().capacity() / 8;
    let (tx, rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(BACKLOG);
    // The reader thread ends at end of input, or when we hang up; it is
    // detached because a blocked read of standard input cannot be cancelled.
    // A line is read up to just past the largest message, so endless input
    // without a newline is refused instead of filling memory.
    let limit = max as u64 + 2;
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        loop {
            let mut line = Vec::new();
            match input.by_ref().take(limit).read_until(b'\n', &mut line) {
                Ok(0) => return,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    if tx.send(Ok(line)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
    });
    let mut line_no: u64 = 0;
    loop {
        if interrupt::interrupted() {
            return Ok(());
        }
        let first = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        // Stage what is already waiting, then publish it with one flush;
        // flush at least every eighth of the ring, so a long burst never
        // overwrites records of its own that readers have not been shown.
        let mut next = Some(first);
        let mut staged = 0;
        while let Some(line) = next {
            let line =
                line.map_err(|e| Failure::Runtime(format!("cannot read standard input: {e}")))?;
            line_no += 1;
            stage(&mut producer, a.tag, &line, line_no, max, &loc.display())?;
            staged += line.len() + 24;
            if staged >= batch {
                producer.flush();
                staged = 0;
            }
            next = rx.try_recv().ok();
        }
        producer.flush();
    }
}

fn stage(
    producer: &mut Producer<'_>,
    tag: u32,
    line: &[u8],
    line_no: u64,
    max: usize,
    ring: &str,
) -> Outcome {
    if line.len() > max {
        producer.flush();
        return Err(Failure::Runtime(format!(
            "line {line_no} has {} bytes, more than ring {ring} carries in one message ({max}): split it, or create the ring with a larger --capacity or --max-message",
            line.len()
        )));
    }
    // A producer that finds the ring full publishes what is staged before
    // it waits, so gating consumers can make room.
    producer.stage(tag, line).map(|_| ()).map_err(|e| {
        producer.flush();
        Failure::Runtime(format!("ring {ring}: cannot publish line {line_no}: {e}"))
    })
}
