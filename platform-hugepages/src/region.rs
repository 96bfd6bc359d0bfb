//! [`HugeRegion`]: anonymous shared memory on huge pages, for a producer and
//! consumers related by `fork`.

use std::io;
use std::ptr::NonNull;

use rustix::mm::{mmap_anonymous, munmap, MapFlags, ProtFlags};
use shmcast::{Region, RingConfig};

use crate::{fit_config, HugeError, PageSize, Pool};

/// An anonymous shared mapping on huge pages
/// (`mmap(MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB or _1GB)`).
///
/// Children made by `fork` share it; unrelated processes cannot reach it
/// (use a hugetlbfs file for that: `shmcast_linux::Location::huge`). The
/// kernel reserves every page at `mmap`, so a shortage is an error here,
/// never a `SIGBUS` on a later touch.
///
/// ```no_run
/// use shmcast::{Ring, RingConfig, Start};
/// use shmcast_hugepages::{HugeRegion, PageSize};
///
/// let (region, cfg) = HugeRegion::for_ring(&RingConfig::new(1 << 20).slots(2), PageSize::Huge2M)?;
/// let ring = Ring::create(&region, &cfg)?;
/// assert!(ring.capacity() >= 1 << 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct HugeRegion {
    base: NonNull<u8>,
    len: usize,
    size: PageSize,
}

impl HugeRegion {
    /// Map at least `len` bytes (rounded up to whole pages, at least one) of
    /// `size` pages.
    ///
    /// # Errors
    /// [`HugeError::Unsupported`] when the kernel has no pool of that size;
    /// [`HugeError::NotEnoughPages`] (with the pool's figures) when `mmap`
    /// fails with `ENOMEM` and the pool is short; [`HugeError::Io`] otherwise.
    pub fn anonymous(len: usize, size: PageSize) -> Result<HugeRegion, HugeError> {
        if !size.sysfs_dir().is_dir() {
            return Err(HugeError::Unsupported { size });
        }
        let len = size.round_up(len.max(1)).ok_or_else(|| HugeError::Io {
            what: format!("sizing a mapping of {len} bytes"),
            source: io::Error::new(io::ErrorKind::InvalidInput, "size overflows"),
        })?;
        let huge = match size {
            PageSize::Huge2M => MapFlags::HUGE_2MB,
            PageSize::Huge1G => MapFlags::HUGE_1GB,
        };
        let flags = MapFlags::SHARED | MapFlags::HUGETLB | huge;
        // SAFETY: `mmap_anonymous` is unsafe because a fixed address could
        // replace existing mappings; with a null hint and no MAP_FIXED the
        // kernel picks a fresh range, so no existing memory is affected.
        let mapped = unsafe {
            mmap_anonymous(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                flags,
            )
        };
        match mapped {
            Ok(ptr) => Ok(HugeRegion {
                base: NonNull::new(ptr.cast()).ok_or_else(|| HugeError::Io {
                    what: "mmap(MAP_HUGETLB)".to_owned(),
                    source: io::Error::other("the kernel returned a null mapping"),
                })?,
                len,
                size,
            }),
            Err(e) => Err(map_error(
                e.into(),
                size,
                len,
                "mmap(MAP_SHARED | MAP_HUGETLB)",
            )),
        }
    }

    /// A region for `cfg` on `size` pages, and the configuration to create
    /// the ring with: the same, its capacity grown to use the whole rounded
    /// region (see [`fit_config`]).
    ///
    /// # Errors
    /// As [`HugeRegion::anonymous`].
    pub fn for_ring(
        cfg: &RingConfig,
        size: PageSize,
    ) -> Result<(HugeRegion, RingConfig), HugeError> {
        let region = HugeRegion::anonymous(cfg.region_size(), size)?;
        let cfg = fit_config(cfg, region.len);
        Ok((region, cfg))
    }

    /// The page size.
    pub fn page_size(&self) -> PageSize {
        self.size
    }
}

/// Turn an `mmap` failure on huge pages into a [`HugeError`]: `ENOMEM` with
/// a short pool is [`HugeError::NotEnoughPages`], anything else the OS error.
pub fn map_error(source: io::Error, size: PageSize, len: usize, what: &str) -> HugeError {
    if source.raw_os_error() == Some(rustix::io::Errno::NOMEM.raw_os_error()) {
        let needed = len.div_ceil(size.bytes()) as u64;
        if let Ok(pool) = Pool::read(size) {
            if pool.available() < needed {
                return HugeError::NotEnoughPages { needed, pool };
            }
        }
    }
    HugeError::Io {
        what: what.to_owned(),
        source,
    }
}

impl Drop for HugeRegion {
    fn drop(&mut self) {
        // SAFETY: `base` and `len` are exactly the range `mmap` returned, it
        // is unmapped once, here, and no borrow of `self` (so no ring over the
        // region) outlives this call.
        let _ = unsafe { munmap(self.base.as_ptr().cast(), self.len) };
    }
}

// SAFETY: the region is plain shared memory, reached only through
// `Region::base`, and rings touch it only with atomic operations, so it may
// be used and dropped from any thread.
unsafe impl Send for HugeRegion {}
// SAFETY: as above.
unsafe impl Sync for HugeRegion {}

// SAFETY:
// - `base` is a live `MAP_SHARED` mapping of `len` bytes, readable and
//   writable, made by `mmap` (raw provenance that allows shared mutation);
//   it stays mapped at the same address until `drop`, which cannot run while
//   `self` is borrowed;
// - `len` never changes;
// - this crate never forms references to the bytes.
unsafe impl Region for HugeRegion {
    fn base(&self) -> NonNull<u8> {
        self.base
    }
    fn size(&self) -> usize {
        self.len
    }
}
