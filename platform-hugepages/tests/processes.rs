//! Real processes over a hugetlbfs ring: a producer and two gating consumers,
//! each its own process, every message checked.
//!
//! Child processes are this test binary re-run with `--ignored --exact child`
//! and the role in the environment.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shmcast::{Read, RingConfig};
use shmcast_hugepages::{check_backing, PageSize};
use shmcast_linux::{Location, Options, Phases, ShmRing};

use common::HugeName;

const SIZE: PageSize = PageSize::Huge2M;
const MESSAGES: u64 = 300_000;

fn len_of(seq: u64) -> usize {
    (seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 57) as usize + 8
}

fn content(seq: u64, len: usize) -> Vec<u8> {
    let mut v = seq.to_le_bytes().to_vec();
    v.extend((8..len).map(|i| (seq as u8) ^ (i as u8).wrapping_mul(31)));
    v
}

/// A child process that is killed if the test ends (or fails) before it does.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(role: &str, ring: &Location) -> Kid {
    let Location::Path(path) = ring else {
        panic!("hugetlbfs rings are files")
    };
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SHMCAST_ROLE", role)
        .env("SHMCAST_RING", path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Kid(child)
}

/// The child's next `@`-message (libtest may print before it on the line).
fn expect_line(lines: &mut impl BufRead, want: &str) -> String {
    let want = format!("@{want}");
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).unwrap() == 0 {
            panic!("child ended before saying {want:?}");
        }
        if let Some(at) = line.find(&want) {
            return line[at + 1..].trim_end().to_owned();
        }
    }
}

fn say(s: &str) {
    let mut o = std::io::stdout();
    writeln!(o, "@{s}").unwrap();
    o.flush().unwrap();
}

/// The child side: what a role does.
#[test]
#[ignore = "run as a child process by the other tests"]
fn child() {
    let role = std::env::var("SHMCAST_ROLE").unwrap();
    let loc = Location::path(std::env::var("SHMCAST_RING").unwrap());
    let ring = ShmRing::open(&loc, &Options::default()).unwrap();
    check_backing(&ring, SIZE).unwrap();
    match role.as_str() {
        "producer" => {
            let mut p = ring.producer().unwrap();
            p.set_gating_wait(Phases::default(), Duration::from_secs(60));
            for seq in 0..MESSAGES {
                assert_eq!(p.write(&content(seq, len_of(seq))).unwrap(), seq);
            }
            say("done");
        }
        "consumer" => {
            let mut c = ring.gating_consumer().unwrap();
            say("joined");
            let mut buf = vec![0u8; 256];
            let mut next = 0u64;
            let mut idle = 0u32;
            let deadline = Instant::now() + Duration::from_secs(120);
            while next < MESSAGES {
                match c.try_read(&mut buf).unwrap() {
                    Read::Message(m) => {
                        assert_eq!(m.seq, next, "a gating consumer loses nothing");
                        assert_eq!(&buf[..m.len], &content(m.seq, len_of(m.seq))[..]);
                        next += 1;
                        idle = 0;
                    }
                    Read::Empty => {
                        // Back off: spin, then yield, then nap.
                        idle += 1;
                        if idle > 1000 {
                            std::thread::sleep(Duration::from_micros(50));
                        } else if idle > 64 {
                            std::thread::yield_now();
                        } else {
                            std::hint::spin_loop();
                        }
                        assert!(Instant::now() < deadline, "stalled at {next}");
                    }
                    other => panic!("unexpected {other:?} at {next}"),
                }
            }
            say(&format!("read {next}"));
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn a_producer_and_two_consumers_in_separate_processes() {
    let Some(dir) = common::mount(SIZE, 2) else {
        return;
    };
    let name = HugeName::new(&dir, "procs");
    // 64 KiB asked; one 2 MiB page given, so the ring holds 1 MiB and the
    // 300,000 messages (about 20 MiB of records) lap it many times.
    let ring = ShmRing::create(
        &name.0,
        &RingConfig::new(1 << 16).slots(2),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(ring.ring().capacity(), 1 << 20);
    check_backing(&ring, SIZE).unwrap();

    let mut consumers: Vec<(Kid, BufReader<std::process::ChildStdout>)> = (0..2)
        .map(|_| {
            let mut kid = spawn("consumer", &name.0);
            let out = BufReader::new(kid.0.stdout.take().unwrap());
            (kid, out)
        })
        .collect();
    for (_, out) in &mut consumers {
        expect_line(out, "joined");
    }
    let mut producer = spawn("producer", &name.0);
    let mut out = BufReader::new(producer.0.stdout.take().unwrap());
    expect_line(&mut out, "done");
    assert!(producer.0.wait().unwrap().success());
    for (kid, out) in &mut consumers {
        assert_eq!(expect_line(out, "read"), format!("read {MESSAGES}"));
        assert!(kid.0.wait().unwrap().success());
    }
    let status = ring.ring().status();
    assert!(!ring.producer_alive().unwrap());
    assert_eq!(
        ring.ring().writer().unwrap().next_seq(),
        MESSAGES,
        "{status:?}"
    );
}
