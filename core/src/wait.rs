//! How a producer waits for gating consumers, and what it does about one that
//! does not move.
//!
//! The core ships [`Spin`] and [`BoundedSpin`]; the Linux adapter adds
//! yielding, futex sleeping and a liveness check on the blocked consumer's lease.

/// The gating consumer the producer is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    /// Its slot.
    pub slot: usize,
    /// The slot's generation when it was found blocking (see
    /// [`Ring::reclaim_slot`](crate::Ring::reclaim_slot)).
    pub generation: u64,
    /// The lease value it published (for a liveness check); 0 until the
    /// consumer publishes one.
    pub lease: u64,
    /// Its read position.
    pub position: u64,
    /// Bytes the producer is ahead of it.
    pub lag: u64,
    /// How many times the producer has waited for room in this claim.
    pub waits: u64,
}

/// What a waiting producer does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitAction {
    /// Look again.
    Retry,
    /// Make the blocked consumer lossy: it will see `Lapped` with exact counts.
    Demote,
    /// Evict the blocked consumer: it loses its slot and becomes lossy.
    Evict,
    /// Stop waiting: the claim fails with `Full`.
    GiveUp,
}

/// A producer's way of waiting for room.
pub trait Wait {
    /// Called each time the ring is found full; may pause before returning.
    fn wait(&mut self, blocked: &Blocked) -> WaitAction;
}

/// Busy-spin until the consumer moves; never gives up (trusted consumers only).
#[derive(Debug, Clone, Copy, Default)]
pub struct Spin;

impl Wait for Spin {
    fn wait(&mut self, _: &Blocked) -> WaitAction {
        core::hint::spin_loop();
        WaitAction::Retry
    }
}

/// Busy-spin for a budget of waits, then take an action (by default demote), so
/// a stuck consumer never blocks the producer for ever.
#[derive(Debug, Clone, Copy)]
pub struct BoundedSpin {
    /// Waits before acting.
    pub budget: u64,
    /// What to do when the budget is spent.
    pub then: WaitAction,
}

impl Default for BoundedSpin {
    fn default() -> Self {
        BoundedSpin {
            budget: 1 << 22,
            then: WaitAction::Demote,
        }
    }
}

impl Wait for BoundedSpin {
    fn wait(&mut self, blocked: &Blocked) -> WaitAction {
        if blocked.waits >= self.budget {
            return self.then;
        }
        core::hint::spin_loop();
        WaitAction::Retry
    }
}

impl<W: Wait + ?Sized> Wait for &mut W {
    fn wait(&mut self, blocked: &Blocked) -> WaitAction {
        (**self).wait(blocked)
    }
}
