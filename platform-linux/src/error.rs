//! Errors that name the ring and the remedy, and carry the OS error.

use std::fmt;
use std::io;

/// Why a ring could not be created, opened or removed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The name is not a valid ring name.
    BadName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Creation found a ring (or file) of that name already.
    Exists {
        /// The ring.
        ring: String,
    },
    /// No ring of that name.
    NotFound {
        /// The ring.
        ring: String,
    },
    /// The path is a symbolic link and following links was not asked for.
    Symlink {
        /// The ring.
        ring: String,
    },
    /// An operating-system call failed.
    Io {
        /// The ring.
        ring: String,
        /// The call that failed.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The configuration is invalid.
    Create {
        /// The ring.
        ring: String,
        /// Why.
        source: shmcast::CreateError,
    },
    /// The file is not a usable ring.
    Attach {
        /// The ring.
        ring: String,
        /// Why.
        source: shmcast::AttachError,
    },
    /// No consumer could join.
    Join {
        /// The ring.
        ring: String,
        /// Why.
        source: shmcast::JoinError,
    },
    /// A live producer holds the ring.
    ProducerActive {
        /// The ring.
        ring: String,
    },
    /// Locking the mapping into memory failed.
    Mlock {
        /// The ring.
        ring: String,
        /// The OS error (EPERM or ENOMEM).
        source: io::Error,
    },
    /// Huge pages could not be had (none supported, mounted or free); the
    /// message gives the remedy.
    Huge {
        /// The ring.
        ring: String,
        /// Why.
        source: shmcast_hugepages::HugeError,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadName { name, why } => write!(
                f,
                "invalid ring name {name:?}: {why} (use a plain name of up to 200 characters without '/', or --path FILE)"
            ),
            Error::Exists { ring } => write!(
                f,
                "ring {ring} already exists: open it, or remove it first (`shmcast rm`) to replace it"
            ),
            Error::NotFound { ring } => write!(
                f,
                "ring {ring} does not exist: create it first (`shmcast create`)"
            ),
            Error::Symlink { ring } => write!(
                f,
                "ring {ring} is a symbolic link: refusing to follow it (ask to follow links, or use the real path)"
            ),
            Error::Io { ring, op, source } => write!(f, "ring {ring}: {op} failed: {source}"),
            Error::Create { ring, source } => write!(f, "ring {ring}: cannot create: {source}"),
            Error::Attach { ring, source } => write!(
                f,
                "ring {ring} is not usable: {source} (remove and recreate it if it is stale)"
            ),
            Error::Join { ring, source } => write!(f, "ring {ring}: cannot join: {source}"),
            Error::ProducerActive { ring } => write!(
                f,
                "ring {ring} already has a live producer: only one may write at a time"
            ),
            Error::Mlock { ring, source } => write!(
                f,
                "ring {ring}: mlock failed: {source}; raise RLIMIT_MEMLOCK (`ulimit -l`, or memlock in /etc/security/limits.conf) or run with CAP_IPC_LOCK"
            ),
            Error::Huge { ring, source } => write!(f, "ring {ring}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Mlock { source, .. } => Some(source),
            Error::Create { source, .. } => Some(source),
            Error::Attach { source, .. } => Some(source),
            Error::Join { source, .. } => Some(source),
            Error::Huge { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    pub(crate) fn io(ring: &str, op: &'static str, source: impl Into<io::Error>) -> Error {
        let source = source.into();
        match source.kind() {
            io::ErrorKind::AlreadyExists => Error::Exists {
                ring: ring.to_owned(),
            },
            io::ErrorKind::NotFound => Error::NotFound {
                ring: ring.to_owned(),
            },
            _ if source.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                Error::Symlink {
                    ring: ring.to_owned(),
                }
            }
            _ => Error::Io {
                ring: ring.to_owned(),
                op,
                source,
            },
        }
    }
}
