//! Race-free copies between the ring and private memory.
//!
//! Ring bytes may be overwritten by the producer while a lapped reader copies
//! them. A plain or volatile read of such bytes is a data race, and so undefined
//! behaviour, even if the result is then thrown away. Every ring word is therefore
//! read and written as a relaxed 64-bit atomic, or (module [`wide`], long copies on
//! x86-64) by aligned 16-byte accesses that the CPU guarantees atomic and that are
//! equivalent to two such relaxed accesses; the protocol's fences (in `writer` and
//! `reader`) order those accesses, and the reader's re-check of the producer's
//! intent decides whether the copy is kept. Miri and loom run the word loops (the
//! wide path is assembly, which they cannot run); build with
//! `--cfg shmcast_word_copy` to use only the word loops everywhere, for example
//! for a ring in uncached memory, where the 16-byte guarantee does not hold.
//!
//! Every function here takes the data area as `&[AtomicU64]` and a word index
//! (or, [`copy_out_whole`], the words to copy as a slice of it), and only
//! indexes that slice, so a bad index panics in debug tests rather than
//! reaching outside the ring; callers check bounds first and never pass one.

use crate::sync::{AtomicU64, Ordering};

const W: usize = 8;

/// Load one word.
#[inline(always)]
pub(crate) fn load(data: &[AtomicU64], word: usize) -> u64 {
    data[word].load(Ordering::Relaxed)
}

/// Store one word.
#[inline(always)]
pub(crate) fn store(data: &[AtomicU64], word: usize, value: u64) {
    data[word].store(value, Ordering::Relaxed)
}

/// Store one word with Release ordering: a record's first header word, which
/// publishes the record to a reader that loads it and then fences (Acquire).
#[inline(always)]
pub(crate) fn store_release(data: &[AtomicU64], word: usize, value: u64) {
    data[word].store(value, Ordering::Release)
}

/// Copies at least this long go out of line (to the wide path where there
/// is one), so that the short loops inlined into every read and write carry
/// no call and no registers saved for one.
const LONG: usize = 128;

/// Copy `dst.len()` bytes out of the ring, starting at word `word`.
///
/// The caller has checked that `word + dst.len().div_ceil(8) <= data.len()`.
#[inline(always)]
pub(crate) fn copy_out(data: &[AtomicU64], word: usize, dst: &mut [u8]) {
    if dst.len().wrapping_sub(1) < W {
        // One word (1 to 8 bytes), without the loops' set-up.
        let v = data[word].load(Ordering::Relaxed);
        match dst.first_chunk_mut::<W>() {
            Some(full) => *full = v.to_ne_bytes(),
            None => split_word(v, dst),
        }
    } else if dst.len() >= LONG {
        copy_out_long(&data[word..word + dst.len().div_ceil(W)], dst);
    } else {
        copy_out_words(&data[word..word + dst.len().div_ceil(W)], dst);
    }
}

/// Copy whole words out of the ring, from the start of `words`, into
/// `dst`, whose length is a multiple of 8: a message's payload with the
/// rest of its last word (the record's padding, which the producer zeroes),
/// for a reader that has room for it. Fewer steps than [`copy_out`], which
/// stops at the last byte.
///
/// The caller passes exactly `dst.len() / 8` words (a record's payload
/// words); with fewer, fewer bytes are copied.
#[inline(always)]
pub(crate) fn copy_out_whole(words: &[AtomicU64], dst: &mut [u8]) {
    debug_assert!(dst.len().is_multiple_of(W) && words.len() == dst.len() / W);
    let (dst, _) = dst.as_chunks_mut::<W>();
    let n = dst.len().min(words.len());
    let (words, dst) = (&words[..n], &mut dst[..n]);
    match n {
        0 => {}
        1 => dst[0] = words[0].load(Ordering::Relaxed).to_ne_bytes(),
        2 => whole_few::<1>(words, dst),
        3..=4 => whole_few::<2>(words, dst),
        5..=8 => whole_few::<4>(words, dst),
        _ if n * W < LONG => whole_few::<8>(words, dst),
        _ => copy_out_long(words, dst.as_flattened_mut()),
    }
}

/// [`copy_out_whole`] of `H` to `2 * H` words (`dst` as long as `words`),
/// with no loop and no branch: the first `H` words, then the last `H`,
/// which overlap them where there are fewer than `2 * H` (a read the
/// producer overwrote meanwhile may leave the overlap from either load;
/// such a read is discarded as lapped).
#[inline(always)]
fn whole_few<const H: usize>(words: &[AtomicU64], dst: &mut [[u8; W]]) {
    debug_assert!((H..=2 * H).contains(&words.len()) && dst.len() == words.len());
    // The caller passes slices of one length, at least `H`.
    let Some(k) = dst.len().checked_sub(H) else {
        return;
    };
    let (to, from) = (&mut dst[..H], &words[..H]);
    for i in 0..H {
        to[i] = from[i].load(Ordering::Relaxed).to_ne_bytes();
    }
    let (to, from) = (&mut dst[k..][..H], &words[k..][..H]);
    for i in 0..H {
        to[i] = from[i].load(Ordering::Relaxed).to_ne_bytes();
    }
}

/// A long copy out of `words`, `dst.len().div_ceil(8)` of them (or fewer,
/// whose bytes are left as they are).
#[inline(never)]
fn copy_out_long(words: &[AtomicU64], dst: &mut [u8]) {
    let (words, dst) = wide::copy_out(words, dst);
    copy_out_words(words, dst);
}

/// Copy `words` (`dst.len().div_ceil(8)` of them) into `dst`: four words a
/// turn, each slice shortened as it goes (short copies run the loop a few
/// times with no unrolled set-up around it), then two, then the last word or
/// two. (Four a turn, against two: 6-25 fewer instructions a read from 32 to
/// 127 bytes, 3 more at 1-8 bytes, under `per_message`.) A branch-free copy
/// as [`copy_in_few`] stores, with the last 8 bytes taken from the two words
/// they straddle, read in 10-22% fewer instructions, but made the packed
/// ring's round trip 10-20 ns slower (see `benches/RESULTS.md`).
#[inline(always)]
fn copy_out_words(words: &[AtomicU64], dst: &mut [u8]) {
    let mut dst = dst;
    let mut words = words;
    while let ([a, b, c, d, more @ ..], true) = (words, dst.len() >= 4 * W) {
        let (quad, rest) = core::mem::take(&mut dst).split_at_mut(4 * W);
        let (ab, cd) = quad.split_at_mut(2 * W);
        let (pa, pb) = ab.split_at_mut(W);
        let (pc, pd) = cd.split_at_mut(W);
        pa.copy_from_slice(&a.load(Ordering::Relaxed).to_ne_bytes());
        pb.copy_from_slice(&b.load(Ordering::Relaxed).to_ne_bytes());
        pc.copy_from_slice(&c.load(Ordering::Relaxed).to_ne_bytes());
        pd.copy_from_slice(&d.load(Ordering::Relaxed).to_ne_bytes());
        dst = rest;
        words = more;
    }
    if let ([a, b, more @ ..], true) = (words, dst.len() >= 2 * W) {
        let (pair, rest) = core::mem::take(&mut dst).split_at_mut(2 * W);
        let (lo, hi) = pair.split_at_mut(W);
        lo.copy_from_slice(&a.load(Ordering::Relaxed).to_ne_bytes());
        hi.copy_from_slice(&b.load(Ordering::Relaxed).to_ne_bytes());
        dst = rest;
        words = more;
    }
    let [w, more @ ..] = words else {
        return;
    };
    let v = w.load(Ordering::Relaxed);
    match dst.split_first_chunk_mut::<W>() {
        Some((full, tail)) => {
            *full = v.to_ne_bytes();
            if let Some(w) = more.first() {
                split_word(w.load(Ordering::Relaxed), tail);
            }
        }
        None => split_word(v, dst),
    }
}

/// Copy a whole message into the ring from word `word`. The bytes after it
/// in its last word are set to zero rather than merged with what the ring
/// held (they are the record's alignment padding, which no one reads), so
/// no ring word is loaded. The caller has checked that the bytes fit.
#[inline(always)]
pub(crate) fn copy_in_message(data: &[AtomicU64], word: usize, src: &[u8]) {
    if src.len().wrapping_sub(1) < W {
        // One word (1 to 8 bytes), without the loops' set-up.
        let v = match src.first_chunk::<W>() {
            Some(full) => u64::from_ne_bytes(*full),
            None => last_word(src),
        };
        data[word].store(v, Ordering::Relaxed);
    } else if src.len() <= 2 * W {
        // Up to a line, a store per word and no loop; nothing for 0 bytes.
        if !src.is_empty() {
            copy_in_few::<1>(data, word, src);
        }
    } else if src.len() <= 4 * W {
        copy_in_few::<2>(data, word, src);
    } else if src.len() <= 8 * W {
        copy_in_few::<4>(data, word, src);
    } else if src.len() < LONG {
        copy_in_few::<8>(data, word, src);
    } else {
        copy_in_long(data, word, src);
    }
}

/// Copy a message of `H + 1` to `2 * H` words (9 to 16, 17 to 32, 33 to 64
/// or 65 to 128 bytes for `H` of 1, 2, 4 or 8) into the ring from word `word`, with no
/// loop and no branch: the first `H` words, then the `H - 1` before the last
/// word, which overlap them where the message is shorter than `2 * H` words
/// (a word stored twice with the same value, before the record is
/// published; the last word's index `t` is at most `2 * H - 1`, so the two
/// runs leave no gap). The last word is the message's last 8 bytes shifted
/// down, the bytes past the message zero. The ring's words are checked once
/// (up to `t`), and the `H - 1` before the last are taken as slices of a
/// known length, so that no index in the unrolled stores needs a check of
/// its own (a range `t + 1 - H..t` indexed word by word kept one a word at
/// `H` of 4 and 8).
#[inline(always)]
fn copy_in_few<const H: usize>(data: &[AtomicU64], word: usize, src: &[u8]) {
    debug_assert!((H * W + 1..=2 * H * W).contains(&src.len()));
    let Some(last) = src.last_chunk::<W>() else {
        return;
    };
    // The last word's index, `H` to `2 * H - 1`: the count of words before it.
    let t = (src.len() - 1) / W;
    let words = &data[word..][..t + 1];
    let (full, _) = src[..t * W].as_chunks::<W>();
    let word = |c: &[u8; W]| u64::from_ne_bytes(*c);
    for i in 0..H {
        words[i].store(word(&full[i]), Ordering::Relaxed);
    }
    // The `H - 1` before the last, as slices of a known length: one bounds
    // check each rather than one a word.
    let k = t + 1 - H;
    let (to, from) = (&words[k..][..H - 1], &full[k..][..H - 1]);
    for i in 0..H - 1 {
        to[i].store(word(&from[i]), Ordering::Relaxed);
    }
    let shift = (8 * (W - src.len() % W)) % (8 * W);
    let tail = u64::from_le_bytes(*last) >> shift;
    words[t].store(u64::from_ne_bytes(tail.to_le_bytes()), Ordering::Relaxed);
}

#[inline(never)]
fn copy_in_long(data: &[AtomicU64], word: usize, msg: &[u8]) {
    let words = &data[word..word + msg.len().div_ceil(W)];
    let (words, src) = wide::copy_in(words, msg);
    copy_in_words(words, src, msg);
}

/// Copy `src` (the end of the message `msg`) into `words` as
/// [`copy_out_words`] does; the last word's bytes past the message are zero.
#[inline(always)]
fn copy_in_words(words: &[AtomicU64], src: &[u8], msg: &[u8]) {
    let mut src = src;
    let mut words = words;
    while let (Some((quad, rest)), [a, b, c, d, more @ ..]) =
        (src.split_first_chunk::<{ 4 * W }>(), words)
    {
        // Four 8-byte quarters of a 32-byte array: the conversions cannot fail.
        let word = |i: usize| u64::from_ne_bytes(quad[i * W..][..W].try_into().unwrap_or_default());
        a.store(word(0), Ordering::Relaxed);
        b.store(word(1), Ordering::Relaxed);
        c.store(word(2), Ordering::Relaxed);
        d.store(word(3), Ordering::Relaxed);
        src = rest;
        words = more;
    }
    if let (Some((pair, rest)), [a, b, more @ ..]) = (src.split_first_chunk::<{ 2 * W }>(), words) {
        // Two 8-byte halves of a 16-byte array: the conversions cannot fail.
        let (lo, hi) = pair.split_at(W);
        a.store(
            u64::from_ne_bytes(lo.try_into().unwrap_or_default()),
            Ordering::Relaxed,
        );
        b.store(
            u64::from_ne_bytes(hi.try_into().unwrap_or_default()),
            Ordering::Relaxed,
        );
        src = rest;
        words = more;
    }
    let [w, more @ ..] = words else {
        return;
    };
    match src.first_chunk::<W>() {
        Some(full) => {
            w.store(u64::from_ne_bytes(*full), Ordering::Relaxed);
            if let Some(w) = more.first() {
                w.store(last_word(msg), Ordering::Relaxed);
            }
        }
        None => w.store(last_word(msg), Ordering::Relaxed),
    }
}

/// The word holding the last `msg.len() % 8` bytes of `msg` (not a multiple
/// of 8), the rest zero: one 8-byte load ending at the message's end, shifted,
/// when the message has 8 bytes; else at most three loads (4, 2 and 1 bytes).
/// No byte loop, no call to memcpy, no bytes gathered in memory for a wider
/// load to wait on.
#[inline(always)]
fn last_word(msg: &[u8]) -> u64 {
    let r = msg.len() % W;
    let v = match msg.last_chunk::<W>() {
        Some(end) => u64::from_le_bytes(*end) >> (8 * (W - r)),
        None => {
            let mut v = 0u64;
            let mut at = 0;
            if let Some(b) = msg.first_chunk::<4>().filter(|_| r & 4 != 0) {
                v = u64::from(u32::from_le_bytes(*b));
                at = 4;
            }
            if let Some(b) = msg[at..].first_chunk::<2>().filter(|_| r & 2 != 0) {
                v |= u64::from(u16::from_le_bytes(*b)) << (8 * at);
                at += 2;
            }
            if let Some(b) = msg.get(at).filter(|_| r & 1 != 0) {
                v |= u64::from(*b) << (8 * at);
            }
            v
        }
    };
    u64::from_ne_bytes(v.to_le_bytes())
}

/// Store the first `dst.len()` (at most 7) bytes of `word` into `dst`, in
/// at most three stores (4, 2 and 1 bytes).
#[inline(always)]
fn split_word(word: u64, dst: &mut [u8]) {
    let n = dst.len();
    let mut v = u64::from_le_bytes(word.to_ne_bytes());
    let mut at = 0;
    if let Some(d) = dst.first_chunk_mut::<4>().filter(|_| n & 4 != 0) {
        *d = (v as u32).to_le_bytes();
        v >>= 32;
        at = 4;
    }
    if let Some(d) = dst[at..].first_chunk_mut::<2>().filter(|_| n & 2 != 0) {
        *d = (v as u16).to_le_bytes();
        v >>= 16;
        at += 2;
    }
    if let Some(d) = dst.get_mut(at).filter(|_| n & 1 != 0) {
        *d = v as u8;
    }
}

/// Copy `src` into the ring at byte offset `offset` from word `word`.
///
/// Partial words at either end are merged with what the ring holds (only the
/// producer writes, so the read-modify-write cannot lose another writer's bytes).
/// The caller has checked that the bytes fit in `data`.
#[inline]
pub(crate) fn copy_in(data: &[AtomicU64], word: usize, offset: usize, src: &[u8]) {
    if src.is_empty() {
        return;
    }
    let mut w = word + offset / W;
    let mut src = src;
    let head = offset % W;
    if head != 0 {
        let n = (W - head).min(src.len());
        let mut bytes = load(data, w).to_ne_bytes();
        // At most 7 bytes here and below: loops, not calls to memcpy.
        for (d, b) in bytes[head..].iter_mut().zip(&src[..n]) {
            *d = *b;
        }
        store(data, w, u64::from_ne_bytes(bytes));
        src = &src[n..];
        w += 1;
    }
    let (words, src) = wide::copy_in(&data[w..], src);
    let (chunks, rest) = src.as_chunks::<W>();
    // One bounds check for the whole run of full words, then a loop of one
    // load and one store per word (two slice iterators zipped).
    let (full, after) = words.split_at(chunks.len());
    for (chunk, word) in chunks.iter().zip(full) {
        word.store(u64::from_ne_bytes(*chunk), Ordering::Relaxed);
    }
    if !rest.is_empty() {
        let mut bytes = load(after, 0).to_ne_bytes();
        for (d, b) in bytes.iter_mut().zip(rest) {
            *d = *b;
        }
        store(after, 0, u64::from_ne_bytes(bytes));
    }
}

/// Set `len` bytes at byte offset `offset` from word `word` to `byte`.
pub(crate) fn fill(data: &[AtomicU64], word: usize, offset: usize, len: usize, byte: u8) {
    let chunk = [byte; 64];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        copy_in(data, word, offset + done, &chunk[..n]);
        done += n;
    }
}

/// Ring words moved a cache line at a time by aligned 16-byte SSE accesses.
///
/// # Why this is as sound as the word loops
///
/// Every ring access below must act, for the Rust abstract machine, as relaxed
/// `AtomicU64` loads or stores of the words it covers: inline assembly may touch
/// only memory that a call to foreign code could, with effects that some Rust
/// code could have (Reference, `asm.rules.mem-same-as-ffi`). The vendors
/// guarantee more than that needs:
/// - Intel SDM vol. 3A, "Guaranteed Atomic Operations" (section 8.1.1 or 9.1.1
///   by edition): processors that enumerate AVX (CPUID.01H:ECX bit 28) carry out
///   the 16-byte accesses of MOVDQA (legacy or VEX.128 encoded) to 16-byte
///   aligned addresses atomically.
/// - AMD APM vol. 2, 7.3.2 "Access Atomicity": processors that report AVX
///   (CPUID Fn0000_0001_ECX bit 28) make cacheable, naturally aligned 16-byte
///   single loads and stores atomic.
///
/// So this path is taken only on `GenuineIntel` and `AuthenticAMD` processors
/// with that bit, and assumes the ring is in cacheable (write-back) memory, as
/// every mapping of a file, of /dev/shm or of huge pages is (`--cfg
/// shmcast_word_copy` turns the path off). A 16-byte access then moves its two
/// words at one instant, which is one execution of two relaxed accesses in a
/// row; a racing 8-byte access from the other side (a process that takes the word
/// loops) sees or produces each word whole, since both accesses are atomic and
/// lie in one cache line. No mixed-size access and no data race exists at the
/// language level. Loads never write, so read-only mappings are fine, as they
/// are for relaxed 8-byte loads. The ring words are atomics (interior
/// mutability), so writing them through a pointer from a shared reference is
/// allowed. The legacy encoding needs only SSE, which the target enables; it
/// needs no AVX state enabled by the operating system (XCR0), since the
/// guarantee follows the CPUID bit.
///
/// Where the operating system does enable AVX state, loads out of the ring
/// (still aligned 16-byte `vmovdqa`, the VEX.128 form the guarantee names)
/// are paired into 32-byte stores to the caller's private buffer, which no
/// one races with: half the store operations (a 4 KiB read, the two loops
/// alternated in one process on the development machine, went from
/// 0.59-0.61x to 0.63-0.67x of `memcpy`'s bandwidth in a slow phase). Into
/// a buffer not 16-byte aligned, each pair of loads is shifted together
/// (`vpalignr`) into one aligned 16-byte store instead.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(target_env = "sgx"),
    not(miri),
    not(loom),
    not(shmcast_word_copy)
))]
mod wide {
    use super::W;
    use crate::sync::AtomicU64;
    use core::sync::atomic::{AtomicU8, Ordering};

    /// Bytes from which a copy takes this path: below it, setting the path
    /// up costs more than it saves.
    const MIN: usize = 128;

    /// Bytes moved by one turn of the loops below: four 16-byte accesses, a
    /// cache line (one access per turn ran at half the speed of memcpy).
    pub(super) const BLOCK: usize = 64;

    // A copy this path takes has room for the aligning word and a block.
    const _: () = assert!(MIN >= W + BLOCK);

    /// What this CPU allows: 0 not yet known, [`NONE`], [`SSE`] or [`AVX`].
    static LEVEL: AtomicU8 = AtomicU8::new(0);

    /// Aligned 16-byte accesses are not documented atomic: the word loops.
    const NONE: u8 = 1;
    /// They are: the SSE loops.
    const SSE: u8 = 2;
    /// They are, and the operating system saves AVX registers: loads out
    /// of the ring are paired into 32-byte stores (or shifted together).
    const AVX: u8 = 3;

    /// Whether this CPU guarantees aligned 16-byte accesses atomic (its
    /// vendor and the AVX bit; found once per process, then cached: racing
    /// first calls each find the same answer).
    #[inline]
    pub(super) fn available() -> bool {
        level() >= SSE
    }

    /// Whether [`available`] holds and AVX instructions may run.
    #[inline]
    pub(super) fn avx() -> bool {
        level() == AVX
    }

    #[inline]
    fn level() -> u8 {
        match LEVEL.load(Ordering::Relaxed) {
            0 => detect(),
            l => l,
        }
    }

    #[cold]
    fn detect() -> u8 {
        use core::arch::x86_64::__cpuid;
        let ecx = if __cpuid(0).eax >= 1 {
            __cpuid(1).ecx
        } else {
            0
        };
        let level = if !documented_vendor() || ecx & (1 << 28) == 0 {
            NONE
        } else if ecx & AVX_IMPLIED == AVX_IMPLIED
            && ecx & (1 << 27) != 0
            // SAFETY: OSXSAVE, checked just before.
            && unsafe { xcr0() } & 0b110 == 0b110
        {
            // The features `load_avx` is compiled with, OSXSAVE, and XCR0
            // has the SSE and AVX state bits.
            AVX
        } else {
            SSE
        };
        LEVEL.store(level, Ordering::Relaxed);
        level
    }

    /// CPUID.01H:ECX bits of what `#[target_feature(enable = "avx")]` lets
    /// the compiler use in [`load_avx`] besides AVX: SSE3 (0), SSSE3 (9),
    /// SSE4.1 (19), SSE4.2 (20). Every AVX CPU has them; a virtual machine
    /// could hide them.
    const AVX_IMPLIED: u32 = 1 | 1 << 9 | 1 << 19 | 1 << 20;

    /// The extended control register XCR0 (which register states the
    /// operating system saves).
    ///
    /// # Safety
    /// CPUID.01H:ECX bit 27 (OSXSAVE) is set; otherwise `xgetbv` faults.
    unsafe fn xcr0() -> u64 {
        let (lo, hi): (u32, u32);
        // SAFETY: the caller checked OSXSAVE, so `xgetbv` is enabled; ECX =
        // 0 (XCR0) is always a valid index; it reads XCR0 into EDX:EAX,
        // touching no memory, stack or flags.
        unsafe {
            core::arch::asm!(
                "xgetbv",
                in("ecx") 0,
                out("eax") lo,
                out("edx") hi,
                options(nomem, nostack, preserves_flags),
            );
        }
        u64::from(hi) << 32 | u64::from(lo)
    }

    /// Whether the vendor is one whose manual gives the guarantee: Intel or
    /// AMD (`hint::vendor`).
    pub(super) fn documented_vendor() -> bool {
        matches!(&crate::hint::vendor(), b"GenuineIntel" | b"AuthenticAMD")
    }

    /// Whether `words` starts on a 16-byte boundary.
    #[inline]
    pub(super) fn aligned(words: &[AtomicU64]) -> bool {
        words.as_ptr().addr().is_multiple_of(16)
    }

    /// Copy the longest run of whole blocks it can from the start of `words`
    /// to the start of `dst` (after one word, if `words` is not 16-byte
    /// aligned); what is left, for the word loops. Copies shorter than
    /// [`MIN`], or on a CPU without the guarantee, are all left.
    #[inline(always)]
    pub(super) fn copy_out<'w, 'd>(
        words: &'w [AtomicU64],
        dst: &'d mut [u8],
    ) -> (&'w [AtomicU64], &'d mut [u8]) {
        if dst.len() < MIN || !available() {
            return (words, dst);
        }
        bulk_out(words, dst)
    }

    /// [`copy_out`] past its checks, out of line so that short copies pay
    /// only the length comparison.
    #[inline(never)]
    fn bulk_out<'w, 'd>(
        words: &'w [AtomicU64],
        dst: &'d mut [u8],
    ) -> (&'w [AtomicU64], &'d mut [u8]) {
        let (words, dst) = match words.split_first() {
            Some((first, rest)) if !aligned(words) => {
                let (head, dst) = dst.split_at_mut(W);
                head.copy_from_slice(&first.load(Ordering::Relaxed).to_ne_bytes());
                (rest, dst)
            }
            _ => (words, dst),
        };
        if !aligned(words) {
            // Only an empty run can be left unaligned: nothing for the loop.
            return (words, dst);
        }
        let n = dst.len().min(words.len() * W) / BLOCK * BLOCK;
        let (blocks, words) = words.split_at(n / W);
        let (into, dst) = dst.split_at_mut(n);
        // SAFETY: `available()` returned true; `blocks` starts 16-byte
        // aligned (checked just above) and `into` has as many bytes, a
        // multiple of BLOCK.
        unsafe { load(blocks, into) };
        (words, dst)
    }

    /// As [`copy_out`], from `src` into `words`; what is left of both.
    #[inline(always)]
    pub(super) fn copy_in<'w, 's>(
        words: &'w [AtomicU64],
        src: &'s [u8],
    ) -> (&'w [AtomicU64], &'s [u8]) {
        if src.len() < MIN || !available() {
            return (words, src);
        }
        bulk_in(words, src)
    }

    /// [`copy_in`] past its checks, out of line.
    #[inline(never)]
    fn bulk_in<'w, 's>(words: &'w [AtomicU64], src: &'s [u8]) -> (&'w [AtomicU64], &'s [u8]) {
        let (words, src) = match (words.split_first(), src.split_first_chunk::<W>()) {
            (Some((first, rest)), Some((head, src))) if !aligned(words) => {
                first.store(u64::from_ne_bytes(*head), Ordering::Relaxed);
                (rest, src)
            }
            _ => (words, src),
        };
        if !aligned(words) {
            return (words, src);
        }
        let n = src.len().min(words.len() * W) / BLOCK * BLOCK;
        let (blocks, words) = words.split_at(n / W);
        let (from, src) = src.split_at(n);
        // SAFETY: as in `copy_out`.
        unsafe { store(blocks, from) };
        (words, src)
    }

    /// Copy `words` into `dst` a block at a time: [`load_avx`] where
    /// [`avx`] holds, else [`load_sse`].
    ///
    /// # Safety
    /// [`available()`] returned true, `words` starts on a 16-byte boundary
    /// and `dst.len() == words.len() * 8` is a multiple of [`BLOCK`].
    #[inline]
    pub(super) unsafe fn load(words: &[AtomicU64], dst: &mut [u8]) {
        if avx() {
            // SAFETY: the caller's conditions, and `avx()` held.
            unsafe { load_avx(words, dst) }
        } else {
            // SAFETY: the caller's conditions.
            unsafe { load_sse(words, dst) }
        }
    }

    /// The blocks the loops below move between `words` and `bytes` bytes
    /// of private memory; their conditions, checked in debug builds.
    #[inline(always)]
    fn blocks(words: &[AtomicU64], bytes: usize) -> usize {
        debug_assert!(available() && aligned(words));
        debug_assert!(bytes == words.len() * W && bytes.is_multiple_of(BLOCK));
        bytes / BLOCK
    }

    /// [`load`] by VEX-encoded 16-byte loads paired into 32-byte stores,
    /// or, into a buffer not 16-byte aligned, by [`load_avx_shifted`].
    ///
    /// A buffer 16 bytes off a 32-byte boundary (as `malloc`'s often are)
    /// first gets 16 bytes by themselves, so that every 32-byte store after
    /// them is aligned, and the last 16 bytes by themselves: unaligned, every
    /// other 32-byte store would straddle two lines (a 4 KiB read, the
    /// `copy` tool with the buffer placed, took 139-142 ns at 16 bytes off a
    /// line against 110-116 at a line's start).
    ///
    /// # Safety
    /// As [`load`], and [`avx()`] returned true.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn load_avx(words: &[AtomicU64], dst: &mut [u8]) {
        debug_assert!(avx());
        let blocks = blocks(words, dst.len());
        if blocks == 0 {
            return;
        }
        let off = dst.as_ptr().addr() % 16;
        if off != 0 {
            // The bytes to the buffer's next 16-byte boundary, as a
            // constant (`vpalignr` takes its shift as an immediate).
            macro_rules! shifted {
                ($($h:literal)*) => {
                    match 16 - off {
                        // SAFETY: this function's conditions; `blocks`
                        // is `dst.len() / BLOCK` (`blocks()`), above 0;
                        // the arm's constant is `16 - off`, in 1..=15.
                        $($h => unsafe { load_avx_shifted::<$h>(words, dst, blocks) },)*
                        // 15: `off` is 1.
                        // SAFETY: as above.
                        _ => unsafe { load_avx_shifted::<15>(words, dst, blocks) },
                    }
                };
            }
            shifted!(1 2 3 4 5 6 7 8 9 10 11 12 13 14);
            return;
        }
        // 1 to split off the 16-byte head and the 48-byte tail (a pair and
        // 16 bytes), in place of one turn of the loop.
        let peel = usize::from(dst.as_ptr().addr() % 32 == 16);
        // SAFETY: as in `load_sse`, and AVX instructions may run (`avx()`:
        // the CPU has them and the operating system saves their state).
        // With `blocks > 0` (checked above) the block reads 64 * blocks
        // bytes from `words` and writes as many to `dst`: 64 * blocks in
        // the loop, or, with `peel`, 16 + 64 * (blocks - 1) + 48; the loop
        // runs `blocks - peel` times (not at all if that is 0: `test`/`jz`
        // before it, `dec`/`jnz` after). Every ring access is an aligned
        // VEX.128 `vmovdqa` (`words` is 16-byte aligned, the caller's
        // condition, or it faults, and every step is a multiple of 16),
        // which the guarantee names; `vinsertf128` joins two of them in a
        // register and `vmovdqu` stores 32 bytes (or 16) to `dst`, private
        // memory, which needs no alignment (with `peel`, each 32-byte store
        // starts at `dst + 16 + 32k`, a multiple of 32). The closing
        // `vzeroupper`, on the one way out (which spares the SSE code after
        // the block a transition penalty), clears bits 128 and up of
        // registers 0-15 (ymm, and zmm on AVX-512) and leaves 16-31 alone;
        // the compiler treats xmmN, ymmN and zmmN as one register (the
        // Reference's register aliases), so the ymm0-15 outputs declare
        // every bit it clears, and nothing live is lost.
        unsafe {
            core::arch::asm!(
                "test {peel}, {peel}",
                "jz 2f",
                "vmovdqa xmm0, xmmword ptr [{src}]",
                "vmovdqu xmmword ptr [{dst}], xmm0",
                "add {src}, 16",
                "add {dst}, 16",
                "2:",
                "test {n}, {n}",
                "jz 3f",
                "4:",
                "vmovdqa xmm0, xmmword ptr [{src}]",
                "vmovdqa xmm1, xmmword ptr [{src} + 16]",
                "vmovdqa xmm2, xmmword ptr [{src} + 32]",
                "vmovdqa xmm3, xmmword ptr [{src} + 48]",
                "vinsertf128 ymm0, ymm0, xmm1, 1",
                "vinsertf128 ymm2, ymm2, xmm3, 1",
                "vmovdqu ymmword ptr [{dst}], ymm0",
                "vmovdqu ymmword ptr [{dst} + 32], ymm2",
                "add {src}, 64",
                "add {dst}, 64",
                "dec {n}",
                "jnz 4b",
                "3:",
                "test {peel}, {peel}",
                "jz 5f",
                "vmovdqa xmm0, xmmword ptr [{src}]",
                "vmovdqa xmm1, xmmword ptr [{src} + 16]",
                "vinsertf128 ymm0, ymm0, xmm1, 1",
                "vmovdqu ymmword ptr [{dst}], ymm0",
                "vmovdqa xmm2, xmmword ptr [{src} + 32]",
                "vmovdqu xmmword ptr [{dst} + 32], xmm2",
                "5:",
                "vzeroupper",
                src = inout(reg) words.as_ptr() => _,
                dst = inout(reg) dst.as_mut_ptr() => _,
                n = inout(reg) blocks - peel => _,
                peel = in(reg) peel,
                out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
                out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _,
                out("ymm8") _, out("ymm9") _, out("ymm10") _, out("ymm11") _,
                out("ymm12") _, out("ymm13") _, out("ymm14") _, out("ymm15") _,
                options(nostack),
            );
        }
    }

    /// [`load_avx`] into a buffer not 16-byte aligned, `H` bytes short of
    /// a 16-byte boundary: each 16-byte store takes the last `16 - H`
    /// bytes of one aligned ring load and the first `H` of the next
    /// (`vpalignr`), so that it is aligned, between a first and a last
    /// 16 bytes stored unaligned. Paired into 32-byte stores as for other
    /// buffers, every other store straddled two lines: 4 KiB reads 1, 4, 8
    /// or 12 bytes off a line ran at 0.63-0.65x memcpy (`copy --offset`,
    /// alternated in one phase), 0.65-0.70x so (8 bytes off: 0.69-0.72x,
    /// over two alternations).
    ///
    /// # Safety
    /// As [`load_avx`]; `blocks` is `dst.len() / BLOCK`, at least 1, and
    /// `H` is in `1..=15`. (That `dst` is `H` bytes short of a 16-byte
    /// boundary matters for speed only: every store is `vmovdqu`.)
    #[target_feature(enable = "avx")]
    unsafe fn load_avx_shifted<const H: usize>(words: &[AtomicU64], dst: &mut [u8], blocks: usize) {
        debug_assert!(blocks >= 1 && blocks * BLOCK == dst.len() && words.len() * W == dst.len());
        debug_assert!((1..16).contains(&H) && (dst.as_ptr().addr() + H).is_multiple_of(16));
        // SAFETY: as in `load_sse` for the operands and the memory, and AVX
        // instructions may run (`avx()`).
        // The block reads `64 * blocks` bytes from `words`, 16 at a time
        // (call the 16 at `src + 16k` load k), and writes `dst`'s
        // `64 * blocks` bytes, each with the run's byte at its offset:
        // load 0 at `dst`; then, at `dst + H + 16k` for k below
        // `4 * blocks - 1`, the last `16 - H` bytes of load k and the first
        // `H` of load k + 1; then the last load at `dst + 64 * blocks - 16`.
        // The loop runs `blocks` times (`dec`/`jnz` at its foot; `blocks`
        // is at least 1), each turn a block's loads 1 to 3 and the three
        // stores they end; every turn but the first begins (at `2:`) with
        // its block's load 0 and the store it ends, 16 - H bytes before the
        // block (`{back}`), so no load reaches past the run. The first and
        // last stores overlap stores of the same bytes. Every ring access is
        // an aligned VEX.128 `vmovdqa` (`words` is 16-byte aligned, and
        // every step a multiple of 16), which the guarantee names; the
        // stores go to `dst`, private memory (`vmovdqu`; all but the first
        // and last are 16-byte aligned). Only VEX.128 instructions write
        // vector registers, zeroing bits 128 and up of the four named
        // (declared whole: see `load_avx`): the block dirties no upper
        // state, so it needs no `vzeroupper`.
        unsafe {
            core::arch::asm!(
                "vmovdqa xmm0, xmmword ptr [{src}]",
                "vmovdqu xmmword ptr [{dst}], xmm0",
                "jmp 3f",
                "2:",
                "vmovdqa xmm0, xmmword ptr [{src}]",
                "vpalignr xmm3, xmm0, xmm3, {h}",
                "vmovdqu xmmword ptr [{dst} - {back}], xmm3",
                "3:",
                "vmovdqa xmm1, xmmword ptr [{src} + 16]",
                "vmovdqa xmm2, xmmword ptr [{src} + 32]",
                "vmovdqa xmm3, xmmword ptr [{src} + 48]",
                "vpalignr xmm0, xmm1, xmm0, {h}",
                "vpalignr xmm1, xmm2, xmm1, {h}",
                "vpalignr xmm2, xmm3, xmm2, {h}",
                "vmovdqu xmmword ptr [{dst} + {h}], xmm0",
                "vmovdqu xmmword ptr [{dst} + {h16}], xmm1",
                "vmovdqu xmmword ptr [{dst} + {h32}], xmm2",
                "add {src}, 64",
                "add {dst}, 64",
                "dec {n}",
                "jnz 2b",
                "vmovdqu xmmword ptr [{dst} - 16], xmm3",
                src = inout(reg) words.as_ptr() => _,
                dst = inout(reg) dst.as_mut_ptr() => _,
                n = inout(reg) blocks => _,
                h = const H,
                h16 = const H + 16,
                h32 = const H + 32,
                back = const 16 - H,
                out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                options(nostack),
            );
        }
    }

    /// [`load`] by legacy SSE 16-byte loads and stores.
    ///
    /// # Safety
    /// As [`load`].
    #[inline]
    pub(super) unsafe fn load_sse(words: &[AtomicU64], dst: &mut [u8]) {
        let blocks = blocks(words, dst.len());
        if blocks == 0 {
            return;
        }
        // SAFETY: the assembly reads `64 * blocks` bytes from `words` (valid
        // for that many, 16-byte aligned: the caller's condition) and writes
        // as many to `dst` (valid for them and borrowed exclusively); the two
        // do not overlap. `blocks > 0` (checked above), so the `dec`/`jnz`
        // loop runs `blocks` times. Every ring access is an aligned
        // `movdqa`, atomic because `available()` held (module docs), and so
        // equal to two relaxed 64-bit loads. The block uses no stack (`nostack`) and no
        // string instructions (the direction flag is untouched); it changes
        // only the registers named and the status flags (`preserves_flags` is
        // not claimed), and not MXCSR.
        unsafe {
            core::arch::asm!(
                "2:",
                "movdqa {a}, xmmword ptr [{src}]",
                "movdqa {b}, xmmword ptr [{src} + 16]",
                "movdqa {c}, xmmword ptr [{src} + 32]",
                "movdqa {d}, xmmword ptr [{src} + 48]",
                "movdqu xmmword ptr [{dst}], {a}",
                "movdqu xmmword ptr [{dst} + 16], {b}",
                "movdqu xmmword ptr [{dst} + 32], {c}",
                "movdqu xmmword ptr [{dst} + 48], {d}",
                "add {src}, 64",
                "add {dst}, 64",
                "dec {n}",
                "jnz 2b",
                src = inout(reg) words.as_ptr() => _,
                dst = inout(reg) dst.as_mut_ptr() => _,
                n = inout(reg) blocks => _,
                a = out(xmm_reg) _,
                b = out(xmm_reg) _,
                c = out(xmm_reg) _,
                d = out(xmm_reg) _,
                options(nostack),
            );
        }
    }

    /// Copy `src` into `words` a block at a time.
    ///
    /// # Safety
    /// As [`load`], with `src.len() == words.len() * 8`.
    #[inline]
    pub(super) unsafe fn store(words: &[AtomicU64], src: &[u8]) {
        let blocks = blocks(words, src.len());
        if blocks == 0 {
            return;
        }
        // SAFETY: as in `load_sse`, with the roles turned: `src` is valid for
        // reads of `64 * blocks` bytes; `words` is valid for as many, 16-byte
        // aligned, and may be written through a pointer from a shared
        // reference because atomics have interior mutability. Every ring
        // store is an aligned `movdqa`: two relaxed 64-bit stores at one
        // instant (module docs). Same registers, flags and stack as `load_sse`.
        unsafe {
            core::arch::asm!(
                "2:",
                "movdqu {a}, xmmword ptr [{src}]",
                "movdqu {b}, xmmword ptr [{src} + 16]",
                "movdqu {c}, xmmword ptr [{src} + 32]",
                "movdqu {d}, xmmword ptr [{src} + 48]",
                "movdqa xmmword ptr [{dst}], {a}",
                "movdqa xmmword ptr [{dst} + 16], {b}",
                "movdqa xmmword ptr [{dst} + 32], {c}",
                "movdqa xmmword ptr [{dst} + 48], {d}",
                "add {src}, 64",
                "add {dst}, 64",
                "dec {n}",
                "jnz 2b",
                src = inout(reg) src.as_ptr() => _,
                dst = inout(reg) words.as_ptr() => _,
                n = inout(reg) blocks => _,
                a = out(xmm_reg) _,
                b = out(xmm_reg) _,
                c = out(xmm_reg) _,
                d = out(xmm_reg) _,
                options(nostack),
            );
        }
    }
}

/// Where the wide path is not built: everything is left to the word loops.
#[cfg(not(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(target_env = "sgx"),
    not(miri),
    not(loom),
    not(shmcast_word_copy)
)))]
mod wide {
    use crate::sync::AtomicU64;

    #[inline(always)]
    pub(super) fn copy_out<'w, 'd>(
        words: &'w [AtomicU64],
        dst: &'d mut [u8],
    ) -> (&'w [AtomicU64], &'d mut [u8]) {
        (words, dst)
    }

    #[inline(always)]
    pub(super) fn copy_in<'w, 's>(
        words: &'w [AtomicU64],
        src: &'s [u8],
    ) -> (&'w [AtomicU64], &'s [u8]) {
        (words, src)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ring(words: usize) -> std::vec::Vec<AtomicU64> {
        (0..words).map(|_| AtomicU64::new(0)).collect()
    }

    extern crate std;

    /// Lengths around the word sizes and the wide path's threshold.
    fn lengths() -> std::vec::Vec<usize> {
        if cfg!(miri) {
            // Both ends of every short path (one word; up to two, four,
            // eight and sixteen words), then the long one.
            // (120 bytes: the most a whole-word copy takes there, 15 words.)
            (0..18)
                .chain([32, 33, 64, 65, 120, 127, 128, 130])
                .collect()
        } else {
            (0..140).chain([255, 256, 257, 1000, 1001, 1024]).collect()
        }
    }

    /// The ring's bytes, read a word at a time (independent of `copy_out`).
    fn bytes_of(data: &[AtomicU64]) -> std::vec::Vec<u8> {
        (0..data.len())
            .flat_map(|i| load(data, i).to_ne_bytes())
            .collect()
    }

    #[test]
    fn round_trips_every_offset_and_length() {
        let words = if cfg!(miri) { 24 } else { 160 };
        let data = ring(words);
        for first in [1, 2] {
            let offsets: std::vec::Vec<usize> = if cfg!(miri) {
                std::vec![0, 1, 7, 8, 9]
            } else {
                (0..24).collect()
            };
            for offset in offsets {
                for len in lengths() {
                    let src: std::vec::Vec<u8> =
                        (0..len).map(|i| (i * 7 + offset + 1) as u8).collect();
                    fill(&data, 0, 0, words * 8, 0xAA);
                    copy_in(&data, first, offset, &src);
                    let all = bytes_of(&data);
                    let at = first * 8 + offset;
                    assert!(all[..at].iter().all(|&b| b == 0xAA));
                    assert_eq!(&all[at..at + len], &src[..]);
                    assert!(all[at + len..].iter().all(|&b| b == 0xAA));
                    let mut out = std::vec![0u8; words * 8];
                    copy_out(&data, 0, &mut out);
                    assert_eq!(out, all);
                    if offset % 8 == 0 {
                        // Into buffers at several places off a 16-byte
                        // boundary (the wide path aligns its stores by it;
                        // `wide_moves_whole_blocks_exactly` tries them all).
                        let places: &[usize] = if cfg!(miri) {
                            &[0, 3]
                        } else {
                            &[0, 1, 5, 8, 15]
                        };
                        for &d in places {
                            let mut back = std::vec![0x55u8; len + 32];
                            let d = d + (16 - back.as_ptr().addr() % 16) % 16;
                            copy_out(&data, first + offset / 8, &mut back[d..d + len]);
                            assert_eq!(&back[d..d + len], &src[..], "buffer at {d}");
                            assert!(back[..d].iter().chain(&back[d + len..]).all(|&b| b == 0x55));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn whole_messages_zero_the_rest_of_their_last_word() {
        let words = if cfg!(miri) { 24 } else { 160 };
        let data = ring(words);
        for first in [1, 2] {
            for len in lengths() {
                let src: std::vec::Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8 | 1).collect();
                fill(&data, 0, 0, words * 8, 0xAA);
                copy_in_message(&data, first, &src);
                let all = bytes_of(&data);
                let (at, end) = (first * 8, first * 8 + len.div_ceil(8) * 8);
                assert!(all[..at].iter().all(|&b| b == 0xAA), "len {len}");
                assert_eq!(&all[at..at + len], &src[..], "len {len}");
                assert!(all[at + len..end].iter().all(|&b| b == 0), "len {len}");
                assert!(all[end..].iter().all(|&b| b == 0xAA), "len {len}");
                let mut back = std::vec![0x55u8; len + 1];
                copy_out(&data, first, &mut back[..len]);
                assert_eq!(&back[..len], &src[..], "len {len}");
                assert_eq!(back[len], 0x55, "len {len}");
                // Whole words: the payload and its zeroed rest, no further.
                let whole = len.div_ceil(8) * 8;
                let mut words_back = std::vec![0x55u8; whole + 8];
                copy_out_whole(&data[first..first + whole / 8], &mut words_back[..whole]);
                assert_eq!(&words_back[..whole], &all[at..end], "len {len}");
                assert!(words_back[whole..].iter().all(|&b| b == 0x55), "len {len}");
            }
        }
    }

    /// The wide path is on exactly where the CPU documents the guarantee
    /// (so that the other tests exercise it on such a machine).
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "sse2",
        not(target_env = "sgx"),
        not(miri),
        not(shmcast_word_copy)
    ))]
    #[test]
    fn wide_path_follows_the_cpu() {
        let cpuid_avx = std::arch::x86_64::__cpuid(1).ecx & (1 << 28) != 0;
        assert_eq!(wide::available(), cpuid_avx && wide::documented_vendor());
        // std's detection checks the operating system's XCR0 as well; the
        // AVX loop also wants what `enable = "avx"` implies.
        let avx = std::arch::is_x86_feature_detected!("avx")
            && std::arch::is_x86_feature_detected!("sse3")
            && std::arch::is_x86_feature_detected!("ssse3")
            && std::arch::is_x86_feature_detected!("sse4.1")
            && std::arch::is_x86_feature_detected!("sse4.2");
        assert_eq!(wide::avx(), avx && wide::documented_vendor());
    }

    /// The assembly itself, against a word-by-word oracle, with the
    /// caller's buffer at every place in a 32-byte span (with AVX, all but
    /// 0 and 16 take `load_avx_shifted`, 16 the peeled loop) and guard
    /// bytes on both sides.
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "sse2",
        not(target_env = "sgx"),
        not(miri),
        not(shmcast_word_copy)
    ))]
    #[test]
    fn wide_moves_whole_blocks_exactly() {
        if !wide::available() {
            return;
        }
        let data = ring(8 * 9 + 2);
        let start = if wide::aligned(&data) { 0 } else { 1 };
        for blocks in [0usize, 1, 2, 9] {
            let words = &data[start..start + 8 * blocks];
            let src: std::vec::Vec<u8> = (0..64 * blocks).map(|i| (i * 13 + 5) as u8).collect();
            for w in &data {
                w.store(u64::MAX, Ordering::Relaxed);
            }
            // SAFETY: `available()` held; `words` starts 16-byte aligned and
            // has `8 * blocks` words for the `64 * blocks` bytes of `src`.
            unsafe { wide::store(words, &src) };
            for (i, w) in data.iter().enumerate() {
                let want = match i.checked_sub(start) {
                    Some(k) if k < 8 * blocks => {
                        u64::from_ne_bytes(src[8 * k..8 * k + 8].try_into().unwrap())
                    }
                    _ => u64::MAX,
                };
                assert_eq!(w.load(Ordering::Relaxed), want, "word {i}, {blocks} blocks");
            }
            // The buffer at every offset from a 32-byte boundary.
            for (at, avx) in (0..32).flat_map(|at| [(at, false), (at, true)]) {
                if avx && !wide::avx() {
                    continue;
                }
                // At least 32 guard bytes before and after.
                let mut dst = std::vec![0x5Au8; 64 * blocks + 96];
                let skew = 32 + (32 + at - dst.as_ptr().addr() % 32) % 32;
                let into = &mut dst[skew..skew + 64 * blocks];
                assert_eq!(into.as_ptr().addr() % 32, at);
                // SAFETY: as above, into `64 * blocks` bytes; `avx()` held
                // for the AVX loop.
                unsafe {
                    if avx {
                        wide::load_avx(words, into)
                    } else {
                        wide::load_sse(words, into)
                    }
                };
                assert_eq!(&dst[skew..skew + 64 * blocks], &src[..]);
                assert!(dst[..skew]
                    .iter()
                    .chain(&dst[skew + 64 * blocks..])
                    .all(|&b| b == 0x5A));
            }
        }
    }
}
