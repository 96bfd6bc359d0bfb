//! [`MapRegion`]: a shared memory mapping that holds a ring.

use std::io;
use std::ptr::NonNull;

use memmap2::{MmapMut, MmapOptions};
use shmcast::Region;

/// A `MAP_SHARED` mapping used as a ring region.
///
/// Anonymous mappings are shared with children made by `fork`; file mappings
/// with every process that maps the file.
#[derive(Debug)]
pub struct MapRegion {
    map: MmapMut,
}

impl MapRegion {
    /// An anonymous shared mapping of `size` bytes (`mmap(MAP_SHARED | MAP_ANONYMOUS)`).
    ///
    /// # Errors
    /// The OS error from `mmap`.
    pub fn anonymous(size: usize) -> io::Result<MapRegion> {
        let map = MmapOptions::new().len(size).map_anon()?;
        Ok(MapRegion { map })
    }

    /// Wrap an existing writable mapping.
    pub fn from_mmap(map: MmapMut) -> MapRegion {
        MapRegion { map }
    }
}

// SAFETY:
// - a `MmapMut` is a live mapping of `len()` bytes, readable and writable, page
//   aligned, that stays mapped (same address and length) until it is dropped,
//   which cannot happen while `self` is borrowed;
// - the pointer comes from the mapping itself, so it may be used for shared
//   mutation; this crate never forms references to the bytes, only the ring's
//   atomics do.
unsafe impl Region for MapRegion {
    fn base(&self) -> NonNull<u8> {
        NonNull::new(self.map.as_ptr().cast_mut()).unwrap_or(NonNull::dangling())
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
