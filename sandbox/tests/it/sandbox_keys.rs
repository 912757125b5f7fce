//! Issue 27 item 4: every key and `:` command the help lists, pressed as a newcomer would, on
//! `opsconsole-sandbox` in tmux at 80x24 and at 200x50. The keys come from the key map the help
//! overlay is drawn from (`help_entries`), the commands from the command line's own list
//! (`command_names`), so a new binding is pressed here without editing this test. A screen
//! with an error line (`✖`, "failed for" / "failed (" / "failed:", an SDK's "service error" / "unhandled error" layering
//! or a `ServiceError(` debug dump) or a blank view fails the test, naming the key and the
//! screen.
//!
//! Not carried out, only opened and cancelled: `:deploy image` and `:invalidate /*` (and `i`)
//! up to their confirmation, answered `n`; `:apply` (it starts `terraform plan` at once) and
//! `:env NAME` typed and cancelled with Esc. `q`, `C-c` and `:quit` end the run: `:quit` is the
//! last step and must end the console.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use opsconsole::tui::keys::{KeyMap, help_entries};

/// An error line: the failure mark, an SDK's error layering or debug dump, or the console's
/// sentences saying a call failed (on a healthy sandbox none should).
const ERROR_MARKERS: [&str; 8] = [
    "✖",
    "failed for",
    "failed (",
    "failed:",
    "service error",
    "unhandled error",
    "ServiceError(",
    "DisplayErrorContext",
];

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
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "keys"]).stdout)
            .into_owned()
    }
    /// A tmux key name (`Escape`, `BTab`, `C-c`...).
    fn key(&self, k: &str) {
        self.cmd(&["send-keys", "-t", "keys", k]);
    }
    /// Characters typed literally.
    fn text(&self, s: &str) {
        self.cmd(&["send-keys", "-t", "keys", "-l", s]);
    }
    fn alive(&self) -> bool {
        self.cmd(&["has-session", "-t", "keys"]).status.success()
            && !String::from_utf8_lossy(
                &self
                    .cmd(&["display", "-p", "-t", "keys", "#{pane_dead}"])
                    .stdout,
            )
            .trim()
            .starts_with('1')
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Our own server (own socket) only.
        let _ = self.cmd(&["kill-server"]);
    }
}

/// The tmux name of a key as the help labels it; `None` for a plain character (typed).
fn tmux_key(label: &str) -> Option<&'static str> {
    Some(match label {
        "Tab" => "Tab",
        "S-Tab" => "BTab",
        "↓" => "Down",
        "↑" => "Up",
        "←" => "Left",
        "→" => "Right",
        "Enter" => "Enter",
        "Esc" => "Escape",
        "PgUp" => "PPage",
        "PgDn" => "NPage",
        "Home" => "Home",
        "End" => "End",
        "C-c" => "C-c",
        _ => return None,
    })
}

fn press(t: &Tmux, label: &str) {
    match tmux_key(label) {
        Some(k) => t.key(k),
        None => t.text(label),
    }
}

/// Why `screen` is not acceptable, if it is not: an error line, or a blank view (fewer than
/// three lines with a letter or digit).
fn problem(screen: &str) -> Option<String> {
    error_line(screen).or_else(|| blank(screen))
}

fn error_line(screen: &str) -> Option<String> {
    screen.lines().find_map(|line| {
        ERROR_MARKERS
            .iter()
            .find(|m| line.contains(*m))
            .map(|m| format!("error line ({m:?}): {}", line.trim()))
    })
}

fn blank(screen: &str) -> Option<String> {
    let text_lines = screen
        .lines()
        .filter(|l| l.chars().any(char::is_alphanumeric))
        .count();
    (text_lines < 3).then(|| format!("blank view ({text_lines} lines with text)"))
}

struct Run<'a> {
    t: &'a Tmux,
    size: &'a str,
    stderr: &'a Path,
    /// Every step done, for the failure message.
    done: Vec<String>,
}

impl Run<'_> {
    /// Waits `settle`, then checks the screen; fails naming the step.
    fn check(&mut self, step: &str, settle: Duration) -> String {
        std::thread::sleep(settle);
        let s = self.t.capture();
        if let Some(p) = problem(&s) {
            let err = std::fs::read_to_string(self.stderr).unwrap_or_default();
            panic!(
                "{} after {step} ({} steps before: {:?}): {p}\n{s}\nstderr:\n{err}",
                self.size,
                self.done.len(),
                self.done
            );
        }
        self.done.push(step.to_string());
        s
    }

    /// Checks until `ready` holds (at most `max`), then once more.
    fn check_until(&mut self, step: &str, max: Duration, ready: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + max;
        loop {
            let s = self.t.capture();
            if ready(&s) || Instant::now() > until {
                break;
            }
            // Still starting or loading: blank is allowed until `ready`, an error line is not.
            if let Some(p) = error_line(&s) {
                panic!("{} after {step}: {p}\n{s}", self.size);
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        self.check(step, Duration::from_millis(300))
    }

    /// Back to the normal view.
    fn escape(&mut self) {
        self.t.key("Escape");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn every_key_at(width: u16, height: u16) {
    let _serial = crate::one_sandbox_at_a_time();
    assert!(
        Command::new("tmux").arg("-V").output().is_ok(),
        "tmux is not installed (scripts/bootstrap.sh installs it)"
    );
    let t = Tmux {
        socket: format!("opsconsole-keys-{width}x{height}-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_opsconsole-sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    let shell = format!("XDG_CONFIG_HOME={d} XDG_STATE_HOME={d} {bin} 2>{d}/stderr.log");
    let (w, h) = (width.to_string(), height.to_string());
    let dir_s = dir.path().to_string_lossy().into_owned();
    let out = t.cmd(&[
        "new-session",
        "-d",
        "-s",
        "keys",
        "-x",
        &w,
        "-y",
        &h,
        "-c",
        &dir_s,
        &shell,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");
    t.cmd(&["set", "-s", "escape-time", "0"]);
    t.cmd(&["set", "-t", "keys", "remain-on-exit", "on"]);
    let stderr = dir.path().join("stderr.log");
    let size = format!("{width}x{height}");
    let mut run = Run {
        t: &t,
        size: &size,
        stderr: &stderr,
        done: vec![],
    };
    let started = Instant::now();
    // Up, and every panel past loading (the sandbox is up in seconds once the shim is built).
    run.check_until("start", Duration::from_secs(300), |s| {
        s.contains("help") && !s.to_lowercase().contains("loading")
    });

    let km = KeyMap::default();
    let entries = help_entries(&km);
    assert!(entries.len() >= 19, "help lists {entries:?}");
    for (name, labels) in &entries {
        assert!(!labels.is_empty(), "{name} has no key in the help");
        for label in labels {
            let step = format!("{name} ({label})");
            match *name {
                // The end of the run, below.
                "quit" => {}
                // `:` is the command section's.
                "command" => {
                    press(&t, label);
                    run.check(&step, Duration::from_millis(400));
                    run.escape();
                }
                // Prefills `:invalidate /*`: Enter asks for confirmation, `n` declines.
                "invalidate" => {
                    press(&t, label);
                    run.check(&step, Duration::from_millis(400));
                    t.key("Enter");
                    run.check_until(&format!("{step} Enter"), Duration::from_secs(5), |s| {
                        s.to_lowercase().contains("confirm")
                    });
                    t.text("n");
                    run.check(&format!("{step} n"), Duration::from_millis(400));
                    run.escape();
                }
                "charts" => {
                    press(&t, label);
                    run.check_until(&step, Duration::from_secs(30), |s| {
                        !s.contains("loading the charts")
                    });
                    run.escape();
                }
                "logs" => {
                    press(&t, label);
                    run.check_until(&step, Duration::from_secs(15), |s| {
                        !s.to_lowercase().contains("loading")
                    });
                    run.escape();
                }
                // Each panel, then its detail view.
                "focus_1" => {
                    press(&t, label);
                    run.check(&step, Duration::from_millis(400));
                    t.key("Enter");
                    run.check(&format!("{step} Enter"), Duration::from_millis(1500));
                    run.escape();
                }
                _ => {
                    press(&t, label);
                    run.check(&step, Duration::from_millis(600));
                    run.escape();
                }
            }
        }
    }

    for cmd in opsconsole::tui::command_names() {
        let step = format!(":{}", cmd.trim());
        if cmd.trim() == "quit" {
            continue; // the last step, below
        }
        t.text(":");
        std::thread::sleep(Duration::from_millis(200));
        match cmd.trim() {
            "apply" | "env" => {
                t.text(cmd);
                run.check(
                    &format!("{step} (typed, not run)"),
                    Duration::from_millis(400),
                );
                run.escape();
            }
            "deploy image" | "invalidate /*" => {
                t.text(cmd);
                t.key("Enter");
                run.check_until(&step, Duration::from_secs(5), |s| {
                    s.to_lowercase().contains("confirm")
                });
                t.text("n");
                run.check(&format!("{step} declined"), Duration::from_millis(400));
                run.escape();
            }
            _ => {
                t.text(cmd);
                t.key("Enter");
                run.check(&step, Duration::from_millis(1500));
                run.escape();
            }
        }
    }
    // Errors that arrive late (the bundle, the probe, a refresh) are on screen by now.
    run.check("all keys and commands", Duration::from_secs(3));
    t.text(":");
    std::thread::sleep(Duration::from_millis(200));
    t.text("quit");
    t.key("Enter");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let pid_alive = {
            let out = t.cmd(&["display", "-p", "-t", "keys", "#{pane_dead}"]);
            !String::from_utf8_lossy(&out.stdout).trim().starts_with('1')
        };
        if !pid_alive || !t.alive() {
            break;
        }
        assert!(
            Instant::now() < until,
            "{size}: :quit did not end the console\n{}",
            t.capture()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "sandbox_keys {size}: {} steps in {:.0} s",
        run.done.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn every_key_and_command_of_the_help_at_80x24() {
    every_key_at(80, 24);
}

#[test]
fn every_key_and_command_of_the_help_at_200x50() {
    every_key_at(200, 50);
}

#[test]
fn error_lines_and_blank_views_are_caught() {
    assert!(problem("a\nb\nc\n").is_none());
    assert!(problem("a\n┌──┐\n\n").is_some());
    assert!(
        problem("ok\nok\n✖ service error: unhandled error: error parsing XML")
            .is_some_and(|p| p.contains("error line"))
    );
    assert!(problem("x\ny\nz (ServiceError(ServiceError { source: ...").is_some());
}
