//! `shmcast stat`: a ring's header, producer and consumer slots.
//!
//! Read-only by construction: the ring is opened `O_RDONLY` and mapped
//! `PROT_READ` ([`ReadOnlyShm`]), so no store can reach it; liveness comes
//! from probing the role lock files beside it (a shared, non-blocking `flock`
//! that is dropped at once; `null`, "unknown", when this user may not open
//! them). Fields are read one by one while the ring runs,
//! so they may be mutually inconsistent by a few messages.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use shmcast::{layout, ConsumerInfo, RingView, SlotState, Status};
use shmcast_linux::hugepages::mount_page_size;
use shmcast_linux::{Options, ReadOnlyShm};

use crate::args::StatArgs;
use crate::output::{bytes, json_array, records, JsonObject};
use crate::{interrupt, Outcome};

/// Time between refreshes with `--watch`.
const REFRESH: Duration = Duration::from_secs(1);

/// One snapshot of everything `stat` shows.
struct Snapshot {
    ring: String,
    file: String,
    file_size: u64,
    capacity: u64,
    max_message: u64,
    checksum: bool,
    line_aligned: bool,
    /// Huge page size, for a ring on hugetlbfs.
    huge_page: Option<u64>,
    status: Status,
    /// `None`: the lock file could not be probed (no permission).
    producer_alive: Option<bool>,
    slots: Vec<(ConsumerInfo, Option<bool>)>,
}

/// Print once, or every second with `--watch` until Ctrl-C.
pub fn run(a: &StatArgs) -> Outcome {
    let loc = a.ring.location()?;
    let ro = ReadOnlyShm::open(&loc, &Options::default())?;
    let clear = a.watch && !a.json && io::stdout().is_terminal();
    let mut out = io::stdout().lock();
    loop {
        let snap = snapshot(&ro, &ro.view())?;
        let text = if a.json { json(&snap) } else { text(&snap) };
        if clear {
            // Home and clear the screen before each refresh.
            write!(out, "\x1b[H\x1b[2J")?;
        }
        writeln!(out, "{text}")?;
        out.flush()?;
        if !a.watch {
            return Ok(());
        }
        let since = Instant::now();
        while since.elapsed() < REFRESH {
            if interrupt::interrupted() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !a.json && !clear {
            writeln!(out)?;
        }
    }
}

fn snapshot(ro: &ReadOnlyShm, view: &RingView<'_>) -> Result<Snapshot, crate::Failure> {
    let loc = ro.location();
    let file = loc.file_path();
    let file_size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let mut slots = Vec::with_capacity(view.slot_count());
    for i in 0..view.slot_count() {
        if let Some(info) = view.consumer(i) {
            slots.push((info, ro.consumer_alive(i).ok()));
        }
    }
    Ok(Snapshot {
        ring: match loc {
            shmcast_linux::Location::Shm(n) => n.clone(),
            shmcast_linux::Location::Path(p) => p.display().to_string(),
        },
        file: file.display().to_string(),
        file_size,
        capacity: view.capacity() as u64,
        max_message: view.max_message() as u64,
        checksum: view.checksum(),
        line_aligned: view.line_aligned(),
        huge_page: file
            .parent()
            .and_then(|dir| mount_page_size(dir).ok())
            .map(|b| b as u64),
        status: view.status(),
        producer_alive: ro.producer_alive().ok(),
        slots,
    })
}

fn state_name(s: SlotState) -> String {
    match s {
        SlotState::Free => "free".into(),
        SlotState::Joining => "joining".into(),
        SlotState::Gating => "gating".into(),
        SlotState::Lossy => "lossy".into(),
        SlotState::Evicted => "evicted".into(),
        SlotState::Unknown(v) => format!("unknown({v})"),
    }
}

/// How far `position` trails the tail, in bytes (0 if it seems ahead: the
/// fields were read at slightly different moments).
fn lag(status: &Status, info: &ConsumerInfo) -> u64 {
    status.tail.saturating_sub(info.position)
}

/// The producer's state in words. Liveness comes from the lock file; the
/// header's producer word says whether one is attached.
fn producer_word(s: &Snapshot) -> &'static str {
    match (s.producer_alive, s.status.producer != 0) {
        (Some(true), _) => "alive",
        (None, true) => "attached (liveness unknown: no permission to probe its lock file)",
        (None, false) => "none",
        (Some(false), true) => "dead (its process is gone; the next producer takes over)",
        (Some(false), false) => "none",
    }
}

fn text(s: &Snapshot) -> String {
    let st = &s.status;
    let mut t = format!(
        "ring {}\n  layout v{}, capacity {}, messages up to {}, {} consumer slots, checksums {}, records {}, file {}{}\n",
        if s.ring == s.file {
            s.ring.clone()
        } else {
            format!("{} ({})", s.ring, s.file)
        },
        layout::LAYOUT_VERSION,
        bytes(s.capacity),
        bytes(s.max_message),
        s.slots.len(),
        if s.checksum { "on" } else { "off" },
        records(s.line_aligned),
        bytes(s.file_size),
        s.huge_page
            .map(|p| format!(" on {} huge pages", bytes(p)))
            .unwrap_or_default(),
    );
    t += &format!(
        "producer: {}, epoch {}, tail {}, head {}, latest {}, intent {}, last restart epoch {}\n",
        producer_word(s),
        st.epoch,
        st.tail,
        st.head,
        st.latest,
        st.tail_intent,
        st.restart_epoch
    );
    if s.slots.is_empty() {
        t += "consumers: no slots (lossy readers need none)\n";
    }
    let free: Vec<String> = s
        .slots
        .iter()
        .filter(|(c, _)| c.state == SlotState::Free)
        .map(|(c, _)| c.slot.to_string())
        .collect();
    for (c, alive) in &s.slots {
        if c.state == SlotState::Free {
            continue;
        }
        let lag = lag(st, c);
        t += &format!(
            "slot {}: {}, {}, position {}, lag {} ({:.1}% of the ring), read {}, laps {}, lost {}, producer waited {} rounds\n",
            c.slot,
            state_name(c.state),
            match alive {
                Some(true) => "alive",
                Some(false) => "dead",
                None => "liveness unknown",
            },
            c.position,
            bytes(lag),
            lag as f64 * 100.0 / s.capacity.max(1) as f64,
            c.read_messages,
            c.laps,
            c.lost_messages,
            c.producer_waits
        );
    }
    if !free.is_empty() {
        t += &format!("free slots: {}\n", free.join(", "));
    }
    t.trim_end().to_owned()
}

fn json(s: &Snapshot) -> String {
    let st = &s.status;
    let producer = JsonObject::new()
        .opt_bool("alive", s.producer_alive)
        .bool("attached", st.producer != 0)
        .num("epoch", st.epoch)
        .num("restart_epoch", st.restart_epoch)
        .num("tail", st.tail)
        .num("tail_intent", st.tail_intent)
        .num("head", st.head)
        .num("latest", st.latest)
        .finish();
    let consumers: Vec<String> = s
        .slots
        .iter()
        .map(|(c, alive)| {
            let taken = c.state != SlotState::Free;
            JsonObject::new()
                .num("slot", c.slot as u64)
                .str("state", &state_name(c.state))
                .opt_bool("alive", *alive)
                .num("generation", c.generation)
                .num("position", c.position)
                .opt_num("lag_bytes", taken.then(|| lag(st, c)))
                .num("read_messages", c.read_messages)
                .num("laps", c.laps)
                .num("lost_messages", c.lost_messages)
                .num("producer_waits", c.producer_waits)
                .finish()
        })
        .collect();
    JsonObject::new()
        .str("ring", &s.ring)
        .str("file", &s.file)
        .num("file_size", s.file_size)
        .num("layout_version", layout::LAYOUT_VERSION)
        .num("capacity", s.capacity)
        .num("max_message", s.max_message)
        .num("slots", s.slots.len() as u64)
        .bool("checksum", s.checksum)
        .bool("line_aligned", s.line_aligned)
        .opt_num("huge_page_size", s.huge_page)
        .raw("producer", &producer)
        .raw("consumers", &json_array(&consumers))
        .finish()
}
