//! Shared helpers for the shmcast benchmarks.

use shmcast::Region;
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

/// A heap region aligned for a ring.
pub struct HeapRegion {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl HeapRegion {
    /// A zeroed region of `size` bytes.
    ///
    /// # Panics
    /// If `size` is zero or the allocation fails.
    pub fn new(size: usize) -> HeapRegion {
        let layout = Layout::from_size_align(size, shmcast::layout::REGION_ALIGN).expect("layout");
        assert!(size > 0);
        // SAFETY: the layout has a non-zero size (asserted).
        let raw = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).expect("allocation failed");
        HeapRegion { ptr, layout }
    }
}

impl Drop for HeapRegion {
    fn drop(&mut self) {
        // SAFETY: `ptr` was allocated with `layout` by `alloc_zeroed` and is freed once.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

// SAFETY: the bytes are only touched through the ring's atomics.
unsafe impl Sync for HeapRegion {}
// SAFETY: the allocation is not tied to the thread that made it.
unsafe impl Send for HeapRegion {}

// SAFETY: `ptr` is a live allocation of `layout.size()` bytes from the global
// allocator (raw provenance, valid for shared mutation), fixed until drop.
unsafe impl Region for HeapRegion {
    fn base(&self) -> NonNull<u8> {
        self.ptr
    }
    fn size(&self) -> usize {
        self.layout.size()
    }
}
