//! Ctrl-C (SIGINT, and SIGTERM/SIGHUP): a flag that every loop checks, so
//! commands stop between steps, release what they hold (the producer role, a
//! gating slot) and remove the rings they created for themselves.
//!
//! The `ctrlc` crate is used because installing a signal handler is not in
//! rustix's safe API: it does the `sigaction` and runs our handler on its own
//! thread (woken through a self-pipe by the real, async-signal-safe handler),
//! so the handler here is ordinary code that sets an atomic flag.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once an interrupt arrived.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Exit status of an interrupted bench or demo (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Install the handler. A failure is reported and otherwise ignored: the
/// default action then still ends the process.
pub fn install() {
    if let Err(e) = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst)) {
        eprintln!("shmcast: warning: cannot handle Ctrl-C: {e}");
    }
}

/// The flag the loops check.
pub fn flag() -> &'static AtomicBool {
    &INTERRUPTED
}

/// Whether an interrupt arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
