//! What the hugepage tests share: whether huge pages can be had here, and the
//! rule for when they cannot. Such a test prints `SKIPPED: <why>` on
//! standard output and returns, unless `SHMCAST_REQUIRE_HUGEPAGES=1`
//! (`SHMCAST_REQUIRE_HUGEPAGES_1G=1` for 1 GiB pages) says the machine must
//! have them, as CI does: then it fails.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use shmcast_hugepages::{find_mount, HugeError, PageSize, Pool};
use shmcast_linux::{remove, Location};

/// The variable that makes huge pages of `size` mandatory.
pub fn require_var(size: PageSize) -> &'static str {
    match size {
        PageSize::Huge2M => "SHMCAST_REQUIRE_HUGEPAGES",
        PageSize::Huge1G => "SHMCAST_REQUIRE_HUGEPAGES_1G",
    }
}

/// Whether this machine must offer huge pages of `size`.
pub fn required(size: PageSize) -> bool {
    std::env::var(require_var(size)).is_ok_and(|v| v == "1")
}

/// Skip (print and return `None`) or fail, as the rule says.
pub fn skip<T>(size: PageSize, why: impl std::fmt::Display) -> Option<T> {
    if required(size) {
        panic!(
            "{} huge pages are required ({}=1) but cannot be had: {why}",
            size,
            require_var(size)
        );
    }
    println!("SKIPPED: {size} huge pages cannot be had here: {why}");
    None
}

/// Why `pages` pages of `size` cannot be had now, if they cannot.
pub fn unavailable(size: PageSize, pages: u64) -> Option<HugeError> {
    let pool = match Pool::read(size) {
        Ok(p) => p,
        Err(e) => return Some(e),
    };
    if pool.available() < pages {
        return Some(HugeError::NotEnoughPages {
            needed: pages,
            pool,
        });
    }
    None
}

/// The hugetlbfs mount for `size` with `pages` free pages, or skip.
pub fn mount(size: PageSize, pages: u64) -> Option<PathBuf> {
    match find_mount(size) {
        Ok(dir) => match unavailable(size, pages) {
            None => Some(dir),
            Some(e) => skip(size, e),
        },
        Err(e) => skip(size, e),
    }
}

/// For `conformance_tests!(..., skip_if: ...)`: `Some(why)` to skip.
pub fn skip_reason(size: PageSize, pages: u64, need_mount: bool) -> Option<String> {
    let why = if need_mount {
        find_mount(size).err().or_else(|| unavailable(size, pages))
    } else {
        unavailable(size, pages)
    };
    let why = why?;
    if required(size) {
        panic!(
            "{size} huge pages are required ({}=1) but cannot be had: {why}",
            require_var(size)
        );
    }
    Some(format!("{size} huge pages cannot be had here: {why}"))
}

/// Serialises the tests of one binary that count free pages, so that one
/// test's mappings do not move another's figures.
pub fn pages_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A ring file on hugetlbfs unique to this process and test, removed (with
/// its lock files) on drop.
pub struct HugeName(pub Location);

impl HugeName {
    /// `dir/shmcast-test-<test>-<pid>-<n>`.
    pub fn new(dir: &Path, test: &str) -> HugeName {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let name = format!("shmcast-test-{test}-{}-{n}", std::process::id());
        let loc = Location::huge_at(dir, &name).unwrap();
        let _ = remove(&loc);
        HugeName(loc)
    }
}

impl Drop for HugeName {
    fn drop(&mut self) {
        let _ = remove(&self.0);
    }
}
