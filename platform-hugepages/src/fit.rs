//! [`fit_config`]: let a ring use the whole region it was given.

use shmcast::layout::MAX_CAPACITY;
use shmcast::RingConfig;

/// `cfg` with its capacity grown to the largest power of two that fits in a
/// region of `len` bytes (a region rounded up to whole huge pages holds more
/// than was asked), never smaller than asked. The message limit, if set, the
/// slots and checksums are kept; a default message limit grows with the
/// capacity. A configuration that is invalid, or does not fit at all, is
/// returned unchanged (ring creation then reports why).
///
/// ```
/// use shmcast::RingConfig;
/// use shmcast_hugepages::fit_config;
///
/// let cfg = RingConfig::new(4096).slots(2);
/// // A 2 MiB page holds 512 + 2 * 128 header bytes and 1 MiB of data (2 MiB would not fit).
/// assert_eq!(fit_config(&cfg, 2 << 20).capacity(), 1 << 20);
/// assert_eq!(fit_config(&cfg, cfg.region_size()), cfg);
/// ```
pub fn fit_config(cfg: &RingConfig, len: usize) -> RingConfig {
    let asked = cfg.capacity();
    let header = cfg.region_size().saturating_sub(asked);
    let room = len.saturating_sub(header);
    if !asked.is_power_of_two() || room < asked {
        return *cfg;
    }
    let mut capacity = asked;
    while capacity
        .checked_mul(2)
        .is_some_and(|c| c <= room && c as u64 <= MAX_CAPACITY)
    {
        capacity *= 2;
    }
    cfg.with_capacity(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmcast::layout::ring_size;

    #[test]
    fn grows_to_the_largest_power_of_two_that_fits() {
        let page = 2 << 20;
        for slots in [0, 1, 8, 4096] {
            for cap in [64, 4096, 1 << 20] {
                let cfg = RingConfig::new(cap).slots(slots).checksum(true);
                let len = cfg.region_size().div_ceil(page) * page;
                let fit = fit_config(&cfg, len);
                assert!(fit.capacity() >= cap);
                assert!(fit.region_size() <= len, "{slots} {cap}");
                assert!(ring_size(fit.capacity() * 2, slots) > len);
                assert!(fit.validate().is_ok());
                assert_eq!(fit, cfg.with_capacity(fit.capacity()));
            }
        }
    }

    #[test]
    fn keeps_an_explicit_message_limit_and_leaves_bad_configs_alone() {
        let cfg = RingConfig::new(4096).max_message(100);
        assert_eq!(fit_config(&cfg, 1 << 21), cfg.with_capacity(1 << 20));
        let odd = RingConfig::new(1000);
        assert_eq!(fit_config(&odd, 1 << 21), odd);
        let big = RingConfig::new(1 << 20);
        assert_eq!(fit_config(&big, 4096), big);
        assert_eq!(fit_config(&big, usize::MAX).capacity() as u64, MAX_CAPACITY);
    }
}
