//! The memory a ring lives in: the [`Region`] contract and [`InlineRegion`].

use core::cell::UnsafeCell;
use core::ptr::NonNull;

/// A byte region that can hold one ring.
///
/// The ring never owns its memory: a region may be a `static`, a stack value, a
/// heap allocation, or a shared mapping that other processes also write.
///
/// # Safety
///
/// While `self` lives:
/// - `base()` is valid for reads and writes of `size()` bytes, by this thread and
///   any other that holds the region, with provenance that allows shared mutation
///   (an `UnsafeCell`, a mapping, an allocation; never memory borrowed from a `&[u8]`);
/// - neither `base()` nor `size()` changes;
/// - the bytes are not accessed non-atomically by this process outside this crate
///   while a ring view exists.
///
/// Alignment is *not* part of the contract: [`crate::Ring::attach`] checks it and
/// returns an error.
pub unsafe trait Region {
    /// First byte of the region.
    fn base(&self) -> NonNull<u8>;
    /// Size of the region in bytes.
    fn size(&self) -> usize;
}

// SAFETY: a shared reference to a region upholds the region's own contract for as
// long as the reference lives, which is no longer than the region.
unsafe impl<R: Region + ?Sized> Region for &R {
    fn base(&self) -> NonNull<u8> {
        (**self).base()
    }
    fn size(&self) -> usize {
        (**self).size()
    }
}

/// A byte region that may be mapped read-only: enough for [`crate::RingView`],
/// which only ever loads. Every [`Region`] is one.
///
/// # Safety
///
/// While `self` lives, `read_base()` is valid for reads of `read_size()`
/// bytes, which others may be writing concurrently (so the provenance must
/// allow that: a mapping or an `UnsafeCell`, never a `&[u8]`); neither value
/// changes. Atomic loads of up to 8 bytes on read-only memory are sound on the
/// 64-bit targets this crate supports.
pub unsafe trait ReadRegion {
    /// First byte of the region.
    fn read_base(&self) -> NonNull<u8>;
    /// Size of the region in bytes.
    fn read_size(&self) -> usize;
}

// SAFETY: a `Region` is valid for reads and writes, so for reads.
unsafe impl<R: Region + ?Sized> ReadRegion for R {
    fn read_base(&self) -> NonNull<u8> {
        self.base()
    }
    fn read_size(&self) -> usize {
        self.size()
    }
}

/// An `N`-byte region held inline, 128-byte aligned, usable in a `static`.
///
/// ```
/// use shmcast::{InlineRegion, Ring, RingConfig, Start};
///
/// static REGION: InlineRegion<{ shmcast::layout::ring_size(4096, 0) }> = InlineRegion::new();
///
/// let ring = Ring::create(&REGION, &RingConfig::new(4096)).unwrap();
/// let mut writer = ring.writer().unwrap();
/// let mut reader = ring.reader(Start::Oldest).unwrap();
/// writer.write(b"hello").unwrap();
/// let mut buf = [0u8; 64];
/// let msg = reader.try_read(&mut buf).unwrap().message().unwrap();
/// assert_eq!(&buf[..msg.len], b"hello");
/// ```
#[repr(C, align(128))]
pub struct InlineRegion<const N: usize> {
    bytes: UnsafeCell<[u8; N]>,
}

// SAFETY: the bytes are only reached through `Region::base`, and the ring touches
// them only with atomic operations, so sharing between threads is sound.
unsafe impl<const N: usize> Sync for InlineRegion<N> {}

impl<const N: usize> InlineRegion<N> {
    /// A zeroed region.
    pub const fn new() -> Self {
        InlineRegion {
            bytes: UnsafeCell::new([0; N]),
        }
    }
}

impl<const N: usize> Default for InlineRegion<N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY:
// - the pointer comes from `UnsafeCell::get`, so it carries provenance for shared
//   mutation of all `N` bytes, which live as long as `self`;
// - the struct is `align(128)` and `bytes` is its first field, so `base()` is
//   128-byte aligned (not required, but attach will accept it);
// - base and size are fixed for the value's lifetime (it cannot move while borrowed).
unsafe impl<const N: usize> Region for InlineRegion<N> {
    fn base(&self) -> NonNull<u8> {
        NonNull::from(&self.bytes).cast()
    }
    fn size(&self) -> usize {
        N
    }
}
