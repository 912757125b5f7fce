//! What holds one execution environment's processes: cgroup v1 directories (freezer, cpu,
//! memory) where this machine lets us write them, else the process tree found through `/proc`
//! and stopped with signals.
//!
//! Lambda freezes the whole environment, every process the runtime started included, from the
//! moment the runtime asks for the next event until it gets one. The cgroup freezer does exactly
//! that (a process forked later is in the cgroup too). The fallback, SIGSTOP/SIGCONT of every
//! descendant of the runtime found in `/proc`, misses a process forked between the walk and the
//! signal and any process that left the tree (re-parented to init): it is printed which one runs.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The cgroup v1 hierarchies used, and the file that moves a process into a cgroup.
const FREEZER: &str = "/sys/fs/cgroup/freezer";
const CPU: &str = "/sys/fs/cgroup/cpu";
const MEMORY: &str = "/sys/fs/cgroup/memory";
/// The folder (in each hierarchy) that holds this machine's local Lambda environments.
const PARENT: &str = "opsconsole-locallambda";

/// How environments are frozen on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FreezeMethod {
    /// cgroup v1 freezer: the whole tree, new children included.
    CgroupFreezer,
    /// SIGSTOP / SIGCONT of each process found under the runtime in `/proc`.
    Signals,
    /// Not frozen (asked for with `FunctionConfig::freeze = false`).
    Off,
}

impl FreezeMethod {
    pub fn describe(self) -> &'static str {
        match self {
            FreezeMethod::CgroupFreezer => {
                "cgroup v1 freezer (the whole process tree, as Lambda freezes an environment)"
            }
            FreezeMethod::Signals => {
                "SIGSTOP/SIGCONT of the runtime's process tree (no writable cgroup freezer here)"
            }
            FreezeMethod::Off => "not frozen (freezing turned off)",
        }
    }
}

/// Whether cgroup v1 `hierarchy` lets us create a child cgroup here.
fn writable(hierarchy: &str) -> bool {
    let probe = Path::new(hierarchy).join(PARENT);
    if std::fs::create_dir_all(&probe).is_err() {
        return false;
    }
    // A writable hierarchy lets us create (and remove) a child.
    let child = probe.join(format!("probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&child).is_ok();
    let _ = std::fs::remove_dir(&child);
    ok
}

/// What this machine allows: (freeze method, CPU/memory limits possible).
pub fn detect(freeze: bool) -> (FreezeMethod, bool, bool) {
    let method = if !freeze {
        FreezeMethod::Off
    } else if writable(FREEZER) {
        FreezeMethod::CgroupFreezer
    } else {
        FreezeMethod::Signals
    };
    (method, writable(CPU), writable(MEMORY))
}

/// Removes the cgroups that local Lambdas of processes no longer running left behind (a process
/// killed with SIGKILL cannot thaw and stop its environments: their processes stay frozen until
/// this runs), killing what is still in them. Returns how many were removed.
pub fn clean_stale() -> usize {
    let mut removed = 0;
    for h in [FREEZER, CPU, MEMORY] {
        let Ok(rd) = std::fs::read_dir(Path::new(h).join(PARENT)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(owner) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if Path::new(&format!("/proc/{owner}")).exists() {
                continue;
            }
            let d = e.path();
            let _ = std::fs::write(d.join("freezer.state"), "THAWED");
            for _ in 0..50 {
                let pids: Vec<i32> = std::fs::read_to_string(d.join("cgroup.procs"))
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect();
                if pids.is_empty() {
                    break;
                }
                signal_kill(&pids);
                std::thread::sleep(Duration::from_millis(20));
            }
            if std::fs::remove_dir(&d).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// A watcher outside the environments' cgroups that thaws and stops them when the process that
/// owns them dies in a way that runs no cleanup (SIGKILL): it reads its stdin, a pipe this
/// process holds, and acts on end of file. A frozen process cannot die, not even from the
/// `PR_SET_PDEATHSIG` its parent set, until it is thawed. Dropping the returned pipe (the normal
/// stop, after the environments are gone) lets it run the same cleanup on nothing and exit.
pub fn spawn_guardian(
    instance_prefix: &str,
) -> std::io::Result<(std::process::Child, std::process::ChildStdin)> {
    use std::os::unix::process::CommandExt;
    let script = format!(
        r#"read _ignored
for d in {FREEZER}/{PARENT}/{instance_prefix}-* {CPU}/{PARENT}/{instance_prefix}-* {MEMORY}/{PARENT}/{instance_prefix}-*; do
  [ -d "$d" ] || continue
  [ -f "$d/freezer.state" ] && echo THAWED > "$d/freezer.state"
  for i in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(cat "$d/cgroup.procs" 2>/dev/null)
    [ -z "$pids" ] && break
    kill -9 $pids 2>/dev/null
    sleep 0.05
  done
  rmdir "$d" 2>/dev/null
done
exit 0"#
    );
    // No PR_SET_PDEATHSIG (it must outlive this process by a moment) and its own process group
    // (a Ctrl-C to the terminal's group does not end it before it has cleaned up).
    let mut child = std::process::Command::new("/bin/sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("the guardian's stdin is not a pipe"))?;
    Ok((child, stdin))
}

fn signal_kill(pids: &[i32]) {
    for &p in pids {
        // SAFETY: a plain kill of a process left in one of our own stale cgroups.
        unsafe {
            libc::kill(p, libc::SIGKILL);
        }
    }
}

/// One environment's cgroups (those this machine allows and the function asked for).
#[derive(Debug)]
pub struct EnvCgroups {
    freezer: Option<PathBuf>,
    cpu: Option<PathBuf>,
    memory: Option<PathBuf>,
    /// `cgroup.procs` of each, as C strings made before the fork (the child writes its pid).
    procs_files: Vec<CString>,
}

/// CFS quota for a function of `memory_mb` on a 100 ms period: Lambda gives 1,769 MB one vCPU and
/// CPU in proportion to memory (1,024 MB: 0.579 of a vCPU).
pub fn cpu_quota_us(memory_mb: u32) -> u64 {
    (100_000u64 * u64::from(memory_mb)).div_ceil(1769)
}

impl EnvCgroups {
    /// Creates `name`'s cgroups: the freezer (when `method` is the cgroup freezer), and CPU and
    /// memory limits from `memory_mb` when `limits` is set and the hierarchies are writable.
    pub fn create(
        name: &str,
        method: FreezeMethod,
        cpu_ok: bool,
        memory_ok: bool,
        limits: bool,
        memory_mb: u32,
    ) -> std::io::Result<EnvCgroups> {
        let mk = |h: &str| -> std::io::Result<PathBuf> {
            let d = Path::new(h).join(PARENT).join(name);
            std::fs::create_dir_all(&d)?;
            Ok(d)
        };
        let freezer = if method == FreezeMethod::CgroupFreezer {
            Some(mk(FREEZER)?)
        } else {
            None
        };
        let cpu = if limits && cpu_ok {
            let d = mk(CPU)?;
            std::fs::write(d.join("cpu.cfs_period_us"), "100000")?;
            std::fs::write(
                d.join("cpu.cfs_quota_us"),
                cpu_quota_us(memory_mb).to_string(),
            )?;
            Some(d)
        } else {
            None
        };
        let memory = if limits && memory_ok {
            let d = mk(MEMORY)?;
            let bytes = u64::from(memory_mb) * 1024 * 1024;
            std::fs::write(d.join("memory.limit_in_bytes"), bytes.to_string())?;
            Some(d)
        } else {
            None
        };
        let mut procs_files = Vec::new();
        for d in [&freezer, &cpu, &memory].into_iter().flatten() {
            let p = d.join("cgroup.procs");
            procs_files.push(
                CString::new(p.as_os_str().as_encoded_bytes())
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
            );
        }
        Ok(EnvCgroups {
            freezer,
            cpu,
            memory,
            procs_files,
        })
    }

    /// Makes the child join these cgroups between fork and exec, so that it and everything it
    /// starts are in them from their first instruction.
    pub fn join_in_child(&self, cmd: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        let files = self.procs_files.clone();
        if files.is_empty() {
            return;
        }
        // SAFETY: between fork and exec this only calls getpid, open, write and close (all
        // async-signal-safe) on buffers made before the fork; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                let mut buf = [0u8; 24];
                let pid = libc::getpid();
                let n = itoa(pid as u64, &mut buf);
                for f in &files {
                    let fd = libc::open(f.as_ptr(), libc::O_WRONLY);
                    if fd < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    let w = libc::write(fd, buf.as_ptr().cast(), n);
                    libc::close(fd);
                    if w < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }

    /// The pids in the environment's cgroup (freezer, else cpu, else memory).
    pub fn pids(&self) -> Vec<i32> {
        let Some(d) = self
            .freezer
            .as_ref()
            .or(self.cpu.as_ref())
            .or(self.memory.as_ref())
        else {
            return Vec::new();
        };
        std::fs::read_to_string(d.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    pub fn has_freezer(&self) -> bool {
        self.freezer.is_some()
    }

    /// FROZEN or THAWED, waiting (bounded) until the kernel reports it done.
    pub fn set_frozen(&self, frozen: bool) -> std::io::Result<()> {
        let Some(d) = &self.freezer else {
            return Ok(());
        };
        let want = if frozen { "FROZEN" } else { "THAWED" };
        let state = d.join("freezer.state");
        std::fs::write(&state, want)?;
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if std::fs::read_to_string(&state)?.trim() == want {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err(std::io::Error::other(format!(
            "{} did not become {want} within 2 s",
            state.display()
        )))
    }

    /// Peak memory of the environment (`memory.max_usage_in_bytes`) when it has a memory cgroup.
    pub fn max_memory_bytes(&self) -> Option<u64> {
        let d = self.memory.as_ref()?;
        std::fs::read_to_string(d.join("memory.max_usage_in_bytes"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// SIGKILL everything in the cgroups (thawed first: a frozen process cannot die), then
    /// remove them.
    pub fn kill_and_remove(&self) {
        let _ = self.set_frozen(false);
        for _ in 0..50 {
            let pids = self.pids();
            if pids.is_empty() {
                break;
            }
            for p in pids {
                // SAFETY: a plain kill of a process in our own cgroup.
                unsafe {
                    libc::kill(p, libc::SIGKILL);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for d in [&self.freezer, &self.cpu, &self.memory]
            .into_iter()
            .flatten()
        {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Writes `v` in decimal into `buf`, returns the length (no allocation: used after fork).
fn itoa(mut v: u64, buf: &mut [u8; 24]) -> usize {
    let mut tmp = [0u8; 24];
    let mut n = 0;
    loop {
        tmp[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for i in 0..n {
        buf[i] = tmp[n - 1 - i];
    }
    n
}

/// Every descendant of `root` (and `root`), from `/proc`'s parent links.
pub fn process_tree(root: i32) -> Vec<i32> {
    let mut parent_of: Vec<(i32, i32)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                && let Some(ppid) = parse_ppid(&stat)
            {
                parent_of.push((pid, ppid));
            }
        }
    }
    tree_of(root, &parent_of)
}

/// The ppid field of a `/proc/PID/stat` line (after the command name in parentheses).
pub(crate) fn parse_ppid(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// `root` and its descendants in a (pid, ppid) table.
pub(crate) fn tree_of(root: i32, parent_of: &[(i32, i32)]) -> Vec<i32> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        for &(c, pp) in parent_of {
            if pp == p && !out.contains(&c) {
                out.push(c);
            }
        }
        i += 1;
    }
    out
}

/// SIGSTOP (or SIGCONT) each of `pids`.
pub fn signal_all(pids: &[i32], stop: bool) {
    let sig = if stop { libc::SIGSTOP } else { libc::SIGCONT };
    for &p in pids {
        // SAFETY: a plain kill of processes of the environment's tree.
        unsafe {
            libc::kill(p, sig);
        }
    }
}

/// The state letter of `/proc/PID/stat` (`T` stopped, `D`/`S`/`R` ...), for the frozen check of
/// the signal fallback and for tests.
pub fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().next()?.chars().next()
}

/// Peak RSS (VmHWM) summed over `pids`, in bytes: the fallback for Max Memory Used without a
/// memory cgroup (a sum of peaks, so at or above the true peak).
pub fn hwm_bytes(pids: &[i32]) -> u64 {
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum::<u64>()
        * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_share_follows_memory_as_lambda_gives_it() {
        assert_eq!(cpu_quota_us(1769), 100_000);
        assert_eq!(cpu_quota_us(1024), 57_886);
        assert_eq!(cpu_quota_us(2048), 115_772);
        assert_eq!(cpu_quota_us(128), 7_236);
    }

    #[test]
    fn ppid_is_read_after_the_command_name() {
        assert_eq!(parse_ppid("42 (node) S 7 42 42 0"), Some(7));
        assert_eq!(parse_ppid("43 (a) b (c) R 9 43"), Some(9));
        assert_eq!(parse_ppid("garbage"), None);
    }

    #[test]
    fn tree_follows_parent_links_only() {
        let t = [(2, 1), (3, 2), (4, 3), (5, 1), (6, 5)];
        let mut got = tree_of(2, &t);
        got.sort();
        assert_eq!(got, vec![2, 3, 4]);
        assert_eq!(tree_of(9, &t), vec![9]);
    }

    #[test]
    fn itoa_writes_decimal() {
        let mut b = [0u8; 24];
        let n = itoa(4_194_303, &mut b);
        assert_eq!(&b[..n], b"4194303");
        let n = itoa(0, &mut b);
        assert_eq!(&b[..n], b"0");
    }
}
