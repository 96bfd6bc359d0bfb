//! The producer's cost with 1, 2, 4 and 8 lossy consumers behind it,
//! shmcast against bcast, the consumer counts and contenders alternated
//! round by round.
//!
//! ```text
//! cargo run --release -p shmcast-benches --bin fanout -- [--rounds 9]
//!     [--messages 2000000] [--pin 0,1] [--only shmcast,bcast-1.0.0-rc.7,bcast-0.0.31]
//! ```
//!
//! The runs are the criterion bench `fanout`'s lossy group
//! (`shmcast_benches::fanout`): the figure is the producer thread's CPU time
//! per message, 32-byte messages. Criterion measures one consumer count after
//! another, so on a shared machine the drift between them swamps a 5%
//! difference; here each round runs every (contender, count) pair once, in an
//! order reversed every other round, and the ratio of each count's cost to
//! the cost with one consumer is taken within the round. The summary gives
//! medians across rounds and their range. `--pin P,C` runs the producer on
//! CPU P and every consumer on CPU C: the consumers share one core whatever
//! their number, and the producer has its own.

use shmcast_benches::fanout::{Lossy, CONSUMERS};
use shmcast_benches::tool::{self, flags, only, order, pin, spread};
use std::process::ExitCode;

/// Settings of a run.
#[derive(Debug)]
struct Settings {
    rounds: usize,
    messages: u64,
    contenders: Vec<Lossy>,
    pin: Option<[usize; 2]>,
}

fn usage() -> String {
    tool::usage(
        "fanout [--rounds N] [--messages N] [--pin PRODUCER_CPU,CONSUMERS_CPU]",
        &Lossy::ALL,
        Lossy::name,
    )
}

fn parse(args: &[String]) -> Result<Settings, String> {
    let f = flags(args, false, &usage())?;
    let s = Settings {
        rounds: f.rounds.unwrap_or(9),
        messages: f.messages.unwrap_or(2_000_000),
        contenders: only(f.only.as_deref(), &Lossy::ALL, Lossy::name)?,
        pin: f.pin.as_deref().map(|p| pin(Some(p))).transpose()?,
    };
    if s.rounds == 0 || s.messages == 0 || s.contenders.is_empty() {
        return Err("bad --rounds, --messages or --only".into());
    }
    Ok(s)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let s = match parse(&args) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("fanout: {msg}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    // Every (contender, consumer count) pair, in the order of the first round.
    let pairs: Vec<(Lossy, usize)> = s
        .contenders
        .iter()
        .flat_map(|&c| CONSUMERS.into_iter().map(move |k| (c, k)))
        .collect();
    // Warm up each pair once (page faults, frequency), not counted.
    for &(c, k) in &pairs {
        let _ = c.run((s.messages / 10).max(1), k, s.pin);
    }
    // The producer's CPU nanoseconds per message, per pair, per round.
    let mut costs: Vec<Vec<f64>> = vec![Vec::new(); pairs.len()];
    for round in 0..s.rounds {
        for i in order(round, pairs.len()) {
            let (c, k) = pairs[i];
            let ns = c.run(s.messages, k, s.pin).as_nanos() as f64 / s.messages as f64;
            eprintln!("round {round} {:>17} x{k}: {ns:6.2} ns/msg", c.name());
            costs[i].push(ns);
        }
    }
    tool::title(&format!(
        "1 producer, N lossy consumers, 32 bytes ({} rounds x {} messages; the producer's CPU ns \
         per message, median across rounds{})",
        s.rounds,
        s.messages,
        match s.pin {
            Some([p, c]) => format!("; producer on CPU {p}, consumers on CPU {c}"),
            None => String::new(),
        }
    ));
    println!("| contender | consumers | ns/msg | range | / 1 consumer (per round) | range |");
    println!("|---|---|---|---|---|---|");
    for (i, &(c, k)) in pairs.iter().enumerate() {
        let (med, lo, hi) = spread(costs[i].clone());
        let one = pairs
            .iter()
            .position(|&p| p == (c, 1))
            .expect("every contender runs with one consumer");
        let (r, rlo, rhi) = spread(
            costs[i]
                .iter()
                .zip(&costs[one])
                .map(|(x, y)| x / y)
                .collect(),
        );
        println!(
            "| {} | {k} | {med:.2} | {lo:.2}-{hi:.2} | {r:.3}x | {rlo:.3}-{rhi:.3} |",
            c.name()
        );
    }
    ExitCode::SUCCESS
}
