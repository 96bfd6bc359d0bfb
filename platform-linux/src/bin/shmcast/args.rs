//! Command-line arguments (clap derive): every command, its flags and their
//! parsers. Anything rejected here exits with status 2.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use shmcast_linux::{Location, PageSize};

/// Broadcast byte messages from one producer to many consumers through a ring
/// in shared memory: create, publish, tail and inspect rings, or measure them.
///
/// Exit status: 0 success, 1 runtime failure, 2 usage error, 130 interrupted
/// (bench, demo).
#[derive(Debug, Parser)]
#[command(name = "shmcast", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a ring (exclusively: an existing one is never touched).
    Create(CreateArgs),
    /// Publish each line of standard input as one message; exits at end of input.
    Pub(PubArgs),
    /// Print messages as they arrive; laps (with exact losses) and producer
    /// restarts are reported on standard error.
    Tail(TailArgs),
    /// Show a ring's header, producer and consumer slots (read-only: never
    /// disturbs the ring).
    Stat(StatArgs),
    /// Remove a ring and its lock files.
    Rm(RmArgs),
    /// Measure throughput, loss and one-way latency with a producer and N
    /// consumers in separate processes over a fresh ring (removed afterwards).
    Bench(BenchArgs),
    /// A short cross-process broadcast (a producer, a gating and a lossy
    /// consumer) told in plain words; removes its ring afterwards.
    Demo(DemoArgs),
    /// A role in a bench or demo run (started by them, not by hand).
    #[command(hide = true, name = "__role")]
    Role(RoleArgs),
}

/// Which ring: a /dev/shm name or `--path FILE`.
#[derive(Debug, Args, Clone)]
pub struct RingArg {
    /// Ring name in /dev/shm (plain name, no '/').
    #[arg(
        value_name = "NAME",
        required_unless_present = "path",
        conflicts_with = "path",
        value_parser = parse_name
    )]
    pub name: Option<String>,
    /// A ring in this file instead of a /dev/shm name.
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// The ring NAME lives on huge pages: a file on the hugetlbfs mounted for
    /// --hugepage-size (for example /dev/hugepages/NAME).
    #[arg(long, conflicts_with = "path")]
    pub hugepages: bool,
    /// Huge page size, with --hugepages.
    #[arg(long, value_enum, value_name = "SIZE", default_value_t = HugeSize::M2, requires = "hugepages")]
    pub hugepage_size: HugeSize,
}

impl RingArg {
    /// The ring's location (clap guarantees a name or a path).
    ///
    /// # Errors
    /// With --hugepages, when no hugetlbfs of that page size is mounted (the
    /// message gives the mount command).
    pub fn location(&self) -> Result<Location, shmcast_linux::Error> {
        match (&self.name, &self.path) {
            (_, Some(p)) => Ok(Location::path(p)),
            (Some(n), None) if self.hugepages => Location::huge(n, self.hugepage_size.into()),
            (Some(n), None) => Location::shm(n),
            (None, None) => Location::shm(""),
        }
    }
}

/// A huge page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HugeSize {
    /// 2 MiB pages.
    #[value(name = "2M")]
    M2,
    /// 1 GiB pages.
    #[value(name = "1G")]
    G1,
}

impl std::convert::From<HugeSize> for PageSize {
    fn from(s: HugeSize) -> PageSize {
        match s {
            HugeSize::M2 => PageSize::Huge2M,
            HugeSize::G1 => PageSize::Huge1G,
        }
    }
}

fn parse_name(s: &str) -> Result<String, String> {
    Location::shm(s)
        .map(|_| s.to_owned())
        .map_err(|e| e.to_string())
}

/// `shmcast create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The ring.
    #[command(flatten)]
    pub ring: RingArg,
    /// Data bytes: a power of two (suffixes K, M, G: 64K, 1M).
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse_size)]
    pub capacity: usize,
    /// Consumer slots (gating consumers and observable lossy ones).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub consumers: usize,
    /// Largest message (default: a quarter of the capacity).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_message: Option<usize>,
    /// Every record carries an xxh3-64 checksum.
    #[arg(long)]
    pub checksum: bool,
    /// Every record starts on a 64-byte cache line: lowest latency for
    /// small messages, at the cost of the rest of each record's last line.
    #[arg(long)]
    pub line_aligned: bool,
    /// File mode, in octal.
    #[arg(long, value_name = "MODE", default_value = "0600", value_parser = parse_mode)]
    pub mode: u32,
}

/// `shmcast pub`.
#[derive(Debug, Args)]
pub struct PubArgs {
    /// The ring.
    #[command(flatten)]
    pub ring: RingArg,
    /// User tag carried by every message.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub tag: u32,
    /// Restart the stream: readers see a producer restart instead of a
    /// continuation.
    #[arg(long)]
    pub restart: bool,
}

/// Where `tail` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartAt {
    /// Only messages published from now on.
    Latest,
    /// The oldest message still in the ring, then everything after it.
    Oldest,
}

/// How `tail` prints a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The payload as a line (control bytes and invalid UTF-8 escaped as \xNN).
    Text,
    /// Sequence, tag, length and the payload in hex.
    Hex,
    /// One JSON object per line: seq, tag, len, payload (or payload_hex).
    Json,
}

/// `shmcast tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// The ring.
    #[command(flatten)]
    pub ring: RingArg,
    /// Where to start.
    #[arg(long, value_enum, default_value_t = StartAt::Latest)]
    pub from: StartAt,
    /// Exit after this many messages.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Take a gating consumer slot: the producer waits for this reader
    /// (released on exit). Starts with messages published from now on.
    #[arg(long, conflicts_with = "from")]
    pub gating: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `shmcast stat`.
#[derive(Debug, Args)]
pub struct StatArgs {
    /// The ring.
    #[command(flatten)]
    pub ring: RingArg,
    /// One JSON object (per refresh, one per line).
    #[arg(long)]
    pub json: bool,
    /// Refresh every second until interrupted.
    #[arg(long)]
    pub watch: bool,
}

/// `shmcast rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// The ring.
    #[command(flatten)]
    pub ring: RingArg,
}

/// Consumer mode for `bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    /// The producer never waits; slow consumers are lapped and report losses.
    Lossy,
    /// The producer waits for the slowest consumer; nothing is lost.
    Gating,
}

/// `shmcast bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Consumer processes.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub consumers: u16,
    /// Payload bytes per message (at least 16: send time and index).
    #[arg(long, value_name = "BYTES", default_value = "64", value_parser = parse_size)]
    pub size: usize,
    /// Messages to send.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub messages: u64,
    /// Lossy or gating consumers.
    #[arg(long, value_enum, default_value_t = BenchMode::Lossy)]
    pub mode: BenchMode,
    /// Send at this many messages per second. Each message is then stamped
    /// with the time it was due, not the time it went out, so latency includes
    /// any stall of the producer (corrected for coordinated omission).
    #[arg(long, value_name = "MSGS", value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: Option<u64>,
    /// Ring capacity (power of two; suffixes K, M, G).
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse_size)]
    pub capacity: usize,
    /// Records start on 64-byte cache lines (as `create --line-aligned`).
    #[arg(long)]
    pub line_aligned: bool,
    /// Run over a ring in this file instead of a fresh /dev/shm name (it
    /// must not exist; it is removed afterwards).
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// Run over a ring on huge pages (a fresh file on the hugetlbfs mounted
    /// for --hugepage-size, removed afterwards).
    #[arg(long, conflicts_with = "path")]
    pub hugepages: bool,
    /// Huge page size, with --hugepages.
    #[arg(long, value_enum, value_name = "SIZE", default_value_t = HugeSize::M2, requires = "hugepages")]
    pub hugepage_size: HugeSize,
}

/// `shmcast demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run over a ring in this file instead of a fresh /dev/shm name (it
    /// must not exist; it is removed afterwards).
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
}

/// The hidden `__role` command.
#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The role.
    #[command(subcommand)]
    pub role: Role,
}

/// A bench or demo process.
#[derive(Debug, Subcommand)]
pub enum Role {
    /// Send stamped messages.
    Producer {
        /// The ring.
        #[command(flatten)]
        ring: RingArg,
        /// Consumers to wait for.
        #[arg(long)]
        consumers: usize,
        /// Payload bytes.
        #[arg(long)]
        size: usize,
        /// Messages.
        #[arg(long)]
        messages: u64,
        /// Messages per second.
        #[arg(long)]
        rate: Option<u64>,
    },
    /// Receive and time messages.
    Consumer {
        /// The ring.
        #[command(flatten)]
        ring: RingArg,
        /// Join as gating.
        #[arg(long)]
        gating: bool,
        /// Pause after every N messages...
        #[arg(long, requires = "pause_us")]
        pause_every: Option<u64>,
        /// ... for this many microseconds.
        #[arg(long)]
        pause_us: Option<u64>,
    },
}

/// A byte count with an optional binary suffix: `4096`, `64K`, `1M`, `1G`
/// (`KiB`, `MB` and lower case also accepted; all are powers of 1024).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: usize = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 4096, 64K, 1M)"))?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use K, M or G)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A file mode in octal (`0600`, `644`, `0o640`).
pub fn parse_mode(s: &str) -> Result<u32, String> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o7777 => Ok(m),
        _ => Err(format!("{s:?} is not an octal file mode (example: 0600)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("1m"), Ok(1 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("1T").is_err());
        assert!(parse_size("K").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert_eq!(parse_mode("644"), Ok(0o644));
        assert_eq!(parse_mode("0o640"), Ok(0o640));
        assert!(parse_mode("0800").is_err());
        assert!(parse_mode("77777").is_err());
    }
}
