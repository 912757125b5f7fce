//! `opsconsole-sandbox` (`cargo run -p opsconsole-sandbox`): the whole deployment on one machine,
//! with the console's TUI on it. Entry point: [`run`]. A crate of its own: it depends on the
//! console and on the test support, never the other way, so the operator's `opsconsole` carries
//! none of it.
//!
//! What runs (all on 127.0.0.1, free ports; every child in its own process group, stopped when
//! [`Sandbox`] is dropped - normal exit, Ctrl-C, panic):
//! - moto's server (AWS APIs, `opsconsole_testsupport::moto`), seeded through the SDK ([`seed`])
//!   with what the Terraform creates;
//! - `redis-server` (the shim's `REDIS_URI`);
//! - the local Lambda (`opsconsole-locallambda`) running the real shim `bootstrap` in each
//!   execution environment, which spawns the LibreChat stand-in (`node
//!   tools/librechat-standin/server.mjs`); environments start on demand, are frozen while idle
//!   and replaced when they exit, as on Lambda ([`function`]);
//! - the CloudFront/API Gateway stand-in ([`gateway`]), whose URL is the outputs' `site_url`.
//!
//! See docs/sandbox.md.

mod alarms;
mod cli;
mod distribution;
mod fault;
pub mod frontend;
mod function;
mod gateway;
mod info;
mod lambda;
pub mod librechat;
mod logs;
mod outputs;
mod peers;
pub mod reaper;
mod seed;
mod tools;

pub use cli::{SandboxArgs, run};
pub use fault::Fault;
pub(crate) use info::last_lines;
pub use info::{LibreChatInfo, SandboxInfo};
pub use lambda::{LambdaSettings, seed_only, start_lambda};
pub(crate) use peers::FAKE_LLM_KEY;

use std::path::Path;
use std::time::Duration;

use opsconsole_testsupport::moto::MotoServer;

/// A browser's connections to one host (HTTP/1.1): the API calls it may send at once.
pub const BROWSER_CONNECTIONS: u16 = 6;
/// The function's concurrency limit in the sandbox with the web client, above a browser's
/// [`BROWSER_CONNECTIONS`]. The deployment reserves no concurrency, so on Lambda a request
/// that finds every environment busy starts a new one, and one does here too up to this limit:
/// a browser sends its next call as soon as a response ends, which may be before that
/// environment's runtime has asked for the next event, so a seventh environment can be needed
/// for a moment; at six such a call would be throttled (a 500 to the app). (The browser test
/// once failed on a 500 from `/api/user` after login with the limit at six; three runs at six
/// since saw no throttle, so that 500's cause is not known: the test now prints the throttle
/// count and the environments' error lines when it fails.)
pub const BROWSER_CONCURRENCY: u16 = 10;
/// The environment name the sandbox deploys as.
pub(crate) const ENV: &str = "sandbox";
/// The deployment's home region in the sandbox (CloudFront's alarm is in us-east-1).
pub const REGION: &str = "eu-west-1";
/// Environment variable naming a file: with `--no-tui`, once the sandbox is up and that file
/// appears, the sandbox panics. Used by the test that proves a panic leaves no process behind.
pub const PANIC_HOOK_ENV: &str = "OPSCONSOLE_SANDBOX_TEST_PANIC";

/// A running sandbox. Dropping it stops everything (the shim first, moto last) and removes its
/// directory.
pub struct Sandbox {
    pub info: SandboxInfo,
    // Field order = drop order.
    /// The function's environments (the shim and LibreChat in each), stopped first.
    lambda: Option<opsconsole_locallambda::LocalLambda>,
    /// `--librechat`: nx-27017 and the fake model (stopped after the shim and LibreChat).
    /// The sandbox's children (nx-27017, the fake model, redis-server), watched by `reaper`.
    children: reaper::Children,
    _gateway: gateway::Gateway,
    _moto: MotoServer,
    log_forwarder: tokio::task::JoinHandle<()>,
    /// Reaps and reports the children that die (`reaper::watch`).
    reaper: tokio::task::JoinHandle<()>,
    deaths: Option<tokio::sync::mpsc::UnboundedReceiver<reaper::Death>>,
    keep_dir: bool,
}

impl Sandbox {
    /// The sandbox's own children: (name, pid).
    pub fn children(&self) -> Vec<(String, u32)> {
        self.children
            .lock()
            .map(|c| {
                c.iter()
                    .map(|w| (w.proc.name.clone(), w.proc.pid()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The children's deaths as they are reaped (once: the first caller gets the receiver).
    pub fn take_deaths(&mut self) -> Option<tokio::sync::mpsc::UnboundedReceiver<reaper::Death>> {
        self.deaths.take()
    }

    /// The local Lambda's execution environments now (phase, frozen, processes).
    /// Invocations the local Lambda throttled so far (answered 500 by the gateway, as API
    /// Gateway answers a throttled Lambda).
    pub fn lambda_throttled(&self) -> u64 {
        self.lambda.as_ref().map(|l| l.throttled()).unwrap_or(0)
    }

    pub fn lambda_environments(&self) -> Vec<opsconsole_locallambda::EnvSnapshot> {
        self.lambda
            .as_ref()
            .map(|l| l.environments())
            .unwrap_or_default()
    }
}

impl Sandbox {
    /// Brings the function up to `total` execution environments (as provisioned concurrency
    /// would), returning once the new ones are ready (or `within` passed): how many are ready.
    pub async fn prewarm(&self, total: usize, within: Duration) -> usize {
        let Some(l) = self.lambda.as_ref() else {
            return 0;
        };
        let have = l.environments().len();
        have + l.prewarm(total.saturating_sub(have), within).await
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        drop(self.lambda.take());
        self.log_forwarder.abort();
        self.reaper.abort();
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.info.dir);
        }
    }
}

/// [`start_in`] the checkout found from the current directory (or `OPSCONSOLE_REPO`).
pub async fn start(fault: Option<Fault>) -> anyhow::Result<Sandbox> {
    start_in(&opsconsole_proc::repo::find(None)?, fault).await
}

/// Starts every part of the sandbox from the checkout `root` and seeds it; returns once
/// `/api/health` answers through the whole path (or, for `librechat-down`, once the shim has
/// been started).
pub(crate) async fn start_in(root: &Path, fault: Option<Fault>) -> anyhow::Result<Sandbox> {
    start_with(root, fault, None).await
}

/// Starts every part of the sandbox (with `librechat`: the real LibreChat instead of the
/// stand-in) and seeds it; returns once `/api/health` answers through the whole path (and, with
/// `librechat`, the user, agent and API key are made).
pub async fn start_with(
    root: &Path,
    fault: Option<Fault>,
    librechat: Option<&librechat::LibreChatSpec>,
) -> anyhow::Result<Sandbox> {
    start_lambda(root, fault, librechat, LambdaSettings::default()).await
}
