//! The LibreChat child process: spawn, forward its output line by line, remember its last lines,
//! and notice when it exits.

use std::collections::{BTreeMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

/// Which lines [`LogTail`] keeps aside: the matcher and the newest line it matched.
type Matcher = Arc<dyn Fn(&str) -> bool + Send + Sync>;

#[derive(Default)]
struct Watch {
    matcher: Option<Matcher>,
    last: Option<(std::time::Instant, String)>,
}

/// Last N output lines of the child, and the newest line of a watched kind (kept however many
/// lines came after it: the status endpoint quotes it as evidence).
#[derive(Clone)]
pub struct LogTail {
    cap: usize,
    lines: Arc<Mutex<VecDeque<String>>>,
    watch: Arc<Mutex<Watch>>,
}

impl std::fmt::Debug for LogTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogTail").field("cap", &self.cap).finish()
    }
}

impl LogTail {
    pub fn new(cap: usize) -> LogTail {
        LogTail {
            cap: cap.max(1),
            lines: Arc::new(Mutex::new(VecDeque::new())),
            watch: Arc::default(),
        }
    }

    /// Keep aside the newest line `matcher` accepts (from now on).
    pub fn watch(&self, matcher: impl Fn(&str) -> bool + Send + Sync + 'static) {
        if let Ok(mut w) = self.watch.lock() {
            w.matcher = Some(Arc::new(matcher));
        }
    }

    /// The newest watched line and how long ago it came.
    pub fn last_watched(&self) -> Option<(Duration, String)> {
        let w = self.watch.lock().ok()?;
        w.last.as_ref().map(|(at, l)| (at.elapsed(), l.clone()))
    }

    pub fn push(&self, line: String) {
        if let Ok(mut w) = self.watch.lock()
            && w.matcher.as_ref().is_some_and(|m| m(&line))
        {
            w.last = Some((std::time::Instant::now(), line.clone()));
        }
        if let Ok(mut l) = self.lines.lock() {
            if l.len() >= self.cap {
                l.pop_front();
            }
            l.push_back(line);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// A running (or exited) child.
#[derive(Debug, Clone)]
pub struct ChildHandle {
    pub pid: Option<u32>,
    exit: Arc<Mutex<Option<String>>>,
    pub tail: LogTail,
}

impl ChildHandle {
    /// `Some(reason)` once the child has exited.
    pub(crate) fn exit_reason(&self) -> Option<String> {
        self.exit.lock().ok().and_then(|e| e.clone())
    }

    /// Kill the child (SIGKILL), used before the environment is recycled.
    pub fn kill(&self) {
        self.signal(libc::SIGKILL);
    }

    fn signal(&self, sig: libc::c_int) -> bool {
        match self.pid.and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: kill(2) with a pid we spawned; no memory is shared with the callee.
            Some(pid) if self.exit_reason().is_none() => unsafe { libc::kill(pid, sig) == 0 },
            _ => false,
        }
    }

    /// Graceful stop: SIGTERM, then wait up to `grace` for the child to exit, then SIGKILL.
    pub async fn terminate(&self, grace: Duration) -> Termination {
        if self.exit_reason().is_some() || !self.signal(libc::SIGTERM) {
            return Termination::AlreadyExited;
        }
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            if let Some(reason) = self.exit_reason() {
                return Termination::Exited(reason);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.kill();
        Termination::Killed
    }
}

/// How [`ChildHandle::terminate`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    AlreadyExited,
    /// Exited within the grace period, with this status.
    Exited(String),
    /// Still running after the grace period: SIGKILLed.
    Killed,
}

fn forward<R: AsyncRead + Unpin + Send + 'static>(reader: R, stream: &'static str, tail: LogTail) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    tracing::info!(target: "librechat", stream, line = %line);
                    tail.push(line);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(target: "librechat", stream, error = %e, "child output not readable");
                    break;
                }
            }
        }
    });
}

/// Spawn `/bin/sh -c "exec CMD"` with the given extra environment. Output is forwarded to the
/// shim's log (never the environment: secret values stay out of logs).
pub fn spawn(
    cmd: &str,
    cwd: Option<&str>,
    env: &BTreeMap<String, String>,
    remove_env: &[&str],
    tail_lines: usize,
) -> std::io::Result<ChildHandle> {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(format!("exec {cmd}"));
    if let Some(dir) = cwd {
        c.current_dir(dir);
    }
    for k in remove_env {
        c.env_remove(k);
    }
    c.envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // LibreChat must not outlive the shim, even when the shim is killed without a chance to
    // clean up (SIGKILL, a crash): the kernel sends it SIGKILL when the shim's spawning thread
    // dies. The flag survives the `exec` of `/bin/sh -c "exec CMD"`.
    opsconsole_proc::child::die_with_parent(c.as_std_mut());
    let mut child = c.spawn()?;
    let tail = LogTail::new(tail_lines);
    if let Some(out) = child.stdout.take() {
        forward(out, "stdout", tail.clone());
    }
    if let Some(err) = child.stderr.take() {
        forward(err, "stderr", tail.clone());
    }
    let exit = Arc::new(Mutex::new(None));
    let handle = ChildHandle {
        pid: child.id(),
        exit: exit.clone(),
        tail,
    };
    tokio::spawn(async move {
        let reason = match child.wait().await {
            Ok(status) => status.to_string(),
            Err(e) => format!("wait failed: {e}"),
        };
        tracing::error!(reason = %reason, "LibreChat process exited");
        if let Ok(mut e) = exit.lock() {
            *e = Some(reason);
        }
    });
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_last_lines() {
        let t = LogTail::new(2);
        t.push("a".into());
        t.push("b".into());
        t.push("c".into());
        assert_eq!(t.snapshot(), vec!["b", "c"]);
        assert_eq!(t.last_watched(), None);
        t.watch(|l| l.contains("ECONNREFUSED"));
        t.push("connect ECONNREFUSED 10.0.0.5:27017".into());
        for l in ["d", "e", "f"] {
            t.push(l.into());
        }
        assert_eq!(t.snapshot(), vec!["e", "f"]);
        assert_eq!(
            t.last_watched().map(|(_, l)| l),
            Some("connect ECONNREFUSED 10.0.0.5:27017".to_string())
        );
    }

    #[tokio::test]
    async fn spawned_child_output_and_exit_are_seen() {
        let mut env = BTreeMap::new();
        env.insert("SHIM_TEST_VALUE".to_string(), "hello".to_string());
        let h = spawn(
            "/bin/sh -c 'echo \"$SHIM_TEST_VALUE\"; exit 3'",
            None,
            &env,
            &[],
            10,
        )
        .expect("spawns");
        for _ in 0..500 {
            if h.exit_reason().is_some() && !h.tail.snapshot().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(h.tail.snapshot(), vec!["hello"]);
        assert!(
            h.exit_reason().is_some_and(|r| r.contains('3')),
            "{:?}",
            h.exit_reason()
        );
    }

    async fn wait_line(h: &ChildHandle, line: &str) {
        for _ in 0..500 {
            if h.tail.snapshot().iter().any(|l| l == line) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("child never printed {line}: {:?}", h.tail.snapshot());
    }

    /// A shell child with this SIGTERM trap, once it is up.
    async fn child_with_trap(trap: &str) -> ChildHandle {
        let cmd = format!("/bin/sh -c 'trap {trap} TERM; echo up; while :; do sleep 0.01; done'");
        let h = spawn(&cmd, None, &BTreeMap::new(), &[], 10).expect("spawns");
        wait_line(&h, "up").await;
        h
    }

    #[tokio::test]
    async fn terminate_lets_a_cooperative_child_exit_on_sigterm() {
        let h = child_with_trap("\"echo bye; exit 0\"").await;
        let t = h.terminate(Duration::from_secs(5)).await;
        assert!(
            matches!(&t, Termination::Exited(r) if r.contains("exit status: 0")),
            "{t:?}"
        );
        wait_line(&h, "bye").await;
        assert_eq!(h.tail.snapshot(), vec!["up", "bye"]);
        assert_eq!(
            h.terminate(Duration::from_secs(1)).await,
            Termination::AlreadyExited
        );
    }

    #[tokio::test]
    async fn terminate_kills_a_child_that_ignores_sigterm() {
        let h = child_with_trap("\"\"").await;
        assert_eq!(
            h.terminate(Duration::from_millis(200)).await,
            Termination::Killed
        );
        for _ in 0..500 {
            if h.exit_reason().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            h.exit_reason().is_some_and(|r| r.contains("signal: 9")),
            "{:?}",
            h.exit_reason()
        );
    }
}
