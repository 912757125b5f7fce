//! `opsconsole-sandbox` (the real binary, with its TUI) in tmux: every panel gets data from the
//! sandbox, and quitting with `q` leaves no process behind.

use opsconsole_testsupport::procs::{descendants, survivors};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }
    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "sbx"]).stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Our own server (own socket) only.
        let _ = self.cmd(&["kill-server"]);
    }
}

#[test]
fn sandbox_tui_fills_every_panel_and_quits_cleanly() {
    let _serial = crate::one_sandbox_at_a_time();
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is not installed (scripts/bootstrap.sh installs it)");
    }
    let tmux = Tmux {
        socket: format!("opsconsole-sandbox-test-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_opsconsole-sandbox");
    let xdg = tempfile::tempdir().expect("tempdir");
    let shell = format!(
        "XDG_CONFIG_HOME={} XDG_STATE_HOME={} {bin} 2>{}/stderr.log",
        xdg.path().display(),
        xdg.path().display(),
        xdg.path().display()
    );
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "sbx",
        "-x",
        "160",
        "-y",
        "48",
        &shell,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");
    let pane_pid: i32 = String::from_utf8_lossy(
        &tmux
            .cmd(&["display", "-p", "-t", "sbx", "#{pane_pid}"])
            .stdout,
    )
    .trim()
    .parse()
    .expect("pane pid");

    // Data, not labels: values that only the sandbox's moto, shim and gateway can produce.
    let wanted = [
        "eu-west-1",
        "123456789012",
        "Deployed",      // CloudFront distribution status (moto)
        "available",     // Redis replication group status (moto)
        "lambda-errors", // an alarm seeded under the monitoring module's name
        "STREAMING",     // the SSE probe's verdict through gateway -> cargo-lambda -> shim
        "init",          // cold starts parsed from the log group
    ];
    let until = Instant::now() + Duration::from_secs(180);
    let screen = loop {
        let s = tmux.capture();
        let filled = wanted.iter().all(|w| s.contains(w)) && !s.to_lowercase().contains("loading");
        if filled {
            break s;
        }
        if Instant::now() > until {
            let err = std::fs::read_to_string(xdg.path().join("stderr.log")).unwrap_or_default();
            panic!(
                "panels not all filled within 180 s; missing {:?}\n{s}\nstderr:\n{err}",
                wanted
                    .iter()
                    .filter(|w| !s.contains(*w))
                    .collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let tree = descendants(pane_pid);
    for needle in [
        "opsconsole",
        "moto",
        "cargo-lambda",
        "redis-server",
        "bootstrap",
        "server.mjs",
    ] {
        assert!(
            tree.values().any(|c| c.contains(needle)),
            "no `{needle}` process under the TUI: {tree:?}\n{screen}"
        );
    }

    tmux.cmd(&["send-keys", "-t", "sbx", "q"]);
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let alive = survivors(&tree);
        if alive.is_empty() {
            break;
        }
        assert!(
            Instant::now() < until,
            "left behind after quitting: {alive:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
