//! The process table (Linux `/proc`), for tests that check a sandbox leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet};

/// pid -> (ppid, cmdline) of every live (non-zombie) process.
pub fn processes() -> BTreeMap<i32, (i32, String)> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            continue;
        }
        let Some(ppid) = fields.get(1).and_then(|p| p.parse().ok()) else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        out.insert(pid, (ppid, cmd));
    }
    out
}

/// pid -> cmdline of every live process below `root` (children, grandchildren, ...).
pub fn descendants(root: i32) -> BTreeMap<i32, String> {
    let procs = processes();
    let mut found = BTreeMap::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (pid, (ppid, cmd)) in &procs {
            if *ppid == p && !found.contains_key(pid) {
                found.insert(*pid, cmd.clone());
                frontier.push(*pid);
            }
        }
    }
    found
}

/// The processes of `before` still running now (same pid and same command line).
pub fn survivors(before: &BTreeMap<i32, String>) -> BTreeSet<(i32, String)> {
    let now = processes();
    before
        .iter()
        .filter(|(pid, cmd)| now.get(pid).is_some_and(|(_, c)| c == *cmd))
        .map(|(p, c)| (*p, c.clone()))
        .collect()
}
