//! [`MapRegion`]: a shared memory mapping that holds a ring.

use std::io;
use std::ptr::NonNull;

use memmap2::{MmapMut, MmapOptions, MmapRaw};
use shmcast::Region;

/// A `MAP_SHARED` mapping used as a ring region.
///
/// Anonymous mappings are shared with children made by `fork`; file mappings
/// with every process that maps the file.
#[derive(Debug)]
pub struct MapRegion {
    // `MmapRaw`, not `MmapMut`: its pointer is the one `mmap` returned, while
    // `MmapMut::as_ptr` goes through `Deref` to a `&[u8]`, whose read-only
    // provenance would make every ring store undefined behaviour.
    map: MmapRaw,
}

impl MapRegion {
    /// An anonymous mapping of `size` bytes shared with children made by
    /// `fork`: an unnamed memory file (`memfd_create`, `ftruncate`) mapped
    /// `MAP_SHARED`. (memmap2's `map_anon` is `MAP_PRIVATE`: a child would
    /// write into its own copy.)
    ///
    /// # Errors
    /// The OS error from `memfd_create`, `ftruncate` or `mmap`.
    pub fn anonymous(size: usize) -> io::Result<MapRegion> {
        let fd = rustix::fs::memfd_create("shmcast", rustix::fs::MemfdFlags::CLOEXEC)?;
        let file = std::fs::File::from(fd);
        file.set_len(size as u64)?;
        let map = MmapOptions::new().len(size).map_raw(&file)?;
        Ok(MapRegion { map })
    }

    /// Wrap an existing writable mapping.
    pub fn from_mmap(map: MmapMut) -> MapRegion {
        MapRegion {
            map: MmapRaw::from(map),
        }
    }

    /// Wrap a raw writable mapping (`MmapOptions::map_raw`).
    pub fn from_raw(map: MmapRaw) -> MapRegion {
        MapRegion { map }
    }
}

// SAFETY:
// - the `MmapRaw` is a live mapping of `len()` bytes, readable and writable
//   (made by `map_anon`, `map_mut` or `map_raw` on a file opened read-write),
//   page aligned, that stays mapped (same address and length) until it is
//   dropped, which cannot happen while `self` is borrowed;
// - `as_mut_ptr` is the pointer `mmap` returned, with provenance over the
//   whole mapping for reads and writes; no reference to the bytes is ever
//   formed, only the ring's atomics touch them.
unsafe impl Region for MapRegion {
    fn base(&self) -> NonNull<u8> {
        NonNull::new(self.map.as_mut_ptr()).unwrap_or(NonNull::dangling())
    }
    fn size(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmcast::{Read, Ring, RingConfig, Start};

    #[test]
    fn ring_over_an_anonymous_mapping() {
        let cfg = RingConfig::new(1 << 16).slots(2);
        let region = MapRegion::anonymous(cfg.region_size()).unwrap();
        let ring = Ring::create(&region, &cfg).unwrap();
        let mut w = ring.writer().unwrap();
        let mut r = Ring::attach(&region)
            .unwrap()
            .reader(Start::Oldest)
            .unwrap();
        w.write(b"mapped").unwrap();
        let mut buf = [0u8; 16];
        let m = r.try_read(&mut buf).unwrap().message().unwrap();
        assert_eq!(&buf[..m.len], b"mapped");
        assert_eq!(r.try_read(&mut buf).unwrap(), Read::Empty);
    }
}
