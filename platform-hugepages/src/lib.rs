//! # shmcast-hugepages
//!
//! Huge-page memory for [`shmcast`] rings, so a large ring costs few TLB
//! entries: a 1 GiB ring takes 512 entries on 2 MiB pages, or one on a
//! 1 GiB page, instead of 262,144 on 4 KiB pages.
//!
//! Two backings:
//! - **Named rings** as files on a hugetlbfs mount, which unrelated processes
//!   share. The creation and open rules (exclusive create, mode 0600, every
//!   header field validated, errors that name the ring) are those of
//!   `shmcast-linux`, which does the work: `Location::huge(name, PageSize)`
//!   finds the mount for a page size in /proc/mounts ([`find_mount`]),
//!   `Location::huge_at(dir, name)` uses a mount you name, and creation rounds
//!   the file up to whole pages and grows the ring's capacity to use them
//!   ([`fit_config`]).
//! - **Anonymous** shared `MAP_HUGETLB` memory ([`HugeRegion`]) for a producer
//!   and consumers related by `fork`.
//!
//! Page sizes are 2 MiB and 1 GiB ([`PageSize`]). The kernel reserves a
//! shared huge-page mapping's pages when it is mapped, so a shortage is a
//! typed error at creation, never a `SIGBUS` later. Errors ([`HugeError`]) say
//! what to do: the `mount -t hugetlbfs` command, the pool's figures from
//! /proc/meminfo and the `nr_hugepages` setting to raise, or that the size is
//! not supported. [`check_backing`] proves from /proc/self/smaps that a
//! mapping really is on huge pages.
//!
//! Set-up (as root), for 64 pages of 2 MiB:
//!
//! ```sh
//! echo 64 > /proc/sys/vm/nr_hugepages
//! mkdir -p /dev/hugepages
//! mountpoint -q /dev/hugepages || mount -t hugetlbfs -o pagesize=2M none /dev/hugepages
//! ```
//!
//! A named ring on hugetlbfs, created in one process and opened in another:
//!
//! ```no_run
//! use shmcast::{Read, RingConfig, Start};
//! use shmcast_hugepages::{check_backing, PageSize};
//! use shmcast_linux::{Location, Options, ShmRing};
//!
//! // Process A: /dev/hugepages/quotes (wherever 2M hugetlbfs is mounted).
//! let loc = Location::huge("quotes", PageSize::Huge2M)?;
//! let ring = ShmRing::create(&loc, &RingConfig::new(1 << 20).slots(4), &Options::default())?;
//! check_backing(&ring, PageSize::Huge2M)?; // KernelPageSize is 2048 kB
//! let mut producer = ring.producer()?;
//! producer.write(b"tick")?;
//!
//! // Process B: the same rules as any shmcast-linux ring.
//! let ring = ShmRing::open(&loc, &Options::default())?;
//! let mut reader = ring.ring().reader(Start::Oldest)?;
//! let mut buf = [0u8; 64];
//! if let Read::Message(m) = reader.try_read(&mut buf)? {
//!     assert_eq!(&buf[..m.len], b"tick");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod error;
mod fit;
mod mount;
mod page;
mod pool;
mod region;
mod smaps;

pub use error::{mount_command, usual_mount_dir, HugeError};
pub use fit::fit_config;
pub use mount::{file_page_size, find_mount, mount_page_size, mounts, Mount, HUGETLBFS_MAGIC};
pub use page::{round_up, PageSize};
pub use pool::{default_page_size, Pool, PoolSource};
pub use region::{map_error, HugeRegion};
pub use shmcast;
pub use smaps::{backing_page_size, check_backing};
