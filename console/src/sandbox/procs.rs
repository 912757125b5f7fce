//! Child processes of the sandbox: each in its own process group, killed (the whole group) when
//! its guard is dropped - on a normal exit, after Ctrl-C, and while unwinding from a panic. As a
//! backstop for a killed sandbox, each direct child also gets `PR_SET_PDEATHSIG(SIGKILL)`.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A running child process group. Dropping it stops the group: SIGTERM, then SIGKILL.
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    child: Child,
    pgid: i32,
}

impl Proc {
    /// Starts `cmd` in a new process group with stdin closed and stdout+stderr appended to
    /// `log` (created or truncated).
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> anyhow::Result<Proc> {
        let out =
            File::create(log).with_context(|| format!("creating log file {}", log.display()))?;
        let err = out.try_clone().context("duplicating log file handle")?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        Proc::spawn_with_stdio(name, cmd)
    }

    /// Starts `cmd` (stdio already configured by the caller) in a new process group.
    pub fn spawn_with_stdio(name: &str, mut cmd: Command) -> anyhow::Result<Proc> {
        cmd.process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let program = cmd.get_program().to_os_string();
        let child =
            spawn_from_keeper(cmd).with_context(|| format!("starting {name} ({program:?})"))?;
        let pgid = i32::try_from(child.id()).context("pid out of range")?;
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
    static KEEPER: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<SpawnJob>>> =
        std::sync::OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("sandbox-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the spawner thread"));
        std::sync::Mutex::new(tx)
    });
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

/// A free TCP port on 127.0.0.1 (bound and released; another process could take it meanwhile,
/// which the caller notices as a start-up failure).
pub fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(l.local_addr().context("local_addr")?.port())
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`, or `proc` exits, or
/// `timeout` passes.
pub async fn wait_for_port(proc: &mut Proc, port: u16, timeout: Duration) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let until = Instant::now() + timeout;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = proc.exited() {
            bail!(
                "{} exited before listening on port {port}: {status}",
                proc.name
            );
        }
        if Instant::now() >= until {
            bail!(
                "{} did not listen on port {port} within {timeout:?}",
                proc.name
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
}
