//! `shmcast tail`: print messages as they arrive.
//!
//! Messages go to standard output; laps (with their exact losses), producer
//! restarts and demotion of a gating tail go to standard error. Waiting is
//! phased (spin, yield, then a futex sleep, see [`read_wait`]), and every
//! wait is bounded so Ctrl-C is noticed within a tenth of a second. A ring
//! this user may only read is tailed through a read-only mapping, polling.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use shmcast::{Message, Read, ReadError, Start};
use shmcast_linux::{read_poll, read_wait, Error, Options, Phases, ReadOnlyShm, ShmRing};

use crate::args::{Format, StartAt, TailArgs};
use crate::output::{escape_text, hex, JsonObject};
use crate::{interrupt, Failure, Outcome};

/// Longest single wait, so the loop checks the interrupt flag often.
const TICK: Duration = Duration::from_millis(100);

/// Follow the ring until `--count` messages, Ctrl-C, or a closed output.
pub fn run(a: &TailArgs) -> Outcome {
    let loc = a.ring.location()?;
    let name = loc.display();
    let start = match a.from {
        StartAt::Latest => Start::Tail,
        StartAt::Oldest => Start::Oldest,
    };
    let phases = Phases::default();
    let join = |e| {
        Failure::from(Error::Join {
            ring: name.clone(),
            source: e,
        })
    };
    match ShmRing::open(&loc, &Options::default()) {
        Ok(ring) if a.gating => {
            let mut consumer = ring.gating_consumer()?;
            let mut was_gating = false;
            follow(a, &name, ring.ring().max_message(), |buf| {
                // Waking a producer that sleeps waiting for the room made.
                let read = consumer.read_wait(buf, &phases, TICK)?;
                let gating = consumer.reader().is_gating();
                if was_gating && !gating {
                    eprintln!(
                        "shmcast: ring {name}: the producer demoted this tail to lossy (it held the producer back too long)"
                    );
                }
                was_gating = gating;
                Ok(read)
            })
            // `consumer` drops here, on every path: its slot and lock are released.
        }
        Ok(ring) => {
            let mut reader = ring.ring().reader(start).map_err(join)?;
            follow(a, &name, ring.ring().max_message(), |buf| {
                read_wait(&mut reader, buf, &phases, TICK)
            })
        }
        Err(Error::Io { source, .. })
            if source.kind() == io::ErrorKind::PermissionDenied && !a.gating =>
        {
            // Readable but not writable: a read-only mapping never writes.
            let ro = ReadOnlyShm::open(&loc, &Options::default())?;
            let view = ro.view();
            let mut reader = view.reader(start).map_err(join)?;
            follow(a, &name, view.max_message(), |buf| {
                read_poll(&mut reader, buf, &phases, TICK)
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The read loop, over any reader.
fn follow(
    a: &TailArgs,
    name: &str,
    max_message: usize,
    mut next: impl FnMut(&mut [u8]) -> Result<Read, ReadError>,
) -> Outcome {
    let mut buf = vec![0u8; max_message];
    let mut out = BufWriter::new(io::stdout().lock());
    let mut printed: u64 = 0;
    while a.count.is_none_or(|n| printed < n) && !interrupt::interrupted() {
        let read = next(&mut buf).map_err(|e| {
            Failure::Runtime(format!(
                "ring {name}: cannot read: {e} (if the ring was removed and created again, start tail again)"
            ))
        })?;
        match read {
            Read::Message(m) => {
                print(&mut out, a.format, &m, &buf[..m.len])?;
                printed += 1;
            }
            Read::Lapped {
                lost_messages,
                lost_bytes,
            } => {
                out.flush()?;
                eprintln!(
                    "shmcast: ring {name}: lapped by the producer: lost {lost_messages} messages ({lost_bytes} bytes)"
                );
            }
            Read::Restarted { epoch, seq } => {
                out.flush()?;
                eprintln!(
                    "shmcast: ring {name}: producer restarted the stream (epoch {epoch}); next message is #{seq}"
                );
            }
            // Nothing now: show what we have before waiting again.
            Read::Empty => out.flush()?,
        }
    }
    out.flush()?;
    Ok(())
}

/// One message in the chosen format, one line.
fn print(out: &mut impl Write, format: Format, m: &Message, payload: &[u8]) -> io::Result<()> {
    match format {
        Format::Text => writeln!(out, "{}", escape_text(payload)),
        Format::Hex => writeln!(
            out,
            "#{} tag {} len {}: {}",
            m.seq,
            m.tag,
            m.len,
            hex(payload)
        ),
        Format::Json => {
            let o = JsonObject::new()
                .num("seq", m.seq)
                .num("tag", u64::from(m.tag))
                .num("len", m.len as u64);
            let o = match std::str::from_utf8(payload) {
                Ok(text) => o.str("payload", text),
                Err(_) => o.str("payload_hex", &hex(payload)),
            };
            writeln!(out, "{}", o.finish())
        }
    }
}
