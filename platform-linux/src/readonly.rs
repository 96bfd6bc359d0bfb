//! [`ReadOnlyShm`]: a ring opened and mapped read-only, for consumers that
//! may not (or must not) write it.

use std::fs::File;
use std::ptr::NonNull;
use std::time::Duration;

use memmap2::{Mmap, MmapOptions};
use shmcast::{Read, ReadError, ReadRegion, RingView, ViewReader};

use crate::lock::is_held;
use crate::shm::open_existing;
use crate::wait::{phased, Phases};
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
        let (file, size) = open_existing(location, opts, false)?;
        let mut mo = MmapOptions::new();
        mo.len(size);
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

    /// Whether the consumer in `slot` is held by a live process.
    ///
    /// # Errors
    /// The OS error from probing the lock file.
    pub fn consumer_alive(&self, slot: usize) -> Result<bool, Error> {
        is_held(&self.location.lock_path(&slot.to_string()))
            .map_err(|e| Error::io(&self.location.display(), "flock", e))
    }

    /// Where the ring lives.
    pub fn location(&self) -> &Location {
        &self.location
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
    phased(
        |b| reader.try_read(b),
        buf,
        phases,
        timeout,
        std::thread::sleep,
    )
}
