//! Where a ring lives: a name in /dev/shm, or a file path.

use std::path::{Path, PathBuf};

use crate::Error;

/// Longest ring name accepted.
pub const MAX_NAME: usize = 200;

/// A ring's place: a name in /dev/shm (via `shm_open`) or any file path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A POSIX shared-memory object `/NAME` (a file in /dev/shm on Linux).
    Shm(String),
    /// A file on any file system (a regular file makes a persistent ring).
    Path(PathBuf),
}

impl Location {
    /// A /dev/shm ring, checking the name: not empty, at most [`MAX_NAME`]
    /// bytes, no `/` and no NUL, not `.` or `..`.
    ///
    /// # Errors
    /// [`Error::BadName`].
    pub fn shm(name: &str) -> Result<Location, Error> {
        check_name(name)?;
        Ok(Location::Shm(name.to_owned()))
    }

    /// A ring on huge pages of `size`: the file `name` on the first hugetlbfs
    /// of that page size in /proc/mounts (for example
    /// /dev/hugepages/`name`). The name is checked as for [`Location::shm`].
    /// Creation rounds the file up to whole pages and lets the ring use them.
    ///
    /// # Errors
    /// [`Error::BadName`]; [`Error::Huge`] when the page size is not
    /// supported or no hugetlbfs of that size is mounted (the message gives
    /// the mount command).
    pub fn huge(name: &str, size: shmcast_hugepages::PageSize) -> Result<Location, Error> {
        check_name(name)?;
        let dir = shmcast_hugepages::find_mount(size).map_err(|source| Error::Huge {
            ring: format!("'{name}'"),
            source,
        })?;
        Ok(Location::Path(dir.join(name)))
    }

    /// A ring in the hugetlbfs mounted at `dir`, whatever its page size
    /// (`statfs` checks that it is hugetlbfs).
    ///
    /// # Errors
    /// [`Error::BadName`]; [`Error::Huge`] when `dir` is not a hugetlbfs
    /// mount or cannot be examined.
    pub fn huge_at(dir: impl AsRef<Path>, name: &str) -> Result<Location, Error> {
        check_name(name)?;
        let dir = dir.as_ref();
        shmcast_hugepages::mount_page_size(dir).map_err(|source| Error::Huge {
            ring: format!("'{}'", dir.join(name).display()),
            source,
        })?;
        Ok(Location::Path(dir.join(name)))
    }

    /// A file-backed ring.
    pub fn path(path: impl AsRef<Path>) -> Location {
        Location::Path(path.as_ref().to_owned())
    }

    /// How errors name the ring.
    pub fn display(&self) -> String {
        match self {
            Location::Shm(name) => format!("'{name}' (/dev/shm/{name})"),
            Location::Path(p) => format!("'{}'", p.display()),
        }
    }

    /// The file behind the ring (for lock files next to it).
    pub fn file_path(&self) -> PathBuf {
        match self {
            Location::Shm(name) => Path::new("/dev/shm").join(name),
            Location::Path(p) => p.clone(),
        }
    }

    /// Lock file for a role (`p` for the producer, slot index for consumers).
    pub(crate) fn lock_path(&self, role: &str) -> PathBuf {
        let mut p = self.file_path().into_os_string();
        p.push(format!(".{role}.lock"));
        PathBuf::from(p)
    }
}

/// A ring name: not empty, at most [`MAX_NAME`] bytes, no `/` and no NUL,
/// not `.` or `..`.
fn check_name(name: &str) -> Result<(), Error> {
    let bad = |why| {
        Err(Error::BadName {
            name: name.to_owned(),
            why,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > MAX_NAME {
        return bad("it is too long");
    }
    if name.contains('/') {
        return bad("it contains '/'");
    }
    if name.contains('\0') {
        return bad("it contains a NUL byte");
    }
    if name == "." || name == ".." {
        return bad("it is a directory name");
    }
    Ok(())
}
