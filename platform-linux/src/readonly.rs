//! [`ReadOnlyShm`]: a ring opened and mapped read-only, for consumers that
//! may not (or must not) write it.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use memmap2::{Mmap, MmapOptions};
use rustix::fs::Mode;
use rustix::shm;
use shmcast::{layout, AttachError, Read, ReadError, ReadRegion, RingView, ViewReader};

use crate::lock::is_held;
use crate::wait::Phases;
use crate::{Error, Location, Options};

/// A ring mapped read-only (`open(O_RDONLY)`, `mmap(PROT_READ)`): only
/// lossy readers that never write, so it works on a ring file this process
/// may only read. Such readers cannot sleep on the futex (that needs a
/// write), so they poll: see [`read_poll`].
#[derive(Debug)]
pub struct ReadOnlyShm {
    location: Location,
    map: Mmap,
    _file: File,
}

impl ReadOnlyShm {
    /// Open a ring read-only, checking the file size and every header field.
    ///
    /// # Errors
    /// As [`crate::ShmRing::open`].
    pub fn open(location: &Location, opts: &Options) -> Result<ReadOnlyShm, Error> {
        let name = location.display();
        let file = match location {
            Location::Shm(n) => File::from(
                shm::open(n.as_str(), shm::OFlags::RDONLY, Mode::empty())
                    .map_err(|e| Error::io(&name, "shm_open", e))?,
            ),
            Location::Path(p) => {
                let mut o = OpenOptions::new();
                o.read(true);
                if !opts.follow_symlinks {
                    o.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
                }
                o.open(p).map_err(|e| Error::io(&name, "open", e))?
            }
        };
        let size = file
            .metadata()
            .map_err(|e| Error::io(&name, "fstat", e))?
            .len();
        if size < layout::HEADER_SIZE as u64 {
            let source = if size == 0 {
                AttachError::NotInitialised
            } else {
                AttachError::TooSmall {
                    needed: layout::HEADER_SIZE as u64,
                    actual: size,
                }
            };
            return Err(Error::Attach { ring: name, source });
        }
        let mut mo = MmapOptions::new();
        mo.len(size as usize);
        if opts.prefault {
            mo.populate();
        }
        // SAFETY: `map` is unsafe because others may change the file while it
        // is mapped, which would break a `&[u8]` over it. Nothing here forms
        // one: `ReadRegion` hands the ring a raw base pointer, and a
        // `RingView` touches the bytes only with atomic loads.
        let map = unsafe { mo.map(&file) }.map_err(|e| Error::io(&name, "mmap", e))?;
        let ro = ReadOnlyShm {
            location: location.clone(),
            map,
            _file: file,
        };
        RingView::attach(&ro).map_err(|source| Error::Attach { ring: name, source })?;
        Ok(ro)
    }

    /// The read-only view.
    pub fn view(&self) -> RingView<'_> {
        RingView::attach(self).expect("validated when mapped")
    }

    /// Whether a live process holds the producer role.
    ///
    /// # Errors
    /// The OS error from probing the lock file.
    pub fn producer_alive(&self) -> Result<bool, Error> {
        is_held(&self.location.lock_path("producer"))
            .map_err(|e| Error::io(&self.location.display(), "flock", e))
    }
}

// SAFETY: the mapping is live, readable, page-aligned and of `len()` bytes
// until `self` drops; its pointer comes from the mapping itself, and the
// ring only loads from it atomically.
unsafe impl ReadRegion for ReadOnlyShm {
    fn read_base(&self) -> NonNull<u8> {
        NonNull::new(self.map.as_ptr().cast_mut()).unwrap_or(NonNull::dangling())
    }
    fn read_size(&self) -> usize {
        self.map.len()
    }
}

/// Read the next message, polling up to `timeout` while the ring is empty:
/// spin, yield, then sleep `phases.nap` between looks (a read-only reader
/// cannot announce itself on the futex word). Returns [`Read::Empty`] when
/// the time is up.
///
/// # Errors
/// As [`ViewReader::try_read`].
pub fn read_poll(
    reader: &mut ViewReader<'_>,
    buf: &mut [u8],
    phases: &Phases,
    timeout: Duration,
) -> Result<Read, ReadError> {
    let start = Instant::now();
    let mut n: u64 = 0;
    loop {
        let read = reader.try_read(buf)?;
        if read != Read::Empty {
            return Ok(read);
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Ok(Read::Empty);
        }
        n += 1;
        if n <= phases.spins as u64 {
            std::hint::spin_loop();
        } else if n <= (phases.spins + phases.yields) as u64 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(phases.nap.min(timeout - elapsed));
        }
    }
}
