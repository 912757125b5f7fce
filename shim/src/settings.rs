//! The shim's settings, from environment variables (documented in shim/README.md).

use crate::event::Limits;
use crate::readiness::ReadinessPolicy;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Shell command that starts LibreChat (`/bin/sh -c "exec $cmd"`); `None` = do not spawn.
    pub child_cmd: Option<String>,
    pub child_cwd: Option<String>,
    pub upstream_host: String,
    pub upstream_port: u16,
    /// LibreChat's liveness route (`/health`): what `/api/health` and the status endpoint report.
    pub health_path: String,
    /// LibreChat's readiness route (`/readyz`: 200 once its post-listen init is done): what the
    /// cold start waits for before the first request is let through.
    pub ready_path: String,
    pub readiness: ReadinessPolicy,
    /// How long the init phase waits for readiness before handing over to the first invocation.
    pub init_wait: Duration,
    /// How long before the Lambda deadline a response is ended.
    pub deadline_margin: Duration,
    pub limits: Limits,
    pub ssm_secrets: String,
    pub config_bucket: Option<String>,
    pub config_key: Option<String>,
    pub config_path: String,
    pub domain_from: Option<String>,
    pub domain_to: Option<String>,
    pub diagnostics_token: Option<String>,
    pub diagnostics_token_ssm: Option<String>,
    /// Child log lines kept for error reports.
    pub log_tail: usize,
    /// Wait after a fatal response before the process exits (environment recycled).
    pub recycle_delay: Duration,
    /// On SIGTERM/SIGINT: how long LibreChat gets to exit after its own SIGTERM before SIGKILL.
    pub shutdown_grace: Duration,
    /// glibc's `M_MMAP_THRESHOLD` in KiB, fixed at start (0 = leave glibc's dynamic threshold).
    pub mmap_threshold_kb: u32,
    /// Path-style S3 addressing (for S3 emulators); on when `AWS_ENDPOINT_URL` is set.
    pub s3_force_path_style: bool,
    /// Give back the init phase's memory once it is over ([`crate::memory`]).
    pub release_init_memory: bool,
    /// The init step's binary (`shim-init`, [`crate::init_step`]); `None` = next to this one.
    pub init_bin: Option<String>,
    /// How long the init step (config and secrets) may take before it is killed.
    pub init_step_timeout: Duration,
    /// LibreChat's work after a response (a web chat's generation, its title): how long the
    /// environment waits for it before it asks for the next event, at most (also bounded by the
    /// invocation's deadline); 0 = never wait ([`crate::pending`]).
    pub pending_wait: Duration,
    /// How often LibreChat is asked whether that work is done.
    pub pending_poll: Duration,
    /// How long a new conversation's title is waited for after its reply (0 = not at all).
    pub title_wait: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("environment variable {name}: {reason}")]
pub struct SettingsError {
    pub name: &'static str,
    pub reason: String,
}

pub(crate) const DEFAULT_CHILD_CMD: &str = "node api/server/index.js";
/// LibreChat's own liveness route (v0.8.3+ answers every unknown `/api/*` path with 404, so
/// `/api/health` is not LibreChat's: the shim answers it, see [`crate::diag::API_HEALTH_PATH`] = `opsconsole_wire::HEALTH_PATH`).
pub(crate) const DEFAULT_HEALTH_PATH: &str = "/health";
/// LibreChat's readiness route: 503 `NOT_READY` until MCP servers, migrations and the stream
/// services are initialised after `listen`, then 200.
pub(crate) const DEFAULT_READY_PATH: &str = "/readyz";

/// The tokio runtime `bootstrap` runs on, from `SHIM_WORKER_THREADS`: read before the runtime
/// exists, so apart from [`Settings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeFlavor {
    /// Every task on the thread that polls the Runtime API (the default): no hand-over between
    /// worker threads on the request path.
    CurrentThread,
    /// A work-stealing pool of this many workers (`#[tokio::main]`'s, with 0 = one per core).
    MultiThread(usize),
}

impl RuntimeFlavor {
    /// `SHIM_WORKER_THREADS`: unset or `1` = current thread, `N` > 1 = N workers, `0` = one per core.
    pub fn parse(value: Option<&str>) -> Result<RuntimeFlavor, SettingsError> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None | Some("1") => Ok(RuntimeFlavor::CurrentThread),
            Some(v) => match v.parse::<usize>() {
                Ok(n) => Ok(RuntimeFlavor::MultiThread(n)),
                Err(_) => Err(SettingsError {
                    name: "SHIM_WORKER_THREADS",
                    reason: format!(
                        "`{v}` is not a number of threads (1 = current thread, 0 = one per core)"
                    ),
                }),
            },
        }
    }

    pub fn from_env() -> Result<RuntimeFlavor, SettingsError> {
        RuntimeFlavor::parse(std::env::var("SHIM_WORKER_THREADS").ok().as_deref())
    }

    /// The runtime itself (I/O, time and signals enabled).
    pub fn build(self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut b = match self {
            RuntimeFlavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            RuntimeFlavor::MultiThread(n) => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                if n > 0 {
                    b.worker_threads(n);
                }
                b
            }
        };
        b.enable_all().build()
    }
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|k| std::env::var(k).ok())
    }

    pub(crate) fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingsError> {
        let opt = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        fn num<T: std::str::FromStr>(
            name: &'static str,
            v: Option<String>,
            default: T,
        ) -> Result<T, SettingsError> {
            match v {
                None => Ok(default),
                Some(s) => s.parse().map_err(|_| SettingsError {
                    name,
                    reason: format!("`{s}` is not a valid number"),
                }),
            }
        }
        let child_cmd = match get("SHIM_CHILD_CMD") {
            None => Some(DEFAULT_CHILD_CMD.to_string()),
            Some(s) if s.trim().is_empty() || s.trim() == "none" => None,
            Some(s) => Some(s),
        };
        let attempts: u32 = num("SHIM_READY_ATTEMPTS", opt("SHIM_READY_ATTEMPTS"), 60)?;
        let interval: u64 = num("SHIM_READY_INTERVAL_MS", opt("SHIM_READY_INTERVAL_MS"), 500)?;
        let port_poll: u64 = num("SHIM_PORT_POLL_MS", opt("SHIM_PORT_POLL_MS"), 10)?;
        let path = |name: &'static str, default: &str| {
            let p = opt(name).unwrap_or_else(|| default.to_string());
            if p.starts_with('/') {
                Ok(p)
            } else {
                Err(SettingsError {
                    name,
                    reason: format!("`{p}` must start with /"),
                })
            }
        };
        let flag = |name: &'static str, default: bool| match opt(name).as_deref() {
            None => Ok(default),
            Some("1" | "true") => Ok(true),
            Some("0" | "false") => Ok(false),
            Some(v) => Err(SettingsError {
                name,
                reason: format!("`{v}` is not true, false, 1 or 0"),
            }),
        };
        let health_path = path("SHIM_HEALTH_PATH", DEFAULT_HEALTH_PATH)?;
        let ready_path = path("SHIM_READY_PATH", DEFAULT_READY_PATH)?;
        Ok(Settings {
            child_cmd,
            child_cwd: opt("SHIM_CHILD_CWD"),
            upstream_host: opt("SHIM_UPSTREAM_HOST").unwrap_or_else(|| "127.0.0.1".into()),
            upstream_port: num("SHIM_UPSTREAM_PORT", opt("SHIM_UPSTREAM_PORT"), 3080)?,
            health_path,
            ready_path,
            readiness: ReadinessPolicy {
                max_attempts: attempts.max(1),
                interval: Duration::from_millis(interval.max(1)),
                port_poll: Duration::from_millis(port_poll.max(1)),
            },
            init_wait: Duration::from_millis(num(
                "SHIM_INIT_WAIT_MS",
                opt("SHIM_INIT_WAIT_MS"),
                8000,
            )?),
            deadline_margin: Duration::from_millis(num(
                "SHIM_DEADLINE_MARGIN_MS",
                opt("SHIM_DEADLINE_MARGIN_MS"),
                2000,
            )?),
            limits: Limits {
                max_header_value: num(
                    "SHIM_MAX_HEADER_BYTES",
                    opt("SHIM_MAX_HEADER_BYTES"),
                    16 * 1024,
                )?,
                max_header_total: num(
                    "SHIM_MAX_HEADERS_TOTAL_BYTES",
                    opt("SHIM_MAX_HEADERS_TOTAL_BYTES"),
                    64 * 1024,
                )?,
            },
            ssm_secrets: opt("SHIM_SSM_SECRETS").unwrap_or_default(),
            config_bucket: opt("CONFIG_S3_BUCKET"),
            config_key: opt("CONFIG_S3_KEY"),
            config_path: opt("CONFIG_PATH").unwrap_or_else(|| "/tmp/librechat.yaml".into()),
            domain_from: opt("CONFIG_DOMAIN_FROM"),
            domain_to: opt("CONFIG_DOMAIN_TO"),
            diagnostics_token: opt("SHIM_DIAGNOSTICS_TOKEN"),
            diagnostics_token_ssm: opt("SHIM_DIAGNOSTICS_TOKEN_SSM"),
            log_tail: num("SHIM_LOG_TAIL_LINES", opt("SHIM_LOG_TAIL_LINES"), 40)?,
            s3_force_path_style: match opt("SHIM_S3_FORCE_PATH_STYLE") {
                Some(v) => v == "true" || v == "1",
                None => opt("AWS_ENDPOINT_URL").is_some() || opt("AWS_ENDPOINT_URL_S3").is_some(),
            },
            recycle_delay: Duration::from_millis(num(
                "SHIM_RECYCLE_DELAY_MS",
                opt("SHIM_RECYCLE_DELAY_MS"),
                300,
            )?),
            mmap_threshold_kb: num("SHIM_MMAP_THRESHOLD_KB", opt("SHIM_MMAP_THRESHOLD_KB"), 128)?,
            shutdown_grace: Duration::from_millis(num(
                "SHIM_SHUTDOWN_GRACE_MS",
                opt("SHIM_SHUTDOWN_GRACE_MS"),
                300,
            )?),
            release_init_memory: flag("SHIM_RELEASE_INIT_MEMORY", true)?,
            init_bin: opt("SHIM_INIT_BIN"),
            init_step_timeout: Duration::from_millis(
                num(
                    "SHIM_INIT_STEP_TIMEOUT_MS",
                    opt("SHIM_INIT_STEP_TIMEOUT_MS"),
                    30_000u64,
                )?
                .max(1),
            ),
            pending_wait: Duration::from_millis(num(
                "SHIM_PENDING_WAIT_MS",
                opt("SHIM_PENDING_WAIT_MS"),
                900_000u64,
            )?),
            pending_poll: Duration::from_millis(
                num("SHIM_PENDING_POLL_MS", opt("SHIM_PENDING_POLL_MS"), 200u64)?.max(10),
            ),
            title_wait: Duration::from_millis(num(
                "SHIM_TITLE_WAIT_MS",
                opt("SHIM_TITLE_WAIT_MS"),
                15_000u64,
            )?),
        })
    }

    pub(crate) fn upstream_base(&self) -> String {
        format!("http://{}:{}", self.upstream_host, self.upstream_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let s = from(&[]).expect("defaults");
        assert_eq!(s.child_cmd.as_deref(), Some(DEFAULT_CHILD_CMD));
        assert_eq!(s.upstream_port, 3080);
        assert_eq!(s.health_path, "/health");
        assert_eq!(s.ready_path, "/readyz");
        assert_eq!(s.readiness.budget(), Duration::from_secs(30));
        assert_eq!(s.init_wait, Duration::from_secs(8));
        assert_eq!(s.config_path, "/tmp/librechat.yaml");
        assert_eq!(s.deadline_margin, Duration::from_secs(2));
        assert_eq!(s.shutdown_grace, Duration::from_millis(300));
        assert_eq!(s.mmap_threshold_kb, 128);
        assert!(s.release_init_memory);
        assert!(s.diagnostics_token.is_none());
        assert!(s.init_bin.is_none());
        assert_eq!(s.init_step_timeout, Duration::from_secs(30));
    }

    #[test]
    fn overrides_and_errors() {
        let s = from(&[
            ("SHIM_CHILD_CMD", "none"),
            ("SHIM_UPSTREAM_PORT", "9999"),
            ("SHIM_DIAGNOSTICS_TOKEN", " t "),
        ])
        .expect("parses");
        assert!(s.child_cmd.is_none());
        assert_eq!(s.upstream_port, 9999);
        assert_eq!(s.diagnostics_token.as_deref(), Some("t"));
        assert_eq!(
            from(&[("SHIM_UPSTREAM_PORT", "x")]).map(|_| ()),
            Err(SettingsError {
                name: "SHIM_UPSTREAM_PORT",
                reason: "`x` is not a valid number".into()
            })
        );
        assert!(from(&[("SHIM_HEALTH_PATH", "health")]).is_err());
        assert!(
            !from(&[("SHIM_RELEASE_INIT_MEMORY", "false")])
                .expect("parses")
                .release_init_memory
        );
        assert_eq!(
            from(&[("SHIM_RELEASE_INIT_MEMORY", "no")]).map(|_| ()),
            Err(SettingsError {
                name: "SHIM_RELEASE_INIT_MEMORY",
                reason: "`no` is not true, false, 1 or 0".into()
            })
        );
        assert_eq!(
            from(&[("SHIM_READY_PATH", "readyz")]).map(|_| ()),
            Err(SettingsError {
                name: "SHIM_READY_PATH",
                reason: "`readyz` must start with /".into()
            })
        );
    }

    #[test]
    fn worker_threads() {
        use RuntimeFlavor::*;
        assert_eq!(RuntimeFlavor::parse(None), Ok(CurrentThread));
        assert_eq!(RuntimeFlavor::parse(Some(" ")), Ok(CurrentThread));
        assert_eq!(RuntimeFlavor::parse(Some("1")), Ok(CurrentThread));
        assert_eq!(RuntimeFlavor::parse(Some("2")), Ok(MultiThread(2)));
        assert_eq!(RuntimeFlavor::parse(Some("0")), Ok(MultiThread(0)));
        let e = RuntimeFlavor::parse(Some("two")).expect_err("not a number");
        assert_eq!(e.name, "SHIM_WORKER_THREADS");
        assert!(e.reason.contains("`two`"), "{}", e.reason);
    }
}
