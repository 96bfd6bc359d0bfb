//! Finding hugetlbfs mounts: /proc/mounts for a page size, `statfs` for a
//! given directory or an open file.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::pool::{default_page_size, read};
use crate::{HugeError, PageSize};

/// `f_type` of a hugetlbfs file system (`HUGETLBFS_MAGIC` in linux/magic.h).
pub const HUGETLBFS_MAGIC: u64 = 0x9584_58f6;

/// A hugetlbfs mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted.
    pub dir: PathBuf,
    /// Its page size in bytes (`pagesize=` option, or the default size).
    pub page_bytes: u64,
}

/// Every hugetlbfs mount in /proc/mounts, in mount order.
///
/// # Errors
/// [`HugeError::Io`] if /proc/mounts or /proc/meminfo cannot be read.
pub fn mounts() -> Result<Vec<Mount>, HugeError> {
    let default = default_page_size()?.map(|p| p.bytes() as u64);
    Ok(parse_mounts(&read("/proc/mounts")?, default))
}

/// A hugetlbfs mount (from /proc/mounts) whose pages are `size`, as `statfs`
/// confirms: the last such line wins, since a later mount on the same
/// directory shadows an earlier one, and a directory that is no longer
/// hugetlbfs (something mounted over it) is passed over rather than
/// silently used with ordinary pages.
///
/// # Errors
/// [`HugeError::Unsupported`] if the kernel has no pool of that size;
/// [`HugeError::NoMount`] if none is mounted (the message gives the mount
/// command); [`HugeError::Io`].
///
/// ```no_run
/// let dir = shmcast_hugepages::find_mount(shmcast_hugepages::PageSize::Huge2M)?;
/// println!("2M pages at {}", dir.display()); // typically /dev/hugepages
/// # Ok::<(), shmcast_hugepages::HugeError>(())
/// ```
pub fn find_mount(size: PageSize) -> Result<PathBuf, HugeError> {
    if !size.sysfs_dir().is_dir() {
        return Err(HugeError::Unsupported { size });
    }
    mounts()?
        .into_iter()
        .rev()
        .filter(|m| m.page_bytes == size.bytes() as u64)
        .find(|m| mount_page_size(&m.dir).is_ok_and(|b| b == size.bytes()))
        .map(|m| m.dir)
        .ok_or(HugeError::NoMount { size })
}

/// The page size of the hugetlbfs mounted at `dir` (`statfs`: its `f_type`
/// must be hugetlbfs; `f_bsize` is the page size).
///
/// # Errors
/// [`HugeError::NotHugetlbfs`] if `dir` is not on hugetlbfs;
/// [`HugeError::Io`] if it cannot be examined (for example, it does not exist).
pub fn mount_page_size(dir: &Path) -> Result<usize, HugeError> {
    let fs = rustix::fs::statfs(dir).map_err(|e| HugeError::Io {
        what: format!("statfs {}", dir.display()),
        source: e.into(),
    })?;
    if fs.f_type as u64 != HUGETLBFS_MAGIC {
        return Err(HugeError::NotHugetlbfs {
            path: dir.to_owned(),
        });
    }
    usize::try_from(fs.f_bsize).map_err(|_| HugeError::parse(dir, "a page size"))
}

/// The page size of the hugetlbfs an open file lives on (`fstatfs`), or
/// `None` if it is on another file system. A hugetlbfs file's size must be
/// a multiple of this, and its mappings use pages of this size.
///
/// # Errors
/// The OS error from `fstatfs`.
pub fn file_page_size(file: &File) -> std::io::Result<Option<usize>> {
    let fs = rustix::fs::fstatfs(file)?;
    if fs.f_type as u64 != HUGETLBFS_MAGIC {
        return Ok(None);
    }
    Ok(usize::try_from(fs.f_bsize).ok())
}

/// The hugetlbfs lines of /proc/mounts text. `default` is the page size of a
/// mount without a `pagesize=` option; such a mount is skipped if it is `None`.
pub(crate) fn parse_mounts(text: &str, default: Option<u64>) -> Vec<Mount> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(_source), Some(dir), Some(fstype), Some(options)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if fstype != "hugetlbfs" {
            continue;
        }
        let page = options
            .split(',')
            .find_map(|o| o.strip_prefix("pagesize="))
            .map(crate::page::parse_bytes);
        let page_bytes = match page {
            Some(Some(bytes)) => bytes,
            Some(None) => continue,
            None => match default {
                Some(bytes) => bytes,
                None => continue,
            },
        };
        found.push(Mount {
            dir: PathBuf::from(unescape(dir)),
            page_bytes,
        });
    }
    found
}

/// Undo /proc/mounts' octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| {
            bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)) && d[0] <= b'3'
        });
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0
none /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0
none /dev/hugepages1G hugetlbfs rw,relatime,pagesize=1024M 0 0
hugetlbfs /mnt/huge\\040pages hugetlbfs rw,relatime 0 0
none /mnt/odd hugetlbfs rw,pagesize=lots 0 0
truncated line
";

    #[test]
    fn finds_hugetlbfs_mounts_and_their_page_sizes() {
        let m = parse_mounts(SAMPLE, Some(2 << 20));
        assert_eq!(
            m,
            vec![
                Mount {
                    dir: "/dev/hugepages".into(),
                    page_bytes: 2 << 20
                },
                Mount {
                    dir: "/dev/hugepages1G".into(),
                    page_bytes: 1 << 30
                },
                Mount {
                    dir: "/mnt/huge pages".into(),
                    page_bytes: 2 << 20
                },
            ]
        );
        // Without a default size, a mount without `pagesize=` is skipped.
        assert_eq!(parse_mounts(SAMPLE, None).len(), 2);
        assert!(parse_mounts("", Some(1)).is_empty());
    }

    #[test]
    fn unescapes_octal_and_leaves_the_rest() {
        assert_eq!(unescape(r"/a\040b\011c\134d"), "/a b\tc\\d");
        assert_eq!(unescape(r"/a\09b\"), r"/a\09b\");
        assert_eq!(unescape(r"\777"), r"\777");
    }
}
