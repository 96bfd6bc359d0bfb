//! Liveness by file locks: a role (the producer, a consumer slot) holds an
//! exclusive `flock` on its own lock file next to the ring. The kernel drops
//! the lock when the holder dies, however it dies, so liveness survives PID
//! reuse and PID namespaces (no PIDs are involved).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

/// A held role lock; dropping it (or dying) releases it.
#[derive(Debug)]
pub struct RoleLock {
    _file: File,
    path: PathBuf,
}

impl RoleLock {
    /// Take the lock at `path` without waiting (`open(O_CREAT)` +
    /// `flock(LOCK_EX | LOCK_NB)`). `Ok(None)` if a live holder has it.
    pub fn try_acquire(path: &Path) -> io::Result<Option<RoleLock>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(RoleLock {
                _file: file,
                path: path.to_owned(),
            })),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether a live process holds the lock at `path` (`flock(LOCK_SH | LOCK_NB)`
/// probe, released at once). A missing lock file means nobody holds it.
pub fn is_held(path: &Path) -> io::Result<bool> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => Ok(false),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(true),
        Err(e) => Err(e.into()),
    }
}
