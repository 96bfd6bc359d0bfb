//! [`Pool`]: how many huge pages of a size the kernel holds, and how many are
//! free, from /proc/meminfo (the default size) or
//! /sys/kernel/mm/hugepages/hugepages-`N`kB (any size).

use std::fs;
use std::path::Path;

use crate::{HugeError, PageSize};

/// Where a [`Pool`]'s figures were read, which is also where to change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolSource {
    /// /proc/meminfo (`HugePages_*`), for the default size; set with
    /// /proc/sys/vm/nr_hugepages.
    Meminfo,
    /// /sys/kernel/mm/hugepages/hugepages-`N`kB, for any other size; set with
    /// its `nr_hugepages`.
    Sysfs,
}

/// The kernel's pool of huge pages of one size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// The page size.
    pub size: PageSize,
    /// Pages in the pool (`HugePages_Total`, `nr_hugepages`).
    pub total: u64,
    /// Pages not in use (`HugePages_Free`, `free_hugepages`).
    pub free: u64,
    /// Free pages already promised to mappings (`HugePages_Rsvd`, `resv_hugepages`).
    pub reserved: u64,
    /// Pages above `total` allocated by overcommit (`HugePages_Surp`, `surplus_hugepages`).
    pub surplus: u64,
    /// Where the figures come from.
    pub source: PoolSource,
}

impl Pool {
    /// Read the pool of `size` pages: /proc/meminfo when `size` is the
    /// default huge-page size (`Hugepagesize:`), else the size's sysfs directory.
    ///
    /// # Errors
    /// [`HugeError::Unsupported`] when the kernel has no pool of that size;
    /// [`HugeError::Io`] when a file cannot be read or parsed.
    pub fn read(size: PageSize) -> Result<Pool, HugeError> {
        let meminfo = read("/proc/meminfo")?;
        let info = Meminfo::parse(&meminfo);
        if info.page_size == Some(size.bytes() as u64) {
            if let Some(pool) = info.pool(size) {
                return Ok(pool);
            }
        }
        let dir = size.sysfs_dir();
        if !dir.is_dir() {
            return Err(HugeError::Unsupported { size });
        }
        let field = |name: &str| -> Result<u64, HugeError> {
            let path = dir.join(name);
            let text = read(&path)?;
            text.trim()
                .parse()
                .map_err(|_| HugeError::parse(&path, "a number"))
        };
        Ok(Pool {
            size,
            total: field("nr_hugepages")?,
            free: field("free_hugepages")?,
            reserved: field("resv_hugepages")?,
            surplus: field("surplus_hugepages")?,
            source: PoolSource::Sysfs,
        })
    }

    /// Free pages not yet promised to a mapping: what a new mapping can reserve.
    pub fn available(&self) -> u64 {
        self.free.saturating_sub(self.reserved)
    }

    /// The `nr_hugepages` value that would leave `needed` more pages available.
    pub fn total_for(&self, needed: u64) -> u64 {
        self.total
            .saturating_add(needed.saturating_sub(self.available()))
    }

    /// The file that sets the pool's size.
    pub fn setting(&self) -> String {
        match self.source {
            PoolSource::Meminfo => "/proc/sys/vm/nr_hugepages".to_owned(),
            PoolSource::Sysfs => format!("{}/nr_hugepages", self.size.sysfs_dir().display()),
        }
    }
}

/// The default huge-page size (`Hugepagesize:` in /proc/meminfo): the one a
/// hugetlbfs mount without a `pagesize=` option uses. `None` without huge-page
/// support, or for a size this crate does not know.
///
/// # Errors
/// [`HugeError::Io`] if /proc/meminfo cannot be read.
pub fn default_page_size() -> Result<Option<PageSize>, HugeError> {
    Ok(Meminfo::parse(&read("/proc/meminfo")?)
        .page_size
        .and_then(PageSize::from_bytes))
}

/// Huge-page lines of /proc/meminfo.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meminfo {
    /// `Hugepagesize:` in bytes.
    pub page_size: Option<u64>,
    total: Option<u64>,
    free: Option<u64>,
    reserved: Option<u64>,
    surplus: Option<u64>,
}

impl Meminfo {
    /// Parse the text of /proc/meminfo; lines it does not know are skipped.
    pub fn parse(text: &str) -> Meminfo {
        let mut m = Meminfo::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            let number = || value.parse::<u64>().ok();
            match key.trim() {
                "Hugepagesize" => m.page_size = crate::page::parse_bytes(value),
                "HugePages_Total" => m.total = number(),
                "HugePages_Free" => m.free = number(),
                "HugePages_Rsvd" => m.reserved = number(),
                "HugePages_Surp" => m.surplus = number(),
                _ => {}
            }
        }
        m
    }

    /// The pool of the default size, if every figure was there.
    pub fn pool(&self, size: PageSize) -> Option<Pool> {
        Some(Pool {
            size,
            total: self.total?,
            free: self.free?,
            reserved: self.reserved?,
            surplus: self.surplus?,
            source: PoolSource::Meminfo,
        })
    }
}

pub(crate) fn read(path: impl AsRef<Path>) -> Result<String, HugeError> {
    let path = path.as_ref();
    fs::read_to_string(path).map_err(|source| HugeError::Io {
        what: format!("reading {}", path.display()),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "MemTotal:       24684544 kB\n\
        AnonHugePages:         0 kB\n\
        HugePages_Total:      64\n\
        HugePages_Free:       60\n\
        HugePages_Rsvd:        3\n\
        HugePages_Surp:        0\n\
        Hugepagesize:       2048 kB\n\
        Hugetlb:          131072 kB\n";

    #[test]
    fn parses_the_huge_page_lines_of_meminfo() {
        let m = Meminfo::parse(SAMPLE);
        assert_eq!(m.page_size, Some(2 << 20));
        let pool = m.pool(PageSize::Huge2M).unwrap();
        assert_eq!(
            (pool.total, pool.free, pool.reserved, pool.surplus),
            (64, 60, 3, 0)
        );
        assert_eq!(pool.available(), 57);
        assert_eq!(pool.total_for(10), 64);
        assert_eq!(pool.total_for(60), 67);
        assert_eq!(pool.setting(), "/proc/sys/vm/nr_hugepages");
    }

    #[test]
    fn missing_or_garbled_lines_give_no_pool() {
        assert_eq!(Meminfo::parse(""), Meminfo::default());
        let m = Meminfo::parse("HugePages_Total: lots\nHugePages_Free: 1\nno colon here\n");
        assert_eq!(m.pool(PageSize::Huge2M), None);
        assert_eq!(m.page_size, None);
    }

    #[test]
    fn sysfs_pools_are_set_in_sysfs() {
        let pool = Pool {
            size: PageSize::Huge1G,
            total: 1,
            free: 1,
            reserved: 1,
            surplus: 0,
            source: PoolSource::Sysfs,
        };
        assert_eq!(pool.available(), 0);
        assert_eq!(pool.total_for(1), 2);
        assert_eq!(
            pool.setting(),
            "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
        );
    }
}
