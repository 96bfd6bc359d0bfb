//! [`ReadOnlyShm`]: a ring opened and mapped read-only, for consumers that
//! may not (or must not) write it.

use std::fs::File;
use std::ptr::NonNull;
use std::time::Duration;

use memmap2::{MmapOptions, MmapRaw};
use shmcast::{Read, ReadError, ReadRegion, RingView, Shape, ViewReader};

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
    map: ReadMap,
    /// The sizes validated at open (see [`crate::ShmRing::ring`]).
    shape: Shape,
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
        // A raw read-only mapping (safe): it hands out only the pointer `mmap`
        // returned, never a `&[u8]` that others' writes would invalidate, and
        // a `RingView` touches the bytes only with atomic loads.
        let map = mo
            .map_raw_read_only(&file)
            .map_err(|e| Error::io(&name, "mmap", e))?;
        let map = ReadMap(map);
        let shape = RingView::attach(&map)
            .map_err(|source| Error::Attach { ring: name, source })?
            .shape();
        Ok(ReadOnlyShm {
            location: location.clone(),
            map,
            shape,
            _file: file,
        })
    }

    /// The read-only view.
    pub fn view(&self) -> RingView<'_> {
        // As in `ShmRing::ring`: the shape was validated against this very
        // mapping, whose address and length never change.
        RingView::with_shape(&self.map, self.shape)
            .expect("the mapping fits the shape it was validated with")
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

// SAFETY: delegates to the mapping (see `ReadMap`), which upholds the
// contract for as long as `self` lives.
unsafe impl ReadRegion for ReadOnlyShm {
    fn read_base(&self) -> NonNull<u8> {
        self.map.read_base()
    }
    fn read_size(&self) -> usize {
        self.map.read_size()
    }
}

/// The read-only mapping as a ring region.
#[derive(Debug)]
struct ReadMap(MmapRaw);

// SAFETY: the mapping is live, readable, page-aligned and of `len()` bytes
// until `self` drops; `as_mut_ptr` is the pointer `mmap` returned (no
// reference to the bytes is formed), and the ring only loads from it
// atomically.
unsafe impl ReadRegion for ReadMap {
    fn read_base(&self) -> NonNull<u8> {
        NonNull::new(self.0.as_mut_ptr()).unwrap_or(NonNull::dangling())
    }
    fn read_size(&self) -> usize {
        self.0.len()
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
