//! # shmcast-linux
//!
//! Linux backing for [`shmcast`] rings. This first piece maps memory for a
//! ring; named /dev/shm rings, waiting and liveness build on it.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod map;

pub use map::MapRegion;
pub use shmcast;
