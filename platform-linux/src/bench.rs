//! Cross-process measurement engine: a producer that stamps every message
//! with the `CLOCK_MONOTONIC` time it was (or was meant to be) sent, consumers
//! that record one-way latency into an HDR histogram, and the reports they
//! exchange as one line of text each. `shmcast bench` and `shmcast demo` run
//! each role in its own process over one ring; the benchmarks crate reuses it.
//!
//! # Payload
//! Every message is at least [`STAMP_LEN`] bytes: the send time in
//! nanoseconds (little-endian `u64`), then the message index (`u64`), then
//! filler up to the configured size. The last message carries [`END_TAG`].
//!
//! # Coordinated omission
//! With a rate, the producer stamps each message with the time it was *due*,
//! not the time it went out: when the producer is held back (by a gating
//! consumer, or by the machine), the messages that queue up behind the stall
//! carry its cost, as a client sending at that rate would see it.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rustix::time::{clock_gettime, ClockId};
use shmcast::{Read, ReadError, RingConfig, SlotState, Start, WriteError};

use crate::{Error, Phases, ShmRing};

/// Bytes at the start of every payload: send time and message index.
pub const STAMP_LEN: usize = 16;

/// Tag of the last message of a run; consumers stop when they read it.
pub const END_TAG: u32 = u32::MAX;

/// Largest latency the histograms hold (one hour, in nanoseconds); longer
/// samples are clamped to it.
pub const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

/// Nanoseconds on `CLOCK_MONOTONIC` (`clock_gettime`), the same clock in
/// every process of the machine.
pub fn now_ns() -> u64 {
    let t = clock_gettime(ClockId::Monotonic);
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Whether consumers hold the producer back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Consumers are lossy: the producer never waits; slow ones are lapped.
    Lossy,
    /// Consumers are gating: the producer waits for the slowest.
    Gating,
}

impl Mode {
    /// `"lossy"` or `"gating"`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Lossy => "lossy",
            Mode::Gating => "gating",
        }
    }
}

/// What a run sends, and over what ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Consumer processes (each takes a slot of the ring).
    pub consumers: usize,
    /// Payload bytes per message (at least [`STAMP_LEN`]).
    pub size: usize,
    /// Messages to send (the end marker comes on top).
    pub messages: u64,
    /// Lossy or gating consumers.
    pub mode: Mode,
    /// Messages per second, or `None` to send as fast as possible.
    pub rate: Option<u64>,
    /// Ring capacity in bytes (a power of two).
    pub capacity: usize,
    /// Records start on 64-byte lines (`RingConfig::line_aligned`).
    pub line_aligned: bool,
}

impl Params {
    /// The ring a run needs: the capacity, a slot per consumer, messages up
    /// to `size`.
    pub fn ring_config(&self) -> RingConfig {
        RingConfig::new(self.capacity)
            .slots(self.consumers)
            .max_message(self.size.max(STAMP_LEN))
            .line_aligned(self.line_aligned)
    }

    /// Check the parameters before anything is created.
    ///
    /// # Errors
    /// A sentence saying what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.size < STAMP_LEN {
            return Err(format!(
                "message size {} is too small: at least {STAMP_LEN} bytes carry the send time and index",
                self.size
            ));
        }
        if self.rate.is_some_and(|r| r > 1_000_000_000) {
            return Err(
                "more than 1,000,000,000 messages a second cannot be paced (under 1 ns apart): leave --rate out to send flat out".into(),
            );
        }
        if self.rate == Some(0) {
            return Err("a rate of 0 messages per second sends nothing".into());
        }
        self.ring_config().validate().map_err(|e| {
            format!("cannot make the ring: {e} (use a larger capacity or smaller messages)")
        })
    }
}

/// Why a role failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum BenchError {
    /// Creating, opening or joining the ring failed.
    Ring(Error),
    /// The producer could not write.
    Write(WriteError),
    /// A consumer could not read.
    Read(ReadError),
    /// Not every consumer joined in time.
    NoConsumers {
        /// Consumers that joined.
        joined: usize,
        /// Consumers expected.
        expected: usize,
    },
    /// Nothing arrived for too long and no producer is alive.
    ProducerGone {
        /// How long the consumer waited.
        waited: Duration,
    },
    /// A report line could not be read back.
    Report(String),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Ring(e) => write!(f, "{e}"),
            BenchError::Write(e) => write!(f, "producer: {e}"),
            BenchError::Read(e) => write!(f, "consumer: {e}"),
            BenchError::NoConsumers { joined, expected } => write!(
                f,
                "only {joined} of {expected} consumers joined within the time allowed (is the machine overloaded?)"
            ),
            BenchError::ProducerGone { waited } => write!(
                f,
                "no message for {:.1} s and no live producer: the producer died",
                waited.as_secs_f64()
            ),
            BenchError::Report(why) => write!(f, "unreadable report: {why}"),
        }
    }
}

impl std::error::Error for BenchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BenchError::Ring(e) => Some(e),
            BenchError::Write(e) => Some(e),
            BenchError::Read(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for BenchError {
    fn from(e: Error) -> Self {
        BenchError::Ring(e)
    }
}

/// What the producer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProducerReport {
    /// Messages sent (without the end marker).
    pub sent: u64,
    /// Payload bytes sent.
    pub bytes: u64,
    /// From the first message to the last, in nanoseconds.
    pub elapsed_ns: u64,
    /// Time spent waiting in `claim` for room (gating consumers), in
    /// nanoseconds; measured only when paced.
    pub blocked_ns: u64,
    /// Whether the run was cut short.
    pub interrupted: bool,
}

impl ProducerReport {
    /// Messages per second over the run.
    pub fn msgs_per_sec(&self) -> f64 {
        per_sec(self.sent, self.elapsed_ns)
    }

    /// Payload megabytes (10^6 bytes) per second over the run.
    pub fn mb_per_sec(&self) -> f64 {
        per_sec(self.bytes, self.elapsed_ns) / 1e6
    }

    /// One line: `producer sent=.. bytes=.. elapsed_ns=.. blocked_ns=.. interrupted=..`.
    pub fn to_line(&self) -> String {
        format!(
            "producer sent={} bytes={} elapsed_ns={} blocked_ns={} interrupted={}",
            self.sent, self.bytes, self.elapsed_ns, self.blocked_ns, self.interrupted as u8
        )
    }

    /// Read back [`ProducerReport::to_line`].
    ///
    /// # Errors
    /// [`BenchError::Report`] for anything else.
    pub fn from_line(line: &str) -> Result<ProducerReport, BenchError> {
        let f = Fields::parse(line, "producer")?;
        Ok(ProducerReport {
            sent: f.num("sent")?,
            bytes: f.num("bytes")?,
            elapsed_ns: f.num("elapsed_ns")?,
            blocked_ns: f.num("blocked_ns")?,
            interrupted: f.num("interrupted")? != 0,
        })
    }
}

fn per_sec(count: u64, ns: u64) -> f64 {
    if ns == 0 {
        0.0
    } else {
        count as f64 * 1e9 / ns as f64
    }
}

/// Wait until `n` consumer slots are taken (polling, 1 ms apart), at most
/// `timeout`.
///
/// # Errors
/// [`BenchError::NoConsumers`] when the time is up.
pub fn wait_for_consumers(
    ring: &ShmRing,
    n: usize,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<(), BenchError> {
    let start = Instant::now();
    loop {
        let r = ring.ring();
        // A consumer publishes its lease only once it has picked its
        // starting point and holds its slot lock: a taken slot without one
        // may still be about to read the tail, and would miss message 0
        // without counting it as lost.
        let joined = (0..r.slot_count())
            .filter_map(|i| r.consumer(i))
            .filter(|c| !matches!(c.state, SlotState::Free) && c.lease != 0)
            .count();
        if joined >= n || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(BenchError::NoConsumers {
                joined,
                expected: n,
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Sleep, yield or spin until `CLOCK_MONOTONIC` reaches `due` (ns): sleep
/// while far away, yield when close, spin only for the last microseconds.
fn pace_until(due: u64) {
    loop {
        let now = now_ns();
        if now >= due {
            return;
        }
        let gap = due - now;
        if gap > 200_000 {
            std::thread::sleep(Duration::from_nanos(gap - 100_000));
        } else if gap > 20_000 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Be the producer of `ring`: wait for `params.consumers` consumers to join,
/// send `params.messages` stamped messages (paced if `params.rate` is set),
/// then the end marker. `stop` cuts the run short (the end marker is still
/// sent, so consumers finish).
///
/// # Errors
/// [`BenchError::Ring`] if the producer role is taken,
/// [`BenchError::NoConsumers`], [`BenchError::Write`].
pub fn produce(
    ring: &ShmRing,
    params: &Params,
    stop: &AtomicBool,
) -> Result<ProducerReport, BenchError> {
    let mut producer = ring.producer()?;
    wait_for_consumers(ring, params.consumers, Duration::from_secs(20), stop)?;
    let size = params.size.max(STAMP_LEN);
    // Message i is due at start + i * 1e9 / rate ns (exact, in u128: no
    // drift for rates that do not divide a second).
    let due_at = |i: u64, rate: u64| -> u64 {
        let ns = u128::from(i) * 1_000_000_000 / u128::from(rate.max(1));
        u64::try_from(ns).unwrap_or(u64::MAX)
    };
    let interval = params.rate;
    let mut report = ProducerReport::default();
    let start = now_ns();
    for i in 0..params.messages {
        if stop.load(Ordering::Relaxed) {
            report.interrupted = true;
            break;
        }
        let stamp = match interval {
            Some(rate) => {
                let due = start.saturating_add(due_at(i, rate));
                pace_until(due);
                due
            }
            None => 0,
        };
        let before = if interval.is_some() { now_ns() } else { 0 };
        let mut claim = producer.claim(size).map_err(BenchError::Write)?;
        let stamp = if interval.is_some() {
            report.blocked_ns += now_ns().saturating_sub(before);
            stamp
        } else {
            now_ns()
        };
        // In bounds: size >= STAMP_LEN.
        let _ = claim.write_at(0, &stamp.to_le_bytes());
        let _ = claim.write_at(8, &i.to_le_bytes());
        claim.fill_from(STAMP_LEN, 0x5a);
        claim.commit();
        report.sent += 1;
    }
    report.elapsed_ns = now_ns().saturating_sub(start);
    report.bytes = report.sent.saturating_mul(size as u64);
    let mut end = producer.claim(STAMP_LEN).map_err(BenchError::Write)?;
    end.set_tag(END_TAG);
    let _ = end.write_at(0, &now_ns().to_le_bytes());
    let _ = end.write_at(8, &report.sent.to_le_bytes());
    end.commit();
    Ok(report)
}

/// A consumer that pauses now and then (the demo's slow readers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Pause after every this many messages.
    pub every: u64,
    /// For this long.
    pub pause: Duration,
}

/// How a consumer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerOptions {
    /// Gating (the producer waits for it) or lossy.
    pub gating: bool,
    /// Pauses, to play a slow consumer.
    pub throttle: Option<Throttle>,
    /// Give up when nothing arrives this long and the producer, once seen
    /// alive, is gone (ten times this long if it was never seen).
    pub idle_timeout: Duration,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            gating: false,
            throttle: None,
            idle_timeout: Duration::from_secs(2),
        }
    }
}

/// What one consumer saw.
#[derive(Debug, Clone)]
pub struct ConsumerReport {
    /// Its consumer slot.
    pub slot: usize,
    /// Whether it joined as gating.
    pub gating: bool,
    /// Whether it was still gating at the end (not demoted by the producer).
    pub still_gating: bool,
    /// Messages received (without the end marker).
    pub received: u64,
    /// Times lapped.
    pub laps: u64,
    /// Messages lost to laps (exact).
    pub lost: u64,
    /// Whether it read the end marker (false: interrupted).
    pub saw_end: bool,
    /// `CLOCK_MONOTONIC` ns of the first and last message received.
    pub first_ns: u64,
    /// See `first_ns`.
    pub last_ns: u64,
    /// One-way latency of every message received, in nanoseconds.
    pub latency: Histogram<u64>,
}

/// A histogram for latencies from 1 ns to [`MAX_LATENCY_NS`], 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    // Bounds are constants that `new_with_bounds` accepts (low >= 1,
    // high >= 2 * low, sigfig <= 5).
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).unwrap_or_else(|_| unreachable!())
}

impl ConsumerReport {
    /// Messages per second between the first and the last message received.
    pub fn msgs_per_sec(&self) -> f64 {
        per_sec(
            self.received.saturating_sub(1),
            self.last_ns.saturating_sub(self.first_ns),
        )
    }

    /// One line: `consumer slot=.. .. latency=VALUE:COUNT,...`.
    pub fn to_line(&self) -> String {
        let hist: Vec<String> = self
            .latency
            .iter_recorded()
            .map(|v| format!("{}:{}", v.value_iterated_to(), v.count_at_value()))
            .collect();
        format!(
            "consumer slot={} gating={} still_gating={} received={} laps={} lost={} end={} first_ns={} last_ns={} latency={}",
            self.slot,
            self.gating as u8,
            self.still_gating as u8,
            self.received,
            self.laps,
            self.lost,
            self.saw_end as u8,
            self.first_ns,
            self.last_ns,
            hist.join(",")
        )
    }

    /// Read back [`ConsumerReport::to_line`].
    ///
    /// # Errors
    /// [`BenchError::Report`] for anything else.
    pub fn from_line(line: &str) -> Result<ConsumerReport, BenchError> {
        let f = Fields::parse(line, "consumer")?;
        let mut latency = latency_histogram();
        let bad = |what: &str| BenchError::Report(format!("bad latency entry {what:?}"));
        for entry in f.get("latency")?.split(',').filter(|e| !e.is_empty()) {
            let (v, c) = entry.split_once(':').ok_or_else(|| bad(entry))?;
            let v: u64 = v.parse().map_err(|_| bad(entry))?;
            let c: u64 = c.parse().map_err(|_| bad(entry))?;
            latency.saturating_record_n(v.clamp(1, MAX_LATENCY_NS), c);
        }
        Ok(ConsumerReport {
            slot: f.num("slot")? as usize,
            gating: f.num("gating")? != 0,
            still_gating: f.num("still_gating")? != 0,
            received: f.num("received")?,
            laps: f.num("laps")?,
            lost: f.num("lost")?,
            saw_end: f.num("end")? != 0,
            first_ns: f.num("first_ns")?,
            last_ns: f.num("last_ns")?,
            latency,
        })
    }
}

/// `key=value` fields of a report line after its leading word.
struct Fields<'l>(Vec<(&'l str, &'l str)>);

impl<'l> Fields<'l> {
    fn parse(line: &'l str, kind: &str) -> Result<Fields<'l>, BenchError> {
        let mut words = line.split_whitespace();
        if words.next() != Some(kind) {
            return Err(BenchError::Report(format!(
                "expected a {kind} report, got {line:?}"
            )));
        }
        let fields = words
            .map(|w| {
                w.split_once('=')
                    .ok_or_else(|| BenchError::Report(format!("bad field {w:?}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Fields(fields))
    }

    fn get(&self, key: &str) -> Result<&'l str, BenchError> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| BenchError::Report(format!("no field {key:?}")))
    }

    fn num(&self, key: &str) -> Result<u64, BenchError> {
        let v = self.get(key)?;
        v.parse()
            .map_err(|_| BenchError::Report(format!("field {key}={v:?} is not a number")))
    }
}

/// Be a consumer of `ring` until the end marker, `stop`, or a dead producer:
/// join (gating, or lossy with a slot so the run can watch it), wait for
/// messages with [`crate::Consumer::read_wait`] (spin, yield, futex sleep)
/// and record each one's one-way latency.
///
/// # Errors
/// [`BenchError::Ring`] if no slot is free, [`BenchError::Read`],
/// [`BenchError::ProducerGone`].
pub fn consume(
    ring: &ShmRing,
    opts: &ConsumerOptions,
    stop: &AtomicBool,
) -> Result<ConsumerReport, BenchError> {
    let mut consumer = if opts.gating {
        ring.gating_consumer()?
    } else {
        ring.observed_consumer(Start::Tail)?
    };
    let phases = Phases::default();
    let mut report = ConsumerReport {
        slot: consumer.reader().slot().unwrap_or(0),
        gating: opts.gating,
        still_gating: opts.gating,
        received: 0,
        laps: 0,
        lost: 0,
        saw_end: false,
        first_ns: 0,
        last_ns: 0,
        latency: latency_histogram(),
    };
    let mut buf = vec![0u8; ring.ring().max_message()];
    let mut idle_since = Instant::now();
    let mut seen_producer = false;
    while !stop.load(Ordering::Relaxed) {
        // A gating consumer wakes a producer asleep waiting for room (no
        // system call unless one sleeps).
        let read = consumer
            .read_wait(&mut buf, &phases, Duration::from_millis(50))
            .map_err(BenchError::Read)?;
        match read {
            Read::Message(m) => {
                idle_since = Instant::now();
                if m.tag == END_TAG {
                    report.saw_end = true;
                    break;
                }
                let now = now_ns();
                // A message shorter than a stamp (not ours) counts as sent at 0.
                let sent = buf[..m.len]
                    .first_chunk::<8>()
                    .map_or(0, |b| u64::from_le_bytes(*b));
                report
                    .latency
                    .saturating_record(now.saturating_sub(sent).clamp(1, MAX_LATENCY_NS));
                if report.received == 0 {
                    report.first_ns = now;
                }
                report.last_ns = now;
                report.received += 1;
                if let Some(t) = opts.throttle {
                    if t.every > 0 && report.received.is_multiple_of(t.every) {
                        std::thread::sleep(t.pause);
                    }
                }
            }
            Read::Lapped { lost_messages, .. } => {
                report.laps += 1;
                report.lost = report.lost.saturating_add(lost_messages);
            }
            Read::Restarted { .. } => {}
            Read::Empty => {
                // A producer that has not started yet gets ten times longer
                // than one that was seen and is gone.
                let waited = idle_since.elapsed();
                if waited >= opts.idle_timeout {
                    let alive = ring.producer_alive().unwrap_or(true);
                    seen_producer |= alive;
                    let limit = if seen_producer {
                        opts.idle_timeout
                    } else {
                        opts.idle_timeout * 10
                    };
                    if !alive && waited >= limit {
                        return Err(BenchError::ProducerGone { waited });
                    }
                }
            }
        }
    }
    report.still_gating = consumer.reader().is_gating();
    Ok(report)
}

/// The latency percentiles a run reports: p50, p90, p99, p99.9, p99.99 and
/// the maximum, as `(label, nanoseconds)`.
pub fn percentiles(h: &Histogram<u64>) -> Vec<(&'static str, u64)> {
    let mut out: Vec<(&'static str, u64)> = [
        ("p50", 50.0),
        ("p90", 90.0),
        ("p99", 99.0),
        ("p99.9", 99.9),
        ("p99.99", 99.99),
    ]
    .iter()
    .map(|&(label, q)| (label, h.value_at_percentile(q)))
    .collect();
    out.push(("max", h.max()));
    out
}

/// All consumers' latencies in one histogram.
pub fn merged_latency(consumers: &[ConsumerReport]) -> Histogram<u64> {
    let mut all = latency_histogram();
    for c in consumers {
        // Same bounds and precision, so adding cannot fail.
        let _ = all.add(&c.latency);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        let p = ProducerReport {
            sent: 10,
            bytes: 640,
            elapsed_ns: 12345,
            blocked_ns: 7,
            interrupted: true,
        };
        assert_eq!(ProducerReport::from_line(&p.to_line()).unwrap(), p);

        let mut latency = latency_histogram();
        for v in [100u64, 100, 250, 1_000_000] {
            latency.record(v).unwrap();
        }
        let c = ConsumerReport {
            slot: 2,
            gating: true,
            still_gating: false,
            received: 4,
            laps: 1,
            lost: 3,
            saw_end: true,
            first_ns: 5,
            last_ns: 9,
            latency,
        };
        let back = ConsumerReport::from_line(&c.to_line()).unwrap();
        assert_eq!(back.to_line(), c.to_line());
        assert_eq!(back.latency.len(), 4);
        assert_eq!(back.latency.max(), c.latency.max());
        assert_eq!(
            back.latency.value_at_percentile(50.0),
            c.latency.value_at_percentile(50.0)
        );
    }

    #[test]
    fn bad_reports_are_errors() {
        for line in [
            "",
            "producer",
            "producer sent=x bytes=1 elapsed_ns=1 blocked_ns=0 interrupted=0",
            "consumer slot=0",
            "consumer slot=0 gating=0 still_gating=0 received=1 laps=0 lost=0 end=1 first_ns=0 last_ns=0 latency=5",
        ] {
            assert!(ProducerReport::from_line(line).is_err() || ConsumerReport::from_line(line).is_err());
            assert!(ConsumerReport::from_line(line).is_err(), "{line}");
        }
    }

    #[test]
    fn params_are_checked() {
        let ok = Params {
            consumers: 2,
            size: 64,
            messages: 10,
            mode: Mode::Lossy,
            rate: None,
            capacity: 1 << 16,
            line_aligned: false,
        };
        assert!(ok.check().is_ok());
        assert!(Params { size: 8, ..ok }.check().is_err());
        assert!(Params {
            rate: Some(0),
            ..ok
        }
        .check()
        .is_err());
        assert!(Params {
            capacity: 1000,
            ..ok
        }
        .check()
        .is_err());
        assert!(Params {
            size: 1 << 20,
            ..ok
        }
        .check()
        .is_err());
    }

    #[test]
    fn clock_moves_forward() {
        let a = now_ns();
        let b = now_ns();
        assert!(a > 0 && b >= a);
    }
}
