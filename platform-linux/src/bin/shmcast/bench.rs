//! `shmcast bench`: a producer and N consumers, each its own process, over a
//! fresh ring; prints throughput, losses and one-way latency percentiles.
//! The measuring is [`shmcast_linux::bench`]'s; this is the command line.

use indicatif::{ProgressBar, ProgressStyle};
use shmcast::SlotState;
use shmcast_linux::bench::{
    merged_latency, percentiles, ConsumerReport, Mode, Params, ProducerReport,
};
use shmcast_linux::ShmRing;

use crate::args::{BenchArgs, BenchMode};
use crate::output::{bytes, count, duration_ns, rate, records};
use crate::spawn::{Finished, Place, Run};
use crate::{Failure, Outcome};

/// Run the benchmark and print what it measured.
pub fn run(a: &BenchArgs) -> Outcome {
    let params = Params {
        consumers: usize::from(a.consumers),
        size: a.size,
        messages: a.messages,
        mode: match a.mode {
            BenchMode::Lossy => Mode::Lossy,
            BenchMode::Gating => Mode::Gating,
        },
        rate: a.rate,
        capacity: a.capacity,
        line_aligned: a.line_aligned,
    };
    params.check().map_err(Failure::Usage)?;
    let place = match (&a.path, a.hugepages) {
        (Some(p), _) => Place::Path(p),
        (None, true) => Place::Huge(a.hugepage_size.into()),
        (None, false) => Place::Shm,
    };
    let mut run = Run::create("shmcast-bench", place, &params.ring_config())?;
    println!(
        "shmcast bench: 1 producer, {} {} consumer{}, {} messages of {}{}, ring {} of {}, records {}",
        params.consumers,
        params.mode.name(),
        if params.consumers == 1 { "" } else { "s" },
        count(params.messages),
        bytes(params.size as u64),
        params
            .rate
            .map(|r| format!(" at {} msgs/s", rate(r as f64)))
            .unwrap_or_default(),
        run.location().display(),
        bytes(run.ring().ring().capacity() as u64),
        records(run.ring().ring().line_aligned()),
    );
    let (producer, consumers) = spawn_and_wait(&mut run, &params, None)?;
    drop(run);
    report(&params, &producer, &consumers);
    Ok(())
}

/// Start the consumers, then the producer; wait for all of them with a
/// progress bar (on a terminal); read their reports.
pub fn spawn_and_wait(
    run: &mut Run,
    params: &Params,
    consumer_args: Option<&dyn Fn(usize) -> Vec<String>>,
) -> Result<(ProducerReport, Vec<ConsumerReport>), Failure> {
    for i in 0..params.consumers {
        let mut args = match consumer_args {
            Some(f) => f(i),
            None => Vec::new(),
        };
        if params.mode == Mode::Gating && !args.iter().any(|a| a == "--gating") {
            args.push("--gating".into());
        }
        run.spawn(&format!("consumer {i}"), "consumer", &args)?;
    }
    let mut producer_args = vec![
        "--consumers".to_string(),
        params.consumers.to_string(),
        "--size".into(),
        params.size.to_string(),
        "--messages".into(),
        params.messages.to_string(),
    ];
    if let Some(r) = params.rate {
        producer_args.extend(["--rate".into(), r.to_string()]);
    }
    run.spawn("producer", "producer", &producer_args)?;

    let bar = ProgressBar::new(params.messages);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} messages, {eta} to go",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let finished = run.wait(|ring| bar.set_position(progress(ring)));
    bar.finish_and_clear();
    parse(&finished?)
}

/// Messages the slowest consumer has dealt with (read or lost).
fn progress(ring: &ShmRing) -> u64 {
    let r = ring.ring();
    (0..r.slot_count())
        .filter_map(|i| r.consumer(i))
        .filter(|c| c.state != SlotState::Free)
        .map(|c| c.read_messages.saturating_add(c.lost_messages))
        .min()
        .unwrap_or(0)
}

fn parse(finished: &[Finished]) -> Result<(ProducerReport, Vec<ConsumerReport>), Failure> {
    let mut producer = None;
    let mut consumers = Vec::new();
    for f in finished {
        let line = f.stdout.lines().last().unwrap_or("");
        let bad = |e| Failure::Runtime(format!("the {} sent an unreadable report: {e}", f.label));
        if f.label == "producer" {
            producer = Some(ProducerReport::from_line(line).map_err(bad)?);
        } else {
            consumers.push(ConsumerReport::from_line(line).map_err(bad)?);
        }
    }
    let producer =
        producer.ok_or_else(|| Failure::Runtime("the producer sent no report".into()))?;
    Ok((producer, consumers))
}

fn report(params: &Params, p: &ProducerReport, consumers: &[ConsumerReport]) {
    println!(
        "producer: sent {} messages in {}: {} msgs/s, {:.1} MB/s",
        count(p.sent),
        duration_ns(p.elapsed_ns),
        rate(p.msgs_per_sec()),
        p.mb_per_sec()
    );
    let mut exact = true;
    for (i, c) in consumers.iter().enumerate() {
        exact &= c.received.saturating_add(c.lost) == p.sent;
        println!(
            "consumer {i} ({}): received {} messages, {} msgs/s; lapped {} times, lost {} messages",
            if c.gating { "gating" } else { "lossy" },
            count(c.received),
            rate(c.msgs_per_sec()),
            count(c.laps),
            count(c.lost),
        );
    }
    println!(
        "loss accounting: {}",
        if exact {
            "received + lost = sent for every consumer".to_string()
        } else {
            format!(
                "MISMATCH: received + lost differs from the {} sent",
                count(p.sent)
            )
        }
    );
    let all = merged_latency(consumers);
    let figures: Vec<String> = percentiles(&all)
        .iter()
        .map(|(label, ns)| format!("{label} {}", duration_ns(*ns)))
        .collect();
    println!(
        "one-way latency over {} samples{}: {}",
        count(all.len()),
        if params.rate.is_some() {
            " (from the intended send times)"
        } else {
            " (unpaced: includes queueing behind a full-speed producer; --rate measures latency at a load)"
        },
        figures.join(", ")
    );
}
