//! What the bench reads from the machine (Linux `/proc`): a process's CPU time
//! and one thread's, the machine's busy share and load, cores and kernel; and
//! the server's writer figures from its `/metrics`.

use serde::Serialize;
use std::time::Instant;

/// The machine the figures were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct MachineInfo {
    pub cores: usize,
    pub kernel: String,
    pub cpu: String,
}

impl MachineInfo {
    pub fn read() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                let line = info.lines().find(|l| l.starts_with("model name"))?;
                Some(line.split_once(':')?.1.trim().to_owned())
            })
            .unwrap_or_default();
        MachineInfo {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|k| k.trim().to_owned())
                .unwrap_or_default(),
            cpu,
        }
    }
}

/// The 1-minute load average now.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// utime + stime of a `stat` file, in seconds (fields 14 and 15, after the
/// parenthesised command, which may itself hold spaces).
fn stat_cpu_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / ticks_per_second())
}

/// The command name of a `stat` file.
fn stat_name(path: &str) -> Option<String> {
    let stat = std::fs::read_to_string(path).ok()?;
    Some(stat[stat.find('(')? + 1..stat.rfind(')')?].to_owned())
}

/// CPU seconds of process `pid` (all its threads, living and ended).
pub fn process_cpu(pid: u32) -> Option<f64> {
    stat_cpu_seconds(&format!("/proc/{pid}/stat"))
}

/// CPU seconds of the thread of `pid` named `name` (the kernel keeps 15 bytes).
pub fn thread_cpu(pid: u32, name: &str) -> Option<f64> {
    let name = &name[..name.len().min(15)];
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
        .map(|task| task.path().join("stat").display().to_string())
        .find(|stat| stat_name(stat).as_deref() == Some(name))
        .and_then(|stat| stat_cpu_seconds(&stat))
}

/// Busy and total jiffies of all cores together (`/proc/stat`'s cpu line).
fn machine_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3)? + values.get(4)?;
    Some((total - idle, total))
}

/// The server's writer, from its `/metrics` (cumulative since it started).
#[derive(Debug, Clone, Copy, Default)]
pub struct WriterCounters {
    pub jobs: f64,
    pub commits: f64,
    pub commit_seconds: f64,
    /// Absent from servers older than the figure.
    pub busy_seconds: Option<f64>,
    /// WAL fsyncs off the writer (`durable.rs`) and their time; absent from
    /// servers that fsync inside COMMIT.
    pub syncs: Option<f64>,
    pub sync_seconds: Option<f64>,
    /// Checkpoints the writer ran to keep the log bounded; absent before the
    /// first, and from servers without the bound.
    pub log_checkpoints: Option<f64>,
    /// The write-ahead log file's size.
    pub wal_bytes: Option<f64>,
}

/// Scrapes `http://METRICS/metrics` for the writer's counters.
pub async fn writer_counters(metrics: &str) -> Option<WriterCounters> {
    let text = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let value = |name: &str| -> Option<f64> {
        text.lines()
            .find(|line| line.split_whitespace().next() == Some(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    // A labelled metric: the sum over its labels; `None` until the server
    // describes it (a family appears with its first observation).
    let labelled = |family: &str, name: &str| -> Option<f64> {
        if !text.contains(&format!("# TYPE {family} ")) {
            return None;
        }
        let prefix = format!("{name}{{");
        text.lines()
            .filter(|line| line.starts_with(&prefix))
            .map(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
            .sum()
    };
    Some(WriterCounters {
        jobs: value("gatehouse_writer_batch_jobs_sum")?,
        commits: value("gatehouse_writer_batch_jobs_count")?,
        commit_seconds: value("gatehouse_writer_commit_seconds_sum")?,
        busy_seconds: value("gatehouse_writer_busy_seconds_total"),
        syncs: value("gatehouse_wal_sync_seconds_count"),
        sync_seconds: value("gatehouse_wal_sync_seconds_sum"),
        log_checkpoints: labelled(
            "gatehouse_writer_checkpoint_seconds",
            "gatehouse_writer_checkpoint_seconds_count",
        ),
        wal_bytes: value("gatehouse_database_wal_bytes"),
    })
}

/// What one workload cost the server and the machine.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerCost {
    /// Server CPU over the run, in percent of one core.
    pub server_cpu_percent: Option<f64>,
    pub server_cpu_us_per_request: Option<f64>,
    /// The load generator's CPU (this process), in percent of one core.
    pub client_cpu_percent: Option<f64>,
    /// Every core's busy share over the run (everything on the machine).
    pub machine_busy_percent: Option<f64>,
    pub load_average: Option<f64>,
    /// Writes (rotations) carried by one COMMIT.
    pub writes_per_commit: Option<f64>,
    /// Wall time the writer thread spent on batches (BEGIN to handing the
    /// batch on; to the last answer on servers that fsync inside COMMIT), per write.
    pub writer_busy_us_per_write: Option<f64>,
    /// CPU of the writer thread alone, per write.
    pub writer_cpu_us_per_write: Option<f64>,
    /// COMMIT per batch (with the fsync on servers that fsync inside COMMIT).
    pub commit_ms: Option<f64>,
    /// COMMITs made durable by one WAL fsync, and that fsync's time.
    pub commits_per_sync: Option<f64>,
    pub sync_ms: Option<f64>,
    /// Checkpoints the writer ran during the run to keep the log bounded,
    /// and the log file's size at its end.
    pub log_checkpoints: Option<f64>,
    pub wal_mib: Option<f64>,
}

/// Counters read at the start of a run, to subtract at its end.
pub struct Meter {
    pid: Option<u32>,
    metrics: Option<String>,
    started: Instant,
    server: Option<f64>,
    writer_thread: Option<f64>,
    client: Option<f64>,
    machine: Option<(u64, u64)>,
    writer: Option<WriterCounters>,
}

/// The writer thread's name in the server (`store/writer.rs`).
const WRITER_THREAD: &str = "gatehouse-writer";

impl Meter {
    pub async fn start(pid: Option<u32>, metrics: Option<String>) -> Self {
        let writer = match &metrics {
            Some(metrics) => writer_counters(metrics).await,
            None => None,
        };
        Meter {
            server: pid.and_then(process_cpu),
            writer_thread: pid.and_then(|pid| thread_cpu(pid, WRITER_THREAD)),
            client: process_cpu(std::process::id()),
            machine: machine_jiffies(),
            started: Instant::now(),
            pid,
            metrics,
            writer,
        }
    }

    pub async fn finish(self, requests: usize) -> ServerCost {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-9);
        let server = self.pid.and_then(process_cpu);
        let writer_thread = self.pid.and_then(|pid| thread_cpu(pid, WRITER_THREAD));
        let client = process_cpu(std::process::id());
        let machine = machine_jiffies();
        let writer = match &self.metrics {
            Some(metrics) => writer_counters(metrics).await,
            None => None,
        };
        let delta = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        let server_cpu = delta(self.server, server);
        let requests = requests.max(1) as f64;
        let mut cost = ServerCost {
            server_cpu_percent: server_cpu.map(|cpu| cpu / seconds * 100.0),
            server_cpu_us_per_request: server_cpu.map(|cpu| cpu / requests * 1e6),
            client_cpu_percent: delta(self.client, client).map(|cpu| cpu / seconds * 100.0),
            machine_busy_percent: match (self.machine, machine) {
                (Some((busy0, total0)), Some((busy1, total1))) if total1 > total0 => {
                    Some((busy1 - busy0) as f64 / (total1 - total0) as f64 * 100.0)
                }
                _ => None,
            },
            load_average: load_average(),
            ..ServerCost::default()
        };
        if let (Some(before), Some(after)) = (self.writer, writer) {
            let (jobs, commits) = (after.jobs - before.jobs, after.commits - before.commits);
            cost.wal_mib = after.wal_bytes.map(|bytes| bytes / (1 << 20) as f64);
            if jobs > 0.0 && commits > 0.0 {
                cost.writes_per_commit = Some(jobs / commits);
                cost.commit_ms =
                    Some((after.commit_seconds - before.commit_seconds) / commits * 1e3);
                cost.writer_busy_us_per_write =
                    delta(before.busy_seconds, after.busy_seconds).map(|busy| busy / jobs * 1e6);
                cost.writer_cpu_us_per_write =
                    delta(self.writer_thread, writer_thread).map(|cpu| cpu / jobs * 1e6);
                // The family appears with its first checkpoint: none before is 0.
                cost.log_checkpoints = after
                    .log_checkpoints
                    .map(|after| after - before.log_checkpoints.unwrap_or(0.0));
                if let Some(syncs) = delta(before.syncs, after.syncs).filter(|syncs| *syncs > 0.0) {
                    cost.commits_per_sync = Some(commits / syncs);
                    cost.sync_ms =
                        delta(before.sync_seconds, after.sync_seconds).map(|s| s / syncs * 1e3);
                }
            }
        }
        cost
    }
}
