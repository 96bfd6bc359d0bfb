//! One producer, one consumer on two threads, shmcast against its peers,
//! the contenders alternated round by round.
//!
//! ```text
//! cargo run --release -p shmcast-benches --bin throughput -- [--rounds 7]
//!     [--messages 2000000] [--size 32] [--pin 0,1]
//!     [--only shmcast/gating,bcast-1.0.0-rc.7/credit,...]
//! ```
//!
//! The runs are those of the criterion bench `throughput`
//! (`shmcast_benches::spsc`, where the peers' semantics are described). On a
//! shared machine the speed of two threads changes from one second to the
//! next (where the scheduler put the vCPUs, what else runs): criterion
//! measures one contender after another, so its ratios carry that drift.
//! Here each round runs every contender once, in an order reversed every other
//! round, and the ratio to bcast 1.0.0-rc.7 (its run with the same consumer:
//! `-busy` to `-busy`) is taken within each round, where
//! the machine was the same for both; the summary gives medians across rounds
//! and their range; the ratio to `bare/words` (shmcast's shape of ring with
//! none of its checks, `shmcast_benches::bare`) likewise. A lossy consumer
//! skips what the producer overwrote before it got there: the last column is the share of the messages it received
//! (median across rounds, and the smallest). `--pin P,C` runs every producer on CPU P and every
//! consumer on CPU C, so that the scheduler neither moves them nor puts both
//! on one CPU (where the lines never leave one cache and the figure is no
//! longer a cross-core one).

use shmcast_benches::spsc::Contender;
use shmcast_benches::tool::{self, flags, only, order, pin, spread};
use std::process::ExitCode;

/// Settings of a run.
#[derive(Debug)]
struct Settings {
    rounds: usize,
    messages: u64,
    size: usize,
    contenders: Vec<Contender>,
    pin: Option<[usize; 2]>,
}

fn usage() -> String {
    tool::usage(
        "throughput [--rounds N] [--messages N] [--size BYTES (1..=65536)] [--pin PRODUCER_CPU,CONSUMER_CPU]",
        &Contender::ALL,
        Contender::name,
    )
}

fn parse(args: &[String]) -> Result<Settings, String> {
    let f = flags(args, true, &usage())?;
    let mut s = Settings {
        rounds: f.rounds.unwrap_or(7),
        messages: f.messages.unwrap_or(2_000_000),
        size: f.size.unwrap_or(32),
        contenders: only(f.only.as_deref(), &Contender::ALL, Contender::name)?,
        pin: f.pin.as_deref().map(|p| pin(Some(p))).transpose()?,
    };
    if !(1..=65536).contains(&s.size) || s.rounds == 0 || s.messages == 0 {
        return Err("bad --size, --rounds or --messages".into());
    }
    s.contenders.retain(|c| c.supports(s.size));
    if s.contenders.is_empty() {
        return Err(format!("no contender moves {}-byte messages", s.size));
    }
    Ok(s)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let s = match parse(&args) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("throughput: {msg}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let msg = vec![9u8; s.size];
    // Warm up each contender once (page faults, frequency), not counted.
    for c in &s.contenders {
        let _ = c.run((s.messages / 10).max(1), &msg, s.pin);
    }
    // Million messages per second sent, and the fraction the consumer got,
    // per contender, per round.
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); s.contenders.len()];
    let mut delivered: Vec<Vec<f64>> = vec![Vec::new(); s.contenders.len()];
    for round in 0..s.rounds {
        for i in order(round, s.contenders.len()) {
            let c = s.contenders[i];
            let Some(run) = c.run_counted(s.messages, &msg, s.pin) else {
                continue;
            };
            let rate = s.messages as f64 / run.took.as_secs_f64() / 1e6;
            let got = run.delivered as f64 / s.messages as f64;
            eprintln!(
                "round {round} {:>26}: {rate:8.1} M msg/s, {:5.1}% delivered",
                c.name(),
                got * 100.0
            );
            rates[i].push(rate);
            delivered[i].push(got);
        }
    }
    tool::title(&format!(
        "1 producer, 1 consumer, {} bytes ({} rounds x {} messages; M msg/s, median across rounds)",
        s.size, s.rounds, s.messages
    ));
    println!(
        "| contender | M msg/s | range | MB/s | / bcast-rc (per round) | range | / bare (per round) | range | delivered |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    // The median and range of the per-round ratios of `v` to the rates of
    // the contender `base`, if it ran.
    let ratio = |v: &Vec<f64>, base: Contender| match s.contenders.iter().position(|b| *b == base) {
        Some(b) => {
            let (r, rlo, rhi) = spread(v.iter().zip(&rates[b]).map(|(x, y)| x / y).collect());
            format!("{r:.2}x | {rlo:.2}-{rhi:.2}")
        }
        None => "- | -".into(),
    };
    for ((c, v), got) in s.contenders.iter().zip(&rates).zip(&delivered) {
        let (med, lo, hi) = spread(v.clone());
        let (got, got_lo, _) = spread(got.clone());
        let got = if got_lo == 1.0 {
            "100%".to_string()
        } else {
            format!("{:.0}% (min {:.0}%)", got * 100.0, got_lo * 100.0)
        };
        println!(
            "| {} | {med:.1} | {lo:.1}-{hi:.1} | {:.0} | {} | {} | {got} |",
            c.name(),
            med * s.size as f64,
            ratio(v, c.base()),
            ratio(v, Contender::Bare),
        );
    }
    ExitCode::SUCCESS
}
