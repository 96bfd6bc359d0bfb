//! The hidden `__role` command: one process of a `bench` or `demo` run. It
//! prints its report as one line on standard output for the parent to read
//! (see [`shmcast_linux::bench`]), and dies with its parent.

use std::time::Duration;

use rustix::process::{getppid, set_parent_process_death_signal, Signal};
use shmcast_linux::bench::{self, ConsumerOptions, Mode, Params, Throttle};
use shmcast_linux::{Options, ShmRing};

use crate::args::{Role, RoleArgs};
use crate::{interrupt, Failure, Outcome};

/// The environment variable in which `bench` and `demo` pass their own
/// process ID to the roles they start.
pub const PARENT_ENV: &str = "SHMCAST_ROLE_PARENT";

/// Run one role to the end and print its report.
pub fn run(a: &RoleArgs) -> Outcome {
    // SIGTERM (which sets the interrupt flag) when the parent dies; if it
    // died before we asked, we were re-parented already.
    let _ = set_parent_process_death_signal(Some(Signal::TERM));
    // The parent names itself: comparing with PID 1 would refuse every role
    // when shmcast itself runs as PID 1 (a container's entry point), and
    // would miss a re-parenting to a subreaper.
    let parent = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse::<i32>().ok());
    if getppid().map(|p| p.as_raw_nonzero().get()) != parent {
        return Err(Failure::Runtime(
            "the run that started this role is gone".into(),
        ));
    }
    match &a.role {
        Role::Producer {
            ring,
            consumers,
            size,
            messages,
            rate,
        } => {
            let ring = ShmRing::open(&ring.location()?, &Options::default())?;
            let params = Params {
                consumers: *consumers,
                size: *size,
                messages: *messages,
                mode: Mode::Lossy,
                rate: *rate,
                capacity: ring.ring().capacity(),
                line_aligned: ring.ring().line_aligned(),
            };
            let report = bench::produce(&ring, &params, interrupt::flag())?;
            println!("{}", report.to_line());
        }
        Role::Consumer {
            ring,
            gating,
            pause_every,
            pause_us,
        } => {
            let ring = ShmRing::open(&ring.location()?, &Options::default())?;
            let opts = ConsumerOptions {
                gating: *gating,
                throttle: pause_every.map(|every| Throttle {
                    every,
                    pause: Duration::from_micros(pause_us.unwrap_or(0)),
                }),
                ..ConsumerOptions::default()
            };
            let report = bench::consume(&ring, &opts, interrupt::flag())?;
            println!("{}", report.to_line());
        }
    }
    Ok(())
}
