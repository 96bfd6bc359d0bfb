//! Cross-process latency, shmcast against bcast and the raw atomic floor, in
//! one run.
//!
//! ```text
//! cargo run --release -p shmcast-benches --bin latency -- [--rounds 5] [--messages 200000]
//!     [--warmup 20000] [--size 32] [--capacity 65536]
//!     [--only floor,ring-floor,ring-floor-line,shmcast,shmcast-line,bcast-rc,bcast-old]
//! ```
//!
//! For each round and each contender (alternating, so drift and noise from
//! other load fall on all of them alike), this process creates two channels
//! in /dev/shm, re-executes itself as an echo process (`--role echo`) and plays
//! ping-pong: it writes a message carrying a sequence number and a
//! CLOCK_MONOTONIC timestamp, the echo process records the one-way latency
//! (its clock at arrival less the timestamp) and sends the message back, and
//! this process records the round trip. Both sides busy-wait (spin, yielding
//! only after long waits). Percentiles come from hdrhistogram; the summary
//! gives the median across rounds of each percentile, the spread of p50
//! across rounds, and ratios to the floor and to bcast 1.0.0-rc.7.
//!
//! Contenders:
//! - `floor`: two `AtomicU64` words (plus a timestamp word) on separate cache
//!   lines of one shared mapping: the least any shared-memory channel costs.
//! - `ring-floor`: the least a ring of records costs, beside the floor: two
//!   rings of shmcast's packed record shape (a first word, a sequence word,
//!   the payload as relaxed 64-bit atomic words) in one shared mapping, each
//!   record at the next position, published by its first word (Release) and
//!   polled there (Acquire). Nothing else: no checks of the length or the
//!   sequence, no lap detection, no padding (a record that would not fit
//!   before the ring's end goes to its start; both sides know the size), no
//!   tail, no wake-ups. What shmcast and bcast pay on top of the floor that
//!   this pays too comes from the shape (each message on lines the reader has
//!   not polled before, a 48-byte record across a line boundary every other
//!   message), not from their work. Its copies are word loops: for messages
//!   of 128 bytes and more, which shmcast copies 16 bytes at a time, it is
//!   no floor.
//! - `ring-floor-line`: the same with every record rounded up to whole
//!   64-byte lines, the shape of `shmcast-line`.
//! - `shmcast`: two rings (`ShmRing`), one each way: producer `write`, reader
//!   `try_read` (sequence, bounds and intent checks on every message).
//! - `shmcast-line`: the same over rings made with
//!   `RingConfig::line_aligned(true)`: every record starts on a 64-byte line,
//!   so a 32-byte message and its header travel in one line.
//! - `bcast-rc`, `bcast-old`: bcast 1.0.0-rc.7 and 0.0.31 in their mmap
//!   shared-memory mode, two files in /dev/shm, one each way.
//!
//! The clock, the payload layout (send time, then index), the histogram and
//! the percentiles are those of `shmcast bench` (`shmcast_linux::bench`),
//! which measures one-way latency of a paced stream to many consumers; this
//! tool adds the ping-pong, the peers and the floor.

use hdrhistogram::Histogram;
use shmcast::{Read, RingConfig, Start};
use shmcast_benches::bare::{load_payload, store_payload};
use shmcast_linux::bench::{latency_histogram, now_ns, percentiles, STAMP_LEN};
use shmcast_linux::{Location, Options, ShmRing};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Data bytes of each ring (both directions) unless `--capacity` says.
const CAPACITY: usize = 64 << 10;
/// How long either side waits for the other before giving up.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Percentile labels, as `shmcast_linux::bench::percentiles` gives them
/// (before the maximum).
const QUANTILES: [&str; 5] = ["p50", "p90", "p99", "p99.9", "p99.99"];

/// One contender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Floor,
    RingFloor,
    RingFloorLine,
    Shmcast,
    ShmcastLine,
    BcastRc,
    BcastOld,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Floor,
        Kind::RingFloor,
        Kind::RingFloorLine,
        Kind::Shmcast,
        Kind::ShmcastLine,
        Kind::BcastRc,
        Kind::BcastOld,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Floor => "floor",
            Kind::RingFloor => "ring-floor",
            Kind::RingFloorLine => "ring-floor-line",
            Kind::Shmcast => "shmcast",
            Kind::ShmcastLine => "shmcast-line",
            Kind::BcastRc => "bcast-rc",
            Kind::BcastOld => "bcast-old",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Floor => "raw atomic floor",
            Kind::RingFloor => "bare ring of records",
            Kind::RingFloorLine => "bare ring, line-aligned",
            Kind::Shmcast => "shmcast",
            Kind::ShmcastLine => "shmcast, line-aligned",
            Kind::BcastRc => "bcast 1.0.0-rc.7",
            Kind::BcastOld => "bcast 0.0.31",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Settings of a run (the parent's, passed on to the echo process).
#[derive(Debug, Clone)]
struct Settings {
    rounds: usize,
    messages: u64,
    warmup: u64,
    size: usize,
    capacity: usize,
    kinds: Vec<Kind>,
}

type Error = Box<dyn std::error::Error>;

fn usage() -> String {
    "usage: latency [--rounds N] [--messages N] [--warmup N] [--size BYTES (16..=4096)] \
     [--capacity BYTES (ring size, a power of two)] \
     [--only floor,ring-floor,ring-floor-line,shmcast,shmcast-line,bcast-rc,bcast-old]"
        .to_string()
}

/// A failure of the command line (exit 2) or of the run (exit 1).
enum Failure {
    Usage(String),
    Run(Error),
}

impl<E: Into<Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::Run(e.into())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("--role") {
        echo_main(&args)
    } else {
        parent_main(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("latency: {msg}\n{}", usage());
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("latency: {e}");
            ExitCode::from(1)
        }
    }
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> Result<T, Failure> {
    shmcast_benches::tool::number(flag, value.map(String::as_str)).map_err(Failure::Usage)
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            rounds: 5,
            messages: 200_000,
            warmup: 20_000,
            size: 32,
            capacity: CAPACITY,
            kinds: Kind::ALL.to_vec(),
        }
    }
}

fn parse(args: &[String]) -> Result<Settings, Failure> {
    let mut s = Settings::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--rounds" => s.rounds = number(flag, it.next())?,
            "--messages" => s.messages = number(flag, it.next())?,
            "--warmup" => s.warmup = number(flag, it.next())?,
            "--size" => s.size = number(flag, it.next())?,
            "--capacity" => s.capacity = number(flag, it.next())?,
            "--only" => {
                let list = it
                    .next()
                    .ok_or_else(|| Failure::Usage("--only needs a list".into()))?;
                s.kinds = list
                    .split(',')
                    .map(|k| {
                        Kind::parse(k).ok_or_else(|| Failure::Usage(format!("no contender {k}")))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => return Err(Failure::Usage(format!("unknown argument {other}"))),
        }
    }
    if !(STAMP_LEN..=4096).contains(&s.size) || s.rounds == 0 || s.messages == 0 {
        return Err(Failure::Usage("bad --size, --rounds or --messages".into()));
    }
    if !s.capacity.is_power_of_two() || !(4096..=1 << 24).contains(&s.capacity) {
        return Err(Failure::Usage(
            "--capacity must be a power of two from 4096 to 16 MiB".into(),
        ));
    }
    // A record of the bare rings, rounded up to whole lines, in at most a
    // quarter of the ring (shmcast's rings refuse longer messages too).
    if bare_record_words(s.size, true) * 8 * 4 > s.capacity {
        return Err(Failure::Usage(
            "--size must leave room for four messages in --capacity".into(),
        ));
    }
    Ok(s)
}

/// The percentiles of one histogram, in nanoseconds, and its maximum.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    q: [u64; 5],
    max: u64,
}

impl Summary {
    fn of(h: &Histogram<u64>) -> Summary {
        let mut s = Summary::default();
        for (label, v) in percentiles(h) {
            match QUANTILES.iter().position(|q| *q == label) {
                Some(i) => s.q[i] = v,
                None => s.max = s.max.max(v),
            }
        }
        s
    }

    fn to_line(self) -> String {
        let mut v: Vec<String> = self.q.iter().map(u64::to_string).collect();
        v.push(self.max.to_string());
        v.join(" ")
    }

    fn from_line(line: &str) -> Option<Summary> {
        let v: Vec<u64> = line
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        let (q, max) = (v.get(..5)?, *v.get(5)?);
        Some(Summary {
            q: q.try_into().ok()?,
            max,
        })
    }
}

/// Back-off for the ping-pong: spin 1024 times (far longer than a round
/// trip), then yield, so that when the scheduler puts both processes on one
/// core (other load on the machine) the peer runs within microseconds rather
/// than after a whole time slice of spinning.
#[derive(Default)]
struct Spin {
    spins: u32,
    since: Option<Instant>,
}

impl Spin {
    /// Wait a little; an error once `TIMEOUT` has passed.
    #[inline]
    fn wait(&mut self) -> Result<(), Error> {
        self.spins += 1;
        if self.spins < 1 << 10 {
            std::hint::spin_loop();
            return Ok(());
        }
        std::thread::yield_now();
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() > TIMEOUT {
            return Err("the other process did not answer in time".into());
        }
        Ok(())
    }
}

/// One side of a channel pair: send a (sequence, timestamp) message, and wait
/// for the next one.
trait Side {
    /// Send message `seq` stamped `ts`.
    fn send(&mut self, seq: u64, ts: u64) -> Result<(), Error>;
    /// Wait for the next message; its (sequence, timestamp).
    fn recv(&mut self) -> Result<(u64, u64), Error>;
}

/// The payload of `shmcast bench` (`shmcast_linux::bench`): the send time,
/// then the index, then filler.
fn encode(buf: &mut [u8], seq: u64, ts: u64) {
    buf[..8].copy_from_slice(&ts.to_le_bytes());
    buf[8..STAMP_LEN].copy_from_slice(&seq.to_le_bytes());
}

/// (index, send time) of a payload written by [`encode`].
fn decode(buf: &[u8]) -> (u64, u64) {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&buf[i..i + 8]);
        u64::from_le_bytes(w)
    };
    (word(8), word(0))
}

// ---------------------------------------------------------------- floor

/// A shared mapping holding the floor's words (one page), or the ring
/// floor's ready word and rings.
struct Words {
    /// `MmapRaw`, not `MmapMut`: its pointer is the one `mmap` returned,
    /// while `MmapMut::as_ptr` goes through `Deref` to a `&[u8]`, through
    /// which no write may go (as `shmcast_linux`'s `MapRegion` does).
    map: memmap2::MmapRaw,
}

impl Words {
    const PING_SEQ: usize = 0;
    const PING_TS: usize = 1;
    const PONG_SEQ: usize = 16;
    const PONG_TS: usize = 17;
    const READY: usize = 32;

    /// The floor's page.
    fn map(path: &PathBuf, create: bool) -> Result<Words, Error> {
        Words::map_len(path, create, 4096)
    }

    /// A mapping of `len` bytes (a multiple of the page size, at least one
    /// page).
    fn map_len(path: &PathBuf, create: bool, len: usize) -> Result<Words, Error> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(create)
            .open(path)?;
        if create {
            file.set_len(len as u64)?;
        }
        let map = memmap2::MmapRaw::map_raw(&file)?;
        if map.len() < len.max(4096) {
            return Err("floor mapping is too small".into());
        }
        Ok(Words { map })
    }

    /// The whole mapping as atomic words.
    fn all(&self) -> &[AtomicU64] {
        let ptr = self.map.as_mut_ptr().cast::<AtomicU64>();
        // SAFETY: `slice::from_raw_parts` needs
        // - alignment: the mapping is page-aligned;
        // - validity for the returned lifetime: `len() / 8` words lie inside
        //   the mapping, which lives as long as `self` (the pointer is
        //   `mmap`'s, with provenance over all of it, readable and writable,
        //   its bytes initialised by the file); the file is private to this
        //   tool's two processes, which never resize it while mapped;
        // - no mutation but through the `AtomicU64`s' own interior
        //   mutability: both processes only ever touch these words through
        //   atomics.
        unsafe { std::slice::from_raw_parts(ptr, self.map.len() / 8) }
    }

    fn word(&self, index: usize) -> &AtomicU64 {
        &self.all()[index]
    }
}

struct FloorSide {
    words: Words,
    out_seq: usize,
    out_ts: usize,
    in_seq: usize,
    in_ts: usize,
    next: u64,
}

impl Side for FloorSide {
    #[inline]
    fn send(&mut self, seq: u64, ts: u64) -> Result<(), Error> {
        self.words.word(self.out_ts).store(ts, Ordering::Relaxed);
        self.words
            .word(self.out_seq)
            .store(seq + 1, Ordering::Release);
        Ok(())
    }
    #[inline]
    fn recv(&mut self) -> Result<(u64, u64), Error> {
        let mut spin = Spin::default();
        let want = self.next + 1;
        while self.words.word(self.in_seq).load(Ordering::Acquire) != want {
            spin.wait()?;
        }
        self.next += 1;
        Ok((
            want - 1,
            self.words.word(self.in_ts).load(Ordering::Relaxed),
        ))
    }
}

// ---------------------------------------------------------------- ring floor

/// The ring floor's mapping: a page whose first word says the echo process
/// is ready, then the ping ring, then the pong ring, each `capacity` bytes.
fn ring_floor_len(capacity: usize) -> usize {
    4096 + 2 * capacity
}
/// The first words of the ping and the pong ring.
const PING_RING: usize = 4096 / 8;
fn pong_ring(capacity: usize) -> usize {
    PING_RING + capacity / 8
}

/// One side of the ring floor (see the module docs).
struct RingFloorSide {
    words: Words,
    /// First word of the ring this side writes, and of the one it reads.
    out_ring: usize,
    in_ring: usize,
    /// Word offsets in those rings of the next record either way.
    out_at: usize,
    in_at: usize,
    /// Words in each ring.
    ring_words: usize,
    /// Words a record takes: the first word, the sequence, the payload,
    /// rounded up to whole lines for `ring-floor-line`.
    record_words: usize,
    /// Messages sent and received so far.
    sent: u64,
    received: u64,
    buf: Vec<u8>,
}

/// Words a bare ring's record of `size` payload bytes takes: the first word,
/// the sequence, the payload, rounded up to whole lines (8 words; the rings
/// start on page boundaries) where `line`.
fn bare_record_words(size: usize, line: bool) -> usize {
    let words = 2 + size.div_ceil(8);
    if line {
        words.next_multiple_of(8)
    } else {
        words
    }
}

impl RingFloorSide {
    fn new(
        words: Words,
        (out_ring, in_ring): (usize, usize),
        s: &Settings,
        line: bool,
    ) -> RingFloorSide {
        RingFloorSide {
            words,
            out_ring,
            in_ring,
            ring_words: s.capacity / 8,
            record_words: bare_record_words(s.size, line),
            out_at: 0,
            in_at: 0,
            sent: 0,
            received: 0,
            buf: vec![0; s.size],
        }
    }

    /// Where a record goes after the one at `at`: the next position, or
    /// the ring's start when the record would not fit before its end.
    fn next_at(&self, at: usize) -> usize {
        if at + self.record_words > self.ring_words {
            0
        } else {
            at
        }
    }
}

impl Side for RingFloorSide {
    #[inline]
    fn send(&mut self, seq: u64, ts: u64) -> Result<(), Error> {
        encode(&mut self.buf, seq, ts);
        let at = self.out_ring + self.next_at(self.out_at);
        let record = &self.words.all()[at..at + self.record_words];
        store_payload(&record[2..], &self.buf);
        record[1].store(self.sent, Ordering::Relaxed);
        // Nonzero and different from what a lap ago left there.
        record[0].store(self.sent + 1, Ordering::Release);
        self.out_at = at - self.out_ring + self.record_words;
        self.sent += 1;
        Ok(())
    }
    #[inline]
    fn recv(&mut self) -> Result<(u64, u64), Error> {
        let mut spin = Spin::default();
        let at = self.in_ring + self.next_at(self.in_at);
        let want = self.received + 1;
        while self.words.word(at).load(Ordering::Acquire) != want {
            spin.wait()?;
        }
        load_payload(
            &self.words.all()[at + 2..at + self.record_words],
            &mut self.buf,
        );
        self.in_at = at - self.in_ring + self.record_words;
        self.received += 1;
        Ok(decode(&self.buf))
    }
}

// ---------------------------------------------------------------- shmcast

struct ShmcastSide<'r> {
    producer: shmcast_linux::Producer<'r>,
    reader: shmcast::Reader<'r>,
    buf: Vec<u8>,
}

impl Side for ShmcastSide<'_> {
    #[inline]
    fn send(&mut self, seq: u64, ts: u64) -> Result<(), Error> {
        encode(&mut self.buf, seq, ts);
        self.producer.write(&self.buf)?;
        Ok(())
    }
    #[inline]
    fn recv(&mut self) -> Result<(u64, u64), Error> {
        let mut spin = Spin::default();
        loop {
            match self.reader.try_read(&mut self.buf)? {
                Read::Message(_) => return Ok(decode(&self.buf)),
                Read::Empty => spin.wait()?,
                other => return Err(format!("unexpected {other:?}").into()),
            }
        }
    }
}

// ---------------------------------------------------------------- bcast

struct BcastRcSide {
    writer: bcast_rc::MappedWriter,
    reader: bcast_rc::Reader<bcast_rc::MmapStorage>,
    buf: Vec<u8>,
}

impl Side for BcastRcSide {
    #[inline]
    fn send(&mut self, seq: u64, ts: u64) -> Result<(), Error> {
        encode(&mut self.buf, seq, ts);
        self.writer.send(&self.buf, true);
        Ok(())
    }
    #[inline]
    fn recv(&mut self) -> Result<(u64, u64), Error> {
        let mut spin = Spin::default();
        loop {
            match self.reader.receive_next(&mut self.buf) {
                Some(Ok(m)) => return Ok(decode(m.payload)),
                Some(Err(e)) => return Err(e.into()),
                None => spin.wait()?,
            }
        }
    }
}

struct BcastOldSide {
    writer: bcast_old::MappedWriter,
    reader: bcast_old::MappedReader,
    buf: Vec<u8>,
}

impl Side for BcastOldSide {
    #[inline]
    fn send(&mut self, seq: u64, ts: u64) -> Result<(), Error> {
        encode(&mut self.buf, seq, ts);
        let mut claim = self.writer.claim(self.buf.len(), true);
        claim.get_buffer_mut().copy_from_slice(&self.buf);
        claim.commit();
        Ok(())
    }
    #[inline]
    fn recv(&mut self) -> Result<(u64, u64), Error> {
        let mut spin = Spin::default();
        loop {
            match self.reader.receive_next() {
                Some(Ok(m)) => {
                    m.read(&mut self.buf)?;
                    return Ok(decode(&self.buf));
                }
                Some(Err(e)) => return Err(e.into()),
                None => spin.wait()?,
            }
        }
    }
}

// ---------------------------------------------------------------- names

/// The /dev/shm names of one contender's channels in one run.
struct Names {
    stem: String,
}

impl Names {
    fn new(kind: Kind, tag: &str) -> Names {
        Names {
            stem: format!("shmcast-latency-{tag}-{}", kind.name()),
        }
    }
    fn path(&self, dir: &str) -> PathBuf {
        PathBuf::from(format!("/dev/shm/{}-{dir}", self.stem))
    }
    fn shm(&self, dir: &str) -> Result<Location, Error> {
        Ok(Location::shm(&format!("{}-{dir}", self.stem))?)
    }
    /// Remove whatever this contender left in /dev/shm: its channels and
    /// their lock files.
    fn clean(&self) {
        let prefix = format!("{}-", self.stem);
        if let Ok(dir) = std::fs::read_dir("/dev/shm") {
            for entry in dir.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

// ---------------------------------------------------------------- echo

fn echo_main(args: &[String]) -> Result<(), Failure> {
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .ok_or_else(|| Failure::Usage(format!("echo role needs {flag}")))
    };
    let kind = Kind::parse(get("--kind")?).ok_or_else(|| Failure::Usage("bad --kind".into()))?;
    let names = Names {
        stem: get("--stem")?.clone(),
    };
    let total: u64 = number("--total", Some(get("--total")?))?;
    let s = Settings {
        warmup: number("--warmup", Some(get("--warmup")?))?,
        size: number("--size", Some(get("--size")?))?,
        capacity: number("--capacity", Some(get("--capacity")?))?,
        ..Settings::default()
    };
    let (warmup, size) = (s.warmup, s.size);
    let summary = match kind {
        Kind::Floor => {
            let words = Words::map(&names.path("floor"), false)?;
            words.word(Words::READY).store(1, Ordering::Release);
            let mut side = FloorSide {
                words,
                out_seq: Words::PONG_SEQ,
                out_ts: Words::PONG_TS,
                in_seq: Words::PING_SEQ,
                in_ts: Words::PING_TS,
                next: 0,
            };
            echo(&mut side, total, warmup, false)?
        }
        Kind::RingFloor | Kind::RingFloorLine => {
            let words = Words::map_len(&names.path("rings"), false, ring_floor_len(s.capacity))?;
            words.word(0).store(1, Ordering::Release);
            let line = kind == Kind::RingFloorLine;
            let mut side = RingFloorSide::new(words, (pong_ring(s.capacity), PING_RING), &s, line);
            echo(&mut side, total, warmup, false)?
        }
        Kind::Shmcast | Kind::ShmcastLine => {
            let ping = ShmRing::open(&names.shm("ping")?, &Options::default())?;
            let pong = ShmRing::open(&names.shm("pong")?, &Options::default())?;
            let mut side = ShmcastSide {
                reader: ping.ring().reader(Start::Tail)?,
                producer: pong.producer()?,
                buf: vec![0; size],
            };
            echo(&mut side, total, warmup, true)?
        }
        Kind::BcastRc => {
            use bcast_rc::StorageExt;
            let mut side = BcastRcSide {
                reader: bcast_rc::MmapStorage::attach(names.path("ping"))?.into_reader_at(0),
                writer: bcast_rc::MmapMutStorage::attach(names.path("pong"))?.join_writer(),
                buf: vec![0; size],
            };
            echo(&mut side, total, warmup, true)?
        }
        Kind::BcastOld => {
            let mut side = BcastOldSide {
                reader: bcast_old::MappedReader::new(names.path("ping"))?,
                writer: bcast_old::MappedWriter::join(names.path("pong"))?,
                buf: vec![0; size],
            };
            echo(&mut side, total, warmup, true)?
        }
    };
    println!("oneway {}", summary.to_line());
    Ok(())
}

/// Answer `total` pings, recording the one-way latency of each after the
/// warm-up. With `hello`, first send a ready message (sequence u64::MAX).
fn echo(side: &mut dyn Side, total: u64, warmup: u64, hello: bool) -> Result<Summary, Error> {
    if hello {
        side.send(u64::MAX, 0)?;
    }
    let mut h = latency_histogram();
    for i in 0..total {
        let (seq, ts) = side.recv()?;
        let now = now_ns();
        if seq != i {
            return Err(format!("echo expected {i}, got {seq}").into());
        }
        side.send(seq, ts)?;
        if i >= warmup {
            h.saturating_record(now.saturating_sub(ts).max(1));
        }
    }
    Ok(Summary::of(&h))
}

// ---------------------------------------------------------------- parent

/// Round-trip and one-way summaries of one contender in one round.
#[derive(Debug, Clone, Copy)]
struct Sample {
    rtt: Summary,
    oneway: Summary,
}

fn spawn_echo(kind: Kind, names: &Names, s: &Settings) -> Result<Child, Error> {
    let exe = std::env::current_exe()?;
    let child = Command::new(exe)
        .args([
            "--role",
            "echo",
            "--kind",
            kind.name(),
            "--stem",
            &names.stem,
        ])
        .args(["--total", &(s.messages + s.warmup).to_string()])
        .args([
            "--warmup",
            &s.warmup.to_string(),
            "--size",
            &s.size.to_string(),
            "--capacity",
            &s.capacity.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()?;
    Ok(child)
}

/// Play `total` round trips through `side`; the round-trip summary.
fn ping(side: &mut dyn Side, s: &Settings, hello: bool) -> Result<Summary, Error> {
    if hello {
        let (seq, _) = side.recv()?;
        if seq != u64::MAX {
            return Err("the echo process did not say hello first".into());
        }
    }
    let mut h = latency_histogram();
    for i in 0..s.messages + s.warmup {
        let t0 = now_ns();
        side.send(i, t0)?;
        let (seq, ts) = side.recv()?;
        let t1 = now_ns();
        if seq != i || ts != t0 {
            return Err(format!("ping {i} came back as {seq}").into());
        }
        if i >= s.warmup {
            h.saturating_record((t1 - t0).max(1));
        }
    }
    Ok(Summary::of(&h))
}

/// Wait for the echo process and read its one-way summary.
fn finish(mut child: Child) -> Result<Summary, Error> {
    let out = child.stdout.take().ok_or("echo stdout")?;
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line)?;
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("echo process failed: {status}").into());
    }
    line.strip_prefix("oneway ")
        .and_then(Summary::from_line)
        .ok_or_else(|| format!("bad echo report {line:?}").into())
}

fn run_one(kind: Kind, s: &Settings, tag: &str) -> Result<Sample, Error> {
    let names = Names::new(kind, tag);
    names.clean();
    let result = run_contender(kind, s, &names);
    names.clean();
    result
}

fn run_contender(kind: Kind, s: &Settings, names: &Names) -> Result<Sample, Error> {
    let ring_cfg = RingConfig::new(s.capacity).line_aligned(kind == Kind::ShmcastLine);
    match kind {
        Kind::Floor => {
            let words = Words::map(&names.path("floor"), true)?;
            let child = spawn_echo(kind, names, s)?;
            let mut spin = Spin::default();
            while words.word(Words::READY).load(Ordering::Acquire) != 1 {
                spin.wait()?;
            }
            let mut side = FloorSide {
                words,
                out_seq: Words::PING_SEQ,
                out_ts: Words::PING_TS,
                in_seq: Words::PONG_SEQ,
                in_ts: Words::PONG_TS,
                next: 0,
            };
            let rtt = ping(&mut side, s, false);
            let oneway = finish(child);
            Ok(Sample {
                rtt: rtt?,
                oneway: oneway?,
            })
        }
        Kind::RingFloor | Kind::RingFloorLine => {
            let words = Words::map_len(&names.path("rings"), true, ring_floor_len(s.capacity))?;
            let child = spawn_echo(kind, names, s)?;
            let mut spin = Spin::default();
            while words.word(0).load(Ordering::Acquire) != 1 {
                spin.wait()?;
            }
            let line = kind == Kind::RingFloorLine;
            let mut side = RingFloorSide::new(words, (PING_RING, pong_ring(s.capacity)), s, line);
            let rtt = ping(&mut side, s, false);
            let oneway = finish(child);
            Ok(Sample {
                rtt: rtt?,
                oneway: oneway?,
            })
        }
        Kind::Shmcast | Kind::ShmcastLine => {
            let ping_ring = ShmRing::create(&names.shm("ping")?, &ring_cfg, &Options::default())?;
            let pong_ring = ShmRing::create(&names.shm("pong")?, &ring_cfg, &Options::default())?;
            let mut side = ShmcastSide {
                producer: ping_ring.producer()?,
                reader: pong_ring.ring().reader(Start::Tail)?,
                buf: vec![0; s.size],
            };
            let child = spawn_echo(kind, names, s)?;
            let rtt = ping(&mut side, s, true);
            let oneway = finish(child);
            Ok(Sample {
                rtt: rtt?,
                oneway: oneway?,
            })
        }
        Kind::BcastRc => {
            use bcast_rc::StorageExt;
            let size = bcast_rc::HEADER_SIZE + s.capacity;
            let writer = bcast_rc::MmapMutStorage::new(names.path("ping"), size)?.into_writer();
            // Made here, then joined by the echo process as its producer.
            drop(bcast_rc::MmapMutStorage::new(names.path("pong"), size)?.into_writer());
            let mut side = BcastRcSide {
                writer,
                reader: bcast_rc::MmapStorage::attach(names.path("pong"))?.into_reader_at(0),
                buf: vec![0; s.size],
            };
            let child = spawn_echo(kind, names, s)?;
            let rtt = ping(&mut side, s, true);
            let oneway = finish(child);
            Ok(Sample {
                rtt: rtt?,
                oneway: oneway?,
            })
        }
        Kind::BcastOld => {
            let size = bcast_old::HEADER_SIZE + s.capacity;
            let writer = bcast_old::MappedWriter::new(names.path("ping"), size)?;
            drop(bcast_old::MappedWriter::new(names.path("pong"), size)?);
            let reader = bcast_old::MappedReader::new(names.path("pong"))?;
            let mut side = BcastOldSide {
                writer,
                reader,
                buf: vec![0; s.size],
            };
            let child = spawn_echo(kind, names, s)?;
            let rtt = ping(&mut side, s, true);
            let oneway = finish(child);
            Ok(Sample {
                rtt: rtt?,
                oneway: oneway?,
            })
        }
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Median of each percentile across rounds.
fn medians(samples: &[Summary]) -> Summary {
    let mut out = Summary::default();
    for i in 0..5 {
        out.q[i] = median(samples.iter().map(|s| s.q[i]).collect());
    }
    out.max = median(samples.iter().map(|s| s.max).collect());
    out
}

fn ratio(a: u64, b: Option<u64>) -> String {
    match b {
        Some(b) if b > 0 => format!("{:.2}x", a as f64 / b as f64),
        _ => "-".into(),
    }
}

fn table(title: &str, s: &Settings, results: &[(Kind, Vec<Summary>)]) {
    let med: Vec<(Kind, Summary, u64, u64)> = results
        .iter()
        .map(|(k, v)| {
            let p50s: Vec<u64> = v.iter().map(|x| x.q[0]).collect();
            let lo = *p50s.iter().min().unwrap_or(&0);
            let hi = *p50s.iter().max().unwrap_or(&0);
            (*k, medians(v), lo, hi)
        })
        .collect();
    let p50_of = |kind: Kind| med.iter().find(|m| m.0 == kind).map(|m| m.1.q[0]);
    let floor = p50_of(Kind::Floor);
    let bcast = p50_of(Kind::BcastRc);
    let floor_rounds = results.iter().find(|r| r.0 == Kind::Floor).map(|r| &r.1);
    shmcast_benches::tool::title(&format!(
        "{title} ({} bytes, {} rounds x {} messages; ns, median across rounds)",
        s.size, s.rounds, s.messages
    ));
    print!("| contender |");
    for name in QUANTILES {
        print!(" {name} |");
    }
    println!(" max | p50 range | p50 / floor | p50 / floor by round | p50 / bcast-rc |");
    println!(
        "|---|{}---|---|---|---|---|",
        "---|".repeat(QUANTILES.len())
    );
    for ((kind, m, lo, hi), (_, rounds)) in med.iter().zip(results) {
        print!("| {} |", kind.label());
        for v in m.q {
            print!(" {v} |");
        }
        println!(
            " {} | {lo}-{hi} | {} | {} | {} |",
            m.max,
            ratio(m.q[0], floor),
            by_round(rounds, floor_rounds),
            ratio(m.q[0], bcast)
        );
    }
}

/// The p50 of each round over the floor's in the same round: their median
/// and range. The machine's phases can move every contender 2-5x between
/// rounds of one run, so a ratio of medians across rounds may set one
/// phase against another; contenders within a round run one after the
/// other.
fn by_round(rounds: &[Summary], floor: Option<&Vec<Summary>>) -> String {
    let Some(floor) = floor else {
        return "-".into();
    };
    let mut r: Vec<f64> = rounds
        .iter()
        .zip(floor)
        .filter(|(_, f)| f.q[0] > 0)
        .map(|(c, f)| c.q[0] as f64 / f.q[0] as f64)
        .collect();
    if r.is_empty() {
        return "-".into();
    }
    r.sort_by(f64::total_cmp);
    format!(
        "{:.2}x ({:.2}-{:.2}x)",
        r[r.len() / 2],
        r[0],
        r[r.len() - 1]
    )
}

fn parent_main(args: &[String]) -> Result<(), Failure> {
    let s = parse(args)?;
    let tag = std::process::id().to_string();
    let mut rtt: Vec<(Kind, Vec<Summary>)> = s.kinds.iter().map(|k| (*k, vec![])).collect();
    let mut oneway = rtt.clone();
    for round in 0..s.rounds {
        for i in shmcast_benches::tool::order(round, s.kinds.len()) {
            let kind = s.kinds[i];
            let sample = run_one(kind, &s, &tag)
                .map_err(|e| format!("{}: round {round}: {e}", kind.label()))?;
            eprintln!(
                "round {round} {:>16}: rtt p50 {:>6} ns p99 {:>6} ns | one-way p50 {:>6} ns p99 {:>6} ns",
                kind.label(),
                sample.rtt.q[0],
                sample.rtt.q[2],
                sample.oneway.q[0],
                sample.oneway.q[2]
            );
            rtt[i].1.push(sample.rtt);
            oneway[i].1.push(sample.oneway);
        }
    }
    table("Round trip", &s, &rtt);
    table("One way (timestamp in the payload)", &s, &oneway);
    Ok(())
}
