//! Real processes over real /dev/shm: creation races, `kill -9` of a producer
//! and of a gating consumer, waiting across processes, and bad input.
//!
//! Child processes are this test binary re-run with `--ignored --exact child`
//! and the role in the environment.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shmcast::{batch_space, Batch, Read, RingConfig, SlotState, Start};
use shmcast_linux::{remove, Error, Location, Options, Phases, ShmRing};

/// A ring name unique to this test and process, removed on drop.
struct Name(Location);

impl Name {
    fn new(test: &str) -> Name {
        let loc = Location::shm(&format!("shmcast-test-{test}-{}", std::process::id())).unwrap();
        let _ = remove(&loc);
        Name(loc)
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = remove(&self.0);
    }
}

fn len_of(seq: u64) -> usize {
    (seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize + 8
}

fn content(seq: u64, len: usize) -> Vec<u8> {
    let mut v = seq.to_le_bytes().to_vec();
    v.extend((8..len).map(|i| (seq as u8) ^ (i as u8)));
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

impl std::ops::Deref for Kid {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Kid {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

fn spawn(role: &str, ring: &Location) -> Kid {
    let Location::Shm(name) = ring else { panic!() };
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SHMCAST_ROLE", role)
        .env("SHMCAST_RING", name)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Kid(child)
}

/// Wait for a message `@want...` from a child (libtest may print other
/// text before it on the same line) and return what follows the `@`.
fn expect_line(child: &mut Child, want: &str) -> String {
    let want = format!("@{want}");
    let out = child.stdout.as_mut().unwrap();
    let mut r = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap() == 0 {
            panic!("child ended before saying {want:?}");
        }
        if let Some(at) = line.find(&want) {
            return line[at + 1..].trim_end().to_owned();
        }
    }
}

/// The child side: what a role does.
#[test]
#[ignore = "run as a child process by the other tests"]
fn child() {
    let role = std::env::var("SHMCAST_ROLE").unwrap();
    let loc = Location::shm(&std::env::var("SHMCAST_RING").unwrap()).unwrap();
    let say = |s: &str| {
        let mut o = std::io::stdout();
        writeln!(o, "@{s}").unwrap();
        o.flush().unwrap();
    };
    match role.as_str() {
        "create" => match ShmRing::create(&loc, &RingConfig::new(4096), &Options::default()) {
            Ok(_) => say("won"),
            Err(e) => say(&format!("lost: {e}")),
        },
        "producer" => {
            let ring = ShmRing::open(&loc, &Options::default()).unwrap();
            let mut p = ring.producer().unwrap();
            say("producing");
            loop {
                let seq = p.next_seq();
                let msg = content(seq, len_of(seq));
                p.write(&msg).unwrap();
                if seq.is_multiple_of(64) {
                    std::thread::yield_now();
                }
            }
        }
        "gating" => {
            let ring = ShmRing::open(&loc, &Options::default()).unwrap();
            let _c = ring.gating_consumer().unwrap();
            say("joined");
            // Never read: hold the producer back until killed.
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        "batch-reader" => {
            // A gating consumer that reads by batches of up to eight and
            // naps when it finds nothing: the producer fills the ring, waits
            // for room and is woken by the batches.
            let ring = ShmRing::open(&loc, &Options::default()).unwrap();
            let mut c = ring.gating_consumer().unwrap();
            say("joined");
            let mut buf = vec![0u8; 8 * batch_space(64)];
            let (mut next, mut batches) = (0u64, 0u64);
            while next < BATCHED {
                match c.try_read_batch(&mut buf).unwrap() {
                    Batch::Messages(batch) => {
                        for (m, payload) in batch {
                            assert_eq!(m.seq, next);
                            assert_eq!(payload, content(next, len_of(next)));
                            next += 1;
                        }
                        batches += 1;
                    }
                    Batch::Empty => std::thread::sleep(Duration::from_micros(200)),
                    other => panic!("a gating consumer got {other:?}"),
                }
            }
            let slot = c.reader().slot().unwrap();
            let waits = ring.ring().consumer(slot).unwrap().producer_waits;
            say(&format!("read {next} in {batches} waits {waits}"));
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn exactly_one_of_racing_creators_wins() {
    let name = Name::new("race");
    let mut children: Vec<Kid> = (0..4).map(|_| spawn("create", &name.0)).collect();
    let lines: Vec<String> = children.iter_mut().map(|c| expect_line(c, "")).collect();
    for c in &mut children {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("won")).count(),
        1,
        "{lines:?}"
    );
    for l in lines.iter().filter(|l| l.starts_with("lost")) {
        assert!(
            l.contains("already exists") && l.contains("shmcast-test-race"),
            "{l}"
        );
    }
    assert!(ShmRing::open(&name.0, &Options::default()).is_ok());
}

#[test]
fn producer_killed_mid_stream_then_taken_over() {
    let name = Name::new("killp");
    let ring = ShmRing::create(&name.0, &RingConfig::new(1 << 16), &Options::default()).unwrap();
    let mut reader = ring.ring().reader(Start::Tail).unwrap();
    let mut child = spawn("producer", &name.0);
    expect_line(&mut child, "producing");
    let mut buf = [0u8; 128];
    let mut read = 0u64;
    let mut last = None;
    let check = |m: shmcast::Message, buf: &[u8]| {
        assert_eq!(
            &buf[..m.len],
            &content(m.seq, len_of(m.seq))[..],
            "torn message {}",
            m.seq
        );
    };
    while read < 20_000 {
        match reader.try_read(&mut buf).unwrap() {
            Read::Message(m) => {
                check(m, &buf);
                last = Some(m.seq);
                read += 1;
            }
            Read::Empty => std::thread::yield_now(),
            Read::Lapped { .. } | Read::Restarted { .. } => {}
        }
    }
    assert!(ring.producer_alive().unwrap());
    // kill -9, mid-stream.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !ring.producer_alive().unwrap(),
        "death is seen through the lock"
    );
    // Everything published before the kill reads back whole.
    loop {
        match reader.try_read(&mut buf).unwrap() {
            Read::Message(m) => {
                check(m, &buf);
                last = Some(m.seq);
            }
            Read::Empty => break,
            _ => {}
        }
    }
    // A new producer takes over and continues the stream.
    let mut p = ring.producer().unwrap();
    let seq = p.write(b"after the crash").unwrap();
    assert_eq!(seq, last.unwrap() + 1, "a clean continuation");
    let m = reader.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!((m.seq, &buf[..m.len]), (seq, &b"after the crash"[..]));
    assert!(matches!(ring.producer(), Err(Error::ProducerActive { .. })));
}

#[test]
fn producer_blocked_by_a_killed_gating_consumer_resumes() {
    let name = Name::new("killc");
    let ring = ShmRing::create(
        &name.0,
        &RingConfig::new(4096).slots(2),
        &Options::default(),
    )
    .unwrap();
    let mut child = spawn("gating", &name.0);
    expect_line(&mut child, "joined");
    let mut p = ring.producer().unwrap();
    let timeout = Duration::from_secs(20);
    p.set_gating_wait(Phases::default(), timeout);
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // The lock goes when the child's files close, which may be before
        // it is reaped: the kill is the moment the producer may resume.
        let killed = Instant::now();
        child.kill().unwrap();
        child.wait().unwrap();
        killed
    });
    let start = Instant::now();
    // 40 records of 128 bytes: more than the ring, so the producer must block.
    for i in 0..40u8 {
        p.write(&[i; 100]).unwrap();
    }
    let done = Instant::now();
    let killed = killer.join().unwrap();
    assert!(done >= killed, "the producer was blocked until the kill");
    assert!(done - start < timeout, "resumed within its timeout");
    assert!(
        done - killed < Duration::from_secs(2),
        "resumed promptly: {:?}",
        done - killed
    );
    assert_eq!(ring.ring().consumer(0).unwrap().state, SlotState::Free);
}

/// Messages the `batch-reader` child reads.
const BATCHED: u64 = 20_000;

#[test]
fn a_gating_consumer_reading_by_batches_in_another_process_gets_everything() {
    let name = Name::new("batches");
    let ring = ShmRing::create(
        &name.0,
        &RingConfig::new(4096).slots(1),
        &Options::default(),
    )
    .unwrap();
    let mut child = spawn("batch-reader", &name.0);
    expect_line(&mut child, "joined");
    let mut p = ring.producer().unwrap();
    p.set_gating_wait(Phases::default(), Duration::from_secs(30));
    for seq in 0..BATCHED {
        assert_eq!(p.write(&content(seq, len_of(seq))).unwrap(), seq);
    }
    let said = expect_line(&mut child, "read");
    let words: Vec<&str> = said.split_whitespace().collect();
    let [_, read, _, batches, _, waits] = words[..] else {
        panic!("{said}")
    };
    let (batches, waits): (u64, u64) = (batches.parse().unwrap(), waits.parse().unwrap());
    assert_eq!(read, "20000", "{said}");
    // A 4 KiB ring holds about 60 of these: the producer waited for room,
    // and the consumer read in batches, not one by one.
    assert!(waits > 0 && batches < BATCHED / 2, "{said}");
    assert!(child.wait().unwrap().success());
    assert_eq!(ring.ring().consumer(0).unwrap().state, SlotState::Free);
}

#[test]
fn a_sleeping_reader_is_woken_across_the_futex() {
    let name = Name::new("wake");
    let ring = ShmRing::create(&name.0, &RingConfig::new(4096), &Options::default()).unwrap();
    let other = ShmRing::open(&name.0, &Options::default()).unwrap();
    let mut reader = other.ring().reader(Start::Tail).unwrap();
    std::thread::scope(|s| {
        let h = s.spawn(move || {
            let mut buf = [0u8; 16];
            let phases = Phases {
                spins: 10,
                yields: 10,
                nap: Duration::from_secs(30),
            };
            let t = Instant::now();
            let r =
                shmcast_linux::read_wait(&mut reader, &mut buf, &phases, Duration::from_secs(30));
            (r.unwrap(), t.elapsed())
        });
        std::thread::sleep(Duration::from_millis(200));
        ring.producer().unwrap().write(b"wake up").unwrap();
        let (read, took) = h.join().unwrap();
        assert!(read.message().is_some());
        assert!(
            took < Duration::from_secs(5),
            "woken, not timed out: {took:?}"
        );
    });
}

#[test]
fn bad_input_gets_typed_errors_that_name_the_ring() {
    // A name with a slash, an empty name.
    assert!(matches!(Location::shm("a/b"), Err(Error::BadName { .. })));
    assert!(matches!(Location::shm(""), Err(Error::BadName { .. })));
    // A missing ring.
    let name = Name::new("bad");
    let e = ShmRing::open(&name.0, &Options::default()).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }));
    assert!(e.to_string().contains("shmcast-test-bad") && e.to_string().contains("create"));
    // Files too small, of random bytes, of another layout version.
    let dir = std::env::temp_dir().join(format!("shmcast-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("small");
    std::fs::write(&small, [0u8; 100]).unwrap();
    let e = ShmRing::open(&Location::path(&small), &Options::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Attach {
                source: shmcast::AttachError::TooSmall { .. },
                ..
            }
        ),
        "{e}"
    );
    let random = dir.join("random");
    let mut x = 0x1234_5678_u64;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&random, &bytes).unwrap();
    let e = ShmRing::open(&Location::path(&random), &Options::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Attach {
                source: shmcast::AttachError::NotInitialised,
                ..
            }
        ),
        "{e}"
    );
    let versioned = dir.join("versioned");
    drop(
        ShmRing::create(
            &Location::path(&versioned),
            &RingConfig::new(4096),
            &Options::default(),
        )
        .unwrap(),
    );
    let mut file = std::fs::read(&versioned).unwrap();
    file[shmcast::layout::field::VERSION] = 99;
    std::fs::write(&versioned, &file).unwrap();
    let e = ShmRing::open(&Location::path(&versioned), &Options::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Attach {
                source: shmcast::AttachError::Version { found: 99, .. },
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("versioned"));
    // A symbolic link is refused unless asked for.
    let link = dir.join("link");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&versioned, &link).unwrap();
    let good = dir.join("good");
    drop(
        ShmRing::create(
            &Location::path(&good),
            &RingConfig::new(4096),
            &Options::default(),
        )
        .unwrap(),
    );
    let link2 = dir.join("link2");
    let _ = std::fs::remove_file(&link2);
    std::os::unix::fs::symlink(&good, &link2).unwrap();
    assert!(matches!(
        ShmRing::open(&Location::path(&link2), &Options::default()),
        Err(Error::Symlink { .. })
    ));
    let follow = Options {
        follow_symlinks: true,
        ..Options::default()
    };
    assert!(ShmRing::open(&Location::path(&link2), &follow).is_ok());
    // A bad configuration leaves no file behind.
    let e = ShmRing::create(&name.0, &RingConfig::new(1000), &Options::default()).unwrap_err();
    assert!(matches!(e, Error::Create { .. }));
    assert!(matches!(
        ShmRing::open(&name.0, &Options::default()),
        Err(Error::NotFound { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn creation_options_mode_prefault_mlock_and_stale_rings() {
    use std::os::unix::fs::PermissionsExt;
    let name = Name::new("opts");
    let opts = Options {
        prefault: true,
        mlock: true,
        ..Options::default()
    };
    let ring = ShmRing::create(&name.0, &RingConfig::new(1 << 16), &opts).unwrap();
    let mode = std::fs::metadata(name.0.file_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    ring.producer().unwrap().write(b"old").unwrap();
    drop(ring);
    // A stale ring: reopen it (its data is still there) or replace it.
    let again = ShmRing::create_or(
        &name.0,
        &RingConfig::new(1 << 16),
        &Options::default(),
        shmcast_linux::Stale::Reopen,
    )
    .unwrap();
    assert_eq!(again.ring().status().tail, 24);
    drop(again);
    let fresh = ShmRing::create_or(
        &name.0,
        &RingConfig::new(1 << 12),
        &Options::default(),
        shmcast_linux::Stale::Replace,
    )
    .unwrap();
    assert_eq!(
        (fresh.ring().status().tail, fresh.ring().capacity()),
        (0, 4096)
    );
}

#[test]
fn a_live_gating_consumer_that_stalls_is_demoted_after_the_timeout() {
    let name = Name::new("stall");
    let ring = ShmRing::create(
        &name.0,
        &RingConfig::new(4096).slots(1),
        &Options::default(),
    )
    .unwrap();
    let mut child = spawn("gating", &name.0);
    expect_line(&mut child, "joined");
    let mut p = ring.producer().unwrap();
    p.set_gating_wait(Phases::default(), Duration::from_millis(200));
    let start = Instant::now();
    for i in 0..40u8 {
        p.write(&[i; 100]).unwrap();
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(ring.consumer_alive(0).unwrap(), "the consumer lives on");
    assert_eq!(ring.ring().consumer(0).unwrap().state, SlotState::Lossy);
}

#[test]
fn a_read_only_consumer_reads_a_ring_it_cannot_write() {
    use std::os::unix::fs::PermissionsExt;
    let name = Name::new("ro");
    let opts = Options {
        mode: 0o644,
        ..Options::default()
    };
    let ring = ShmRing::create(&name.0, &RingConfig::new(4096).slots(1), &opts).unwrap();
    let mode = std::fs::metadata(name.0.file_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    let mut p = ring.producer().unwrap();
    p.write(b"first").unwrap();
    let ro = shmcast_linux::ReadOnlyShm::open(&name.0, &Options::default()).unwrap();
    assert!(ro.producer_alive().unwrap());
    let mut r = ro.view().reader(Start::Oldest).unwrap();
    let mut buf = [0u8; 16];
    let m = r.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(&buf[..m.len], b"first");
    let phases = Phases {
        spins: 4,
        yields: 4,
        nap: Duration::from_millis(1),
    };
    let empty = shmcast_linux::read_poll(&mut r, &mut buf, &phases, Duration::from_millis(20));
    assert_eq!(empty.unwrap(), Read::Empty);
    p.write(b"second").unwrap();
    let m = shmcast_linux::read_poll(&mut r, &mut buf, &phases, Duration::from_secs(5))
        .unwrap()
        .message()
        .unwrap();
    assert_eq!(&buf[..m.len], b"second");
    assert_eq!(ro.view().status().tail, ring.ring().status().tail);
}

/// Removing a ring removes its own lock files only: a ring whose name
/// extends it ("NAME.eu") keeps its live producer's lock, so no second
/// producer can take that ring over.
#[test]
fn removing_a_ring_leaves_the_locks_of_a_ring_named_like_it() {
    let a = Name::new("locks");
    let b = Name(Location::shm(&format!("shmcast-test-locks-{}.eu", std::process::id())).unwrap());
    let _ = remove(&b.0);
    let cfg = RingConfig::new(1 << 12).slots(1);
    let ra = ShmRing::create(&a.0, &cfg, &Options::default()).unwrap();
    let rb = ShmRing::create(&b.0, &cfg, &Options::default()).unwrap();
    let _pa = ra.producer().unwrap();
    let _pb = rb.producer().unwrap();
    let _gb = rb.gating_consumer().unwrap();
    remove(&a.0).unwrap();
    assert!(rb.producer_alive().unwrap());
    assert!(rb.consumer_alive(0).unwrap());
    assert!(matches!(rb.producer(), Err(Error::ProducerActive { .. })));
}
