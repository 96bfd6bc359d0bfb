//! The processes of a `bench` or `demo` run: a ring made for the run, and the
//! producer and consumers as children re-executing this binary (`__role`).
//!
//! [`Run`] owns both. However the run ends (done, failed, Ctrl-C, a panic),
//! dropping it stops the children that are still running (SIGINT, then
//! SIGKILL after a grace period) and removes the ring and its lock files.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};
use shmcast::RingConfig;
use shmcast_linux::{remove, Location, Options, PageSize, ShmRing, Stale};

use crate::{interrupt, Failure};

/// How long children get to stop after SIGINT before SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// A child process and the thread collecting its standard output.
struct Kid {
    label: String,
    child: Child,
    stdout: Option<JoinHandle<String>>,
    status: Option<ExitStatus>,
}

/// What a child that succeeded left: its label and standard output.
pub struct Finished {
    /// Which role.
    pub label: String,
    /// Everything it printed.
    pub stdout: String,
}

/// Where a run's ring lives.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    /// A fresh name in /dev/shm.
    Shm,
    /// A fresh name on the hugetlbfs of this page size.
    Huge(PageSize),
    /// This file (which must not exist yet).
    Path(&'a PathBuf),
}

/// A ring made for one run, and the processes using it.
pub struct Run {
    ring: Option<ShmRing>,
    location: Location,
    kids: Vec<Kid>,
}

impl Run {
    /// Create the run's ring: `/dev/shm/PREFIX-PID` (replacing one left by a
    /// crashed run of the same process id), the same name on huge pages, or
    /// a file `path` (which must not exist).
    pub fn create(prefix: &str, place: Place<'_>, cfg: &RingConfig) -> Result<Run, Failure> {
        let name = format!("{prefix}-{}", std::process::id());
        let opts = Options::default();
        let (location, ring) = match place {
            Place::Path(p) => {
                let loc = Location::path(p);
                let ring = ShmRing::create(&loc, cfg, &opts)?;
                (loc, ring)
            }
            Place::Shm => {
                let loc = Location::shm(&name)?;
                let ring = ShmRing::create_or(&loc, cfg, &opts, Stale::Replace)?;
                (loc, ring)
            }
            Place::Huge(size) => {
                let loc = Location::huge(&name, size)?;
                let ring = ShmRing::create_or(&loc, cfg, &opts, Stale::Replace)?;
                (loc, ring)
            }
        };
        Ok(Run {
            ring: Some(ring),
            location,
            kids: Vec::new(),
        })
    }

    /// The ring.
    pub fn ring(&self) -> &ShmRing {
        // Present until drop.
        self.ring.as_ref().unwrap_or_else(|| unreachable!())
    }

    /// Where the ring lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The arguments that name the ring to a child.
    fn ring_args(&self) -> Vec<String> {
        match &self.location {
            Location::Shm(n) => vec![n.clone()],
            Location::Path(p) => vec!["--path".into(), p.display().to_string()],
        }
    }

    /// Start `shmcast __role ROLE RING ARGS...` with its output captured.
    pub fn spawn(&mut self, label: &str, role: &str, args: &[String]) -> Result<(), Failure> {
        let exe = std::env::current_exe().map_err(|e| {
            Failure::Runtime(format!(
                "cannot find this program to start the {label}: {e}"
            ))
        })?;
        let mut child = Command::new(exe)
            .env(crate::role::PARENT_ENV, std::process::id().to_string())
            .arg("__role")
            .arg(role)
            .args(self.ring_args())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Failure::Runtime(format!("cannot start the {label}: {e}")))?;
        let stdout = child.stdout.take().map(|mut out| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = out.read_to_string(&mut s);
                s
            })
        });
        self.kids.push(Kid {
            label: label.to_owned(),
            child,
            stdout,
            status: None,
        });
        Ok(())
    }

    /// Wait for every child, calling `tick` every 50 ms meanwhile. A child
    /// that fails stops the run; so does Ctrl-C ([`Failure::Interrupted`]).
    pub fn wait(&mut self, mut tick: impl FnMut(&ShmRing)) -> Result<Vec<Finished>, Failure> {
        loop {
            if interrupt::interrupted() {
                return Err(Failure::Interrupted);
            }
            tick(self.ring());
            let mut running = 0;
            for kid in &mut self.kids {
                if kid.status.is_none() {
                    kid.status = kid.child.try_wait().map_err(|e| {
                        Failure::Runtime(format!("cannot wait for the {}: {e}", kid.label))
                    })?;
                }
                match kid.status {
                    None => running += 1,
                    Some(s) if !s.success() => {
                        return Err(Failure::Runtime(format!(
                            "the {} failed ({s}); the run is stopped and its ring {} removed",
                            kid.label,
                            self.location.display()
                        )));
                    }
                    Some(_) => {}
                }
            }
            if running == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(self
            .kids
            .drain(..)
            .map(|mut k| Finished {
                stdout: k
                    .stdout
                    .take()
                    .and_then(|h| h.join().ok())
                    .unwrap_or_default(),
                label: k.label,
            })
            .collect())
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // Ask the children still running to stop, then insist.
        for kid in &mut self.kids {
            if matches!(kid.child.try_wait(), Ok(None)) {
                let _ = kill_process(Pid::from_child(&kid.child), Signal::INT);
            }
        }
        let start = Instant::now();
        for kid in &mut self.kids {
            while matches!(kid.child.try_wait(), Ok(None)) {
                if start.elapsed() > GRACE {
                    let _ = kid.child.kill();
                    let _ = kid.child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.ring = None;
        if let Err(e) = remove(&self.location) {
            eprintln!("shmcast: warning: {e}");
        }
    }
}
