//! Waiting across processes: spin, then yield, then sleep on a shared futex.
//!
//! The futex words live in the ring's shared mapping, so waits and wakes use
//! shared futexes (no `FUTEX_PRIVATE_FLAG`, which could not wake a waiter in
//! another process). The handshake is [`shmcast::wake`]'s (a flag in the
//! futex word itself, which a waker only loads while nobody sleeps); every
//! sleep is bounded, one that follows a fresh announcement by [`FIRST_NAP`]
//! (the bound on the one race in which a wake-up comes late), and spurious
//! wake-ups only cost a re-check.

use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

use rustix::thread::futex;
use shmcast::wake::{Announced, Side};
use shmcast::{Blocked, Read, ReadError, Reader, Ring, Wait, WaitAction};

use crate::lock::is_held;
use crate::Location;

/// Wake every sleeper on a shared futex word (`futex(FUTEX_WAKE)`).
pub fn futex_wake(word: &AtomicU32) {
    let _ = futex::wake(word, futex::Flags::empty(), u32::MAX);
}

/// Sleep while `word == expected`, at most `timeout` (`futex(FUTEX_WAIT)`).
pub fn futex_sleep(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = rustix::thread::futex::Timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    // EAGAIN (the word changed), EINTR and ETIMEDOUT all mean: look again.
    let _ = futex::wait(word, futex::Flags::empty(), expected, Some(&ts));
}

/// The longest sleep after an announcement that set the sleeper flag
/// ([`shmcast::wake::Announced::fresh`]). A wake-up that raced it (see
/// [`shmcast::wake`]) comes at the waker's next call or when the sleep times
/// out, so this bounds how late it can be; a consumer that times out of it to
/// find data wakes the others. Other sleeps take the full [`Phases::nap`].
pub const FIRST_NAP: Duration = Duration::from_micros(100);

/// How long to spin and yield before sleeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phases {
    /// Busy-spin iterations first.
    pub spins: u32,
    /// Then `sched_yield` iterations.
    pub yields: u32,
    /// Then sleep on the futex, at most this long at a time (at most
    /// [`FIRST_NAP`] right after setting the sleeper flag).
    pub nap: Duration,
}

impl Default for Phases {
    fn default() -> Self {
        Phases {
            spins: 128,
            yields: 64,
            nap: Duration::from_millis(10),
        }
    }
}

/// Read the next message, waiting up to `timeout` while the ring is empty:
/// spin, yield, then sleep on the data futex (the producer wakes it when it
/// has a waker installed, see [`crate::Producer`]). Returns [`Read::Empty`]
/// when the time is up.
///
/// # Errors
/// As [`Reader::try_read`].
pub fn read_wait(
    reader: &mut Reader<'_>,
    buf: &mut [u8],
    phases: &Phases,
    timeout: Duration,
) -> Result<Read, ReadError> {
    let ring = reader.ring();
    // Where the reader stands after its last look, for the sleep's re-check.
    let at = std::cell::Cell::new(reader.position());
    phased(
        |b| {
            let read = reader.try_read(b);
            at.set(reader.position());
            read
        },
        buf,
        phases,
        timeout,
        |nap| sleep_for_data(&ring, at.get(), nap),
    )
}

/// Call `try_read` until it gives something other than [`Read::Empty`] or
/// `timeout` passes: spin, then yield, then `sleep` for at most a nap.
pub(crate) fn phased(
    mut try_read: impl FnMut(&mut [u8]) -> Result<Read, ReadError>,
    buf: &mut [u8],
    phases: &Phases,
    timeout: Duration,
    mut sleep: impl FnMut(Duration),
) -> Result<Read, ReadError> {
    let start = Instant::now();
    let mut n: u64 = 0;
    loop {
        let read = try_read(buf)?;
        if read != Read::Empty {
            return Ok(read);
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Ok(Read::Empty);
        }
        n += 1;
        if n <= u64::from(phases.spins) {
            std::hint::spin_loop();
        } else if n <= u64::from(phases.spins) + u64::from(phases.yields) {
            std::thread::yield_now();
        } else {
            sleep(phases.nap.min(timeout - elapsed));
        }
    }
}

fn sleep_for_data(ring: &Ring<'_>, position: u64, nap: Duration) {
    match ring.prepare_sleep(Side::Data) {
        Some(a) if !ring.has_data_after(position) => {
            futex_sleep(ring.futex_word(Side::Data), a.value, short_if_fresh(a, nap));
            if a.fresh && ring.has_data_after(position) {
                // Data and no wake-up: the race; others may sleep long on it.
                ring.wake_if_late(Side::Data, a.value, futex_wake);
            }
        }
        Some(_) => {}
        // The word keeps moving: data is flowing, so look again soon.
        None => std::thread::yield_now(),
    }
}

/// The nap for a sleep after `a`: at most [`FIRST_NAP`] if it set the flag.
fn short_if_fresh(a: Announced, nap: Duration) -> Duration {
    if a.fresh {
        nap.min(FIRST_NAP)
    } else {
        nap
    }
}

/// A producer's wait for gating consumers: spin, yield, then sleep on the
/// space futex; free the slot of a consumer whose process died (its slot
/// lock is gone); demote a live one that blocks longer than `timeout`.
///
/// Making one costs nothing (no allocation, no clock read): a producer makes
/// one for every claim, and only a claim that has to wait reads the clock.
#[derive(Debug)]
pub struct LinuxWait<'r> {
    ring: Ring<'r>,
    location: &'r Location,
    phases: Phases,
    timeout: Duration,
    /// When the current wait began (set on its first round).
    since: Option<Instant>,
}

impl<'r> LinuxWait<'r> {
    /// A wait for `ring` at `location` that gives a blocking consumer `timeout`.
    pub fn new(ring: Ring<'r>, location: &'r Location, phases: Phases, timeout: Duration) -> Self {
        LinuxWait {
            ring,
            location,
            phases,
            timeout,
            since: None,
        }
    }

    /// Wait with `phases` and give a blocking consumer `timeout` from now on.
    pub(crate) fn set(&mut self, phases: Phases, timeout: Duration) {
        self.phases = phases;
        self.timeout = timeout;
    }
}

impl Wait for LinuxWait<'_> {
    fn wait(&mut self, blocked: &Blocked) -> WaitAction {
        if blocked.waits == 1 {
            self.since = Some(Instant::now());
        }
        let n = blocked.waits;
        if n <= u64::from(self.phases.spins) {
            std::hint::spin_loop();
            return WaitAction::Retry;
        }
        if n <= u64::from(self.phases.spins) + u64::from(self.phases.yields) {
            std::thread::yield_now();
            return WaitAction::Retry;
        }
        // Slow path: is the consumer still alive? A consumer publishes its
        // lease only once it holds its slot lock, so a lock that is free
        // behind a published lease means its process died (one that dies
        // before publishing is demoted after the timeout instead). The
        // generation makes sure a slot taken again since is left alone.
        let waited = self.since.get_or_insert_with(Instant::now).elapsed();
        if blocked.lease != 0 {
            let lock = self.location.lock_path(&blocked.slot.to_string());
            if matches!(is_held(&lock), Ok(false)) {
                self.ring.reclaim_slot(blocked.slot, blocked.generation);
                return WaitAction::Retry;
            }
        }
        if waited >= self.timeout {
            return WaitAction::Demote;
        }
        let Some(a) = self.ring.prepare_sleep(Side::Space) else {
            // The word keeps moving: consumers are reading, so look again soon.
            std::thread::yield_now();
            return WaitAction::Retry;
        };
        let moved = self
            .ring
            .consumer(blocked.slot)
            .is_none_or(|c| c.position != blocked.position);
        if !moved {
            let nap = short_if_fresh(a, self.phases.nap).min(self.timeout - waited);
            futex_sleep(self.ring.futex_word(Side::Space), a.value, nap);
        }
        WaitAction::Retry
    }
}
