//! Hints to the CPU about the ring's lines.
//!
//! A hint is not a memory access: it reads and writes no byte that anyone
//! could see and orders nothing, so no argument of the protocol rests on
//! it, and none is weakened by it. The one hint here is the producer's
//! [`prefetch_write`]: a line of the ring ahead of the position was last
//! read by the consumers a lap ago, and the producer's first store to it
//! has to take it from their caches. Asked for a few lines early, that
//! transfer overlaps the records written meanwhile instead of holding up
//! the stores behind it (x86-64 commits stores in order).
//!
//! Miri and loom run no hint (it is assembly, and there is nothing to
//! model); neither do targets other than x86-64, nor CPUs without the
//! instruction.

use crate::sync::AtomicU64;

/// How far ahead of the record it is writing the producer asks for a line:
/// four lines (on a packed ring of 32-byte messages, the records of about
/// five messages on).
pub(crate) const AHEAD: u64 = 256;

/// The record starts below which the line [`AHEAD`] bytes on lies wholly
/// under `intent` (the data area starts on a line, so the line of a
/// position `at` ends at `at | 63`, which is below `intent` exactly when
/// `at` is below the start of the intent's line): the producer then asks for
/// it with one comparison.
pub(crate) const fn ahead_below(intent: u64) -> u64 {
    let line = crate::layout::CACHE_LINE as u64;
    (intent & !(line - 1)).saturating_sub(AHEAD)
}

/// Whether [`prefetch_write`] does anything on this CPU. Finds out once per
/// call (CPUID), so that a writer asks at its start and keeps the answer.
#[cfg(all(target_arch = "x86_64", not(target_env = "sgx"), not(miri), not(loom)))]
pub(crate) fn write_prefetch() -> bool {
    use core::arch::x86_64::__cpuid;
    if __cpuid(0x8000_0000).eax < 0x8000_0001 {
        return false;
    }
    let ext = __cpuid(0x8000_0001);
    let amd = vendor() == *b"AuthenticAMD";
    // PREFETCHW: CPUID.80000001H:ECX bit 8 (3DNowPrefetch), and on AMD
    // also implied by EDX bit 29 (long mode) or 31 (3DNow), as AMD's manual
    // says (and Linux assumes). Older CPUs without it may fault on the
    // opcode; it is never issued on them.
    ext.ecx & (1 << 8) != 0 || (amd && ext.edx & (1 << 29 | 1 << 31) != 0)
}

/// The CPU's vendor string (CPUID leaf 0: EBX, EDX, ECX, in that order),
/// for the prefetch here and the 16-byte copies' guarantee (`copy::wide`).
#[cfg(all(target_arch = "x86_64", not(target_env = "sgx"), not(miri), not(loom)))]
pub(crate) fn vendor() -> [u8; 12] {
    let v = core::arch::x86_64::__cpuid(0);
    let mut name = [0; 12];
    for (to, part) in name.chunks_exact_mut(4).zip([v.ebx, v.edx, v.ecx]) {
        to.copy_from_slice(&part.to_le_bytes());
    }
    name
}

/// Whether [`prefetch_write`] does anything on this target: never.
#[cfg(not(all(target_arch = "x86_64", not(target_env = "sgx"), not(miri), not(loom))))]
pub(crate) fn write_prefetch() -> bool {
    false
}

/// Ask for the line holding byte `byte` of the data area `data` to be
/// brought into this core's cache ready to be written (PREFETCHW), where
/// [`write_prefetch`] said the CPU has the instruction. The caller passes an
/// offset inside the area (a position masked by the ring); only debug
/// builds check it, as the hint reads and writes nothing and cannot fault on
/// any address.
#[cfg(all(target_arch = "x86_64", not(target_env = "sgx"), not(miri), not(loom)))]
#[inline(always)]
pub(crate) fn prefetch_write(data: &[AtomicU64], byte: usize) {
    debug_assert!(byte < core::mem::size_of_val(data), "hint past the ring");
    let p = data.as_ptr().cast::<u8>().wrapping_add(byte);
    // SAFETY: PREFETCHW is present (the caller asked `write_prefetch`). It
    // has no architectural effect: it loads nothing into a register, stores
    // nothing, cannot fault (not even on a bad address; `p` is a byte of the
    // ring anyway, as the caller passes an offset inside it), and touches no
    // stack or flags. Hence `nomem`: to the program it is no memory access
    // at all, and the block behaves as an empty one (the pointer is an
    // address for the hint, never dereferenced, which is what the lint
    // warns of).
    #[allow(clippy::pointers_in_nomem_asm_block)]
    unsafe {
        core::arch::asm!(
            "prefetchw [{p}]",
            p = in(reg) p,
            options(nomem, nostack, preserves_flags),
        );
    }
}

/// [`prefetch_write`] where there is no such hint: nothing.
#[cfg(not(all(target_arch = "x86_64", not(target_env = "sgx"), not(miri), not(loom))))]
#[inline(always)]
pub(crate) fn prefetch_write(data: &[AtomicU64], byte: usize) {
    let _ = (data, byte);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// `ahead_below` takes exactly the records whose line `AHEAD` on lies
    /// wholly under the intent. Arithmetic only, and long under Miri
    /// (minutes): natively only.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn ahead_below_is_the_line_bound() {
        let line = crate::layout::CACHE_LINE as u64;
        for intent in (0..768).chain(u64::MAX - 768..=u64::MAX) {
            let below = ahead_below(intent);
            for rec in (0..768)
                .chain(intent.saturating_sub(512)..intent)
                .step_by(8)
            {
                let whole = rec
                    .checked_add(AHEAD)
                    .is_some_and(|at| at | (line - 1) < intent);
                assert_eq!(rec < below, whole, "intent {intent}, record at {rec}");
            }
        }
    }

    /// The hint changes nothing, on any byte of the area.
    #[test]
    fn prefetching_changes_no_word() {
        let data: [AtomicU64; 64] = core::array::from_fn(|i| AtomicU64::new(i as u64 * 3));
        if write_prefetch() {
            for byte in [0, 1, 7, 8, 63, 64, 511] {
                prefetch_write(&data, byte);
            }
        }
        for (i, w) in data.iter().enumerate() {
            assert_eq!(w.load(crate::sync::Ordering::Relaxed), i as u64 * 3);
        }
    }

    /// On an Intel or AMD x86-64 CPU outside Miri, the answer is the CPU's,
    /// as Linux reports it (`3dnowprefetch` in /proc/cpuinfo, which Linux
    /// also sets on every 64-bit AMD CPU). Other vendors' kernels may set
    /// the flag by rules of their own: not compared.
    #[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
    #[test]
    fn detection_follows_the_cpu() {
        extern crate std;
        let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
            return;
        };
        let field = |name: &str| {
            info.lines().find_map(|l| {
                let (key, value) = l.split_once(':')?;
                (key.trim() == name).then(|| value.trim())
            })
        };
        if !matches!(field("vendor_id"), Some("GenuineIntel" | "AuthenticAMD")) {
            return;
        }
        let Some(flags) = field("flags") else {
            return;
        };
        let listed = flags.split_whitespace().any(|f| f == "3dnowprefetch");
        assert_eq!(write_prefetch(), listed);
    }
}
