//! [`ShmRing`]: a ring in a named /dev/shm object or a file.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;

use memmap2::MmapOptions;
use rustix::fs::Mode;
use rustix::shm;
use shmcast::{
    layout, Batch, Continuation, Read, ReadError, Reader, Ring, RingConfig, Shape, Start, Writer,
};

use std::time::Duration;

use shmcast::WriteError;

use crate::wait::{futex_wake, LinuxWait, Phases};

use crate::lock::{is_held, RoleLock};
use crate::{Error, Location, MapRegion};

/// How a ring file is created and mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// File mode for new rings (default `0o600`).
    pub mode: u32,
    /// Fault every page in at map time (`MAP_POPULATE`).
    pub prefault: bool,
    /// Lock the mapping in memory (`mlock`).
    pub mlock: bool,
    /// Follow a symbolic link at the ring's path (default: refuse).
    pub follow_symlinks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: 0o600,
            prefault: false,
            mlock: false,
            follow_symlinks: false,
        }
    }
}

/// What to do when creation finds a ring of the same name (left by a crashed run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// Open the existing ring (and take it over if its producer is dead).
    Reopen,
    /// Remove it and create a fresh one.
    Replace,
}

/// A ring in shared memory that this process has mapped.
///
/// ```no_run
/// use shmcast_linux::{Location, Options, ShmRing};
/// use shmcast::{RingConfig, Start};
///
/// let loc = Location::shm("quotes")?;
/// let ring = ShmRing::create(&loc, &RingConfig::new(1 << 20).slots(8), &Options::default())?;
/// let mut producer = ring.producer()?;
/// producer.write(b"tick")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ShmRing {
    location: Location,
    region: MapRegion,
    /// The sizes validated at create or open: the ring handle is rebuilt from
    /// them, never from the header again, which a peer may have damaged since.
    shape: Shape,
    _file: File,
}

impl ShmRing {
    /// Create a ring exclusively (`shm_open` or `open` with `O_CREAT | O_EXCL`),
    /// size the file (`ftruncate`) and map it before the header is written, so a
    /// half-created ring is never mistaken for a live one (its magic comes last).
    ///
    /// On hugetlbfs (see [`Location::huge`]) the file is rounded up to whole
    /// huge pages (`fstatfs` gives their size) and the ring's capacity grows
    /// to the largest power of two that fits, never smaller than asked. The
    /// kernel reserves the pages at `mmap`, so a shortage shows here.
    ///
    /// # Errors
    /// [`Error::Exists`] if the name is taken; [`Error::Create`] for a bad
    /// configuration; [`Error::Huge`] when huge pages cannot be reserved;
    /// [`Error::Io`] or [`Error::Mlock`] from the OS.
    pub fn create(location: &Location, cfg: &RingConfig, opts: &Options) -> Result<ShmRing, Error> {
        let name = location.display();
        let file = match location {
            Location::Shm(n) => {
                let fd = shm::open(
                    n.as_str(),
                    shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR,
                    Mode::from_raw_mode(opts.mode),
                )
                .map_err(|e| Error::io(&name, "shm_open", e))?;
                File::from(fd)
            }
            Location::Path(p) => OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(opts.mode)
                .open(p)
                .map_err(|e| match e.kind() {
                    // Creating, "not found" is the directory, not the ring.
                    std::io::ErrorKind::NotFound => Error::Io {
                        ring: name.clone(),
                        op: "open",
                        source: std::io::Error::new(
                            e.kind(),
                            format!(
                                "directory {} does not exist: create it, or choose another path",
                                p.parent().unwrap_or(p).display()
                            ),
                        ),
                    },
                    _ => Error::io(&name, "open", e),
                })?,
        };
        let made = Self::init(location, file, cfg, opts);
        if made.is_err() {
            let _ = remove(location);
        }
        made
    }

    fn init(
        location: &Location,
        file: File,
        cfg: &RingConfig,
        opts: &Options,
    ) -> Result<ShmRing, Error> {
        let name = location.display();
        // Check the configuration before sizing the file.
        cfg.validate().map_err(|source| Error::Create {
            ring: name.clone(),
            source,
        })?;
        // Permissions exactly as asked, whatever the umask.
        rustix::fs::fchmod(&file, Mode::from_raw_mode(opts.mode))
            .map_err(|e| Error::io(&name, "fchmod", e))?;
        // On hugetlbfs the size must be whole huge pages: round it up, and
        // let the ring use all of it (a larger power-of-two capacity).
        let huge = huge_page_size(&name, &file)?;
        let (cfg, len) = match huge {
            Some(page) => {
                let len =
                    shmcast_hugepages::round_up(cfg.region_size(), page).unwrap_or(usize::MAX);
                (shmcast_hugepages::fit_config(cfg, len), len)
            }
            None => (*cfg, cfg.region_size()),
        };
        file.set_len(len as u64)
            .map_err(|e| Error::io(&name, "ftruncate", e))?;
        let region = map(&name, &file, len, opts, huge)?;
        let shape = Ring::create(&region, &cfg)
            .map_err(|source| Error::Create { ring: name, source })?
            .shape();
        Ok(ShmRing {
            location: location.clone(),
            region,
            shape,
            _file: file,
        })
    }

    /// Open an existing ring, checking the file size and every header field.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Symlink`], [`Error::Attach`] (not a ring,
    /// another layout version, damaged, still being created), [`Error::Io`].
    pub fn open(location: &Location, opts: &Options) -> Result<ShmRing, Error> {
        let name = location.display();
        let (file, len) = open_existing(location, opts, true)?;
        let huge = huge_page_size(&name, &file)?;
        let region = map(&name, &file, len, opts, huge)?;
        let shape = Ring::attach(&region)
            .map_err(|source| Error::Attach { ring: name, source })?
            .shape();
        Ok(ShmRing {
            location: location.clone(),
            region,
            shape,
            _file: file,
        })
    }

    /// Create a ring, or deal with one left behind under the same name.
    ///
    /// # Errors
    /// As [`ShmRing::create`] and [`ShmRing::open`].
    pub fn create_or(
        location: &Location,
        cfg: &RingConfig,
        opts: &Options,
        stale: Stale,
    ) -> Result<ShmRing, Error> {
        match Self::create(location, cfg, opts) {
            Err(Error::Exists { .. }) => match stale {
                Stale::Reopen => Self::open(location, opts),
                Stale::Replace => {
                    remove(location)?;
                    Self::create(location, cfg, opts)
                }
            },
            other => other,
        }
    }

    /// The ring, from the sizes validated when it was mapped (the header is
    /// not trusted again).
    pub fn ring(&self) -> Ring<'_> {
        // The mapping's address and length never change while `self` lives,
        // and `shape` was validated against this very mapping: no bytes in
        // shared memory can make this fail.
        Ring::with_shape(&self.region, self.shape)
            .expect("the mapping fits the shape it was validated with")
    }

    /// Where the ring lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Whether a live process holds the producer role.
    ///
    /// # Errors
    /// The OS error from probing the lock file.
    pub fn producer_alive(&self) -> Result<bool, Error> {
        let path = self.location.lock_path("producer");
        is_held(&path).map_err(|e| Error::io(&self.location.display(), "flock", e))
    }

    /// Become the ring's producer. Holds the producer lock for as long as the
    /// returned [`Producer`] lives; if the ring was left by a producer that
    /// died, takes it over and continues its stream.
    ///
    /// # Errors
    /// [`Error::ProducerActive`] if a live process is the producer.
    pub fn producer(&self) -> Result<Producer<'_>, Error> {
        self.producer_with(Continuation::Continue)
    }

    /// Become the producer, choosing how the stream continues.
    ///
    /// # Errors
    /// As [`ShmRing::producer`].
    pub fn producer_with(&self, how: Continuation) -> Result<Producer<'_>, Error> {
        let name = self.location.display();
        let path = self.location.lock_path("producer");
        let lock = RoleLock::try_acquire(&path)
            .map_err(|e| Error::io(&name, "flock", e))?
            .ok_or_else(|| Error::ProducerActive { ring: name.clone() })?;
        let ring = self.ring();
        // We hold the lock, so whoever the header names as producer is dead.
        let mut writer = match ring.writer_with(how) {
            Ok(w) => w,
            Err(_) => ring.take_over(how),
        };
        writer.set_wake(Some(futex_wake));
        // A restart marker may have been published before the wake was set:
        // wake whoever sleeps on the data word now, not after their nap.
        ring.wake_side(shmcast::wake::Side::Data, futex_wake);
        Ok(Producer {
            wait: LinuxWait::new(
                ring,
                &self.location,
                Phases::default(),
                Duration::from_secs(5),
            ),
            writer,
            _lock: lock,
        })
    }

    /// Whether the consumer in `slot` is held by a live process.
    ///
    /// # Errors
    /// The OS error from probing the lock file.
    pub fn consumer_alive(&self, slot: usize) -> Result<bool, Error> {
        is_held(&self.location.lock_path(&slot.to_string()))
            .map_err(|e| Error::io(&self.location.display(), "flock", e))
    }

    /// A gating consumer (see [`Ring::gating_reader`]) that holds its slot's
    /// lock for as long as it lives, so a producer can tell when it dies.
    ///
    /// # Errors
    /// [`Error::Join`] when no slot is free.
    pub fn gating_consumer(&self) -> Result<Consumer<'_>, Error> {
        self.consumer(self.ring().gating_reader(), true)
    }

    /// A lossy consumer with a slot, observable from outside.
    ///
    /// # Errors
    /// [`Error::Join`] when no slot is free.
    pub fn observed_consumer(&self, start: Start) -> Result<Consumer<'_>, Error> {
        self.consumer(self.ring().observed_reader(start), false)
    }

    fn consumer<'r>(
        &'r self,
        reader: Result<Reader<'r>, shmcast::JoinError>,
        gating: bool,
    ) -> Result<Consumer<'r>, Error> {
        let name = self.location.display();
        let reader = reader.map_err(|source| Error::Join {
            ring: name.clone(),
            source,
        })?;
        let slot = reader.slot().unwrap_or(0);
        let path = self.location.lock_path(&slot.to_string());
        let lock = RoleLock::try_acquire(&path)
            .map_err(|e| Error::io(&name, "flock", e))?
            .ok_or_else(|| Error::Io {
                ring: name.clone(),
                op: "flock",
                source: std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    format!("slot {slot} lock is still held by an evicted consumer"),
                ),
            })?;
        reader.set_lease(std::process::id() as u64);
        Ok(Consumer {
            reader,
            gating,
            _lock: lock,
        })
    }
}

/// What a read did, as far as waking a producer goes.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// Read one or more messages.
    Moved,
    /// Found nothing.
    Empty,
    /// A lap or a restart.
    Other,
}

impl Outcome {
    fn of(read: &Read) -> Outcome {
        match read {
            Read::Message(_) => Outcome::Moved,
            Read::Empty => Outcome::Empty,
            _ => Outcome::Other,
        }
    }

    fn of_batch(batch: &Batch<'_>) -> Outcome {
        match batch {
            Batch::Messages(_) => Outcome::Moved,
            Batch::Empty => Outcome::Empty,
            _ => Outcome::Other,
        }
    }
}

/// A consumer with a slot and the lock that tells the producer it lives.
#[derive(Debug)]
pub struct Consumer<'r> {
    reader: Reader<'r>,
    gating: bool,
    _lock: RoleLock,
}

impl<'r> Consumer<'r> {
    /// Read without waiting; a gating consumer then wakes a producer that
    /// sleeps waiting for room.
    ///
    /// # Errors
    /// As [`Reader::try_read`].
    #[inline]
    pub fn try_read(&mut self, buf: &mut [u8]) -> Result<Read, ReadError> {
        let shown = self.reader.shown_position();
        let read = self.reader.try_read(buf)?;
        self.made_room(Outcome::of(&read), shown);
        Ok(read)
    }

    /// Read every message waiting, as many as `buf` holds, as
    /// [`Reader::try_read_batch`]; a gating consumer then wakes a producer
    /// that sleeps waiting for room, as [`Consumer::try_read`].
    ///
    /// # Errors
    /// As [`Reader::try_read_batch`].
    #[inline]
    pub fn try_read_batch<'b>(&mut self, buf: &'b mut [u8]) -> Result<Batch<'b>, ReadError> {
        let shown = self.reader.shown_position();
        let batch = self.reader.try_read_batch(buf)?;
        self.made_room(Outcome::of_batch(&batch), shown);
        Ok(batch)
    }

    /// Read, waiting up to `timeout` while the ring is empty, as
    /// [`crate::read_wait`]; a gating consumer then wakes a producer that
    /// sleeps waiting for room, as [`Consumer::try_read`].
    ///
    /// # Errors
    /// As [`Reader::try_read`].
    pub fn read_wait(
        &mut self,
        buf: &mut [u8],
        phases: &Phases,
        timeout: Duration,
    ) -> Result<Read, ReadError> {
        let shown = self.reader.shown_position();
        let read = crate::read_wait(&mut self.reader, buf, phases, timeout)?;
        self.made_room(Outcome::of(&read), shown);
        Ok(read)
    }

    /// After a read: if a producer announced that it sleeps waiting for
    /// room (one load when none did), a gating consumer that moved shows its
    /// position at once (see [`Reader::release`]) and wakes it; so does one
    /// whose empty read has just shown it. `shown` is the position the slot
    /// showed before the read.
    #[inline]
    fn made_room(&mut self, read: Outcome, shown: u64) {
        if !self.gating {
            return;
        }
        let ring = self.reader.ring();
        let side = shmcast::wake::Side::Space;
        if ring
            .futex_word(side)
            .load(std::sync::atomic::Ordering::Relaxed)
            & 1
            == 0
        {
            return;
        }
        match read {
            Outcome::Moved => self.reader.release(),
            Outcome::Empty if self.reader.shown_position() != shown => {}
            _ => return,
        }
        ring.wake_side(side, futex_wake);
    }

    /// The underlying reader. Reads through it do not wake a producer that
    /// sleeps waiting for room; [`Consumer::try_read`],
    /// [`Consumer::try_read_batch`] and [`Consumer::read_wait`] do.
    pub fn reader(&mut self) -> &mut Reader<'r> {
        &mut self.reader
    }
}

// SAFETY: delegates to the mapping, which upholds the contract (see
// `MapRegion`) for as long as `self` lives.
unsafe impl shmcast::Region for ShmRing {
    fn base(&self) -> std::ptr::NonNull<u8> {
        self.region.base()
    }
    fn size(&self) -> usize {
        self.region.size()
    }
}

/// The ring's producer: a [`Writer`] that wakes sleeping consumers, plus the
/// lock that tells others it lives.
///
/// Its `claim` and `write` family wait for gating consumers with
/// [`LinuxWait`]: spin, yield, sleep on the space futex; a consumer whose
/// process died loses its slot at once, and a live one that holds the
/// producer back longer than the gating timeout (5 s by default) is demoted.
/// The [`Writer`] methods it dereferences to stay available.
#[derive(Debug)]
pub struct Producer<'r> {
    writer: Writer<'r>,
    /// Built once: a write that need not wait never touches it (building
    /// one for every write copied the ring handle on every message).
    wait: LinuxWait<'r>,
    _lock: RoleLock,
}

impl<'r> Producer<'r> {
    /// How long a live gating consumer may hold the producer back before it
    /// is demoted, and how to wait meanwhile.
    pub fn set_gating_wait(&mut self, phases: Phases, timeout: Duration) {
        self.wait.set(phases, timeout);
    }

    /// Claim room for a message, waiting for gating consumers (see above).
    ///
    /// # Errors
    /// As [`Writer::claim_with`].
    #[inline]
    pub fn claim(&mut self, len: usize) -> Result<shmcast::Claim<'_, 'r>, WriteError> {
        self.writer.claim_with(len, &mut self.wait)
    }

    /// Write and publish one message; returns its sequence number.
    ///
    /// # Errors
    /// As [`Producer::claim`].
    #[inline]
    pub fn write(&mut self, msg: &[u8]) -> Result<u64, WriteError> {
        self.write_tagged(0, msg)
    }

    /// Write and publish one message with a tag; returns its sequence number.
    ///
    /// # Errors
    /// As [`Producer::claim`].
    #[inline]
    pub fn write_tagged(&mut self, tag: u32, msg: &[u8]) -> Result<u64, WriteError> {
        self.writer.write_with(tag, msg, &mut self.wait)
    }

    /// Write one message to be published by the next flush.
    ///
    /// # Errors
    /// As [`Producer::claim`].
    #[inline]
    pub fn stage(&mut self, tag: u32, msg: &[u8]) -> Result<u64, WriteError> {
        self.writer.stage_with(tag, msg, &mut self.wait)
    }
}

impl<'r> std::ops::Deref for Producer<'r> {
    type Target = Writer<'r>;
    fn deref(&self) -> &Writer<'r> {
        &self.writer
    }
}

impl std::ops::DerefMut for Producer<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.writer
    }
}

/// Remove a ring (`shm_unlink` or `unlink`) and its lock files. Processes that
/// have it mapped keep their mapping.
///
/// # Errors
/// [`Error::NotFound`] if there is no such ring; [`Error::Io`].
pub fn remove(location: &Location) -> Result<(), Error> {
    let name = location.display();
    match location {
        Location::Shm(n) => {
            shm::unlink(n.as_str()).map_err(|e| Error::io(&name, "shm_unlink", e))?
        }
        Location::Path(p) => std::fs::remove_file(p).map_err(|e| Error::io(&name, "unlink", e))?,
    }
    // Lock files: "<file>.<role>.lock" beside the ring.
    let file = location.file_path();
    if let (Some(dir), Some(base)) = (file.parent(), file.file_name()) {
        let prefix = format!("{}.", base.to_string_lossy());
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let n = entry.file_name();
            let n = n.to_string_lossy();
            // Only this ring's roles: "producer" or a slot number. The
            // locks of a ring named "<base>.<more>" are left alone.
            let role = n
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".lock"));
            let ours = role.is_some_and(|r| {
                r == "producer" || (!r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
            });
            if ours {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// Open an existing ring file (`shm_open` or `open`, `O_NOFOLLOW` unless
/// asked) for reading, and writing if `write`; return it with its size, once
/// the size is at least a header.
pub(crate) fn open_existing(
    location: &Location,
    opts: &Options,
    write: bool,
) -> Result<(File, usize), Error> {
    let name = location.display();
    let file = match location {
        Location::Shm(n) => {
            let flags = if write {
                shm::OFlags::RDWR
            } else {
                shm::OFlags::RDONLY
            };
            File::from(
                shm::open(n.as_str(), flags, Mode::empty())
                    .map_err(|e| Error::io(&name, "shm_open", e))?,
            )
        }
        Location::Path(p) => {
            let mut o = OpenOptions::new();
            o.read(true).write(write);
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
    let attach = |source| Error::Attach {
        ring: name.clone(),
        source,
    };
    if size < layout::HEADER_SIZE as u64 {
        return Err(attach(if size == 0 {
            shmcast::AttachError::NotInitialised
        } else {
            shmcast::AttachError::TooSmall {
                needed: layout::HEADER_SIZE as u64,
                actual: size,
            }
        }));
    }
    let len = usize::try_from(size).map_err(|_| {
        attach(shmcast::AttachError::Corrupt {
            field: "file size",
            value: size,
        })
    })?;
    Ok((file, len))
}

/// The huge-page size of the hugetlbfs `file` lives on (`fstatfs`), or
/// `None` elsewhere.
fn huge_page_size(name: &str, file: &File) -> Result<Option<usize>, Error> {
    shmcast_hugepages::file_page_size(file).map_err(|e| Error::io(name, "fstatfs", e))
}

/// `mmap` the ring file; `huge` is its hugetlbfs page size, if any, so that a
/// shortage of huge pages (the kernel reserves them at `mmap`: `ENOMEM`) is
/// reported with the pool's figures and the remedy.
fn map(
    name: &str,
    file: &File,
    len: usize,
    opts: &Options,
    huge: Option<usize>,
) -> Result<MapRegion, Error> {
    let mut mo = MmapOptions::new();
    mo.len(len);
    if opts.prefault {
        mo.populate();
    }
    // `map_raw` (safe): a raw mapping hands out only the pointer `mmap`
    // returned, never a `&[u8]`, so the ring's atomic stores through it have
    // the mapping's own provenance and other processes' writes cannot make
    // them unsound. A file shrunk by another process would fault (SIGBUS), as
    // with any shared mapping; ring files are never truncated by shmcast.
    let map = mo.map_raw(file).map_err(|e| {
        match huge.and_then(|page| shmcast_hugepages::PageSize::from_bytes(page as u64)) {
            Some(size) => match shmcast_hugepages::map_error(e, size, len, "mmap") {
                shmcast_hugepages::HugeError::Io { source, .. } => Error::io(name, "mmap", source),
                source => Error::Huge {
                    ring: name.to_owned(),
                    source,
                },
            },
            None => Error::io(name, "mmap", e),
        }
    })?;
    if opts.mlock {
        map.lock().map_err(|source| Error::Mlock {
            ring: name.to_owned(),
            source,
        })?;
    }
    Ok(MapRegion::from_raw(map))
}
