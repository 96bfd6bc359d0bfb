//! Each side's cost alone, on lines the other core wrote: fills and drains
//! taking turns, shmcast against bcast and the bare ring, the contenders
//! alternated round by round.
//!
//! ```text
//! cargo run --release -p shmcast-benches --bin handoff -- [--rounds 7]
//!     [--messages 1000000] [--size 32] [--pin 0,1]
//!     [--only bare/words,shmcast/lossy,shmcast/gating,shmcast/gating-batch-64-both,
//!             bcast-1.0.0-rc.7]
//! ```
//!
//! The runs are [`shmcast_benches::handoff`]'s: the producer fills half the
//! ring or less while the consumer waits, then the consumer drains it while
//! the producer waits, so each side's time is its own. A round gives each
//! contender about `--messages` messages in such turns; the figures are the
//! median turn's nanoseconds per message, then the median across rounds and
//! its range, and the drain's and the fill's ratios to bcast 1.0.0-rc.7 and
//! to `bare/words` taken within each round (time against time: below 1 is
//! cheaper). `--pin P,C` puts the producer on CPU P and the consumer on C
//! (default 0,1); `--pin 1,1` keeps the lines in one core, the same work
//! without the transfers.

use shmcast_benches::handoff::{fill_messages, Handoff, Turns};
use shmcast_benches::tool::{self, flags, only, order, pin, spread};
use std::process::ExitCode;

/// Settings of a run.
#[derive(Debug)]
struct Settings {
    rounds: usize,
    messages: u64,
    size: usize,
    contenders: Vec<Handoff>,
    pin: [usize; 2],
}

fn usage() -> String {
    tool::usage(
        "handoff [--rounds N] [--messages N] [--size BYTES] [--pin P,C]",
        &Handoff::ALL,
        Handoff::name,
    )
}

fn parse(args: &[String]) -> Result<Settings, String> {
    let f = flags(args, true, &usage())?;
    let s = Settings {
        rounds: f.rounds.unwrap_or(7),
        messages: f.messages.unwrap_or(1_000_000),
        size: f.size.unwrap_or(32),
        contenders: only(f.only.as_deref(), &Handoff::ALL, Handoff::name)?,
        pin: match f.pin.as_deref() {
            Some(p) => pin(Some(p))?,
            None => [0, 1],
        },
    };
    if s.rounds == 0 || s.messages == 0 || s.contenders.is_empty() {
        return Err("bad --rounds, --messages or --only".into());
    }
    if s.size == 0 || fill_messages(s.size) == 0 {
        return Err(format!("--size {} does not fit half the ring", s.size));
    }
    Ok(s)
}

/// The median and range of `f(row) / f(base row)` across rounds.
fn ratio(rows: &[Vec<Turns>], i: usize, base: usize, f: fn(&Turns) -> f64) -> String {
    let (r, lo, hi) = spread(
        rows[i]
            .iter()
            .zip(&rows[base])
            .map(|(x, b)| f(x) / f(b))
            .collect(),
    );
    format!("{r:.2}x ({lo:.2}-{hi:.2})")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let s = match parse(&args) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("handoff: {msg}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let msg = vec![0x5a; s.size];
    let fills = s.messages.div_ceil(fill_messages(s.size));
    // Each contender's turns, round by round.
    let mut rows: Vec<Vec<Turns>> = vec![Vec::new(); s.contenders.len()];
    for &c in &s.contenders {
        // Warm-up (page faults, frequency), not counted.
        c.run(fills.div_ceil(10), &msg, s.pin);
    }
    for round in 0..s.rounds {
        for i in order(round, s.contenders.len()) {
            let c = s.contenders[i];
            let t = c.run(fills, &msg, s.pin);
            eprintln!(
                "round {round} {:>18}: fill {:6.2} ns/msg, drain {:6.2} ns/msg",
                c.name(),
                t.fill,
                t.drain
            );
            rows[i].push(t);
        }
    }
    tool::title(&format!(
        "{}-byte messages, turns of {} ({} rounds x {} turns; producer on CPU {}, consumer on CPU {}; \
         ns per message, median across rounds; ratios of times within each round)",
        s.size,
        fill_messages(s.size),
        s.rounds,
        fills,
        s.pin[0],
        s.pin[1]
    ));
    let find = |h: Handoff| s.contenders.iter().position(|&c| c == h);
    println!(
        "| contender | drain | range | / bcast-rc | / bare | fill | range | / bcast-rc | / bare |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let drain = |t: &Turns| t.drain;
    let fill = |t: &Turns| t.fill;
    for (i, &c) in s.contenders.iter().enumerate() {
        let (d, dlo, dhi) = spread(rows[i].iter().map(drain).collect());
        let (f, flo, fhi) = spread(rows[i].iter().map(fill).collect());
        let vs = |base: Option<usize>, g| base.map_or("-".into(), |b| ratio(&rows, i, b, g));
        println!(
            "| {} | {d:.2} | {dlo:.2}-{dhi:.2} | {} | {} | {f:.2} | {flo:.2}-{fhi:.2} | {} | {} |",
            c.name(),
            vs(find(Handoff::BcastRc), drain),
            vs(find(Handoff::Bare), drain),
            vs(find(Handoff::BcastRc), fill),
            vs(find(Handoff::Bare), fill),
        );
    }
    ExitCode::SUCCESS
}
