//! A local AWS Lambda with Lambda's execution model, for the sandbox and the tests (README.md
//! beside this crate says what it models and what not).
//!
//! One function, several **execution environments**. An invocation goes to an idle environment
//! (a seeded random choice among the idle ones); when none is idle a new one starts, up to the
//! concurrency limit, past which Invoke answers Lambda's throttle. Each environment is the
//! function's process (the runtime) with its own Runtime API on its own port
//! (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT`, as Lambda sets it). From the moment the runtime asks
//! for the next event until it gets one, the environment's **whole process tree is frozen**
//! (cgroup v1 freezer, else SIGSTOP/SIGCONT; [`LocalLambda::freeze_method`] says which). The init
//! phase is bounded (10 s, then Lambda's retry of init inside the first invocation), invocations by
//! the function's timeout; CPU share and memory limit follow the memory setting where cgroups
//! allow; `/tmp` (TMPDIR) is per environment; idle environments are reaped; `START`, `END` and
//! `REPORT` lines go to the log sink with the function's own output.
//!
//! Test knob: an Invoke request with `x-locallambda-environment: new` goes to a new environment,
//! with `x-locallambda-environment: N` to environment N (which must be idle).

mod env;
mod invoke;
pub mod isolation;
pub mod platform;
mod runtime_api;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use env::{EnvPhase, EnvSnapshot};
pub use isolation::FreezeMethod;

/// Lambda's limit on a synchronous invocation's request payload (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Lambda's limit on a buffered (not streamed) response payload (6 MB).
pub const MAX_BUFFERED_RESPONSE: usize = 6 * 1024 * 1024;
/// The request header that routes an invocation (test knob): `new` or an environment's number.
pub const ROUTE_HEADER: &str = "x-locallambda-environment";
/// The response header naming the environment that served an invocation.
pub const SERVED_BY_HEADER: &str = "x-locallambda-served-by";

/// One line for the function's log group.
#[derive(Debug, Clone)]
pub struct LogRecord {
    /// The environment's number (1, 2, ...).
    pub env: u32,
    /// Its log stream (`YYYY/MM/DD/[$LATEST]<hex>`).
    pub log_stream: String,
    /// Unix milliseconds.
    pub ts_ms: i64,
    pub line: String,
    /// Written by the platform (`START`/`END`/`REPORT`/`INIT_REPORT`/timeouts), not the function.
    pub platform: bool,
}

/// Where log lines go (the sandbox forwards them to the log group in moto).
pub type LogSink = Arc<dyn Fn(LogRecord) + Send + Sync>;

/// The function and how Lambda runs it.
#[derive(Clone)]
pub struct FunctionConfig {
    pub name: String,
    /// The runtime: the image's entry point (the shim's `bootstrap`).
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Run the program through this (e.g. `setpriv --reuid=65534 ...`); empty: directly.
    pub wrapper: Vec<String>,
    /// The function's environment variables (Lambda's own `AWS_LAMBDA_*` are added).
    pub env: Vec<(String, String)>,
    /// The working directory (LAMBDA_TASK_ROOT).
    pub cwd: PathBuf,
    pub memory_mb: u32,
    /// The function's timeout.
    pub timeout: Duration,
    /// The init phase's limit (Lambda: 10 s).
    pub init_timeout: Duration,
    /// Concurrent environments at most (reserved concurrency).
    pub max_concurrency: usize,
    /// Idle environments are stopped after this long (Lambda: minutes, unspecified).
    pub idle_timeout: Option<Duration>,
    /// Freeze idle environments (Lambda always does; off only to compare).
    pub freeze: bool,
    /// CPU share and memory limit from `memory_mb`, where the cgroups are writable.
    pub limits: bool,
    /// Seed of the choice among idle environments and of request ids.
    pub seed: u64,
    /// Variables set to a free port of each environment's own (Lambda gives every environment
    /// its own network namespace; here they share the host's loopback, so a server the function
    /// starts, such as LibreChat behind the shim, needs a port per environment).
    pub env_port_vars: Vec<String>,
    /// Give each environment temporary credentials as Lambda does from the execution role:
    /// `AWS_ACCESS_KEY_ID` (an `ASIA...` key id), `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_SESSION_TOKEN`, fake and random (emulators accept them; a client that drops the
    /// token is refused by tools/motoext's `auth.session_token`, as by AWS). `env` entries win.
    pub role_credentials: bool,
    /// Per-environment `/tmp` and output files go below this directory.
    pub work_dir: PathBuf,
    pub log_sink: Option<LogSink>,
}

impl std::fmt::Debug for FunctionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionConfig")
            .field("name", &self.name)
            .field("program", &self.program)
            .field("memory_mb", &self.memory_mb)
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .field("freeze", &self.freeze)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl FunctionConfig {
    /// Lambda's defaults for `program`: 1,024 MB, 30 s timeout, 10 s init, concurrency 10, idle
    /// environments kept 10 minutes, frozen, CPU/memory limits on.
    pub fn new(name: &str, program: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> Self {
        FunctionConfig {
            name: name.to_string(),
            program: program.into(),
            args: Vec::new(),
            wrapper: Vec::new(),
            env: Vec::new(),
            cwd: PathBuf::from("/"),
            memory_mb: 1024,
            timeout: Duration::from_secs(30),
            init_timeout: Duration::from_secs(10),
            max_concurrency: 10,
            idle_timeout: Some(Duration::from_secs(600)),
            freeze: true,
            limits: true,
            seed: 1,
            env_port_vars: Vec::new(),
            role_credentials: true,
            work_dir: work_dir.into(),
            log_sink: None,
        }
    }
}

/// Why the local Lambda could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("binding 127.0.0.1 for the local Lambda: {0}")]
    Bind(std::io::Error),
    #[error("creating {path}: {source}")]
    WorkDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the function's program {0} does not exist")]
    NoProgram(PathBuf),
    #[error("max_concurrency must be at least 1")]
    NoConcurrency,
}

pub(crate) struct Shared {
    pub(crate) cfg: FunctionConfig,
    pub(crate) envs: Mutex<Vec<Arc<env::Env>>>,
    pub(crate) rng: Mutex<platform::SplitMix64>,
    pub(crate) next_env: AtomicU32,
    pub(crate) method: FreezeMethod,
    pub(crate) cpu_ok: bool,
    pub(crate) memory_ok: bool,
    pub(crate) stopping: std::sync::atomic::AtomicBool,
    /// Invocations answered with the throttle (no idle environment, the concurrency limit
    /// reached).
    pub(crate) throttled: std::sync::atomic::AtomicU64,
    /// This local Lambda among those of the process (cgroup names must not collide).
    pub(crate) instance: u32,
}

impl Shared {
    pub(crate) fn log(&self, env: &env::Env, line: String, platform: bool) {
        if let Some(sink) = &self.cfg.log_sink {
            sink(LogRecord {
                env: env.id,
                log_stream: env.log_stream.clone(),
                ts_ms: now_ms(),
                line,
                platform,
            });
        }
    }

    fn lock_envs(&self) -> std::sync::MutexGuard<'_, Vec<Arc<env::Env>>> {
        self.envs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn remove_env(&self, id: u32) {
        self.lock_envs().retain(|e| e.id != id);
    }

    pub(crate) fn request_id(&self) -> String {
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .request_id()
    }
}

static INSTANCES: AtomicU32 = AtomicU32::new(1);

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The running local Lambda. Dropping it stops every environment (thawed first, then SIGTERM,
/// then SIGKILL of everything in it).
pub struct LocalLambda {
    shared: Arc<Shared>,
    port: u16,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Thaws and stops the environments if this process dies without dropping this
    /// ([`isolation::spawn_guardian`]); `None` without the cgroup freezer.
    guardian: Option<(std::process::Child, std::process::ChildStdin)>,
}

impl LocalLambda {
    /// Starts the Invoke endpoint on 127.0.0.1 (a free port). No environment runs until the
    /// first invocation (or [`LocalLambda::prewarm`]).
    pub async fn start(cfg: FunctionConfig) -> Result<LocalLambda, Error> {
        if cfg.max_concurrency == 0 {
            return Err(Error::NoConcurrency);
        }
        if !cfg.program.is_file() {
            return Err(Error::NoProgram(cfg.program.clone()));
        }
        std::fs::create_dir_all(&cfg.work_dir).map_err(|source| Error::WorkDir {
            path: cfg.work_dir.clone(),
            source,
        })?;
        let stale = isolation::clean_stale();
        if stale > 0 {
            tracing::warn!(
                stale,
                "removed cgroups (and stopped their processes) left by local Lambdas no longer running"
            );
        }
        let (method, cpu_ok, memory_ok) = isolation::detect(cfg.freeze);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(Error::Bind)?;
        let port = listener.local_addr().map_err(Error::Bind)?.port();
        let seed = cfg.seed;
        let shared = Arc::new(Shared {
            cfg,
            envs: Mutex::new(Vec::new()),
            rng: Mutex::new(platform::SplitMix64::new(seed)),
            next_env: AtomicU32::new(1),
            method,
            cpu_ok,
            memory_ok,
            stopping: std::sync::atomic::AtomicBool::new(false),
            throttled: std::sync::atomic::AtomicU64::new(0),
            instance: INSTANCES.fetch_add(1, Ordering::SeqCst),
        });
        tracing::info!(
            function = %shared.cfg.name,
            port,
            freeze = method.describe(),
            cpu_share = cpu_ok && shared.cfg.limits,
            memory_limit = memory_ok && shared.cfg.limits,
            "local Lambda listening"
        );
        let guardian = if method == FreezeMethod::CgroupFreezer {
            match isolation::spawn_guardian(&format!("{}-{}", std::process::id(), shared.instance))
            {
                Ok(g) => Some(g),
                Err(e) => {
                    tracing::warn!(error = %e, "no guardian for the frozen environments: a SIGKILL of this process would leave them frozen");
                    None
                }
            }
        } else {
            None
        };
        let front = tokio::spawn(invoke::serve(listener, shared.clone()));
        let reaper = tokio::spawn(env::supervise_all(shared.clone()));
        Ok(LocalLambda {
            shared,
            port,
            tasks: vec![front, reaper],
            guardian,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` (Invoke API paths below it).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Lambda's Invoke path for the function (the response streams when the function streams).
    pub fn invoke_url(&self) -> String {
        format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.endpoint(),
            self.shared.cfg.name
        )
    }

    /// How idle environments are frozen here.
    pub fn freeze_method(&self) -> FreezeMethod {
        self.shared.method
    }

    /// Whether the CPU share and memory limit are applied (cgroups writable and asked for).
    pub fn limits_applied(&self) -> (bool, bool) {
        let l = self.shared.cfg.limits;
        (l && self.shared.cpu_ok, l && self.shared.memory_ok)
    }

    /// One line saying how this local Lambda runs environments (printed by the sandbox).
    pub fn describe(&self) -> String {
        let (cpu, mem) = self.limits_applied();
        format!(
            "local Lambda {} ({} MB, timeout {} s, up to {} environments): idle environments {}; CPU share {}; memory limit {}",
            self.invoke_url(),
            self.shared.cfg.memory_mb,
            self.shared.cfg.timeout.as_secs(),
            self.shared.cfg.max_concurrency,
            self.shared.method.describe(),
            if cpu {
                format!(
                    "{:.3} vCPU",
                    isolation::cpu_quota_us(self.shared.cfg.memory_mb) as f64 / 100_000.0
                )
            } else {
                "not applied".into()
            },
            if mem { "applied" } else { "not applied" }
        )
    }

    /// How many invocations were throttled so far (429 `TooManyRequestsException`: no idle
    /// environment and the concurrency limit reached).
    pub fn throttled(&self) -> u64 {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// The environments now (number, phase, frozen, processes, invocations served).
    pub fn environments(&self) -> Vec<EnvSnapshot> {
        self.shared
            .lock_envs()
            .iter()
            .map(|e| e.snapshot())
            .collect()
    }

    /// Starts `n` environments now (as provisioned concurrency would), returning once each has
    /// asked for its first event (or `within` passed).
    pub async fn prewarm(&self, n: usize, within: Duration) -> usize {
        let mut started = Vec::new();
        for _ in 0..n {
            match env::spawn_env(&self.shared, None) {
                Ok(e) => started.push(e),
                Err(e) => tracing::warn!(error = %e, "prewarming an environment failed"),
            }
        }
        let until = tokio::time::Instant::now() + within;
        loop {
            let ready = started
                .iter()
                .filter(|e| e.snapshot().phase == EnvPhase::Idle)
                .count();
            if ready == started.len() || tokio::time::Instant::now() >= until {
                return ready;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops environment `id` at once (as Lambda may at any time), thawing it first.
    pub fn kill_environment(&self, id: u32) -> bool {
        let env = self.shared.lock_envs().iter().find(|e| e.id == id).cloned();
        match env {
            Some(e) => {
                e.kill(&self.shared, "killed by the test");
                self.shared.remove_env(id);
                true
            }
            None => false,
        }
    }
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for t in &self.tasks {
            t.abort();
        }
        let envs: Vec<_> = std::mem::take(&mut *self.shared.lock_envs());
        for e in envs {
            e.kill(&self.shared, "local Lambda stopped");
        }
        if let Some((mut child, pipe)) = self.guardian.take() {
            // End of file: the guardian cleans up (nothing is left by now) and exits.
            drop(pipe);
            let until = std::time::Instant::now() + Duration::from_secs(2);
            while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
