//! [`HugeError`]: why huge pages could not be had, with the remedy.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::{PageSize, Pool};

/// Why huge-page memory could not be had. Each message says what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum HugeError {
    /// A page size this crate does not know (`2M` and `1G` are).
    BadPageSize {
        /// The text given.
        given: String,
    },
    /// The kernel has no pool of pages of this size (the CPU does not offer
    /// them, or the kernel lacks `CONFIG_HUGETLBFS`).
    Unsupported {
        /// The size asked for.
        size: PageSize,
    },
    /// No hugetlbfs of this page size is mounted (none in /proc/mounts).
    NoMount {
        /// The size asked for.
        size: PageSize,
    },
    /// The directory given is not a hugetlbfs mount.
    NotHugetlbfs {
        /// The directory.
        path: PathBuf,
    },
    /// Fewer free huge pages than the mapping needs.
    NotEnoughPages {
        /// Pages the mapping needs.
        needed: u64,
        /// The pool as the kernel reported it after the failure.
        pool: Pool,
    },
    /// A mapping is backed by pages of another size (checked in
    /// /proc/self/smaps, `KernelPageSize`).
    NotHuge {
        /// The page size expected, in bytes.
        expected: u64,
        /// The smallest page size found over the mapping, in bytes.
        found: u64,
    },
    /// Reading a kernel file, or a system call, failed.
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: io::Error,
    },
}

/// The mount command for a page size, as the messages give it.
pub fn mount_command(size: PageSize, dir: &Path) -> String {
    format!(
        "mkdir -p {dir} && mount -t hugetlbfs -o pagesize={size} none {dir}",
        dir = dir.display()
    )
}

/// Where the messages suggest mounting hugetlbfs for a page size.
pub fn usual_mount_dir(size: PageSize) -> PathBuf {
    match size {
        PageSize::Huge2M => PathBuf::from("/dev/hugepages"),
        PageSize::Huge1G => PathBuf::from("/dev/hugepages1G"),
    }
}

impl fmt::Display for HugeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HugeError::BadPageSize { given } => {
                write!(f, "unsupported huge page size {given:?}: use 2M or 1G")
            }
            HugeError::Unsupported { size } => write!(
                f,
                "{size} huge pages are not supported on this machine ({} does not exist: the CPU or the kernel does not offer them); use {}",
                size.sysfs_dir().display(),
                match size {
                    PageSize::Huge1G => "2M pages",
                    PageSize::Huge2M => "a kernel built with CONFIG_HUGETLBFS",
                }
            ),
            HugeError::NoMount { size } => write!(
                f,
                "no hugetlbfs with {size} pages is mounted (none in /proc/mounts): mount one as root with `{}`, or give the path of one",
                mount_command(*size, &usual_mount_dir(*size))
            ),
            HugeError::NotHugetlbfs { path } => write!(
                f,
                "{} is not a hugetlbfs mount: mount one there as root with `mount -t hugetlbfs -o pagesize=2M none {}` (or pagesize=1G)",
                path.display(),
                path.display()
            ),
            HugeError::NotEnoughPages { needed, pool } => {
                let size = pool.size;
                match pool.source {
                    crate::PoolSource::Meminfo => write!(
                        f,
                        "not enough free {size} huge pages: need {needed}, and /proc/meminfo says HugePages_Total: {}, HugePages_Free: {}, HugePages_Rsvd: {} ({} available)",
                        pool.total, pool.free, pool.reserved, pool.available()
                    )?,
                    crate::PoolSource::Sysfs => write!(
                        f,
                        "not enough free {size} huge pages: need {needed}, and {} says nr_hugepages: {}, free_hugepages: {}, resv_hugepages: {} ({} available)",
                        size.sysfs_dir().display(),
                        pool.total, pool.free, pool.reserved, pool.available()
                    )?,
                }
                write!(
                    f,
                    "; reserve more as root with `echo {} > {}`",
                    pool.total_for(*needed),
                    pool.setting()
                )?;
                if size == PageSize::Huge1G {
                    write!(
                        f,
                        " (if the kernel cannot find that much contiguous memory, reserve them at boot: hugepagesz=1G hugepages=N)"
                    )?;
                }
                Ok(())
            }
            HugeError::NotHuge { expected, found } => write!(
                f,
                "the mapping is backed by {} kB pages, not {} kB huge pages (KernelPageSize in /proc/self/smaps)",
                found / 1024,
                expected / 1024
            ),
            HugeError::Io { what, source } => write!(f, "{what} failed: {source}"),
        }
    }
}

impl std::error::Error for HugeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HugeError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl HugeError {
    /// A kernel file that did not hold what it should.
    pub(crate) fn parse(path: &Path, wanted: &str) -> HugeError {
        HugeError::Io {
            what: format!("reading {}", path.display()),
            source: io::Error::new(io::ErrorKind::InvalidData, format!("expected {wanted}")),
        }
    }

    /// Whether this error means huge pages are not to be had here (none
    /// supported, mounted or free), as opposed to a fault of the caller.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            HugeError::Unsupported { .. }
                | HugeError::NoMount { .. }
                | HugeError::NotEnoughPages { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PoolSource;

    #[test]
    fn messages_give_the_remedy() {
        let no_mount = HugeError::NoMount {
            size: PageSize::Huge2M,
        }
        .to_string();
        assert!(
            no_mount.contains("mount -t hugetlbfs -o pagesize=2M none /dev/hugepages"),
            "{no_mount}"
        );
        let short = HugeError::NotEnoughPages {
            needed: 5,
            pool: Pool {
                size: PageSize::Huge2M,
                total: 8,
                free: 4,
                reserved: 1,
                surplus: 0,
                source: PoolSource::Meminfo,
            },
        }
        .to_string();
        assert!(short.contains("HugePages_Free: 4"), "{short}");
        assert!(short.contains("HugePages_Total: 8"), "{short}");
        assert!(
            short.contains("`echo 10 > /proc/sys/vm/nr_hugepages`"),
            "{short}"
        );
        let short_1g = HugeError::NotEnoughPages {
            needed: 1,
            pool: Pool {
                size: PageSize::Huge1G,
                total: 0,
                free: 0,
                reserved: 0,
                surplus: 0,
                source: PoolSource::Sysfs,
            },
        }
        .to_string();
        assert!(
            short_1g.contains("echo 1 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"),
            "{short_1g}"
        );
        let unsupported = HugeError::Unsupported {
            size: PageSize::Huge1G,
        }
        .to_string();
        assert!(unsupported.contains("hugepages-1048576kB does not exist"));
    }
}
