//! Large messages written into and read out of a ring against `memcpy` of
//! the same bytes, the contenders alternated round by round.
//!
//! ```text
//! cargo run --release -p shmcast-benches --bin copy -- [--rounds 9]
//!     [--messages 200000] [--size 4096] [--pin 0] [--offset BYTES]
//!     [--only write/shmcast,write/memcpy,read/shmcast,read/memcpy]
//! ```
//!
//! The runs are [`shmcast_benches::copy`]'s: the figure is the time per
//! message, and each contender's bandwidth against its floor (`memcpy` the
//! same way round) is taken within the round, as the ratio of the floor's
//! time to the contender's. Criterion's `single_thread` groups measure one
//! contender after another, so on a shared machine their drift can swamp the
//! difference; here each round runs every contender once, in an order
//! reversed every other round, and the summary gives medians across rounds
//! and their range. `--pin C` runs on CPU C. `--offset B` starts the
//! readers' buffer (both contenders') B bytes past a 64-byte line, rather
//! than where the allocator puts it: where a read's stores fall in the
//! buffer's lines moves its cost.

use shmcast_benches::copy::{Bench, Copier};
use shmcast_benches::tool::{self, flags, number, only, order, pin_to, spread};
use std::process::ExitCode;

/// Settings of a run.
#[derive(Debug)]
struct Settings {
    rounds: usize,
    messages: u64,
    size: usize,
    contenders: Vec<Copier>,
    pin: Option<usize>,
    offset: Option<usize>,
}

fn usage() -> String {
    tool::usage(
        "copy [--rounds N] [--messages N] [--size BYTES] [--pin CPU] [--offset BYTES (0..64)]",
        &Copier::ALL,
        Copier::name,
    )
}

fn parse(args: &[String]) -> Result<Settings, String> {
    // `--offset` is this tool's own; the rest are the shared flags.
    let mut offset = None;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--offset" {
            offset = Some(number("--offset", it.next().map(String::as_str))?);
        } else {
            rest.push(arg.clone());
        }
    }
    let f = flags(&rest, true, &usage())?;
    let mut s = Settings {
        rounds: f.rounds.unwrap_or(9),
        messages: f.messages.unwrap_or(200_000),
        size: f.size.unwrap_or(4096),
        contenders: only(f.only.as_deref(), &Copier::ALL, Copier::name)?,
        pin: f
            .pin
            .as_deref()
            .map(|p| number("--pin", Some(p)))
            .transpose()?,
        offset,
    };
    if offset.is_some_and(|o| o >= 64) {
        return Err("--offset is a place within a 64-byte line: 0 to 63".into());
    }
    if s.rounds == 0 || s.messages == 0 || s.size == 0 || s.contenders.is_empty() {
        return Err("bad --rounds, --messages, --size or --only".into());
    }
    // Every contender is measured against its floor, run beside it.
    for c in s.contenders.clone() {
        if !s.contenders.contains(&c.floor()) {
            s.contenders.push(c.floor());
        }
    }
    if s.size > shmcast_benches::copy::CAPACITY / 4 {
        return Err(format!(
            "--size {} is more than a quarter of the {}-byte ring",
            s.size,
            shmcast_benches::copy::CAPACITY
        ));
    }
    Ok(s)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let s = match parse(&args) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("copy: {msg}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    if let Some(cpu) = s.pin {
        pin_to(cpu);
    }
    let mut bench = Bench::placed(s.size, s.offset);
    // Warm up each contender once (page faults, frequency), not counted.
    for &c in &s.contenders {
        bench.run(c, (s.messages / 10).max(1));
    }
    // Nanoseconds per message, per contender, per round.
    let mut costs: Vec<Vec<f64>> = vec![Vec::new(); s.contenders.len()];
    for round in 0..s.rounds {
        for i in order(round, s.contenders.len()) {
            let c = s.contenders[i];
            let ns = bench.run(c, s.messages).as_nanos() as f64 / s.messages as f64;
            eprintln!("round {round} {:>13}: {ns:8.2} ns/msg", c.name());
            costs[i].push(ns);
        }
    }
    tool::title(&format!(
        "{}-byte messages ({} rounds x {} messages, read into a buffer {} bytes past a line{}; ns per message, median across rounds{})",
        s.size,
        s.rounds,
        s.messages,
        bench.buffer_offset(),
        if s.offset.is_none() { ", where the allocator put it" } else { "" },
        match s.pin {
            Some(cpu) => format!("; on CPU {cpu}"),
            None => String::new(),
        }
    ));
    println!("| contender | ns/msg | range | GB/s | bandwidth / memcpy (per round) | range |");
    println!("|---|---|---|---|---|---|");
    for (i, &c) in s.contenders.iter().enumerate() {
        let (med, lo, hi) = spread(costs[i].clone());
        let floor = s
            .contenders
            .iter()
            .position(|&f| f == c.floor())
            .expect("every floor runs");
        let (r, rlo, rhi) = spread(
            costs[floor]
                .iter()
                .zip(&costs[i])
                .map(|(f, x)| f / x)
                .collect(),
        );
        println!(
            "| {} | {med:.2} | {lo:.2}-{hi:.2} | {:.1} | {r:.3}x | {rlo:.3}-{rhi:.3} |",
            c.name(),
            s.size as f64 / med,
        );
    }
    ExitCode::SUCCESS
}
