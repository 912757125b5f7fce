//! `opsconsole-sandbox --no-tui` (the real binary) leaves no process behind: after Ctrl-C
//! (SIGINT), after SIGTERM, and when it panics with everything up.

use opsconsole_testsupport::procs::{descendants, survivors};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the sandbox and reads its stdout until it is up. Returns the child and its lines.
fn start_sandbox(extra_env: &[(&str, &str)]) -> (Child, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole-sandbox"));
    cmd.args(["--no-tui"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Not inherited: a sandbox that outlived this test must not hold the test runner's
        // output open (CI would wait on it). Its stderr is relayed by a thread instead.
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    // Backstop: if this test dies (or ends) with the sandbox still running, the kernel kills
    // the sandbox, and its children follow it (they have the same flag).
    opsconsole_proc::child::die_with_parent(&mut cmd);
    let mut child = cmd.spawn().expect("spawn opsconsole sandbox");
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("sandbox: {line}");
            }
        });
    }
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let until = Instant::now() + Duration::from_secs(240);
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => {
                let done = l.starts_with("Ctrl-C stops");
                lines.push(l);
                if done {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let st = child.wait().ok();
                panic!("sandbox exited before it was up ({st:?}); stdout: {lines:?}");
            }
        }
        assert!(
            Instant::now() < until,
            "sandbox not up within 240 s; stdout: {lines:?}"
        );
    }
    (child, lines)
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + within;
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("sandbox did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts that none of `before` is still running (same pid and same command line).
fn assert_all_gone(before: &BTreeMap<i32, String>) {
    // Reparented children are reaped by init shortly after the group kill.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let alive = survivors(before);
        if alive.is_empty() {
            return;
        }
        assert!(Instant::now() < until, "processes left behind: {alive:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The sandbox's process tree once every part is in it. Polled (bounded): the sandbox restarts
/// a shim that exits, as Lambda starts a new environment, so one snapshot can fall between two
/// generations of `bootstrap`.
fn full_tree(root: i32) -> BTreeMap<i32, String> {
    const NEEDLES: [&str; 4] = [
        "moto",
        "redis-server",
        "bootstrap",
        "librechat-standin/server.mjs",
    ];
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let tree = descendants(root);
        let missing: Vec<&str> = NEEDLES
            .into_iter()
            .filter(|n| !tree.values().any(|c| c.contains(n)))
            .collect();
        if missing.is_empty() {
            return tree;
        }
        assert!(
            Instant::now() < until,
            "expected {missing:?} under the sandbox, found {:?}",
            tree.values().collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sandbox_ctrl_c_leaves_no_process_behind() {
    let _serial = crate::one_sandbox_at_a_time();
    let (mut child, lines) = start_sandbox(&[]);
    assert!(
        lines.iter().any(|l| l.trim_start().starts_with("outputs:")),
        "{lines:?}"
    );
    let tree = full_tree(child.id() as i32);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let st = wait_exit(&mut child, Duration::from_secs(30));
    assert!(st.success(), "sandbox exit after Ctrl-C: {st}");
    assert_all_gone(&tree);
}

#[test]
fn sandbox_sigterm_leaves_no_process_behind() {
    let _serial = crate::one_sandbox_at_a_time();
    let (mut child, _) = start_sandbox(&[]);
    let tree = full_tree(child.id() as i32);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    wait_exit(&mut child, Duration::from_secs(30));
    assert_all_gone(&tree);
}

#[test]
fn sandbox_panic_leaves_no_process_behind() {
    let _serial = crate::one_sandbox_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let trigger = dir.path().join("panic-now");
    let trigger_s = trigger.display().to_string();
    let (mut child, _) = start_sandbox(&[(opsconsole_sandbox::PANIC_HOOK_ENV, trigger_s.as_str())]);
    let tree = full_tree(child.id() as i32);
    std::fs::write(&trigger, b"").expect("create trigger");
    let st = wait_exit(&mut child, Duration::from_secs(30));
    assert!(!st.success(), "a panicking sandbox must not exit 0: {st}");
    assert_all_gone(&tree);
}

/// The backstop for a sandbox that cannot clean up (SIGKILL): its direct children die with it
/// (`PR_SET_PDEATHSIG`; moto exits when its stdin closes), and the LibreChat stand-in, a child
/// of the shim, dies with the shim (the shim sets `PR_SET_PDEATHSIG` on LibreChat too).
#[test]
fn sandbox_sigkill_takes_its_direct_children_down() {
    let _serial = crate::one_sandbox_at_a_time();
    let (mut child, lines) = start_sandbox(&[]);
    let tree = full_tree(child.id() as i32);
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    // A killed sandbox cannot remove its directory either.
    let dir = lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("outputs:"))
        .and_then(|p| {
            std::path::Path::new(p.trim())
                .parent()
                .map(|d| d.to_path_buf())
        });
    wait_exit(&mut child, Duration::from_secs(30));
    assert_all_gone(&tree);
    if let Some(d) = dir.filter(|d| d.to_string_lossy().contains("opsconsole-sandbox-")) {
        let _ = std::fs::remove_dir_all(d);
    }
}
