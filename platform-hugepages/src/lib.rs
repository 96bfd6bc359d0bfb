//! # shmcast-hugepages
//!
//! Huge-page memory for [`shmcast`] rings, so a large ring costs few TLB
//! entries. This first piece maps anonymous shared `MAP_HUGETLB` memory;
//! named rings on hugetlbfs build on it.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

use std::io;

use memmap2::MmapOptions;
use shmcast_linux::MapRegion;

/// Bytes in a 2 MiB huge page.
pub const HUGE_2M: usize = 2 << 20;

/// Round `size` up to a whole number of `page` bytes (`page` a power of two).
pub const fn round_to_page(size: usize, page: usize) -> usize {
    (size + page - 1) & !(page - 1)
}

/// Anonymous shared memory on 2 MiB huge pages
/// (`mmap(MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB)`), at least
/// `size` bytes rounded up to the page size.
///
/// # Errors
/// The OS error from `mmap`: `ENOMEM` when no huge pages are reserved
/// (`/proc/sys/vm/nr_hugepages`).
pub fn anonymous_2m(size: usize) -> io::Result<MapRegion> {
    let len = round_to_page(size.max(1), HUGE_2M);
    let map = MmapOptions::new().len(len).huge(Some(21)).map_anon()?;
    Ok(MapRegion::from_mmap(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_whole_pages() {
        assert_eq!(round_to_page(1, HUGE_2M), HUGE_2M);
        assert_eq!(round_to_page(HUGE_2M, HUGE_2M), HUGE_2M);
        assert_eq!(round_to_page(HUGE_2M + 1, HUGE_2M), 2 * HUGE_2M);
    }
}
