//! One execution environment: the runtime process and everything it starts, its Runtime API,
//! its phase (init, idle and frozen, busy), and the supervision Lambda does around it (init
//! limit and retry, function timeout, a runtime that exits, idle reaping).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use opsconsole_proc::child::Proc;
use tokio::sync::{Notify, oneshot};

use crate::isolation::{self, EnvCgroups, FreezeMethod};
use crate::{Shared, platform};

/// Where an environment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvPhase {
    /// Started; the runtime has not asked for its first event yet.
    Init,
    /// Waiting for an event (frozen, unless freezing is off).
    Idle,
    /// An invocation was handed to it; busy until the runtime asks for the next one.
    Busy,
    /// Stopped.
    Dead,
}

/// What a test or the sandbox sees of an environment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvSnapshot {
    pub id: u32,
    pub phase: EnvPhase,
    pub frozen: bool,
    /// The runtime's pid, then every process of the environment.
    pub pids: Vec<i32>,
    pub invocations: u64,
    pub log_stream: String,
    pub runtime_api: String,
    pub tmp: PathBuf,
}

/// What the runtime answers for an invocation, as it arrives.
pub(crate) enum Reply {
    /// The response body: `streaming` as the runtime declared it; chunks follow on `chunks`.
    Body {
        streaming: bool,
        content_type: Option<String>,
        chunks: tokio::sync::mpsc::Receiver<Chunk>,
    },
    /// A function error (posted to `/error`, a runtime that exited, a timeout).
    Error { error_type: String, message: String },
}

pub(crate) enum Chunk {
    Data(Bytes),
    /// The stream ended in an error (a trailer from the runtime, a timeout, a crash).
    Error(String),
}

/// An invocation handed to an environment.
pub(crate) struct Invocation {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    pub(crate) started: Instant,
    pub(crate) deadline: Instant,
    pub(crate) deadline_ms: i64,
    pub(crate) reply: Option<oneshot::Sender<Reply>>,
    /// The chunk sender once a response is streaming (to cut it on a timeout or crash).
    pub(crate) stream: Option<tokio::sync::mpsc::Sender<Chunk>>,
}

impl Invocation {
    /// Ends the invocation with an error, however far its response got.
    pub(crate) fn fail(&mut self, error_type: &str, message: &str) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Reply::Error {
                error_type: error_type.into(),
                message: message.into(),
            });
        } else if let Some(s) = self.stream.take() {
            let _ = s.try_send(Chunk::Error(format!("{error_type}: {message}")));
        }
    }
}

pub(crate) struct Inner {
    pub(crate) phase: EnvPhase,
    proc: Option<Proc>,
    spawned_at: Instant,
    /// The init phase's duration, reported on the next REPORT (the cold start's).
    init_ms: Option<f64>,
    /// Init was retried inside the first invocation (after the 10 s limit).
    suppressed_init: bool,
    /// Handed to the environment, not yet fetched by `/next`.
    pub(crate) queued: Option<Invocation>,
    /// Fetched by `/next`; the environment is busy until the runtime asks for the next one.
    pub(crate) current: Option<Invocation>,
    frozen: bool,
    /// The processes stopped with SIGSTOP (signal fallback), to continue them.
    stopped: Vec<i32>,
    idle_since: Instant,
    invocations: u64,
}

pub(crate) struct Env {
    pub(crate) id: u32,
    pub(crate) log_stream: String,
    pub(crate) runtime_port: u16,
    tmp: PathBuf,
    cgroups: Option<EnvCgroups>,
    pub(crate) inner: Mutex<Inner>,
    /// Rung when an invocation is queued for the environment.
    pub(crate) wake: Notify,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Env {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn snapshot(&self) -> EnvSnapshot {
        let g = self.lock();
        let root = g.proc.as_ref().map(|p| p.pid() as i32);
        drop(g);
        let mut pids = match (&self.cgroups, root) {
            (Some(c), _) if c.has_freezer() => c.pids(),
            (_, Some(r)) => isolation::process_tree(r),
            _ => Vec::new(),
        };
        if let Some(r) = root {
            pids.retain(|p| *p != r);
            pids.insert(0, r);
        }
        let g = self.lock();
        EnvSnapshot {
            id: self.id,
            phase: g.phase,
            frozen: g.frozen,
            pids,
            invocations: g.invocations,
            log_stream: self.log_stream.clone(),
            runtime_api: format!("127.0.0.1:{}", self.runtime_port),
            tmp: self.tmp.clone(),
        }
    }

    fn root_pid(g: &Inner) -> Option<i32> {
        g.proc.as_ref().map(|p| p.pid() as i32)
    }

    /// Freezes (or thaws) the whole environment.
    fn set_frozen(&self, shared: &Shared, g: &mut Inner, frozen: bool) {
        if g.frozen == frozen {
            return;
        }
        match shared.method {
            FreezeMethod::Off => return,
            FreezeMethod::CgroupFreezer => {
                if let Some(c) = &self.cgroups
                    && let Err(e) = c.set_frozen(frozen)
                {
                    tracing::warn!(env = self.id, error = %e, "cgroup freezer");
                }
            }
            FreezeMethod::Signals => {
                if frozen {
                    g.stopped = Self::root_pid(g)
                        .map(isolation::process_tree)
                        .unwrap_or_default();
                    isolation::signal_all(&g.stopped, true);
                } else {
                    isolation::signal_all(&std::mem::take(&mut g.stopped), false);
                }
            }
        }
        g.frozen = frozen;
    }

    /// The runtime asks for the next event: the previous invocation ends (`END`, `REPORT`),
    /// the environment is frozen until an invocation is queued, then thawed and handed it.
    pub(crate) async fn next(self: &Arc<Self>, shared: &Arc<Shared>) -> Option<Invocation> {
        let cold = {
            let mut g = self.lock();
            if g.phase == EnvPhase::Dead {
                return None;
            }
            if g.phase == EnvPhase::Init && !g.suppressed_init {
                // (A retried init runs inside the invocation: its time is the invocation's.)
                g.init_ms = Some(g.spawned_at.elapsed().as_secs_f64() * 1000.0);
            }
            if let Some(mut done) = g.current.take() {
                self.finish(shared, &mut g, &mut done, false);
            }
            let cold = g.phase == EnvPhase::Init && !g.suppressed_init;
            if g.queued.is_none() {
                g.phase = EnvPhase::Idle;
                g.idle_since = Instant::now();
                self.set_frozen(shared, &mut g, true);
            }
            cold
        };
        loop {
            {
                let mut g = self.lock();
                if g.phase == EnvPhase::Dead {
                    return None;
                }
                if let Some(mut inv) = g.queued.take() {
                    self.set_frozen(shared, &mut g, false);
                    if cold {
                        // The invoke phase (its duration, its timeout) starts after the init
                        // phase; a retried init is part of it.
                        inv.started = Instant::now();
                        inv.deadline = inv.started + shared.cfg.timeout;
                        inv.deadline_ms = crate::now_ms() + shared.cfg.timeout.as_millis() as i64;
                    }
                    g.phase = EnvPhase::Busy;
                    g.invocations += 1;
                    shared.log(self, platform::start_line(&inv.request_id), true);
                    let handed = Invocation {
                        request_id: inv.request_id.clone(),
                        payload: std::mem::take(&mut inv.payload),
                        started: inv.started,
                        deadline: inv.deadline,
                        deadline_ms: inv.deadline_ms,
                        reply: None,
                        stream: None,
                    };
                    g.current = Some(inv);
                    return Some(handed);
                }
            }
            self.wake.notified().await;
        }
    }

    /// `END` and `REPORT` for `inv`.
    fn finish(&self, shared: &Shared, g: &mut Inner, inv: &mut Invocation, timed_out: bool) {
        let duration_ms = inv.started.elapsed().as_secs_f64() * 1000.0;
        if inv.reply.is_some() {
            // The runtime asked for the next event without answering this one.
            inv.fail(
                "Runtime.NoResponse",
                "the runtime asked for the next event without a response",
            );
        }
        let max_mb = self
            .cgroups
            .as_ref()
            .and_then(|c| c.max_memory_bytes())
            .unwrap_or_else(|| {
                Self::root_pid(g)
                    .map(|r| isolation::hwm_bytes(&isolation::process_tree(r)))
                    .unwrap_or(0)
            })
            / (1024 * 1024);
        shared.log(self, platform::end_line(&inv.request_id), true);
        shared.log(
            self,
            platform::report_line(
                &inv.request_id,
                duration_ms,
                shared.cfg.memory_mb,
                max_mb,
                g.init_ms.take(),
                timed_out,
            ),
            true,
        );
    }

    /// Queues `inv` for this environment (picked as idle or just started) and wakes its `/next`.
    pub(crate) fn hand(&self, inv: Invocation) {
        self.lock().queued = Some(inv);
        self.wake.notify_one();
    }

    /// Stops the environment: thawed, SIGTERM to the runtime's group, then SIGKILL of every
    /// process in it; queued or running invocations fail with `why`.
    pub(crate) fn kill(&self, shared: &Shared, why: &str) {
        let (proc, tree) = {
            let mut g = self.lock();
            if let Some(mut q) = g.queued.take() {
                q.fail("Runtime.ExitError", why);
            }
            if let Some(mut c) = g.current.take() {
                c.fail("Runtime.ExitError", why);
            }
            self.set_frozen(shared, &mut g, false);
            g.phase = EnvPhase::Dead;
            let tree = Self::root_pid(&g)
                .map(isolation::process_tree)
                .unwrap_or_default();
            (g.proc.take(), tree)
        };
        self.wake.notify_one();
        if let Some(mut p) = proc {
            p.stop(Duration::from_millis(500));
        }
        isolation::signal_all(&tree, false);
        for pid in tree {
            // SAFETY: plain kill of what was the environment's process tree.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        if let Some(c) = &self.cgroups {
            c.kill_and_remove();
        }
        if let Some(t) = self.server.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
        tracing::info!(env = self.id, why, "environment stopped");
    }
}

/// Why an environment could not be started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpawnError {
    #[error("binding its Runtime API: {0}")]
    Bind(std::io::Error),
    #[error("creating {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("creating its cgroups: {0}")]
    Cgroups(std::io::Error),
    #[error(transparent)]
    Spawn(#[from] opsconsole_proc::child::SpawnError),
}

/// Starts a new environment (its Runtime API, then the runtime process); `first` is queued for
/// it (the invocation that caused this cold start).
pub(crate) fn spawn_env(
    shared: &Arc<Shared>,
    first: Option<Invocation>,
) -> Result<Arc<Env>, SpawnError> {
    let id = shared.next_env.fetch_add(1, Ordering::SeqCst);
    let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(SpawnError::Bind)?;
    std_listener
        .set_nonblocking(true)
        .map_err(SpawnError::Bind)?;
    let runtime_port = std_listener.local_addr().map_err(SpawnError::Bind)?.port();
    let listener = tokio::net::TcpListener::from_std(std_listener).map_err(SpawnError::Bind)?;
    let dir = shared.cfg.work_dir.join(format!("env-{id}"));
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|source| SpawnError::Dir {
        path: tmp.clone(),
        source,
    })?;
    let cgroups = if shared.method == FreezeMethod::CgroupFreezer
        || (shared.cfg.limits && (shared.cpu_ok || shared.memory_ok))
    {
        Some(
            EnvCgroups::create(
                &format!(
                    "{}-{}-{}-env{id}",
                    std::process::id(),
                    shared.instance,
                    shared.cfg.name
                ),
                shared.method,
                shared.cpu_ok,
                shared.memory_ok,
                shared.cfg.limits,
                shared.cfg.memory_mb,
            )
            .map_err(SpawnError::Cgroups)?,
        )
    } else {
        None
    };
    let hex = shared.rng.lock().unwrap_or_else(|p| p.into_inner()).hex(16);
    let log_stream = platform::log_stream_name(time::OffsetDateTime::now_utc().date(), &hex);
    let queued_first = first.is_some();
    let env = Arc::new(Env {
        id,
        log_stream,
        runtime_port,
        tmp,
        cgroups,
        inner: Mutex::new(Inner {
            phase: EnvPhase::Init,
            proc: None,
            spawned_at: Instant::now(),
            init_ms: None,
            suppressed_init: false,
            queued: first,
            current: None,
            frozen: false,
            stopped: Vec::new(),
            idle_since: Instant::now(),
            invocations: 0,
        }),
        wake: Notify::new(),
        server: Mutex::new(None),
    });
    let server = tokio::spawn(crate::runtime_api::serve(
        listener,
        env.clone(),
        shared.clone(),
    ));
    *env.server.lock().unwrap_or_else(|p| p.into_inner()) = Some(server);
    let proc = start_runtime(shared, &env, &dir)?;
    env.lock().proc = Some(proc);
    shared
        .envs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(env.clone());
    tracing::info!(
        env = id,
        runtime_api = %format!("127.0.0.1:{runtime_port}"),
        cold_start_for_an_invocation = queued_first,
        "environment started"
    );
    Ok(env)
}

/// The runtime process of `env`, with Lambda's environment variables, in the environment's
/// cgroups from its first instruction; its stdout and stderr go to the log sink and to a file.
fn start_runtime(
    shared: &Arc<Shared>,
    env: &Arc<Env>,
    dir: &std::path::Path,
) -> Result<Proc, SpawnError> {
    let cfg = &shared.cfg;
    let mut cmd = match cfg.wrapper.split_first() {
        None => Command::new(&cfg.program),
        Some((w, rest)) => {
            let mut c = Command::new(w);
            c.args(rest).arg(&cfg.program);
            c
        }
    };
    cmd.args(&cfg.args).current_dir(&cfg.cwd).env_clear();
    for k in ["PATH", "LANG", "HOME"] {
        if let Ok(v) = std::env::var(k) {
            cmd.env(k, v);
        }
    }
    cmd.env(
        "AWS_LAMBDA_RUNTIME_API",
        format!("127.0.0.1:{}", env.runtime_port),
    )
    .env("AWS_LAMBDA_FUNCTION_NAME", &cfg.name)
    .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", cfg.memory_mb.to_string())
    .env(
        "AWS_LAMBDA_LOG_GROUP_NAME",
        format!("/aws/lambda/{}", cfg.name),
    )
    .env("AWS_LAMBDA_LOG_STREAM_NAME", &env.log_stream)
    .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    .env("LAMBDA_TASK_ROOT", &cfg.cwd)
    .env("TMPDIR", &env.tmp)
    .env("TZ", ":UTC");
    if cfg.role_credentials {
        // A generator of their own: the placement's seeded sequence stays as it was.
        let mut rng = crate::platform::SplitMix64::new(cfg.seed ^ u64::from(env.runtime_port));
        for (k, v) in crate::platform::role_credentials(&mut rng) {
            cmd.env(k, v);
        }
    }
    cmd.envs(cfg.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if !cfg.env_port_vars.is_empty() {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map_err(SpawnError::Bind)?
            .port();
        for var in &cfg.env_port_vars {
            cmd.env(var, port.to_string());
        }
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(c) = &env.cgroups {
        c.join_in_child(&mut cmd);
    }
    let mut proc = Proc::spawn_with_stdio(&format!("{} env {}", cfg.name, env.id), cmd)?;
    let file = dir.join("output.log");
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .map_err(|source| SpawnError::Dir {
            path: file.clone(),
            source,
        })?;
    let pipes: Vec<Box<dyn std::io::Read + Send>> = [
        proc.take_stdout()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        proc.take_stderr()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    for pipe in pipes {
        let (shared, env) = (shared.clone(), env.clone());
        let mut out = out.try_clone().map_err(|source| SpawnError::Dir {
            path: file.clone(),
            source,
        })?;
        std::thread::spawn(move || {
            use std::io::{BufRead, Write};
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = writeln!(out, "{line}");
                shared.log(&env, line, false);
            }
        });
    }
    Ok(proc)
}

/// Lambda's supervision of every environment, every 20 ms: a runtime that exited, an init past
/// its limit (retried once inside the invocation), an invocation past the timeout, an idle
/// environment past the idle limit.
pub(crate) async fn supervise_all(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let envs: Vec<Arc<Env>> = shared
            .envs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for env in envs {
            supervise(&shared, &env);
        }
    }
}

fn supervise(shared: &Arc<Shared>, env: &Arc<Env>) {
    let cfg = &shared.cfg;
    let mut g = env.lock();
    if g.phase == EnvPhase::Dead {
        drop(g);
        shared.remove_env(env.id);
        return;
    }
    let exited = g.proc.as_mut().and_then(|p| p.exited());
    if let Some(status) = exited {
        let msg = format!("Runtime exited with error: {status}");
        if let Some(c) = &g.current {
            let line = format!(
                "RequestId: {} Error: {msg}\nRuntime.ExitError",
                c.request_id
            );
            shared.log(env, line, true);
        }
        drop(g);
        env.kill(shared, &msg);
        shared.remove_env(env.id);
        return;
    }
    let now = Instant::now();
    // The function's timeout, for the invocation running or waiting for the init.
    let waiting_for_a_retried_init = g.queued.as_ref().filter(|_| g.suppressed_init);
    let late = g
        .current
        .as_ref()
        .or(waiting_for_a_retried_init)
        .filter(|i| now >= i.deadline)
        .map(|i| i.request_id.clone());
    if let Some(rid) = late {
        let secs = cfg.timeout.as_secs_f64();
        shared.log(env, platform::timeout_line(&rid, secs), true);
        if let Some(mut c) = g.current.take() {
            c.fail(
                "Sandbox.Timedout",
                &format!("Task timed out after {secs:.2} seconds"),
            );
            env.finish(shared, &mut g, &mut c, true);
        }
        drop(g);
        env.kill(shared, "invocation timed out");
        shared.remove_env(env.id);
        return;
    }
    if g.phase == EnvPhase::Init && !g.suppressed_init && g.spawned_at.elapsed() >= cfg.init_timeout
    {
        // Lambda's 10 s init limit: reported, then init runs again inside the first invocation
        // (bounded by the function's timeout from then on).
        let ms = g.spawned_at.elapsed().as_secs_f64() * 1000.0;
        shared.log(env, platform::init_timeout_line(ms), true);
        g.suppressed_init = true;
        let old = g.proc.take();
        let tree = old
            .as_ref()
            .map(|p| isolation::process_tree(p.pid() as i32))
            .unwrap_or_default();
        drop(g);
        if let Some(mut p) = old {
            p.stop(Duration::from_millis(200));
        }
        for pid in tree {
            // SAFETY: the environment's own processes.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        let dir = cfg.work_dir.join(format!("env-{}", env.id));
        match start_runtime(shared, env, &dir) {
            Ok(p) => {
                let mut g = env.lock();
                g.proc = Some(p);
                g.spawned_at = Instant::now();
            }
            Err(e) => {
                tracing::error!(env = env.id, error = %e, "restarting init failed");
                env.kill(shared, "init could not be retried");
                shared.remove_env(env.id);
            }
        }
        return;
    }
    if g.phase == EnvPhase::Idle
        && let Some(idle) = cfg.idle_timeout
        && g.idle_since.elapsed() >= idle
    {
        drop(g);
        env.kill(shared, "idle environment reaped");
        shared.remove_env(env.id);
    }
}

/// Picks the environment for a new invocation: the one the route header names, a new one when
/// asked or when none is idle (up to the concurrency limit), else a random idle one.
pub(crate) fn route(
    shared: &Arc<Shared>,
    route: Option<&str>,
    inv: Invocation,
) -> Result<Arc<Env>, RouteError> {
    let envs = shared.envs.lock().unwrap_or_else(|p| p.into_inner());
    let live = envs
        .iter()
        .filter(|e| e.lock().phase != EnvPhase::Dead)
        .count();
    let idle: Vec<Arc<Env>> = envs
        .iter()
        .filter(|e| {
            let g = e.lock();
            g.phase == EnvPhase::Idle && g.queued.is_none()
        })
        .cloned()
        .collect();
    let chosen = match route.map(str::trim) {
        Some("new") => None,
        Some(n) => {
            let id: Option<u32> = n.trim_start_matches("env-").parse().ok();
            match idle.iter().find(|e| Some(e.id) == id) {
                Some(e) => Some(e.clone()),
                None => return Err(RouteError::NotIdle(n.to_string())),
            }
        }
        None if idle.is_empty() => None,
        None => {
            let i = shared
                .rng
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .below(idle.len());
            Some(idle[i].clone())
        }
    };
    match chosen {
        Some(e) => {
            {
                let mut g = e.lock();
                g.phase = EnvPhase::Busy;
            }
            e.hand(inv);
            Ok(e)
        }
        None => {
            if live >= shared.cfg.max_concurrency {
                return Err(RouteError::Throttled);
            }
            drop(envs);
            // The new environment's phase stays Init until its runtime asks for the event.
            spawn_env(shared, Some(inv)).map_err(|e| RouteError::Spawn(e.to_string()))
        }
    }
}

/// Why an invocation could not be placed.
#[derive(Debug)]
pub(crate) enum RouteError {
    Throttled,
    NotIdle(String),
    Spawn(String),
}
