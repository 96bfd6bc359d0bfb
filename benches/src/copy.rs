//! Large messages copied into and out of a ring against plain `memcpy` of
//! the same bytes: the runs of the alternating `copy` tool, each with its
//! memory made once and reused round after round.
//!
//! Every contender moves `size`-byte messages through a 1 MiB area at
//! rotating offsets. The readers read in chunks of half the area, each chunk
//! written first (untimed) and then read (timed), so the bytes a read copies
//! were written by the same core shortly before, as in a ring: `memcpy`'s
//! floor gets the same treatment (its chunk is copied in, untimed, then out).

use crate::HeapRegion;
use shmcast::{Read, Reader, Ring, RingConfig, Start, Writer};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The area every contender copies through.
pub const CAPACITY: usize = 1 << 20;

/// A cache line: the unit of `--offset`.
const LINE: usize = 64;

/// A contender's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copier {
    /// `Writer::write`.
    WriteShmcast,
    /// `copy_from_slice` into the area.
    WriteMemcpy,
    /// `Reader::try_read` into a buffer of the message's size.
    ReadShmcast,
    /// `copy_from_slice` out of the area.
    ReadMemcpy,
}

impl Copier {
    /// Every contender, writes then reads.
    pub const ALL: [Copier; 4] = [
        Copier::WriteShmcast,
        Copier::WriteMemcpy,
        Copier::ReadShmcast,
        Copier::ReadMemcpy,
    ];

    /// `write/shmcast`, `read/memcpy`, ...
    pub fn name(self) -> &'static str {
        match self {
            Copier::WriteShmcast => "write/shmcast",
            Copier::WriteMemcpy => "write/memcpy",
            Copier::ReadShmcast => "read/shmcast",
            Copier::ReadMemcpy => "read/memcpy",
        }
    }

    /// The floor this contender is measured against (itself for a floor).
    pub fn floor(self) -> Copier {
        match self {
            Copier::WriteShmcast | Copier::WriteMemcpy => Copier::WriteMemcpy,
            Copier::ReadShmcast | Copier::ReadMemcpy => Copier::ReadMemcpy,
        }
    }
}

/// A ring-sized private buffer copied into and out of at rotating offsets.
#[derive(Debug)]
pub struct Arena {
    bytes: Vec<u8>,
    at: usize,
}

impl Arena {
    /// A zeroed area of [`CAPACITY`] bytes.
    pub fn new() -> Arena {
        Arena {
            bytes: vec![0; CAPACITY],
            at: 0,
        }
    }

    /// Where the next `len`-byte message goes: a ring record's step (the
    /// message, a 16-byte header, rounded to 8), wrapping at the end.
    #[inline]
    pub fn next(&mut self, len: usize) -> usize {
        let step = (len + 16 + 7) & !7;
        if self.at + step > CAPACITY {
            self.at = 0;
        }
        let at = self.at;
        self.at += step;
        at
    }

    /// The `len` bytes at `at`.
    pub fn at(&mut self, at: usize, len: usize) -> &mut [u8] {
        &mut self.bytes[at..at + len]
    }
}

impl Default for Arena {
    fn default() -> Arena {
        Arena::new()
    }
}

/// The memory every contender runs over, made once for a message size.
pub struct Bench {
    size: usize,
    msg: Vec<u8>,
    /// The readers' buffer: `size` bytes of `room` from `buf_at`.
    room: Vec<u8>,
    buf_at: usize,
    // Over a leaked region: the writer and reader borrow it for the life
    // of the bench.
    ring: Ring<'static>,
    writer: Writer<'static>,
    reader: Reader<'static>,
    arena: Arena,
}

impl Bench {
    /// A ring of [`CAPACITY`] bytes and an arena as large, for `size`-byte
    /// messages, read into a buffer where the allocator puts it.
    ///
    /// # Panics
    /// If `size` does not fit the ring.
    pub fn new(size: usize) -> Bench {
        Bench::placed(size, None)
    }

    /// As [`Bench::new`], with the readers' buffer (both contenders')
    /// starting `offset` bytes past a 64-byte line if one is given: a
    /// read's stores into it are split or aligned by where it lies.
    ///
    /// # Panics
    /// If `size` does not fit the ring, or `offset` is 64 or more.
    pub fn placed(size: usize, offset: Option<usize>) -> Bench {
        assert!(offset.is_none_or(|o| o < LINE), "an offset within a line");
        let room = vec![0; size + LINE];
        let buf_at = offset.map_or(0, |o| (o + LINE - room.as_ptr().addr() % LINE) % LINE);
        let cfg = RingConfig::new(CAPACITY);
        let region: &'static HeapRegion = Box::leak(Box::new(HeapRegion::new(cfg.region_size())));
        let ring = Ring::create(region, &cfg).expect("create");
        let writer = ring.writer().expect("writer");
        let reader = ring.reader(Start::Tail).expect("reader");
        assert!(size <= writer.max_message(), "{size} bytes do not fit");
        Bench {
            size,
            msg: vec![7; size],
            room,
            buf_at,
            ring,
            writer,
            reader,
            arena: Arena::new(),
        }
    }

    /// Bytes past a 64-byte line where the readers' buffer starts.
    pub fn buffer_offset(&self) -> usize {
        (self.room.as_ptr().addr() + self.buf_at) % LINE
    }

    /// The time `who` takes for `n` messages.
    pub fn run(&mut self, who: Copier, n: u64) -> Duration {
        match who {
            Copier::WriteShmcast => self.write_shmcast(n),
            Copier::WriteMemcpy => self.write_memcpy(n),
            Copier::ReadShmcast => self.read_shmcast(n),
            Copier::ReadMemcpy => self.read_memcpy(n),
        }
    }

    fn write_shmcast(&mut self, n: u64) -> Duration {
        let t = Instant::now();
        for _ in 0..n {
            self.writer.write(black_box(&self.msg)).expect("write");
        }
        t.elapsed()
    }

    fn write_memcpy(&mut self, n: u64) -> Duration {
        let size = self.size;
        let t = Instant::now();
        for _ in 0..n {
            let at = self.arena.next(size);
            self.arena
                .at(at, size)
                .copy_from_slice(black_box(&self.msg));
        }
        t.elapsed()
    }

    fn read_shmcast(&mut self, n: u64) -> Duration {
        // Past what the write runs wrote, unread.
        self.reader = self.ring.reader(Start::Tail).expect("reader");
        read_in_chunks(
            n,
            self.size,
            |k| {
                for _ in 0..k {
                    self.writer.write(&self.msg).expect("write");
                }
            },
            |k| {
                for _ in 0..k {
                    let buf = &mut self.room[self.buf_at..][..self.size];
                    let got = self.reader.try_read(black_box(buf));
                    assert!(matches!(got, Ok(Read::Message(_))), "{got:?}");
                }
            },
        )
    }

    fn read_memcpy(&mut self, n: u64) -> Duration {
        let size = self.size;
        in_chunks(n, size, |k| {
            let from = self.arena.at;
            for _ in 0..k {
                let at = self.arena.next(size);
                self.arena.at(at, size).copy_from_slice(&self.msg);
            }
            // The same offsets again, now read.
            self.arena.at = from;
            let t = Instant::now();
            for _ in 0..k {
                let at = self.arena.next(size);
                let buf = &mut self.room[self.buf_at..][..size];
                black_box(buf).copy_from_slice(self.arena.at(at, size));
            }
            t.elapsed()
        })
    }
}

/// Run `iters` messages of `size` bytes in chunks of half the area (so
/// that a reader is never lapped) through `chunk`, which moves the `k`
/// messages it is given and returns the time that counts; the total.
pub fn in_chunks(iters: u64, size: usize, mut chunk: impl FnMut(u64) -> Duration) -> Duration {
    let most = (CAPACITY / 2 / (size + 32)).max(1) as u64;
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let k = left.min(most);
        total += chunk(k);
        left -= k;
    }
    total
}

/// Time reading `iters` messages that `fill` writes (untimed) a chunk at a
/// time before `read` reads them (see [`in_chunks`]).
pub fn read_in_chunks(
    iters: u64,
    size: usize,
    mut fill: impl FnMut(u64),
    mut read: impl FnMut(u64),
) -> Duration {
    in_chunks(iters, size, |k| {
        fill(k);
        let t = Instant::now();
        read(k);
        t.elapsed()
    })
}

impl std::fmt::Debug for Bench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bench").field("size", &self.size).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contender_moves_its_messages() {
        let mut b = Bench::new(4096);
        for who in Copier::ALL {
            b.run(who, 300);
        }
        // Every message the read runs wrote was read: nothing is left.
        let mut buf = vec![0; 4096];
        assert_eq!(b.reader.try_read(&mut buf), Ok(Read::Empty));
        // Both shmcast runs wrote theirs: 300 each.
        assert_eq!(b.writer.next_seq(), 600);
    }

    #[test]
    fn a_placed_buffer_starts_where_asked() {
        for offset in [0, 1, 8, 16, 24, 40, 63] {
            let mut b = Bench::placed(4096, Some(offset));
            assert_eq!(b.buffer_offset(), offset);
            b.run(Copier::ReadShmcast, 20);
            b.run(Copier::ReadMemcpy, 20);
        }
    }
}
