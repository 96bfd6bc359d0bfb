//! Shared helpers for the shmcast benchmarks: back-off for threads that wait
//! on a 2-core machine, clocks, and the memory the peers need.
//!
//! The criterion benches live in `benches/` (one file per scenario); the
//! cross-process latency tool is `src/bin/latency.rs`, the alternating
//! throughput tool `src/bin/throughput.rs` (its runs in [`spsc`], its
//! reference ring in [`bare`]), the alternating fan-out tool
//! `src/bin/fanout.rs` (its runs in [`fanout`]), the alternating copy tool
//! `src/bin/copy.rs` (its runs in [`copy`]), the turn-by-turn fill and drain
//! tool `src/bin/handoff.rs` (its runs in [`handoff`]).

use std::sync::atomic::{AtomicU64, Ordering};

pub mod bare;
pub mod copy;
pub mod fanout;
pub mod handoff;
pub mod spsc;
pub mod tool;

pub use shmcast::conformance::HeapRegion;

/// Spin a little, then yield: a waiting thread must not starve the thread it
/// waits for when there are fewer cores than threads.
#[derive(Debug, Default)]
pub struct Backoff {
    step: u32,
}

impl Backoff {
    /// Spins before the first yield.
    const SPINS: u32 = 64;

    /// A fresh back-off.
    pub fn new() -> Backoff {
        Backoff { step: 0 }
    }

    /// Wait a little longer than last time: spin-loop hints first, then
    /// `std::thread::yield_now` (sched_yield).
    #[inline]
    pub fn snooze(&mut self) {
        if self.step < Self::SPINS {
            self.step += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }

    /// Start again from spinning (after progress).
    #[inline]
    pub fn reset(&mut self) {
        self.step = 0;
    }
}

/// A producer wait for gating consumers that backs off (spin, then yield)
/// and never gives up or demotes: benchmarks of lossless delivery must not
/// turn a consumer lossy because the scheduler paused it.
#[derive(Debug, Default)]
pub struct Patient(Backoff);

impl shmcast::Wait for Patient {
    #[inline]
    fn wait(&mut self, blocked: &shmcast::Blocked) -> shmcast::WaitAction {
        if blocked.waits == 1 {
            self.0.reset();
        }
        self.0.snooze();
        shmcast::WaitAction::Retry
    }
}

/// CPU time consumed by the calling thread, in nanoseconds
/// (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`). Unlike wall time, it does not
/// grow when the scheduler runs other threads on this thread's core, so it
/// measures a producer's own cost fairly on a machine with fewer cores than
/// threads.
#[inline]
pub fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    (t.tv_sec as u64) * 1_000_000_000 + t.tv_nsec as u64
}

/// A counter on its own cache lines (128 bytes, the prefetch pair), so that
/// it shares no line with the data it counts.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded(pub AtomicU64);

/// A credit counter that makes a lossy ring lossless: the consumer counts
/// what it read, the producer sends only while fewer than `window` messages
/// are in flight. bcast has no gating consumers, so it is measured with this.
#[derive(Debug, Default)]
pub struct Credit {
    read: Padded,
}

impl Credit {
    /// A counter at zero.
    pub fn new() -> Credit {
        Credit::default()
    }

    /// Consumer side: `n` messages read in all.
    #[inline]
    pub fn set_read(&self, n: u64) {
        self.read.0.store(n, Ordering::Release);
    }

    /// Producer side: wait (with back-off) until message number `sent`
    /// (counting from 0) may go out with at most `window` in flight.
    #[inline]
    pub fn wait_for_room(&self, sent: u64, window: u64, cached: &mut u64) {
        if sent < *cached + window {
            return;
        }
        let mut backoff = Backoff::new();
        loop {
            *cached = self.read.0.load(Ordering::Acquire);
            if sent < *cached + window {
                return;
            }
            backoff.snooze();
        }
    }
}

/// One 128-byte aligned block, the unit of [`leak_aligned`].
#[derive(Clone, Copy)]
#[repr(C, align(128))]
struct Block([u8; 128]);

/// A zeroed, 128-byte aligned buffer of `len` bytes (rounded up to 128) that
/// lives for the rest of the process. bcast 0.0.x wraps a `&[u8]` and writes
/// through it; this gives it memory that nothing else borrows. Benchmarks
/// call it once per group, so the leak is bounded.
pub fn leak_aligned(len: usize) -> &'static [u8] {
    let blocks: &'static mut [Block] =
        Box::leak(vec![Block([0; 128]); len.div_ceil(128)].into_boxed_slice());
    let ptr = blocks.as_mut_ptr().cast::<u8>();
    // SAFETY: `from_raw_parts` needs
    // - a pointer valid for reads of `len` bytes: the leaked allocation holds
    //   `len.div_ceil(128) * 128 >= len` initialised bytes and is never freed;
    // - no mutable alias used while the slice lives: the `&mut` is consumed
    //   here and only its raw pointer survives.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// The bcast 0.0.x ring size (header plus a power-of-two data area) for a
/// data capacity of `capacity` bytes.
pub fn bcast_old_size(capacity: usize) -> usize {
    bcast_old::HEADER_SIZE + capacity
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_lets_a_window_through_then_waits_for_reads() {
        let credit = Credit::new();
        let mut cached = 0;
        for sent in 0..4 {
            credit.wait_for_room(sent, 4, &mut cached);
        }
        credit.set_read(3);
        credit.wait_for_room(6, 4, &mut cached);
        assert_eq!(cached, 3);
    }

    #[test]
    fn leaked_buffers_are_aligned_and_zeroed() {
        let b = leak_aligned(1000);
        assert_eq!(b.len(), 1000);
        assert_eq!(b.as_ptr() as usize % 128, 0);
        assert!(b.iter().all(|&x| x == 0));
    }
}
