//! `shmcast`: create, feed, watch, inspect and measure shmcast rings from the
//! command line. One module per command; `args` holds the command line,
//! `output` the formatting, `interrupt` the Ctrl-C flag, `spawn` the child
//! processes of `bench` and `demo`.
//!
//! Exit status: 0 success, 1 runtime failure, 2 usage error, 130 interrupted
//! (bench and demo; other commands end normally on Ctrl-C).

mod args;
mod bench;
mod create;
mod demo;
mod interrupt;
mod output;
mod publish;
mod rm;
mod role;
mod spawn;
mod stat;
mod tail;

use std::fmt;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// Why a command failed; decides the exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments: exit 2.
    Usage(String),
    /// The command could not do its work: exit 1.
    Runtime(String),
    /// Interrupted after cleaning up: exit 130.
    Interrupted,
    /// Standard output was closed (`shmcast tail | head`): stop, exit 0.
    ClosedOutput,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Runtime(m) => f.write_str(m),
            Failure::Interrupted => f.write_str("interrupted"),
            Failure::ClosedOutput => f.write_str("standard output closed"),
        }
    }
}

/// Library errors already name the ring and the remedy; a few get the
/// command-line form of the remedy on top.
impl From<shmcast_linux::Error> for Failure {
    fn from(e: shmcast_linux::Error) -> Self {
        use shmcast_linux::Error;
        let hint = match &e {
            Error::BadName { .. } => return Failure::Usage(e.to_string()),
            Error::ProducerActive { .. } => " (`shmcast stat` shows it; stop it first)",
            Error::Join {
                source: shmcast::JoinError::NoFreeSlot,
                ..
            } => " (`shmcast create --consumers N` makes slots; a tail without --gating needs none)",
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                " (the ring's mode is set when it is created, `shmcast create --mode`: ask its owner)"
            }
            _ => "",
        };
        Failure::Runtime(format!("{e}{hint}"))
    }
}

impl From<shmcast_linux::bench::BenchError> for Failure {
    fn from(e: shmcast_linux::bench::BenchError) -> Self {
        Failure::Runtime(e.to_string())
    }
}

/// Writing to standard output failed: a closed pipe (`shmcast tail | head`)
/// ends the command quietly, anything else is a failure.
impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::ClosedOutput
        } else {
            Failure::Runtime(format!("cannot write the output: {e}"))
        }
    }
}

/// What a command returns.
pub type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    // clap prints help or the usage error itself and exits 0 or 2.
    let cli = Cli::parse();
    interrupt::install();
    let result = match cli.command {
        Command::Create(a) => create::run(&a),
        Command::Pub(a) => publish::run(&a),
        Command::Tail(a) => tail::run(&a),
        Command::Stat(a) => stat::run(&a),
        Command::Rm(a) => rm::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Role(a) => role::run(&a),
    };
    match result {
        Ok(()) | Err(Failure::ClosedOutput) => ExitCode::SUCCESS,
        Err(Failure::Interrupted) => ExitCode::from(interrupt::EXIT_INTERRUPTED as u8),
        Err(Failure::Usage(m)) => {
            eprintln!("shmcast: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(m)) => {
            eprintln!("shmcast: {m}");
            ExitCode::from(1)
        }
    }
}
