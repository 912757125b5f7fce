//! Support for tests, benchmarks and the sandbox: real local peers, no mocks.
//! - [`moto`]: a moto server (AWS stand-in) on a free loopback port, with SDK clients for it.
//! - [`seed`]: one deployment seeded into moto through the SDK, with its outputs document.
//! - [`sse`]: small SSE servers (streaming, buffering, stalling, dropping) and a fake shim.
//!
//! Compiled always (the sandbox uses it in product code).

pub mod moto;
pub mod seed;
pub mod sse;

use std::path::{Path, PathBuf};

/// The repository root: `$OPSCONSOLE_REPO`, else the first ancestor (of the executable, the
/// current directory, or this crate's source directory) holding `scripts/bootstrap.sh`.
pub fn repo_root() -> Option<PathBuf> {
    if let Ok(r) = std::env::var("OPSCONSOLE_REPO") {
        let p = PathBuf::from(r);
        if p.join("scripts/bootstrap.sh").is_file() {
            return Some(p);
        }
    }
    let mut starts: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe);
    }
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    starts.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    starts.iter().find_map(|s| find_up(s))
}

fn find_up(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("scripts/bootstrap.sh").is_file())
        .map(Path::to_path_buf)
}

/// A free TCP port on 127.0.0.1 (bound and released; a tiny race remains, callers retry).
pub fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}
