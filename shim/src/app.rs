//! The shim at run time: cold start, readiness in the background, and the streaming proxy handler.

use crate::child::{self, ChildHandle};
use crate::diag::{self, DiagRoute};
use crate::emf;
use crate::event::{self, ProxyRequest};
use crate::init_step::{self, DIAG_TOKEN_ENV};
use crate::readiness::{self, Readiness};
use crate::response::{self, is_event_stream, json_error, json_response, sse_error_event};
use crate::settings::Settings;
use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lambda_runtime::streaming::{Body, Sender, channel};
use lambda_runtime::{LambdaEvent, MetadataPrelude, StreamResponse};
use opsconsole_wire::sse::{done_frame, probe_frame};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Cold-start phase timings in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct InitTimings {
    pub config_ms: Option<f64>,
    pub secrets_ms: Option<f64>,
    pub spawn_to_ready_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

pub struct App {
    pub settings: Settings,
    pub(crate) client: Client<HttpConnector, Full<Bytes>>,
    started: Instant,
    instance_id: String,
    invocations: AtomicU64,
    /// `None` while readiness is pending.
    ready: watch::Receiver<Option<Readiness>>,
    /// Config or secrets failed: every request gets a 503 naming this.
    init_failure: Option<String>,
    child: Option<ChildHandle>,
    token: Option<String>,
    timings: Arc<Mutex<InitTimings>>,
    config_sha256: Option<String>,
    /// What the status endpoint's Redis PING uses (LibreChat's variables, secrets included).
    redis: diag::RedisTarget,
    /// What the status endpoint's MongoDB ping uses (`MONGO_URI`, secrets first).
    database: diag::DatabaseTarget,
    recycling: AtomicBool,
    /// Chats LibreChat goes on generating after their response ([`crate::pending`]).
    pub(crate) pending: crate::pending::Pending,
}

type Resp = StreamResponse<Body>;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl App {
    /// The init phase: config and secrets concurrently, spawn, readiness in the background.
    /// Returns once ready or after `settings.init_wait`, whichever is first.
    pub async fn cold_start(settings: Settings, started: Instant) -> Arc<App> {
        if settings.config_bucket.is_none() || settings.config_key.is_none() {
            tracing::warn!("CONFIG_S3_BUCKET/CONFIG_S3_KEY not set: no librechat.yaml fetched");
        }
        // Config and secrets come from a separate process (`shim-init`): the AWS SDK is never
        // loaded into this one.
        let step_started = Instant::now();
        let mut init_failure = None;
        let (config, config_ms, secrets, secrets_ms) = match init_step::run(&settings).await {
            Ok(out) => {
                tracing::info!(
                    step_ms = ms(step_started.elapsed()),
                    config_ms = out.config_ms,
                    secrets_ms = out.secrets_ms,
                    "init step done"
                );
                (out.config, out.config_ms, out.secrets, out.secrets_ms)
            }
            Err(e) => {
                tracing::error!(error = %e, "init step failed");
                init_failure = Some(format!("init step: {e}"));
                let elapsed = ms(step_started.elapsed());
                (Ok(None), elapsed, Ok(BTreeMap::new()), 0.0)
            }
        };
        let mut config_sha256 = None;
        match &config {
            Ok(Some(c)) => {
                tracing::info!(path = %c.path, bytes = c.bytes, replacements = c.replacements, sha256 = %c.sha256, config_ms, "config written");
                config_sha256 = Some(c.sha256.clone());
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "config phase failed");
                init_failure = Some(format!("config: {e}"));
            }
        }
        let mut secrets = match secrets {
            Ok(s) => {
                tracing::info!(count = s.len(), names = ?s.keys().collect::<Vec<_>>(), secrets_ms, "secrets resolved");
                s
            }
            Err(e) => {
                tracing::error!(error = %e, "secrets phase failed");
                init_failure.get_or_insert(format!("secrets: {e}"));
                BTreeMap::new()
            }
        };
        let token = secrets
            .remove(DIAG_TOKEN_ENV)
            .or_else(|| settings.diagnostics_token.clone());
        let redis = diag::RedisTarget::from_lookup(|k| {
            secrets.get(k).cloned().or_else(|| std::env::var(k).ok())
        });
        let mongo_uri = secrets
            .get("MONGO_URI")
            .cloned()
            .or_else(|| std::env::var("MONGO_URI").ok());
        let database = diag::DatabaseTarget::from_uri(mongo_uri.as_deref());

        let timings = Arc::new(Mutex::new(InitTimings {
            config_ms: Some(config_ms),
            secrets_ms: Some(secrets_ms),
            ..Default::default()
        }));
        let (tx, rx) = watch::channel(None);
        let mut child_handle = None;
        if let Some(failure) = &init_failure {
            let _ = tx.send(Some(Readiness::ChildExited {
                reason: failure.clone(),
                elapsed: Duration::ZERO,
            }));
        } else {
            let spawn_at = Instant::now();
            if let Some(cmd) = &settings.child_cmd {
                // LibreChat's S3 client drops the role's session token: it gets the
                // credentials as a file instead (credentials.rs).
                let role =
                    crate::credentials::role_credentials(|k| std::env::var(k).ok(), &secrets);
                let mut env = secrets;
                let mut remove = vec!["SHIM_DIAGNOSTICS_TOKEN", "SHIM_SSM_SECRETS", "_HANDLER"];
                if let Some(c) = role {
                    match crate::credentials::write_file(&c, &std::env::temp_dir()) {
                        Ok(path) => {
                            env.insert(
                                crate::credentials::FILE_ENV.into(),
                                path.display().to_string(),
                            );
                            remove.extend([
                                crate::credentials::KEY,
                                crate::credentials::SECRET,
                                crate::credentials::TOKEN,
                            ]);
                            tracing::info!(file = %path.display(), "the role's credentials given to LibreChat as a shared credentials file (its S3 client drops the session token of AWS_* variables)");
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "could not write the role's credentials file: LibreChat keeps the AWS_* variables (its S3 client then drops the session token)");
                        }
                    }
                }
                env.insert("HOST".into(), settings.upstream_host.clone());
                env.insert("PORT".into(), settings.upstream_port.to_string());
                env.insert("CONFIG_PATH".into(), settings.config_path.clone());
                let cwd = settings.child_cwd.clone().or_else(|| {
                    std::path::Path::new("/app/api")
                        .is_dir()
                        .then(|| "/app".to_string())
                });
                match child::spawn(cmd, cwd.as_deref(), &env, &remove, settings.log_tail) {
                    Ok(h) => {
                        tracing::info!(pid = h.pid.unwrap_or(0), "LibreChat spawned");
                        // LibreChat's database-connection failures, kept aside as the status
                        // endpoint's evidence.
                        if let Ok(t) = &database.target {
                            let t = t.clone();
                            h.tail
                                .watch(move |l| crate::mongo::is_failure_signature(l, &t));
                        }
                        child_handle = Some(h);
                    }
                    Err(e) => {
                        let reason = format!("spawning `{cmd}`: {e}");
                        tracing::error!(error = %reason, "spawn failed");
                        init_failure = Some(reason.clone());
                        let _ = tx.send(Some(Readiness::ChildExited {
                            reason,
                            elapsed: Duration::ZERO,
                        }));
                    }
                }
            }
            if init_failure.is_none() {
                let policy = settings.readiness;
                let host = settings.upstream_host.clone();
                let port = settings.upstream_port;
                let ready_url = format!("{}{}", settings.upstream_base(), settings.ready_path);
                let child_for_ready = child_handle.clone();
                let timings2 = timings.clone();
                let client = http_client();
                tokio::spawn(async move {
                    let r = readiness::wait_ready(
                        policy,
                        || child_for_ready.as_ref().and_then(|c| c.exit_reason()),
                        || {
                            let addr = format!("{host}:{port}");
                            async move { tokio::net::TcpStream::connect(addr).await.is_ok() }
                        },
                        || health_check(&client, &ready_url),
                    )
                    .await;
                    let ready_ms = ms(spawn_at.elapsed());
                    let total_ms = ms(started.elapsed());
                    match &r {
                        Readiness::Ready { attempts, .. } => {
                            let t = {
                                let mut t = timings2.lock().unwrap_or_else(|p| p.into_inner());
                                t.spawn_to_ready_ms = Some(ready_ms);
                                t.total_ms = Some(total_ms);
                                t.clone()
                            };
                            tracing::info!(
                                attempts,
                                spawn_to_ready_ms = ready_ms,
                                total_ms,
                                "LibreChat ready"
                            );
                            emf::cold_start(
                                t.config_ms.unwrap_or(0.0),
                                t.secrets_ms.unwrap_or(0.0),
                                ready_ms,
                                total_ms,
                            );
                        }
                        other => {
                            let cause = other.cause().unwrap_or_default();
                            tracing::error!(cause = %cause, "LibreChat readiness failed");
                            emf::readiness_timeout(&cause);
                        }
                    }
                    let _ = tx.send(Some(r));
                });
            }
        }

        let app = Arc::new(App {
            client: http_client(),
            started,
            instance_id: uuid::Uuid::new_v4().to_string(),
            invocations: AtomicU64::new(0),
            ready: rx,
            init_failure,
            child: child_handle,
            token,
            timings,
            config_sha256,
            redis,
            database,
            recycling: AtomicBool::new(false),
            pending: Default::default(),
            settings,
        });
        // Wait in init only up to the bound; the first invocation waits for the rest.
        let mut rx = app.ready.clone();
        let waited =
            tokio::time::timeout(app.settings.init_wait, rx.wait_for(|r| r.is_some())).await;
        if waited.is_err() {
            tracing::warn!(
                init_wait_ms = app.settings.init_wait.as_millis() as u64,
                "LibreChat not ready within the init wait; the first invocation waits for the rest of the budget"
            );
        }
        app
    }

    /// Handle one invocation (for [`crate::runtime_loop::run`]).
    pub async fn handle_stream(self: Arc<Self>, ev: LambdaEvent<Value>) -> Resp {
        match self.handle(ev).await {
            Ok(r) => r,
            Err(e) => fixed(json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "shim_error",
                &e.to_string(),
            )),
        }
    }

    /// Handle one invocation.
    pub async fn handle(
        self: Arc<Self>,
        ev: LambdaEvent<Value>,
    ) -> Result<Resp, lambda_runtime::Error> {
        let cold = self.invocations.fetch_add(1, Ordering::SeqCst) == 0;
        let deadline = deadline_instant(ev.context.deadline, self.settings.deadline_margin);
        tracing::info!(
            request_id = %ev.context.request_id,
            cold_start = cold,
            until_cut_ms = deadline.saturating_duration_since(tokio::time::Instant::now()).as_millis() as u64,
            "invocation"
        );
        let LambdaEvent { payload, context } = ev;
        let parsed = event::parse_event(&payload, self.settings.limits);
        // The event (a large body is in it base64-encoded) is not needed past this point: free
        // it before the request is sent, not after the response has been streamed.
        drop(payload);
        let req = match parsed {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, request_id = %context.request_id, "bad event");
                emf::proxy_error(e.code());
                return Ok(fixed(json_error(
                    StatusCode::BAD_REQUEST,
                    e.code(),
                    &e.to_string(),
                )));
            }
        };
        if let Some(route) = diag::route(&req, self.token.as_deref()) {
            return Ok(self.diagnostics(route, cold).await);
        }
        if let Some(f) = &self.init_failure {
            emf::proxy_error("init_failed");
            self.recycle("init failed");
            return Ok(fixed(json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "init_failed",
                f,
            )));
        }
        // Wait for readiness (the rest of the 30 s budget), bounded by the deadline.
        let mut rx = self.ready.clone();
        let readiness = match tokio::time::timeout_at(deadline, rx.wait_for(|r| r.is_some())).await
        {
            Ok(Ok(r)) => r.clone(),
            _ => None,
        };
        match readiness {
            Some(r) if r.is_ready() => {}
            Some(r) => {
                let cause = r.cause().unwrap_or_default();
                self.log_child_tail(&cause);
                emf::proxy_error("not_ready");
                self.recycle("readiness failed");
                return Ok(fixed(json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "librechat_not_ready",
                    &cause,
                )));
            }
            None => {
                emf::proxy_error("lambda_deadline");
                return Ok(fixed(json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "lambda_deadline",
                    "the invocation deadline came before LibreChat was ready",
                )));
            }
        }
        if diag::is_api_health(&req) {
            return Ok(self
                .api_health(req.method == http::Method::HEAD, &context.request_id)
                .await);
        }
        Ok(self.proxy(req, deadline, context.request_id).await)
    }

    /// One check of LibreChat's liveness route, bounded at 2 s: `(status, latency_ms)`.
    async fn check_librechat(&self) -> Result<(u16, f64), String> {
        let url = format!(
            "{}{}",
            self.settings.upstream_base(),
            self.settings.health_path
        );
        let t = Instant::now();
        tokio::time::timeout(Duration::from_secs(2), health_check(&self.client, &url))
            .await
            .unwrap_or_else(|_| Err(format!("{url}: no answer within 2000 ms")))
            .map(|s| (s, ms(t.elapsed())))
    }

    /// After a request to LibreChat failed: why its process exited, if it has. A child killed
    /// while the environment was frozen is reaped by its watcher only once the environment
    /// thaws, which races with the request that thawed it: the watcher gets up to 250 ms.
    async fn child_exit_after_failure(&self) -> Option<String> {
        let child = self.child.as_ref()?;
        let until = Instant::now() + Duration::from_millis(250);
        loop {
            if let Some(x) = child.exit_reason() {
                return Some(x);
            }
            if Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// LibreChat could not be reached: 502 naming the cause; when its process has exited, the
    /// environment is recycled so that the next invocation starts a fresh one.
    async fn upstream_unavailable(&self, reason: String, request_id: &str, path: &str) -> Resp {
        let exited = self.child_exit_after_failure().await;
        let reason = match &exited {
            Some(x) => format!("LibreChat exited ({x}); {reason}"),
            None => reason,
        };
        tracing::error!(request_id, reason = %reason, path, "proxy error");
        self.log_child_tail(&reason);
        emf::proxy_error(if exited.is_some() {
            "upstream_exited"
        } else {
            "upstream_unavailable"
        });
        if exited.is_some() {
            self.recycle("LibreChat exited");
        }
        fixed(json_error(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            &reason,
        ))
    }

    /// `/api/health` (SC-003), answered from LibreChat's own `/health`; a LibreChat that cannot
    /// be reached is the same 502 as for any proxied request.
    async fn api_health(&self, head: bool, request_id: &str) -> Resp {
        let health = self.check_librechat().await;
        if let Err(e) = &health
            && self.child_exit_after_failure().await.is_some()
        {
            return self
                .upstream_unavailable(
                    format!("health check: {e}"),
                    request_id,
                    diag::API_HEALTH_PATH,
                )
                .await;
        }
        let (code, doc) = diag::api_health_json(&health);
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let (prelude, body) = json_response(status, &doc);
        fixed((prelude, if head { Bytes::new() } else { body }))
    }

    async fn proxy(
        self: &Arc<Self>,
        req: ProxyRequest,
        deadline: tokio::time::Instant,
        request_id: String,
    ) -> Resp {
        let uri = format!("{}{}", self.settings.upstream_base(), req.path_and_query());
        // A web chat's start: its answer says whether LibreChat goes on generating afterwards.
        let chat = crate::pending::chat_request(&req.method, &req.path, &req.body).and_then(|c| {
            Some((
                c,
                req.headers
                    .iter()
                    .find(|(n, _)| n == http::header::AUTHORIZATION)?
                    .1
                    .clone(),
                req.headers
                    .iter()
                    .find(|(n, _)| n == http::header::USER_AGENT)
                    .map(|(_, v)| v.clone()),
            ))
        });
        let mut builder = http::Request::builder()
            .method(req.method.clone())
            .uri(&uri);
        for (n, v) in &req.headers {
            builder = builder.header(n, v);
        }
        let upstream_req = match builder.body(Full::new(req.body.clone())) {
            Ok(r) => r,
            Err(e) => {
                return fixed(json_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &e.to_string(),
                ));
            }
        };
        let resp = match tokio::time::timeout_at(deadline, self.client.request(upstream_req)).await
        {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let reason = format!(
                    "request to LibreChat failed: {}",
                    opsconsole_proc::error_chain(&e)
                );
                return self
                    .upstream_unavailable(reason, &request_id, &req.path)
                    .await;
            }
            Err(_) => {
                tracing::error!(request_id, path = %req.path, "deadline before LibreChat answered");
                emf::proxy_error("lambda_deadline");
                return fixed(json_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "lambda_deadline",
                    "LibreChat did not answer before the Lambda deadline",
                ));
            }
        };
        let (parts, mut body) = resp.into_parts();
        let sse = is_event_stream(&parts.headers);
        let prelude = response::prelude_from_upstream(parts.status, &parts.headers);
        let (mut tx, rx) = channel();
        let path = req.path.clone();
        let status = parts.status.as_u16();
        let app = self.clone();
        let mut seen = chat.filter(|_| status == 200).map(|c| (c, Vec::new()));
        tokio::spawn(async move {
            let mut bytes = 0u64;
            loop {
                tokio::select! {
                    frame = body.frame() => match frame {
                        Some(Ok(f)) => {
                            if let Ok(data) = f.into_data() {
                                if data.is_empty() { continue; }
                                bytes += data.len() as u64;
                                if let Some((_, buf)) = seen.as_mut().filter(|(_, b)| b.len() < 4096) {
                                    buf.extend_from_slice(&data);
                                }
                                if tx.send_data(data).await.is_err() {
                                    tracing::warn!(request_id, path = %path, bytes, "client side of the stream closed");
                                    return;
                                }
                            }
                        }
                        Some(Err(e)) => {
                            let reason = opsconsole_proc::error_chain(&e);
                            tracing::error!(request_id, path = %path, bytes, reason = %reason, "upstream error mid-stream");
                            emf::proxy_error("upstream_stream_error");
                            if sse {
                                let _ = tx.send_data(sse_error_event("upstream_error", Some(&reason))).await;
                            }
                            return;
                        }
                        None => {
                            // Noted before the response ends, so before the next event is asked for.
                            if let Some(((c, auth, ua), buf)) = seen.take() {
                                app.note_chat(status, &buf, c, auth, ua);
                            }
                            return;
                        }
                    },
                    _ = tokio::time::sleep_until(deadline) => {
                        tracing::error!(request_id, path = %path, bytes, sse, "Lambda deadline near: response cut");
                        emf::proxy_error("lambda_deadline");
                        if sse {
                            let _ = tx.send_data(sse_error_event("lambda_deadline", None)).await;
                        }
                        return;
                    }
                }
            }
        });
        StreamResponse {
            metadata_prelude: prelude,
            stream: rx,
        }
    }

    async fn diagnostics(self: &Arc<Self>, route: DiagRoute, cold: bool) -> Resp {
        match route {
            DiagRoute::Status => {
                // Concurrently: the answer takes the longest check, not their sum.
                let watched = self.child.as_ref().and_then(|c| c.tail.last_watched());
                let (health, redis, database) = tokio::join!(
                    self.check_librechat(),
                    diag::redis_ping(&self.redis, Duration::from_secs(1)),
                    diag::database_check(&self.database, watched, Duration::from_millis(1500)),
                );
                let timings = self.timings.lock().map(|t| t.clone()).unwrap_or_default();
                let doc = diag::status_json(&diag::StatusInputs {
                    instance_id: self.instance_id.clone(),
                    cold_start: cold,
                    uptime_ms: self.started.elapsed().as_millis() as u64,
                    config_ms: timings.config_ms,
                    secrets_ms: timings.secrets_ms,
                    spawn_to_ready_ms: timings.spawn_to_ready_ms,
                    total_ms: timings.total_ms,
                    health,
                    redis,
                    database,
                    config_sha256: self.config_sha256.clone(),
                });
                fixed(json_response(StatusCode::OK, &doc))
            }
            DiagRoute::Sse {
                events,
                interval_ms,
            } => {
                let mut p = MetadataPrelude {
                    status_code: StatusCode::OK,
                    ..Default::default()
                };
                p.headers.insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static(opsconsole_wire::sse::CONTENT_TYPE),
                );
                p.headers.insert(
                    http::header::CACHE_CONTROL,
                    http::HeaderValue::from_static("no-cache"),
                );
                let (mut tx, rx) = channel();
                tokio::spawn(async move {
                    let start = tokio::time::Instant::now();
                    for seq in 1..=events {
                        if seq > 1 {
                            tokio::time::sleep_until(
                                start + Duration::from_millis(interval_ms * u64::from(seq - 1)),
                            )
                            .await;
                        }
                        let ev = probe_frame(seq, events, diag::now_ms_f64());
                        if tx.send_data(Bytes::from(ev)).await.is_err() {
                            return;
                        }
                    }
                    let _ = tx.send_data(Bytes::from(done_frame(events))).await;
                });
                StreamResponse {
                    metadata_prelude: p,
                    stream: rx,
                }
            }
        }
    }

    fn log_child_tail(&self, cause: &str) {
        if let Some(c) = &self.child {
            let lines = c.tail.snapshot();
            tracing::error!(cause, librechat_last_lines = ?lines, "LibreChat's last log lines");
        }
    }

    /// Recycle the environment: exit shortly after the current response has been sent, so the
    /// next invocation gets a fresh init.
    fn recycle(&self, why: &str) {
        if self.recycling.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::error!(why, "recycling the execution environment");
        // The exit itself happens in [`App::exit_if_recycling`], after the response is posted
        // and before the next event is asked for: Lambda freezes the environment at `/next`, so
        // a timer started here would fire only when the next request thaws it, and kill that
        // request (a 502 for a user whose request had nothing to do with this failure). The
        // timer stays for `SHIM_RUNTIME_LOOP=lambda_runtime`, whose loop has no such step.
        let child = self.child.clone();
        let delay = self.settings.recycle_delay;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(c) = child {
                c.kill();
            }
            std::process::exit(70);
        });
    }

    /// After a response is posted and before the next event is asked for: when this
    /// environment is to be recycled, kill LibreChat and exit (code 70) now, while Lambda still
    /// lets the process run, so that the next invocation gets a fresh environment.
    pub fn exit_if_recycling(&self) {
        if !self.recycling.load(Ordering::SeqCst) {
            return;
        }
        tracing::error!("recycling the execution environment: exiting before the next event");
        if let Some(c) = &self.child {
            c.kill();
        }
        std::process::exit(70);
    }

    /// SIGTERM/SIGINT: stop LibreChat gracefully (SIGTERM, `shutdown_grace`, then SIGKILL).
    pub async fn terminate(&self, signal: &str) {
        let Some(c) = &self.child else {
            tracing::info!(signal, "shutting down (no LibreChat process)");
            return;
        };
        let grace = self.settings.shutdown_grace;
        match c.terminate(grace).await {
            child::Termination::Exited(status) => {
                tracing::info!(signal, %status, "shutting down: LibreChat stopped")
            }
            child::Termination::AlreadyExited => {
                tracing::info!(signal, "shutting down: LibreChat had already exited")
            }
            child::Termination::Killed => tracing::warn!(
                signal,
                grace_ms = grace.as_millis() as u64,
                "shutting down: LibreChat ignored SIGTERM, killed"
            ),
        }
    }

    /// Kill the child (used on shutdown).
    pub fn shutdown(&self) {
        if let Some(c) = &self.child {
            c.kill();
        }
    }
}

fn http_client() -> Client<HttpConnector, Full<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(4))
        .build(connector)
}

async fn health_check(
    client: &Client<HttpConnector, Full<Bytes>>,
    url: &str,
) -> Result<u16, String> {
    let req = http::Request::get(url)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let resp = client
        .request(req)
        .await
        .map_err(|e| opsconsole_proc::error_chain(&e))?;
    let status = resp.status().as_u16();
    // Drain the body so the connection can be reused.
    let _ = resp.into_body().collect().await;
    Ok(status)
}

/// A complete response: prelude and one body chunk (an empty body ends the stream at once).
fn fixed((prelude, body): (MetadataPrelude, Bytes)) -> Resp {
    let (mut tx, rx): (Sender, Body) = channel();
    if !body.is_empty() {
        tokio::spawn(async move {
            let _ = tx.send_data(body).await;
        });
    }
    StreamResponse {
        metadata_prelude: prelude,
        stream: rx,
    }
}

/// The instant at which a response must be ended: the invocation deadline minus the margin.
pub(crate) fn deadline_instant(deadline_epoch_ms: u64, margin: Duration) -> tokio::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let remaining = if deadline_epoch_ms == 0 {
        Duration::from_secs(900)
    } else if deadline_epoch_ms < RELATIVE_DEADLINE_BELOW {
        // cargo-lambda's emulator sends the function timeout (e.g. 600000) rather than an epoch
        // time; read such small values as "milliseconds from now".
        Duration::from_millis(deadline_epoch_ms)
    } else {
        Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms))
    };
    tokio::time::Instant::now() + remaining.saturating_sub(margin)
}

/// Deadlines below this (2001-09-09 as epoch ms) are durations, not points in time.
const RELATIVE_DEADLINE_BELOW: u64 = 1_000_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn deadline_epoch_and_relative() {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let margin = Duration::from_secs(2);
        let t0 = tokio::time::Instant::now();
        let d = deadline_instant(now_ms + 10_000, margin);
        let left = d.duration_since(t0);
        assert!(
            left <= Duration::from_secs(8) && left > Duration::from_secs(7),
            "{left:?}"
        );
        assert_eq!(
            deadline_instant(600_000, margin).duration_since(t0),
            Duration::from_secs(598)
        );
        assert_eq!(deadline_instant(1_000, margin), t0);
        assert_eq!(
            deadline_instant(0, margin).duration_since(t0),
            Duration::from_secs(898)
        );
    }
}
