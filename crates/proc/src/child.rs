//! Children that must not outlive us.
//!
//! - [`die_with_parent`]: the kernel sends the child SIGKILL when the thread that forked it
//!   exits (`PR_SET_PDEATHSIG`), the backstop for a parent that is killed without a chance to
//!   clean up. The flag survives `exec`.
//! - [`Proc`]: a child in its own process group, with [`die_with_parent`], forked from one
//!   long-lived thread; dropping it stops the whole group (SIGTERM, a grace period, SIGKILL) -
//!   on a normal exit, after Ctrl-C, and while unwinding from a panic.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why a child could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("creating log file {}: {source}", path.display())]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("starting {name} ({program}): {source}")]
    Spawn {
        name: String,
        program: String,
        source: std::io::Error,
    },
}

/// Makes the child get SIGKILL when the thread that forks it exits (Linux `PR_SET_PDEATHSIG`).
/// Fork from a thread that lives as long as the parent (not a pool thread that exits when idle).
pub fn die_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only calls prctl, which is
    // async-signal-safe; it allocates nothing and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A running child process group. Dropping it stops the group: SIGTERM, then SIGKILL.
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    child: Child,
    pgid: i32,
}

impl Proc {
    /// Starts `cmd` in a new process group with stdin closed and stdout+stderr written to `log`
    /// (created or truncated).
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Proc, SpawnError> {
        let log_err = |source| SpawnError::Log {
            path: log.to_path_buf(),
            source,
        };
        let out = File::create(log).map_err(log_err)?;
        let err = out.try_clone().map_err(log_err)?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        Proc::spawn_with_stdio(name, cmd)
    }

    /// Starts `cmd` (stdio already configured by the caller) in a new process group.
    pub fn spawn_with_stdio(name: &str, mut cmd: Command) -> Result<Proc, SpawnError> {
        cmd.process_group(0);
        die_with_parent(&mut cmd);
        let program = cmd.get_program().to_string_lossy().into_owned();
        let spawn_err = |source| SpawnError::Spawn {
            name: name.to_string(),
            program: program.clone(),
            source,
        };
        let child = spawn_from_keeper(cmd).map_err(spawn_err)?;
        let pgid = i32::try_from(child.id())
            .map_err(|_| spawn_err(std::io::Error::other("pid out of range")))?;
        Ok(Proc {
            name: name.to_string(),
            child,
            pgid,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the group leader has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("wait failed: {e}")),
        }
    }

    /// Takes the child's stdout pipe (when spawned with `Stdio::piped()`).
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// Takes the child's stderr pipe (when spawned with `Stdio::piped()`).
    pub fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// Stops the whole group: SIGTERM, up to `grace` for the leader to exit, then SIGKILL.
    pub fn stop(&mut self, grace: Duration) {
        // SAFETY: plain syscalls on a process group we created.
        unsafe {
            libc::killpg(self.pgid, libc::SIGTERM);
        }
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Members of the group other than the leader (e.g. node under the shim) may remain.
        // SAFETY: as above.
        unsafe {
            libc::killpg(self.pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop(Duration::from_millis(1500));
    }
}

type SpawnJob = (Command, std::sync::mpsc::Sender<std::io::Result<Child>>);

/// Spawns `cmd` from one thread that lives as long as the process. `PR_SET_PDEATHSIG` fires
/// when the *thread* that forked the child exits, so children must not be forked from tokio
/// threads that may come and go (blocking-pool threads exit when idle).
fn spawn_from_keeper(cmd: Command) -> std::io::Result<Child> {
    static KEEPER: std::sync::OnceLock<
        Result<std::sync::Mutex<std::sync::mpsc::Sender<SpawnJob>>, String>,
    > = std::sync::OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("child-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .map(|_| std::sync::Mutex::new(tx))
            .map_err(|e| format!("cannot start the spawner thread: {e}"))
    });
    let keeper = keeper
        .as_ref()
        .map_err(|e| std::io::Error::other(e.clone()))?;
    let (reply_tx, reply_rx) = std::sync::mpsc::channel();
    let sent = keeper
        .lock()
        .map_err(|_| std::io::Error::other("spawner lock poisoned"))?
        .send((cmd, reply_tx));
    sent.map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| std::io::Error::other("the spawner thread did not answer"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: i32) -> bool {
        // SAFETY: signal 0 only checks for existence.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    #[test]
    fn drop_kills_the_whole_group_including_grandchildren() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("grandchild.pid");
        let mut cmd = Command::new("/bin/sh");
        // The shell starts a grandchild in the same group, records its pid, and waits.
        cmd.arg("-c")
            .arg(format!("sleep 300 & echo $! > {}; wait", pidfile.display()));
        let p = Proc::spawn("sh", cmd, &dir.path().join("sh.log")).expect("spawn");
        let leader = p.pid() as i32;
        let mut grandchild = None;
        for _ in 0..200 {
            if let Ok(s) = std::fs::read_to_string(&pidfile)
                && let Ok(pid) = s.trim().parse::<i32>()
            {
                grandchild = Some(pid);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let grandchild = grandchild.expect("grandchild pid written");
        assert!(alive(leader) && alive(grandchild));
        drop(p);
        // The grandchild was reparented; give init a moment to reap it.
        let mut gone = false;
        for _ in 0..100 {
            let stat =
                std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z") {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone, "grandchild {grandchild} survived the group kill");
    }

    #[test]
    fn a_child_dies_with_the_thread_that_forked_it() {
        // A thread forks `sleep` with die_with_parent and exits: the kernel kills the child.
        let handle = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("300");
            die_with_parent(&mut cmd);
            cmd.spawn().expect("spawn sleep")
        });
        let mut child = handle.join().expect("forking thread");
        let mut status = None;
        for _ in 0..300 {
            if let Ok(Some(s)) = child.try_wait() {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let status = status.expect("the child outlived the thread that forked it");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    }

    #[test]
    fn spawn_errors_name_the_child_and_the_program() {
        let e = Proc::spawn_with_stdio("ghost", Command::new("/nonexistent/ghost"))
            .expect_err("no such program");
        let msg = e.to_string();
        assert!(
            msg.contains("ghost") && msg.contains("/nonexistent/ghost"),
            "{msg}"
        );
    }
}
