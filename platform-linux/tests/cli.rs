//! The `shmcast` tool, run as a real binary over real /dev/shm and files:
//! every command, its exit status, its output, and what it leaves behind.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};
use serde_json::Value;
use shmcast_linux::{remove, Location};

const BIN: &str = env!("CARGO_BIN_EXE_shmcast");

/// How long any single expectation may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// A ring name unique to this test and process, removed (with its lock
/// files) on drop.
struct Ring {
    name: String,
    loc: Location,
}

impl Ring {
    fn new(test: &str) -> Ring {
        let name = format!("cli-{test}-{}", std::process::id());
        let loc = Location::shm(&name).unwrap();
        let _ = remove(&loc);
        Ring { name, loc }
    }

    /// A ring in a file under the system temp directory.
    fn file(test: &str) -> (Ring, PathBuf) {
        let path = std::env::temp_dir().join(format!("cli-{test}-{}.ring", std::process::id()));
        let loc = Location::path(&path);
        let _ = remove(&loc);
        (
            Ring {
                name: path.display().to_string(),
                loc,
            },
            path,
        )
    }

    fn file_path(&self) -> PathBuf {
        self.loc.file_path()
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let _ = remove(&self.loc);
    }
}

/// A child process, killed if the test ends before it does.
struct Kid {
    child: Child,
    lines: Receiver<String>,
    errors: Receiver<String>,
}

impl Kid {
    /// Start `shmcast ARGS` with its output read line by line in the background.
    fn spawn(args: &[&str], stdin: bool) -> Kid {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = pipe_lines(child.stdout.take().unwrap());
        let errors = pipe_lines(child.stderr.take().unwrap());
        Kid {
            child,
            lines,
            errors,
        }
    }

    fn pid(&self) -> Pid {
        Pid::from_child(&self.child)
    }

    fn signal(&self, sig: Signal) {
        kill_process(self.pid(), sig).unwrap();
    }

    fn stdin(&mut self) -> &mut ChildStdin {
        self.child.stdin.as_mut().unwrap()
    }

    /// The next line of standard output.
    fn line(&self) -> String {
        self.lines
            .recv_timeout(PATIENCE)
            .expect("no line on standard output in time")
    }

    /// The next line of standard error.
    fn error_line(&self) -> String {
        self.errors
            .recv_timeout(PATIENCE)
            .expect("no line on standard error in time")
    }

    /// Wait for the exit status, at most `PATIENCE`.
    fn wait(&mut self) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("killed by a signal");
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the command did not exit in time"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything left on standard error (after exit).
    fn rest_of_errors(&self) -> String {
        let mut s = String::new();
        while let Ok(l) = self.errors.recv_timeout(Duration::from_secs(1)) {
            s += &l;
            s.push('\n');
        }
        s
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pipe_lines(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            match line {
                Ok(l) => {
                    if tx.send(l).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    rx
}

/// Run `shmcast ARGS` to the end, with `input` on standard input.
fn run(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A command that fails before it reads (a missing ring, a second
    // producer) may have closed its end already: its output says why.
    if let Err(e) = stdin.write_all(input.as_bytes()) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing to {args:?}: {e}"
        );
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("killed by a signal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Run and expect success; return standard output.
fn ok(args: &[&str], input: &str) -> String {
    let o = run(args, input);
    assert_eq!(code(&o), 0, "{args:?} failed: {}", stderr(&o));
    stdout(&o)
}

fn stat_json(ring: &[&str]) -> Value {
    let mut args = vec!["stat", "--json"];
    args.extend_from_slice(ring);
    serde_json::from_str(ok(&args, "").trim()).unwrap()
}

/// Wait until `cond` holds, backing off (spin is pointless across processes).
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Files in /dev/shm whose names start with `prefix`.
/// The ring `name` in /dev/shm and its lock files (`name.ROLE.lock`); not
/// the files of a ring whose name merely starts the same.
fn shm_files(name: &str) -> Vec<String> {
    let locks = format!("{name}.");
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n == name || (n.starts_with(&locks) && n.ends_with(".lock")))
        .collect()
}

/// Processes whose command line mentions `needle`.
fn processes_with(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn create_and_rm_with_exit_codes() {
    let ring = Ring::new("create");
    let n = ring.name.as_str();
    let out = ok(&["create", n, "--capacity", "64K", "--consumers", "3"], "");
    assert!(
        out.contains("capacity 64 KiB") && out.contains("3 consumer slots"),
        "{out}"
    );
    let mode = std::fs::metadata(ring.file_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o600);

    // Exists: a runtime failure that names the ring and the remedy.
    let o = run(&["create", n], "");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains(n) && stderr(&o).contains("shmcast rm"),
        "{}",
        stderr(&o)
    );

    assert!(ok(&["rm", n], "").contains("removed"));
    assert!(!ring.file_path().exists());
    let o = run(&["rm", n], "");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));

    // Usage errors: exit 2, nothing created.
    for args in [
        vec!["create", "a/b"],
        vec!["create", ""],
        vec!["create"],
        vec!["create", n, "--capacity", "1000"],
        vec!["create", n, "--capacity", "lots"],
        vec!["create", n, "--mode", "0800"],
        vec!["create", n, "--bogus"],
        vec!["tail", n, "--format", "xml"],
        vec!["tail", n, "--gating", "--from", "oldest"],
        vec!["bench", "--size", "8"],
        vec!["bench", "--consumers", "0"],
        vec!["frobnicate"],
        vec![],
    ] {
        let o = run(&args, "");
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    }
    assert!(!ring.file_path().exists());

    // Any mode asked for, whatever the umask.
    ok(&["create", n, "--mode", "0640"], "");
    let mode = std::fs::metadata(ring.file_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o640);
}

#[test]
fn missing_ring_and_second_producer_are_runtime_errors() {
    let ring = Ring::new("missing");
    let n = ring.name.as_str();
    for args in [vec!["pub", n], vec!["tail", n], vec!["stat", n]] {
        let o = run(&args, "x\n");
        assert_eq!(code(&o), 1, "{args:?}");
        assert!(
            stderr(&o).contains(n) && stderr(&o).contains("shmcast create"),
            "{}",
            stderr(&o)
        );
    }

    ok(&["create", n], "");
    let mut first = Kid::spawn(&["pub", n], true);
    eventually("the first producer", || {
        stat_json(&[n])["producer"]["alive"] == Value::Bool(true)
    });
    let o = run(&["pub", n], "x\n");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("live producer"), "{}", stderr(&o));
    drop(first.child.stdin.take());
    assert_eq!(first.wait(), 0);

    // Ctrl-C while input idles: the producer detaches cleanly, publishing
    // what it had.
    let mut idle = Kid::spawn(&["pub", n], true);
    idle.stdin().write_all(b"before ctrl-c\n").unwrap();
    idle.stdin().flush().unwrap();
    eventually("the message", || {
        ok(&["tail", n, "--from", "oldest", "--count", "1"], "") == "before ctrl-c\n"
    });
    idle.signal(Signal::INT);
    assert_eq!(idle.wait(), 0);
    let s = stat_json(&[n]);
    assert_eq!(s["producer"]["alive"], false);
    assert_eq!(s["producer"]["attached"], false);
}

#[test]
fn pub_then_tail_in_every_format() {
    let ring = Ring::new("formats");
    let n = ring.name.as_str();
    ok(&["create", n, "--checksum", "--line-aligned"], "");
    let made = stat_json(&[n]);
    assert_eq!(
        (made["checksum"].clone(), made["line_aligned"].clone()),
        (true.into(), true.into())
    );
    let lines = "hello\nquote \" and \\ backslash\n\ttab \u{1} ctrl é\n\nlast";
    ok(&["pub", n, "--tag", "7"], lines);

    let text = ok(&["tail", n, "--from", "oldest", "--count", "5"], "");
    assert_eq!(
        text,
        "hello\nquote \" and \\\\ backslash\n\ttab \\x01 ctrl é\n\nlast\n"
    );

    let json = ok(
        &[
            "tail", n, "--from", "oldest", "--count", "5", "--format", "json",
        ],
        "",
    );
    let expected: Vec<&str> = lines.split('\n').collect();
    let rows: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["seq"], i as u64);
        assert_eq!(row["tag"], 7);
        assert_eq!(row["len"], expected[i].len());
        assert_eq!(row["payload"], expected[i]);
    }

    let hex = ok(
        &[
            "tail", n, "--from", "oldest", "--count", "1", "--format", "hex",
        ],
        "",
    );
    assert_eq!(hex, "#0 tag 7 len 5: 68656c6c6f\n");

    // A message that is not UTF-8 comes out as hex in JSON.
    let (file_ring, path) = Ring::file("binary");
    let p = path.to_str().unwrap();
    ok(&["create", "--path", p], "");
    let mut publisher = Kid::spawn(&["pub", "--path", p], true);
    publisher.stdin().write_all(b"\xff\xfe\n").unwrap();
    drop(publisher.child.stdin.take());
    assert_eq!(publisher.wait(), 0);
    let json = ok(
        &[
            "tail", "--path", p, "--from", "oldest", "--count", "1", "--format", "json",
        ],
        "",
    );
    let row: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(row["payload_hex"], "fffe");
    assert!(row.get("payload").is_none());
    drop(file_ring);
}

#[test]
fn tail_follows_a_live_producer_and_sees_a_restart() {
    let ring = Ring::new("restart");
    let n = ring.name.as_str();
    ok(&["create", n], "");
    ok(&["pub", n], "a\n");
    let mut tail = Kid::spawn(&["tail", n, "--from", "oldest", "--count", "4"], false);
    assert_eq!(tail.line(), "a");
    // A new producer that continues: no restart.
    ok(&["pub", n], "b\n");
    assert_eq!(tail.line(), "b");
    // One that restarts the stream: reported on standard error.
    ok(&["pub", n, "--restart"], "c\nd\n");
    let err = tail.error_line();
    assert!(err.contains("restarted the stream"), "{err}");
    assert_eq!(tail.line(), "c");
    assert_eq!(tail.line(), "d");
    assert_eq!(tail.wait(), 0);
}

#[test]
fn tail_reports_a_lap_with_exact_losses() {
    let ring = Ring::new("lap");
    let n = ring.name.as_str();
    ok(&["create", n, "--capacity", "4K"], "");
    ok(&["pub", n], "0\n");
    let mut tail = Kid::spawn(&["tail", n, "--from", "oldest"], false);
    assert_eq!(tail.line(), "0");
    // Freeze the tail, and lap it several times over.
    tail.signal(Signal::STOP);
    const SENT: u64 = 500;
    let input: String = (1..=SENT).map(|i| format!("line-{i:05}\n")).collect();
    ok(&["pub", n], &input);
    tail.signal(Signal::CONT);

    let err = tail.error_line();
    let lost: u64 = err
        .split("lost ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no loss count in {err:?}"));
    // Every message after the lap, in order, up to the last one sent.
    let mut got = Vec::new();
    loop {
        let line = tail.line();
        let i: u64 = line.strip_prefix("line-").unwrap().parse().unwrap();
        got.push(i);
        if i == SENT {
            break;
        }
    }
    assert!(lost > 0 && !got.is_empty());
    assert_eq!(
        got[0],
        lost + 1,
        "the first message after the lap follows the loss"
    );
    assert!(got.windows(2).all(|w| w[1] == w[0] + 1), "{got:?}");
    assert_eq!(lost + got.len() as u64, SENT);

    // Ctrl-C ends tail normally.
    tail.signal(Signal::INT);
    assert_eq!(tail.wait(), 0);
    assert!(!tail.rest_of_errors().contains("lapped"));
}

#[test]
fn stat_json_against_a_live_producer_and_gating_tail() {
    let ring = Ring::new("stat");
    let n = ring.name.as_str();
    ok(&["create", n, "--capacity", "64K", "--consumers", "2"], "");

    let idle = stat_json(&[n]);
    assert_eq!(idle["ring"], n);
    assert_eq!(idle["capacity"], 65536);
    assert_eq!(idle["slots"], 2);
    assert_eq!(idle["checksum"], false);
    assert_eq!(idle["line_aligned"], false);
    assert_eq!(idle["producer"]["alive"], false);
    assert_eq!(idle["consumers"].as_array().unwrap().len(), 2);
    assert_eq!(idle["consumers"][0]["state"], "free");

    let mut producer = Kid::spawn(&["pub", n], true);
    let mut tail = Kid::spawn(&["tail", n, "--gating"], false);
    eventually("a live producer and a gating slot", || {
        let s = stat_json(&[n]);
        s["producer"]["alive"] == true && s["consumers"][0]["alive"] == true
    });
    producer.stdin().write_all(b"one\ntwo\n").unwrap();
    producer.stdin().flush().unwrap();
    assert_eq!(tail.line(), "one");
    assert_eq!(tail.line(), "two");
    eventually("the slot's counters", || {
        stat_json(&[n])["consumers"][0]["read_messages"] == 2
    });
    let live = stat_json(&[n]);
    let p = &live["producer"];
    assert_eq!(p["alive"], true);
    assert_eq!(p["attached"], true);
    assert!(p["epoch"].as_u64().unwrap() >= 1);
    let tail_pos = p["tail"].as_u64().unwrap();
    assert!(tail_pos > 0);
    let c = &live["consumers"][0];
    assert_eq!(c["state"], "gating");
    assert_eq!(c["alive"], true);
    assert_eq!(c["position"], tail_pos);
    assert_eq!(c["lag_bytes"], 0);
    assert_eq!(c["laps"], 0);
    assert_eq!(c["lost_messages"], 0);
    assert_eq!(live["consumers"][1]["state"], "free");

    // Text output carries the same facts.
    let text = ok(&["stat", n], "");
    assert!(text.contains("producer: alive"), "{text}");
    assert!(text.contains("slot 0: gating, alive"), "{text}");

    // Ctrl-C releases the gating slot; end of input ends the producer.
    tail.signal(Signal::INT);
    assert_eq!(tail.wait(), 0);
    drop(producer.child.stdin.take());
    assert_eq!(producer.wait(), 0);
    let after = stat_json(&[n]);
    assert_eq!(after["producer"]["alive"], false);
    assert_eq!(after["producer"]["attached"], false);
    assert_eq!(after["consumers"][0]["state"], "free");
    assert_eq!(after["consumers"][0]["alive"], false);

    // stat never writes: the ring's bytes are the same before and after.
    let before = std::fs::read(ring.file_path()).unwrap();
    ok(&["stat", n], "");
    ok(&["stat", n, "--json"], "");
    assert_eq!(std::fs::read(ring.file_path()).unwrap(), before);
}

#[test]
fn stat_watch_refreshes_until_interrupted() {
    let ring = Ring::new("watch");
    let n = ring.name.as_str();
    ok(&["create", n], "");
    let mut watch = Kid::spawn(&["stat", n, "--json", "--watch"], false);
    let first: Value = serde_json::from_str(&watch.line()).unwrap();
    assert_eq!(first["producer"]["tail"], 0);
    ok(&["pub", n], "x\n");
    eventually("a refresh showing the message", || {
        let v: Value = serde_json::from_str(&watch.line()).unwrap();
        v["producer"]["tail"].as_u64().unwrap() > 0
    });
    watch.signal(Signal::INT);
    assert_eq!(watch.wait(), 0);
}

#[test]
fn file_rings_work_with_every_command() {
    let (ring, path) = Ring::file("path");
    let p = path.to_str().unwrap();
    ok(
        &[
            "create",
            "--path",
            p,
            "--capacity",
            "8K",
            "--consumers",
            "1",
        ],
        "",
    );
    assert!(path.exists());
    ok(&["pub", "--path", p], "x\ny\n");
    assert_eq!(
        ok(
            &["tail", "--path", p, "--from", "oldest", "--count", "2"],
            ""
        ),
        "x\ny\n"
    );
    let s = stat_json(&["--path", p]);
    assert_eq!(s["capacity"], 8192);
    assert_eq!(s["file"], p);
    // A name and a path together is a usage error.
    assert_eq!(code(&run(&["stat", "name", "--path", p], "")), 2);
    ok(&["rm", "--path", p], "");
    assert!(!path.exists());
    let dir = path.parent().unwrap();
    let base = path.file_name().unwrap().to_string_lossy().into_owned();
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&base))
        .collect();
    assert!(leftovers.is_empty(), "lock files left: {leftovers:?}");
    drop(ring);
}

/// The figure after `label` in `text`, without thousands separators.
fn figure_after(text: &str, label: &str) -> u64 {
    let rest = text
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("no {label:?} in {text}"));
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no figure after {label:?} in {text}"))
}

#[test]
fn bench_reports_counts_and_percentiles() {
    for (mode, consumers) in [("lossy", "2"), ("gating", "2")] {
        let o = run(
            &[
                "bench",
                "--consumers",
                consumers,
                "--messages",
                "3000",
                "--size",
                "100",
                "--mode",
                mode,
                "--capacity",
                "64K",
            ],
            "",
        );
        let out = stdout(&o);
        assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
        assert_eq!(figure_after(&out, "producer: sent"), 3000, "{out}");
        let consumer_lines: Vec<&str> = out.lines().filter(|l| l.starts_with("consumer")).collect();
        assert_eq!(consumer_lines.len(), 2, "{out}");
        for line in consumer_lines {
            assert!(line.contains(&format!("({mode})")), "{line}");
            let received = figure_after(line, "received");
            let lost = figure_after(line, "lost");
            assert_eq!(received + lost, 3000, "{line}");
            if mode == "gating" {
                assert_eq!(lost, 0, "{line}");
            }
        }
        assert!(
            out.contains("received + lost = sent for every consumer"),
            "{out}"
        );
        let latency = out
            .lines()
            .find(|l| l.starts_with("one-way latency"))
            .unwrap_or_else(|| panic!("{out}"));
        for p in ["p50", "p90", "p99", "p99.9", "p99.99", "max"] {
            assert!(latency.contains(&format!("{p} ")), "{latency}");
        }
        let samples = figure_after(latency, "over");
        assert!(samples > 0 && samples <= 6000, "{latency}");
    }
    // Over a line-aligned ring: every message still arrives, and the header
    // line says how the records are laid out.
    let out = ok(
        &[
            "bench",
            "--messages",
            "2000",
            "--mode",
            "gating",
            "--line-aligned",
        ],
        "",
    );
    assert!(out.contains("records line-aligned"), "{out}");
    assert_eq!(figure_after(&out, "producer: sent"), 2000, "{out}");
    assert!(
        out.contains("received + lost = sent for every consumer"),
        "{out}"
    );
    // Paced, over a file ring: the ring is removed afterwards.
    let (_guard, path) = Ring::file("bench");
    let p = path.to_str().unwrap();
    let out = ok(
        &["bench", "--messages", "500", "--rate", "5000", "--path", p],
        "",
    );
    assert!(out.contains("from the intended send times"), "{out}");
    assert_eq!(figure_after(&out, "producer: sent"), 500, "{out}");
    assert!(!path.exists());
    // An existing file is never replaced.
    std::fs::write(&path, b"precious").unwrap();
    let o = run(&["bench", "--messages", "10", "--path", p], "");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
}

#[test]
fn demo_tells_what_happened_and_cleans_up() {
    let child = Command::new(BIN)
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let name = format!("shmcast-demo-{}", child.id());
    let o = child.wait_with_output().unwrap();
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert!(out.contains(&name), "{out}");
    assert_eq!(figure_after(&out, "The producer sent"), 20_000, "{out}");
    assert!(out.contains("of them and lost 0"), "{out}");
    let lost = figure_after(&out, "was told it lost");
    let received = figure_after(&out, "read slowly: it received");
    assert!(lost > 0, "the lossy consumer is meant to be lapped: {out}");
    assert_eq!(received + lost, 20_000, "{out}");
    assert!(out.contains("every message accounted for"), "{out}");
    assert!(out.contains("removed"), "{out}");
    assert_eq!(shm_files(&name), Vec::<String>::new());
}

/// Start `args`, wait for its ring `/dev/shm/PREFIX-PID` and for messages
/// to flow, interrupt it, and check that it exits 130 leaving neither the
/// ring, its lock files nor its child processes behind.
fn interrupt_leaves_nothing(args: &[&str], prefix: &str) {
    let mut kid = Kid::spawn(args, false);
    let name = format!("{prefix}-{}", kid.child.id());
    eventually("the run's ring", || shm_files(&name).len() > 1);
    eventually("messages flowing", || {
        let s = run(&["stat", &name, "--json"], "");
        code(&s) == 0
            && serde_json::from_str::<Value>(stdout(&s).trim())
                .map(|v| v["producer"]["tail"].as_u64().unwrap_or(0) > 0)
                .unwrap_or(false)
    });
    kid.signal(Signal::INT);
    assert_eq!(kid.wait(), 130);
    assert_eq!(shm_files(&name), Vec::<String>::new());
    eventually("the children to exit", || processes_with(&name).is_empty());
}

#[test]
fn ctrl_c_to_bench_leaves_no_ring() {
    interrupt_leaves_nothing(
        &[
            "bench",
            "--messages",
            "100000000",
            "--rate",
            "2000",
            "--consumers",
            "2",
        ],
        "shmcast-bench",
    );
}

#[test]
fn ctrl_c_to_demo_leaves_no_ring() {
    interrupt_leaves_nothing(&["demo"], "shmcast-demo");
}

#[test]
fn closed_output_ends_tail_quietly() {
    let ring = Ring::new("pipe");
    let n = ring.name.as_str();
    ok(&["create", n], "");
    let input: String = (0..2000).map(|i| format!("{i}\n")).collect();
    ok(&["pub", n], &input);
    let mut tail = Command::new(BIN)
        .args(["tail", n, "--from", "oldest"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(tail.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "0\n");
    drop(out);
    // More output to write into the closed pipe: tail stops with status 0.
    ok(&["pub", n], &input);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = tail.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > PATIENCE {
            let _ = tail.kill();
            panic!("tail went on writing into a closed pipe");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0));
}

/// The hugetlbfs for 2 MiB pages, if it is mounted and has `pages` free
/// pages; otherwise `SKIPPED` (or a failure under SHMCAST_REQUIRE_HUGEPAGES=1,
/// the rule of the hugepage crate's tests).
fn huge_pages(pages: u64) -> Option<PathBuf> {
    use shmcast_linux::hugepages::{find_mount, PageSize, Pool};
    let why = match (find_mount(PageSize::Huge2M), Pool::read(PageSize::Huge2M)) {
        (Ok(dir), Ok(pool)) if pool.available() >= pages => return Some(dir),
        (Ok(_), Ok(pool)) => format!("{} free pages, {pages} needed", pool.available()),
        (Err(e), _) | (_, Err(e)) => e.to_string(),
    };
    if std::env::var("SHMCAST_REQUIRE_HUGEPAGES").is_ok_and(|v| v == "1") {
        panic!("2 MiB huge pages are required (SHMCAST_REQUIRE_HUGEPAGES=1): {why}");
    }
    println!("SKIPPED: 2 MiB huge pages cannot be had here: {why}");
    None
}

#[test]
fn hugepage_rings_work_with_every_command() {
    let Some(dir) = huge_pages(2) else { return };
    let name = format!("cli-huge-{}", std::process::id());
    let n = name.as_str();
    let file = dir.join(n);
    struct Gone(Location);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = remove(&self.0);
        }
    }
    let _guard = Gone(Location::path(&file));
    let huge = ["--hugepages", "--hugepage-size", "2M"];
    let with = |cmd: &[&str]| -> Vec<String> {
        cmd.iter()
            .chain(huge.iter())
            .map(|s| s.to_string())
            .collect()
    };
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(|s| s.as_str()).collect()
    }

    let out = ok(&args(&with(&["create", n, "--capacity", "64K"])), "");
    assert!(file.exists(), "{out}");
    // The file is whole huge pages and the ring uses them.
    assert_eq!(std::fs::metadata(&file).unwrap().len() % (2 << 20), 0);
    ok(&args(&with(&["pub", n])), "on\nhuge\npages\n");
    assert_eq!(
        ok(
            &args(&with(&["tail", n, "--from", "oldest", "--count", "3"])),
            ""
        ),
        "on\nhuge\npages\n"
    );
    let s: Value =
        serde_json::from_str(ok(&args(&with(&["stat", n, "--json"])), "").trim()).unwrap();
    assert_eq!(s["huge_page_size"], 2 << 20);
    assert_eq!(s["file"], file.to_str().unwrap());
    assert!(s["capacity"].as_u64().unwrap() >= 64 << 10);
    // The same name in /dev/shm is another ring (none).
    assert_eq!(code(&run(&["stat", n], "")), 1);
    ok(&args(&with(&["rm", n])), "");
    assert!(!file.exists());

    // --hugepage-size alone is a usage error.
    assert_eq!(code(&run(&["create", n, "--hugepage-size", "2M"], "")), 2);

    let out = ok(
        &[
            "bench",
            "--hugepages",
            "--messages",
            "2000",
            "--consumers",
            "1",
        ],
        "",
    );
    assert!(out.contains(dir.to_str().unwrap()), "{out}");
    assert_eq!(figure_after(&out, "producer: sent"), 2000, "{out}");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("shmcast-bench-")
        })
        .filter(|e| out.contains(&*e.file_name().to_string_lossy()))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Run `shmcast ARGS` as user `nobody` (setpriv), if this test runs as root
/// with setpriv at hand and the binary is reachable by others; else `None`.
fn as_nobody(args: &[&str]) -> Option<Output> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    // 126/127: the binary could not be run as nobody at all.
    (!matches!(out.status.code(), Some(126 | 127))).then_some(out)
}

#[test]
fn another_user_can_tail_and_stat_a_ring_it_may_only_read() {
    let ring = Ring::new("readonly");
    let n = ring.name.as_str();
    ok(&["create", n, "--mode", "0644"], "");
    ok(&["pub", n], "a\nb\n");
    let Some(probe) = as_nobody(&["--version"]) else {
        println!("SKIPPED: cannot run the tool as another user here (needs root and setpriv)");
        return;
    };
    assert_eq!(code(&probe), 0);
    let before = std::fs::read(ring.file_path()).unwrap();

    // tail falls back to a read-only mapping.
    let o = as_nobody(&["tail", n, "--from", "oldest", "--count", "2"]).unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "a\nb\n");

    // stat reads the ring; liveness it may not probe is unknown, not an error.
    let o = as_nobody(&["stat", n, "--json"]).unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v["producer"]["tail"].as_u64().unwrap() > 0);
    assert_eq!(v["producer"]["alive"], Value::Null);
    assert_eq!(v["producer"]["attached"], false);
    let o = as_nobody(&["stat", n]).unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Writing needs write permission: runtime errors that name the ring.
    for args in [vec!["pub", n], vec!["tail", n, "--gating"]] {
        let o = as_nobody(&args).unwrap();
        assert_eq!(code(&o), 1, "{args:?}");
        assert!(stderr(&o).contains(n), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(ring.file_path()).unwrap(), before);
}

#[test]
fn help_lists_every_command() {
    let out = ok(&["--help"], "");
    for cmd in ["create", "pub", "tail", "stat", "rm", "bench", "demo"] {
        assert!(
            out.contains(&format!("  {cmd} ")),
            "{cmd} missing from {out}"
        );
    }
    assert!(!out.contains("__role"));
    let bench = ok(&["bench", "--help"], "");
    assert!(bench.contains("coordinated omission"), "{bench}");
}

#[test]
fn pub_refuses_endless_input_without_a_newline() {
    let ring = Ring::new("endless");
    let n = ring.name.as_str();
    ok(&["create", n, "--capacity", "64K"], "");
    // /dev/zero never ends and has no newline: the line is refused once it
    // is longer than a message, instead of filling memory.
    let mut child = Command::new(BIN)
        .args(["pub", n])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("pub kept reading endless input");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("split it"), "{}", stderr(&o));
}
