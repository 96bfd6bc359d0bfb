//! What the alternating tools (`throughput`, `fanout`, `copy`) share: their
//! command-line numbers, CPU pairs and pinning, contender lists, and the median and
//! range they report.

/// The number after `flag`.
///
/// # Errors
/// A message naming `flag` if the value is missing or not a number.
pub fn number<T: std::str::FromStr>(flag: &str, value: Option<&str>) -> Result<T, String> {
    value
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{flag} needs a number"))
}

/// The two CPUs of `--pin P,C` (the producer's, then the consumers').
///
/// # Errors
/// A message if `value` is missing or not two CPU numbers.
pub fn pin(value: Option<&str>) -> Result<[usize; 2], String> {
    let bad = || "--pin needs two CPU numbers, producer,consumer".to_string();
    let cpus: Vec<usize> = value
        .ok_or_else(bad)?
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let [p, c] = cpus[..] else {
        return Err(bad());
    };
    Ok([p, c])
}

/// Move the calling thread to `cpu`; a failure (no such CPU, not allowed)
/// leaves it where it is, which only costs the run its pinning.
pub fn pin_to(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    if let Err(e) = rustix::thread::sched_setaffinity(None, &set) {
        eprintln!("cannot pin a thread to CPU {cpu}: {e}");
    }
}

/// The contenders of `all` named (by `name`) in the comma-separated `list`
/// of `--only`, in its order; all of them where there is no list.
///
/// # Errors
/// A message if the list names a contender not in `all`.
pub fn only<T: Copy>(
    list: Option<&str>,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<Vec<T>, String> {
    let Some(list) = list else {
        return Ok(all.to_vec());
    };
    list.split(',')
        .map(|c| {
            all.iter()
                .copied()
                .find(|&t| name(t) == c)
                .ok_or_else(|| format!("no contender {c}"))
        })
        .collect()
}

/// A tool's usage line: `head` (its name and flags), then `--only` with
/// the names of `all`.
pub fn usage<T: Copy>(head: &str, all: &[T], name: impl Fn(T) -> &'static str) -> String {
    let names: Vec<&str> = all.iter().map(|&t| name(t)).collect();
    format!("usage: {head} [--only {}]", names.join(","))
}

/// The flags the alternating tools share, as given on the command line;
/// each tool reads its own defaults and its `--pin` and `--only` from them.
#[derive(Debug, Default)]
pub struct Flags {
    /// `--rounds N`.
    pub rounds: Option<usize>,
    /// `--messages N`.
    pub messages: Option<u64>,
    /// `--size BYTES`, for a tool that takes it.
    pub size: Option<usize>,
    /// `--pin ...`, unparsed.
    pub pin: Option<String>,
    /// `--only ...`, unparsed.
    pub only: Option<String>,
}

/// Read the shared flags from `args` (`--size` only where `sized`); `-h`
/// prints `usage` and exits.
///
/// # Errors
/// A message naming an unknown argument or a flag without its value.
pub fn flags(args: &[String], sized: bool, usage: &str) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--rounds" => f.rounds = Some(number(flag, Some(value()?.as_str()))?),
            "--messages" => f.messages = Some(number(flag, Some(value()?.as_str()))?),
            "--size" if sized => f.size = Some(number(flag, Some(value()?.as_str()))?),
            "--pin" => f.pin = Some(value()?),
            "--only" => f.only = Some(value()?),
            "-h" | "--help" => {
                println!("{usage}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(f)
}

/// The order in which round `round` runs `n` contenders: as listed, and
/// reversed every other round, so that none always runs first.
pub fn order(round: usize, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if round % 2 == 1 {
        order.reverse();
    }
    order
}

/// Print a table's title line, then the machine it was measured on (the
/// CPU model and the machine's CPUs), then a blank line: a figure copied
/// out of a run carries the machine with it.
pub fn title(title: &str) {
    println!("\n{title}\nmachine: {}\n", machine());
}

/// The CPU model (the first CPU's `model name` in `/proc/cpuinfo`, with its
/// family and model numbers, which a virtual machine's bare "AMD EPYC" or
/// "Intel Xeon" leaves out; "unknown CPU" where there is none) and how many
/// CPUs the machine has: the `processor` entries of `/proc/cpuinfo`, not
/// the CPUs the calling thread may use, which a tool that pinned its main
/// thread before printing (`fanout`, `copy`) would give as 1.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    describe(&cpuinfo)
}

/// [`machine`]'s line for the text of `/proc/cpuinfo`.
fn describe(cpuinfo: &str) -> String {
    let cpus = cpuinfo
        .lines()
        .filter_map(|line| field_of(line, "processor"))
        .count();
    format!("{}, {cpus} CPUs", cpu_model(cpuinfo))
}

/// The value of `line` of `/proc/cpuinfo` if it is the field `name`.
fn field_of<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let (key, value) = line.split_once(':')?;
    (key.trim() == name).then(|| value.trim())
}

/// The first CPU's model in the text of `/proc/cpuinfo`.
fn cpu_model(cpuinfo: &str) -> String {
    // The first CPU's fields, up to the blank line before the next.
    let field = |name: &str| {
        cpuinfo
            .lines()
            .take_while(|line| !line.trim().is_empty())
            .find_map(|line| field_of(line, name))
    };
    match (field("model name"), field("cpu family"), field("model")) {
        (Some(name), Some(family), Some(model)) => {
            format!("{name} (family {family}, model {model})")
        }
        (Some(name), ..) => name.to_string(),
        (None, ..) => "unknown CPU".to_string(),
    }
}

/// The median and the range of `v` (not empty).
pub fn spread(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_and_spreads() {
        assert_eq!(pin(Some("0,1")), Ok([0, 1]));
        assert!(pin(Some("0")).is_err());
        assert!(pin(Some("0,x")).is_err());
        assert!(pin(None).is_err());
        assert_eq!(spread(vec![3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(number::<u64>("--rounds", Some("7")), Ok(7));
        let name = |t: &'static str| t;
        assert_eq!(only(Some("b,a"), &["a", "b"], name), Ok(vec!["b", "a"]));
        assert!(only(Some("a,c"), &["a", "b"], name).is_err());
        assert_eq!(only(None, &["a", "b"], name), Ok(vec!["a", "b"]));
        assert_eq!(
            usage("t [--x]", &["a", "b"], name),
            "usage: t [--x] [--only a,b]"
        );
        assert!(number::<u64>("--rounds", None).is_err());
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let f = flags(
            &args(&["--rounds", "3", "--size", "64", "--pin", "0,1"]),
            true,
            "",
        )
        .unwrap();
        assert_eq!(
            (f.rounds, f.size, f.pin.as_deref()),
            (Some(3), Some(64), Some("0,1"))
        );
        assert!(flags(&args(&["--size", "64"]), false, "").is_err());
        assert!(flags(&args(&["--rounds"]), true, "").is_err());
        assert!(flags(&args(&["--bogus"]), true, "").is_err());
        assert_eq!(order(0, 3), vec![0, 1, 2]);
        assert_eq!(order(1, 3), vec![2, 1, 0]);
    }

    #[test]
    fn finds_the_cpu_model() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\n\
                       model name\t: AMD EPYC 7B13\n\nprocessor\t: 1\ncpu family\t: 26\n";
        assert_eq!(cpu_model(cpuinfo), "AMD EPYC 7B13 (family 25, model 1)");
        assert_eq!(cpu_model("processor\t: 0\nmodel name\t: Xeon\n"), "Xeon");
        assert_eq!(cpu_model("processor\t: 0\nmodel\t\t: 207\n"), "unknown CPU");
        assert_eq!(cpu_model(""), "unknown CPU");
        assert_eq!(
            describe(cpuinfo),
            "AMD EPYC 7B13 (family 25, model 1), 2 CPUs"
        );
        assert_eq!(describe(""), "unknown CPU, 0 CPUs");
    }
}
