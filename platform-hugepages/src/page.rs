//! [`PageSize`]: the huge-page sizes shmcast maps, and rounding to them.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::HugeError;

/// A huge-page size (x86-64 offers 2 MiB and, on most CPUs, 1 GiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageSize {
    /// 2 MiB pages (`MAP_HUGE_2MB`, `pagesize=2M`).
    Huge2M,
    /// 1 GiB pages (`MAP_HUGE_1GB`, `pagesize=1G`).
    Huge1G,
}

impl PageSize {
    /// Every size this crate knows, smallest first.
    pub const ALL: [PageSize; 2] = [PageSize::Huge2M, PageSize::Huge1G];

    /// log2 of the size in bytes (21 or 30), as `MAP_HUGE_SHIFT` encodes it.
    pub const fn shift(self) -> u32 {
        match self {
            PageSize::Huge2M => 21,
            PageSize::Huge1G => 30,
        }
    }

    /// The size in bytes.
    pub const fn bytes(self) -> usize {
        1 << self.shift()
    }

    /// The size in KiB, as /proc/meminfo and /sys name it (2048, 1048576).
    pub const fn kib(self) -> u64 {
        (self.bytes() / 1024) as u64
    }

    /// The size of exactly `bytes` bytes, if it is one of ours.
    pub fn from_bytes(bytes: u64) -> Option<PageSize> {
        PageSize::ALL
            .into_iter()
            .find(|p| p.bytes() as u64 == bytes)
    }

    /// The kernel's pool of pages of this size:
    /// `/sys/kernel/mm/hugepages/hugepages-<N>kB` (absent when the CPU or the
    /// kernel does not offer the size).
    pub fn sysfs_dir(self) -> PathBuf {
        PathBuf::from(format!(
            "/sys/kernel/mm/hugepages/hugepages-{}kB",
            self.kib()
        ))
    }

    /// `size` rounded up to a whole number of pages; `None` on overflow.
    ///
    /// ```
    /// use shmcast_hugepages::PageSize;
    /// assert_eq!(PageSize::Huge2M.round_up(1), Some(2 << 20));
    /// assert_eq!(PageSize::Huge2M.round_up(0), Some(0));
    /// assert_eq!(PageSize::Huge1G.round_up((1 << 30) + 1), Some(2 << 30));
    /// ```
    pub fn round_up(self, size: usize) -> Option<usize> {
        round_up(size, self.bytes())
    }
}

/// `size` rounded up to a multiple of `page` (a power of two); `None` on overflow.
pub fn round_up(size: usize, page: usize) -> Option<usize> {
    debug_assert!(page.is_power_of_two());
    Some(size.checked_add(page - 1)? & !(page - 1))
}

impl fmt::Display for PageSize {
    /// `2M` or `1G`, as `mount -o pagesize=` and the CLI spell them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PageSize::Huge2M => "2M",
            PageSize::Huge1G => "1G",
        })
    }
}

/// Parse a size with an optional binary suffix (`K`, `M`, `G`, with or
/// without `B`/`iB`, any case; `kB` as the kernel writes it): `2097152`,
/// `2048kB`, `2M`, `1024M`, `1G`, `1GiB`. Bytes, or `None` if malformed.
pub(crate) fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if digits == 0 {
        return None;
    }
    let n: u64 = t[..digits].parse().ok()?;
    let suffix = t[digits..].trim().to_ascii_lowercase();
    let shift = match suffix.as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

impl FromStr for PageSize {
    type Err = HugeError;

    /// `2M` or `1G` (also `2MB`, `2MiB`, `2048K`, `1024M`, `1GiB`, byte counts).
    ///
    /// ```
    /// use shmcast_hugepages::PageSize;
    /// assert_eq!("2M".parse::<PageSize>().unwrap(), PageSize::Huge2M);
    /// assert_eq!("1g".parse::<PageSize>().unwrap(), PageSize::Huge1G);
    /// assert!("4M".parse::<PageSize>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<PageSize, HugeError> {
        parse_bytes(s)
            .and_then(PageSize::from_bytes)
            .ok_or_else(|| HugeError::BadPageSize {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spellings_of_mount_options_and_the_cli() {
        for (s, p) in [
            ("2M", PageSize::Huge2M),
            ("2m", PageSize::Huge2M),
            ("2MB", PageSize::Huge2M),
            ("2MiB", PageSize::Huge2M),
            ("2048K", PageSize::Huge2M),
            ("2048 kB", PageSize::Huge2M),
            ("2097152", PageSize::Huge2M),
            ("1G", PageSize::Huge1G),
            ("1024M", PageSize::Huge1G),
            ("1GiB", PageSize::Huge1G),
            ("1048576kB", PageSize::Huge1G),
        ] {
            assert_eq!(s.parse::<PageSize>().unwrap(), p, "{s}");
        }
        for bad in [
            "",
            "M",
            "4M",
            "2T",
            "-2M",
            "2 M B",
            "1.5G",
            "99999999999999999999G",
        ] {
            let e = bad.parse::<PageSize>().unwrap_err();
            assert!(matches!(e, HugeError::BadPageSize { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("2M or 1G"), "{e}");
        }
    }

    #[test]
    fn sizes_and_names_agree() {
        for p in PageSize::ALL {
            assert_eq!(p.bytes(), 1 << p.shift());
            assert_eq!(p.to_string().parse::<PageSize>().unwrap(), p);
            assert_eq!(PageSize::from_bytes(p.bytes() as u64), Some(p));
        }
        assert_eq!(PageSize::Huge2M.kib(), 2048);
        assert_eq!(PageSize::Huge1G.kib(), 1_048_576);
        assert_eq!(
            PageSize::Huge1G.sysfs_dir(),
            PathBuf::from("/sys/kernel/mm/hugepages/hugepages-1048576kB")
        );
    }

    #[test]
    fn rounds_to_whole_pages() {
        let p = PageSize::Huge2M.bytes();
        assert_eq!(round_up(1, p), Some(p));
        assert_eq!(round_up(p, p), Some(p));
        assert_eq!(round_up(p + 1, p), Some(2 * p));
        assert_eq!(round_up(usize::MAX, p), None);
    }
}
