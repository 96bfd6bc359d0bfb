//! Proof of backing: the page size the kernel really maps a region with,
//! from `KernelPageSize` in /proc/self/smaps.

use std::io;

use shmcast::ReadRegion;

use crate::pool::read;
use crate::{HugeError, PageSize};

/// The page size, in bytes, backing every byte of `region` in this process:
/// the smallest `KernelPageSize` of the mappings (VMAs) in /proc/self/smaps
/// that cover it.
///
/// # Errors
/// [`HugeError::Io`] if /proc/self/smaps cannot be read or does not cover
/// the whole region.
pub fn backing_page_size<R: ReadRegion + ?Sized>(region: &R) -> Result<u64, HugeError> {
    let start = region.read_base().as_ptr() as usize;
    let end = start.saturating_add(region.read_size());
    let smaps = read("/proc/self/smaps")?;
    page_size_over(&smaps, start, end).ok_or_else(|| HugeError::Io {
        what: "reading /proc/self/smaps".to_owned(),
        source: io::Error::new(
            io::ErrorKind::NotFound,
            format!("no mapping with a KernelPageSize covers {start:#x}..{end:#x}"),
        ),
    })
}

/// Check that `region` is backed by pages of `size` (not silently by normal
/// pages).
///
/// # Errors
/// [`HugeError::NotHuge`] with the page size found; as [`backing_page_size`].
///
/// ```no_run
/// use shmcast_hugepages::{check_backing, HugeRegion, PageSize};
/// let region = HugeRegion::anonymous(1, PageSize::Huge2M)?;
/// check_backing(&region, PageSize::Huge2M)?;
/// # Ok::<(), shmcast_hugepages::HugeError>(())
/// ```
pub fn check_backing<R: ReadRegion + ?Sized>(region: &R, size: PageSize) -> Result<(), HugeError> {
    let found = backing_page_size(region)?;
    let expected = size.bytes() as u64;
    if found == expected {
        Ok(())
    } else {
        Err(HugeError::NotHuge { expected, found })
    }
}

/// The smallest `KernelPageSize` (bytes) over the VMAs of `smaps` text that
/// cover `start..end`, or `None` unless they cover all of it (and each names
/// its page size). An empty range is covered by nothing.
pub(crate) fn page_size_over(smaps: &str, start: usize, end: usize) -> Option<u64> {
    // (vma start, vma end, KernelPageSize) for the VMAs that overlap.
    let mut vmas: Vec<(usize, usize, Option<u64>)> = Vec::new();
    let mut current: Option<usize> = None;
    for line in smaps.lines() {
        if let Some((lo, hi)) = vma_range(line) {
            current = None;
            if lo < end && start < hi {
                vmas.push((lo, hi, None));
                current = Some(vmas.len() - 1);
            }
        } else if let (Some(i), Some(rest)) = (current, line.strip_prefix("KernelPageSize:")) {
            let kb = rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
            vmas[i].2 = Some(kb.checked_mul(1024)?);
        }
    }
    vmas.sort_unstable();
    let mut covered = start;
    let mut smallest: Option<u64> = None;
    for (lo, hi, page) in vmas {
        if lo > covered {
            return None;
        }
        covered = covered.max(hi);
        let page = page?;
        smallest = Some(smallest.map_or(page, |s| s.min(page)));
    }
    if covered >= end && start < end {
        smallest
    } else {
        None
    }
}

/// The address range of a VMA header line (`7f12...-7f13... rw-s ...`).
fn vma_range(line: &str) -> Option<(usize, usize)> {
    let range = line.split_ascii_whitespace().next()?;
    let (lo, hi) = range.split_once('-')?;
    let lo = usize::from_str_radix(lo, 16).ok()?;
    let hi = usize::from_str_radix(hi, 16).ok()?;
    (lo < hi && line.len() > range.len()).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
55d4c0a00000-55d4c0a21000 rw-p 00000000 00:00 0                          [heap]
Size:                132 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
7f0000000000-7f0000400000 rw-s 00000000 00:2e 12345                      /dev/hugepages/ring (deleted)
Size:               4096 kB
KernelPageSize:     2048 kB
MMUPageSize:        2048 kB
Rss:                   0 kB
7f0000400000-7f0000600000 rw-s 00000000 00:2e 12346                      /anon_hugepage (deleted)
Size:               2048 kB
KernelPageSize:     2048 kB
7f0000600000-7f0000601000 rw-p 00000000 00:00 0
Size:                  4 kB
KernelPageSize:        4 kB
VmFlags: rd wr mr mw me ac sd
";

    #[test]
    fn finds_the_page_size_of_a_covered_range() {
        let two_m = Some(2048 * 1024);
        assert_eq!(
            page_size_over(SAMPLE, 0x7f00_0000_0000, 0x7f00_0040_0000),
            two_m
        );
        assert_eq!(
            page_size_over(SAMPLE, 0x7f00_0010_0000, 0x7f00_0010_0001),
            two_m
        );
        // Across two huge VMAs, then into a normal one: the smallest wins.
        assert_eq!(
            page_size_over(SAMPLE, 0x7f00_0000_0000, 0x7f00_0060_0000),
            two_m
        );
        assert_eq!(
            page_size_over(SAMPLE, 0x7f00_0000_0000, 0x7f00_0060_1000),
            Some(4096)
        );
        assert_eq!(
            page_size_over(SAMPLE, 0x55d4_c0a0_0000, 0x55d4_c0a0_1000),
            Some(4096)
        );
    }

    #[test]
    fn gaps_unknown_ranges_and_garbage_give_none() {
        // Past the last VMA, before the first, a gap between heap and huge.
        assert_eq!(
            page_size_over(SAMPLE, 0x7f00_0060_0000, 0x7f00_0070_0000),
            None
        );
        assert_eq!(page_size_over(SAMPLE, 0x1000, 0x2000), None);
        assert_eq!(
            page_size_over(SAMPLE, 0x55d4_c0a0_0000, 0x7f00_0000_1000),
            None
        );
        assert_eq!(
            page_size_over(SAMPLE, 0x7f00_0000_0000, 0x7f00_0000_0000),
            None
        );
        assert_eq!(page_size_over("", 0, 1), None);
        let garbled = "1000-2000 rw-p 0 0:0 0\nKernelPageSize: lots kB\n";
        assert_eq!(page_size_over(garbled, 0x1000, 0x2000), None);
        let unnamed = "1000-2000 rw-p 0 0:0 0\nSize: 4 kB\n";
        assert_eq!(page_size_over(unnamed, 0x1000, 0x2000), None);
    }
}
