//! Support for tests, benchmarks and the sandbox: real local peers, no mocks. Named only in
//! `[dev-dependencies]` (console, shim) and by the sandbox; never part of the operator's
//! `opsconsole`.
//! - [`moto`]: a moto server (AWS stand-in) on a free loopback port; with feature `console`,
//!   SDK clients for it through the console's one AWS loader;
//! - [`seed`] (feature `console`): one deployment seeded into moto through the SDK, with its
//!   outputs document;
//! - [`sse`]: a stand-in for the shim's HTTP surface (streaming, buffering, stalling, dropping);
//! - [`procs`]: the process table, for tests that check nothing is left behind;
//! - [`librechat`]: the image's environment and tools/librechat-local's, for the real LibreChat;
//! - [`lambda`]: cargo-lambda's Runtime API for one function;
//! - [`bins`]: the workspace's binaries as tests run them, and whether they are stale;
//! - [`free_port`], [`repo_root`].

// Test support: a failed setup step is a failing test, and says so with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod bins;
pub mod lambda;
pub mod librechat;
pub mod moto;
pub mod procs;
#[cfg(feature = "console")]
pub mod seed;
pub mod sse;

use std::path::PathBuf;

pub use opsconsole_proc::repo::{RepoError, find as find_repo};

/// The repository checkout (see [`opsconsole_proc::repo::find`]); panics with the reason when
/// there is none (tests run inside the checkout).
pub fn repo_root() -> PathBuf {
    match find_repo(None) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// A free TCP port on 127.0.0.1 (bound and released: another process could take it meanwhile,
/// which the caller notices as a start-up failure and may retry).
pub fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}
