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

/// `opsconsole-sandbox --librechat DIR` in tmux: the SSE panel streams a real chat (the chat
/// mode: no send times, `data:` frames of LibreChat's agents API) and `q` leaves nothing,
/// LibreChat, nx-27017 and the fake model included. Skipped without a LibreChat tree (see
/// `sandbox_librechat`).
#[test]
fn sandbox_tui_on_the_real_librechat_shows_the_chat_and_quits_cleanly() {
    let Some(tree) = crate::sandbox_librechat::librechat_tree() else {
        return;
    };
    let _serial = crate::one_sandbox_at_a_time();
    let tmux = Tmux {
        socket: format!("opsconsole-sandbox-lc-test-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_opsconsole-sandbox");
    let xdg = tempfile::tempdir().expect("tempdir");
    let shell = format!(
        "XDG_CONFIG_HOME={x} XDG_STATE_HOME={x} {bin} --librechat {t} 2>{x}/stderr.log",
        x = xdg.path().display(),
        t = tree.display(),
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
    // The chat mode's verdict: arrival gaps only ("no send times"), over LibreChat's stream.
    let until = Instant::now() + Duration::from_secs(300);
    let screen = loop {
        let s = tmux.capture();
        if s.contains("STREAMING") && s.contains("no send times") {
            break s;
        }
        if Instant::now() > until {
            let err = std::fs::read_to_string(xdg.path().join("stderr.log")).unwrap_or_default();
            panic!("no streamed chat in the SSE panel within 300 s\n{s}\nstderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let tree_now = descendants(pane_pid);
    for needle in [
        "api/server/index.js",
        "nx-27017",
        "fake-llm.mjs",
        "bootstrap",
    ] {
        assert!(
            tree_now.values().any(|c| c.contains(needle)),
            "no `{needle}` process under the TUI: {tree_now:?}\n{screen}"
        );
    }
    tmux.cmd(&["send-keys", "-t", "sbx", "q"]);
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let alive = survivors(&tree_now);
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
