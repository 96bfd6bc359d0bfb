//! # shmcast
//!
//! A single-producer, many-consumer broadcast ring of variable-size byte
//! messages over any byte region it is given: a `static`, the stack, the heap,
//! or shared memory mapped by several processes. `#![no_std]`, no allocation.
//!
//! ## The model
//!
//! One [`Writer`] appends records (payload, 64-bit sequence number, 32-bit tag)
//! to a ring of `capacity` bytes and never waits for lossy readers. Any number
//! of [`Reader`]s follow it; a reader that falls a whole ring behind is told
//! exactly how much it lost ([`Read::Lapped`]) and resumes at the oldest (or
//! newest) record still valid.
//!
//! ## Guarantees
//!
//! - **Shared memory is untrusted.** [`Ring::attach`] validates every header
//!   field and keeps its own copy of the sizes. Every read bounds-checks the
//!   record it finds and then re-checks the producer's intent, so any byte
//!   pattern yields a typed error or a well-formed message: no panic, no
//!   out-of-bounds access, no unbounded loop.
//! - **No data race.** Ring bytes are only ever accessed as aligned 64-bit
//!   relaxed atomic words, or, for long copies on Intel and AMD x86-64 CPUs
//!   with AVX, by aligned 16-byte accesses that those CPUs guarantee atomic
//!   and that equal two such word accesses (`copy`, where the argument is);
//!   ordered by the intent protocol's fences (see [`writer`]); correct on
//!   weakly ordered CPUs. Miri and loom check the word accesses (the 16-byte
//!   path is assembly they cannot run; `--cfg shmcast_word_copy` turns it
//!   off, for a ring in uncached memory). The producer's one other piece of
//!   assembly, a write prefetch of a line a few ahead (`hint`), accesses
//!   nothing.
//! - **Nothing half-written is published.** A [`Claim`] dropped without
//!   commit (including by a panic) aborts; a staged batch is invisible until
//!   [`Writer::flush`].
//! - **A waiting reader watches one word.** A record is published by its own
//!   first header word (stored last, Release, once the word after the
//!   record is zero), so a reader waiting for the next message loads
//!   only the line it will arrive in, not a counter the producer writes for
//!   every message (see [`writer`]); with [`RingConfig::line_aligned`], a
//!   message of up to 48 bytes arrives in that one line.
//! - **Restarts are visible.** A new producer continues the sequence or
//!   restarts the stream with an explicit [`Read::Restarted`].
//!
//! ## Example
//!
//! ```
//! use shmcast::{InlineRegion, Ring, RingConfig, Read, Start};
//!
//! static REGION: InlineRegion<{ shmcast::layout::ring_size(4096, 0) }> = InlineRegion::new();
//!
//! let ring = Ring::create(&REGION, &RingConfig::new(4096)).unwrap();
//! let mut writer = ring.writer().unwrap();
//! let mut reader = ring.reader(Start::Tail).unwrap();
//!
//! writer.write_tagged(42, b"tick").unwrap();
//! let mut buf = [0u8; 256];
//! match reader.try_read(&mut buf).unwrap() {
//!     Read::Message(m) => assert_eq!((&buf[..m.len], m.tag, m.seq), (&b"tick"[..], 42, 0)),
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(reader.try_read(&mut buf).unwrap(), Read::Empty);
//! ```
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(any(test, feature = "conformance"))]
extern crate std;

mod checksum;
#[cfg(all(feature = "conformance", not(all(loom, test))))]
pub mod conformance;
pub mod consumer;
mod copy;
pub mod error;
mod header;
mod hint;
pub mod layout;
mod reader;
mod region;
mod ring;
mod sync;
#[cfg(not(all(loom, test)))]
mod view;
pub mod wait;
pub mod wake;
pub mod writer;

#[cfg(all(loom, test))]
mod loom_tests;

pub use consumer::{ConsumerInfo, SlotState};
pub use error::{
    AttachError, CreateError, JoinError, OutOfBounds, ProducerError, ReadError, WriteError,
};
pub use reader::{
    batch_space, Batch, BatchIter, Event, LapPolicy, Message, MessageRef, Messages, Pending, Read,
    Reader, ReaderStats, Start,
};
pub use region::{InlineRegion, ReadRegion, Region};
pub use ring::{Ring, RingConfig, Shape, Status};
#[cfg(not(all(loom, test)))]
pub use view::{RingView, ViewReader};
pub use wait::{Blocked, BoundedSpin, Spin, Wait, WaitAction};
pub use writer::{Claim, Continuation, Writer};
