//! The audit log: one JSON object per line, appended for every action (started, refused,
//! finished), in the XDG state dir (`$XDG_STATE_HOME/opsconsole/audit.jsonl`, by default
//! `~/.local/state/opsconsole/audit.jsonl`). `OPSCONSOLE_STATE_DIR` overrides the directory.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Env var that overrides the state directory (tests, packaging).
pub(crate) const STATE_DIR_ENV: &str = "OPSCONSOLE_STATE_DIR";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The caller's ARN, or `unknown` when the identity was not (yet) resolved.
    pub identity: String,
    pub account: Option<String>,
    pub environment: String,
    /// `invalidate`, `plan`, `apply`, `deploy-image`.
    pub action: String,
    pub arguments: serde_json::Value,
    /// `started`, `ok: ...`, `failed: ...`, `cancelled`, `refused: read-only`, `declined`.
    pub result: String,
}

/// The state directory: `$OPSCONSOLE_STATE_DIR`, else `$XDG_STATE_HOME/opsconsole`, else
/// `~/.local/state/opsconsole`.
pub(crate) fn state_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(STATE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("opsconsole"));
    }
    directories::BaseDirs::new().map(|b| b.home_dir().join(".local/state/opsconsole"))
}

pub(crate) fn audit_path() -> Option<PathBuf> {
    state_dir().map(|d| d.join("audit.jsonl"))
}

/// Appends one record as a JSON line (creating the directory). Returns the file written.
pub fn append(record: &AuditRecord) -> anyhow::Result<PathBuf> {
    let path = audit_path().ok_or_else(|| {
        anyhow::anyhow!("no state directory: set {STATE_DIR_ENV} or HOME to write the audit log")
    })?;
    append_to(&path, record)?;
    Ok(path)
}

/// Appends one record as a JSON line to `path` (creating its directory).
pub fn append_to(path: &std::path::Path, record: &AuditRecord) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let mut line = serde_json::to_string(record)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    file.write_all(line.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// Reads every record of an audit file (for tests and `:audit`-like views).
pub fn read_all(path: &std::path::Path) -> anyhow::Result<Vec<AuditRecord>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(anyhow::Error::from))
        .collect()
}
