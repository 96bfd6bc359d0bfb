//! # shmcast-linux
//!
//! Linux backing for [`shmcast`] rings: named rings in /dev/shm and
//! file-backed rings ([`ShmRing`]), exclusive creation, validated opening,
//! liveness by file locks that the kernel releases when a process dies, and
//! producer takeover.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod bench;
mod error;
mod location;
pub mod lock;
mod map;
mod readonly;
mod shm;
pub mod wait;

pub use error::Error;
pub use location::{Location, MAX_NAME};
pub use map::MapRegion;
pub use readonly::{read_poll, ReadOnlyShm};
pub use shm::{remove, Consumer, Options, Producer, ShmRing, Stale};
pub use shmcast;
pub use shmcast_hugepages as hugepages;
pub use shmcast_hugepages::PageSize;
pub use wait::{read_wait, LinuxWait, Phases};

/// The README's examples (core and Linux), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
