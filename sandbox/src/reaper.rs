//! Children of the sandbox that die while it runs (issue 25, item 4): nx-27017, the fake model,
//! redis-server. A task looks at each every [`EVERY`]; one that exited is reaped (waited for,
//! so no zombie stays) and reported once: which, its pid, how (exit status or signal), its
//! last log lines. The sandbox prints the report on stderr (`--no-tui`) or shows it in the
//! console's Activity panel.

use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use opsconsole_proc::child::Proc;
use tokio::sync::mpsc;

/// How often the children are looked at.
pub const EVERY: Duration = Duration::from_millis(500);

/// The sandbox's own children (dropped, and so stopped, with the sandbox).
pub(crate) type Children = Arc<Mutex<Vec<Watched>>>;

/// A child and where its output goes.
pub(crate) struct Watched {
    pub proc: Proc,
    pub log: std::path::PathBuf,
    pub reported: bool,
}

/// A child that died.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    pub name: String,
    pub pid: u32,
    /// `signal: 9 (SIGKILL)`, `exit status: 1`.
    pub how: String,
    /// Its last log lines (at most 3).
    pub last_lines: Vec<String>,
}

impl Death {
    /// One line for the Activity panel and stderr.
    pub fn line(&self) -> String {
        let mut l = format!(
            "{} (pid {}) died: {}; the sandbox reaped it",
            self.name, self.pid, self.how
        );
        if let Some(last) = self.last_lines.last() {
            l.push_str(&format!("; its last line: {last}"));
        }
        l
    }
}

fn last_lines(log: &Path) -> Vec<String> {
    crate::last_lines(log, 3)
}

/// Looks at the children every [`EVERY`] until the sandbox drops them; sends each death once.
pub(crate) fn watch(
    children: Weak<Mutex<Vec<Watched>>>,
    tx: mpsc::UnboundedSender<Death>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            let Some(children) = children.upgrade() else {
                return;
            };
            for d in reap(&children) {
                tracing::error!(child = %d.name, pid = d.pid, how = %d.how, "a child of the sandbox died");
                let _ = tx.send(d);
            }
        }
    })
}

/// The children that exited since the last look (each reaped by the look).
pub(crate) fn reap(children: &Children) -> Vec<Death> {
    let Ok(mut list) = children.lock() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for w in list.iter_mut().filter(|w| !w.reported) {
        if let Some(how) = w.proc.exited() {
            w.reported = true;
            out.push(Death {
                name: w.proc.name.clone(),
                pid: w.proc.pid(),
                how,
                last_lines: last_lines(&w.log),
            });
        }
    }
    out
}
