//! A stand-in for the shim's HTTP surface on 127.0.0.1 (a real server, raw HTTP/1.1 over tokio):
//! `GET /api/health`, `GET /api/__shim/status` and `GET /api/__shim/sse?events=N&interval_ms=M`
//! (docs/contracts.md section 2), plus a chat-like `GET /api/chat` (bearer token, no send
//! times, no `done` event), and the site's frontend as CloudFront serves it (`/`: an
//! index.html, not cached, naming one script), with the SSE stream behaving as one [`SseMode`]:
//! streaming with spacing, buffering everything until the end, stalling, or dropping mid-stream.
//! Runs on its own thread and runtime; stopped on drop.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU16, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opsconsole_wire::sse::{SseParams, done_frame, probe_frame};
use opsconsole_wire::status::{DatabaseCheck, InitTimings, LibreChatCheck, RedisCheck, ShimStatus};
use opsconsole_wire::{HEALTH_PATH, SSE_PATH, STATUS_PATH, TOKEN_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the SSE endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseMode {
    /// One event per interval, each written and flushed when sent.
    Streaming,
    /// Events are stamped one interval apart but held back and written together at the end
    /// (a buffering hop on the path).
    Buffering,
    /// Two events, then nothing (the connection stays open for up to 10 minutes).
    Stall,
    /// Three events, then the connection is closed without the `done` event.
    Drop,
    /// Answers 503.
    HttpError,
}

impl SseMode {
    fn to_u8(self) -> u8 {
        match self {
            SseMode::Streaming => 0,
            SseMode::Buffering => 1,
            SseMode::Stall => 2,
            SseMode::Drop => 3,
            SseMode::HttpError => 4,
        }
    }
    fn from_u8(v: u8) -> SseMode {
        match v {
            1 => SseMode::Buffering,
            2 => SseMode::Stall,
            3 => SseMode::Drop,
            4 => SseMode::HttpError,
            _ => SseMode::Streaming,
        }
    }
}

#[derive(Debug)]
struct Shared {
    token: String,
    mode: AtomicU8,
    health_status: AtomicU16,
    /// 1 = redis ok, 0 = redis ping failing.
    redis_ok: AtomicU8,
}

/// The running stand-in. Settings can be changed while it runs.
pub struct ShimStandIn {
    port: u16,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ShimStandIn {
    /// Starts on a free 127.0.0.1 port. `token` is the diagnostics token it requires.
    pub fn start(token: &str, mode: SseMode) -> anyhow::Result<ShimStandIn> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            token: token.to_string(),
            mode: AtomicU8::new(mode.to_u8()),
            health_status: AtomicU16::new(200),
            redis_ok: AtomicU8::new(1),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("shim-standin-{port}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("shim stand-in: no runtime: {e}");
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("shim stand-in: {e}");
                            return;
                        }
                    };
                    let accept = async {
                        loop {
                            if let Ok((sock, _)) = listener.accept().await {
                                let sh = sh.clone();
                                tokio::spawn(async move {
                                    let _ = handle(sock, sh).await;
                                });
                            }
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = rx => {}
                    }
                });
            })?;
        Ok(ShimStandIn {
            port,
            shared,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT` (what the outputs' `site_url` should be).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn set_mode(&self, mode: SseMode) {
        self.shared.mode.store(mode.to_u8(), Ordering::SeqCst);
    }
    /// Status code of `/api/health` (200 by default; 502 = LibreChat down behind the shim).
    pub fn set_health_status(&self, status: u16) {
        self.shared.health_status.store(status, Ordering::SeqCst);
    }
    pub fn set_redis_ok(&self, ok: bool) {
        self.shared.redis_ok.store(u8::from(ok), Ordering::SeqCst);
    }
}

impl Drop for ShimStandIn {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

async fn handle(mut sock: TcpStream, sh: Arc<Shared>) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::other("read timeout"))??;
        if n == 0 || buf.len() > 64 * 1024 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let target = request_line.split(' ').nth(1).unwrap_or("/");
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let authorised = headers.get(TOKEN_HEADER).map(String::as_str) == Some(sh.token.as_str());

    match path {
        HEALTH_PATH => {
            let status = sh.health_status.load(Ordering::SeqCst);
            respond(&mut sock, status, "application/json", r#"{"status":"ok"}"#).await
        }
        STATUS_PATH if authorised => {
            let redis = if sh.redis_ok.load(Ordering::SeqCst) == 1 {
                Ok(0.4)
            } else {
                Err("connect ECONNREFUSED".to_string())
            };
            let body = serde_json::to_string(&status_document(&redis)).unwrap_or_default();
            respond(&mut sock, 200, "application/json", &body).await
        }
        SSE_PATH if authorised => {
            let (n, interval) = stream_params(query);
            sse(
                &mut sock,
                SseMode::from_u8(sh.mode.load(Ordering::SeqCst)),
                n,
                interval,
            )
            .await
        }
        "/api/chat"
            if headers.get("authorization").map(String::as_str)
                == Some(format!("Bearer {}", sh.token).as_str()) =>
        {
            let (n, interval) = stream_params(query);
            chat(
                &mut sock,
                SseMode::from_u8(sh.mode.load(Ordering::SeqCst)),
                n,
                interval,
            )
            .await
        }
        "/api/chat" => respond(&mut sock, 401, "text/plain", "unauthorized").await,
        "/" | "/index.html" => {
            respond_with(&mut sock, 200, "text/html", "no-cache", INDEX_HTML).await
        }
        STANDIN_SCRIPT => {
            respond_with(
                &mut sock,
                200,
                "application/javascript",
                "public, max-age=31536000, immutable",
                "document.title = 'stand-in';",
            )
            .await
        }
        _ => respond(&mut sock, 404, "text/plain", "not found").await,
    }
}

/// A chat-like stream: `data:` lines with text, no ids, no send times, no `done` event; the
/// stream ends when the answer is complete. Streaming or buffering like [`sse`].
async fn chat(sock: &mut TcpStream, mode: SseMode, n: u32, interval: u64) -> std::io::Result<()> {
    sock.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
    )
    .await?;
    sock.flush().await?;
    let mut held = String::new();
    for i in 1..=n {
        if i > 1 {
            tokio::time::sleep(Duration::from_millis(interval)).await;
        }
        let ev = format!("data: {{\"text\":\"token {i}\"}}\n\n");
        if mode == SseMode::Buffering {
            held.push_str(&ev);
        } else {
            sock.write_all(ev.as_bytes()).await?;
            sock.flush().await?;
        }
    }
    sock.write_all(held.as_bytes()).await?;
    sock.flush().await?;
    sock.shutdown().await
}

/// The script the stand-in's index.html names.
pub const STANDIN_SCRIPT: &str = "/assets/standin.0a1b2c3d.js";
const INDEX_HTML: &str = "<!doctype html><html><head><title>LibreChat (stand-in)</title>\
    <script type=\"module\" crossorigin src=\"./assets/standin.0a1b2c3d.js\"></script>\
    </head><body><div id=\"root\"></div></body></html>";

async fn respond_with(
    sock: &mut TcpStream,
    status: u16,
    ctype: &str,
    cache_control: &str,
    body: &str,
) -> std::io::Result<()> {
    let msg = format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: {ctype}\r\nCache-Control: {cache_control}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(msg.as_bytes()).await?;
    sock.shutdown().await
}

async fn respond(
    sock: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(msg.as_bytes()).await?;
    sock.shutdown().await
}

/// What the stand-in's status endpoint says: a warm environment whose LibreChat is healthy,
/// with the Redis PING of `redis` and a database that answers.
fn status_document(redis: &Result<f64, String>) -> ShimStatus {
    ShimStatus {
        shim_version: "0.1.0".into(),
        instance_id: "standin".into(),
        cold_start: false,
        uptime_ms: 1000,
        init: InitTimings {
            config_ms: Some(1.0),
            secrets_ms: Some(2.0),
            spawn_to_ready_ms: Some(3.0),
            total_ms: Some(6.0),
        },
        librechat: Some(LibreChatCheck::from_result(&Ok((200, 1.0)))),
        redis: Some(RedisCheck::from_result(redis)),
        database: Some(DatabaseCheck {
            ok: true,
            address: Some("127.0.0.1:27017".into()),
            rtt_ms: Some(0.5),
            ..Default::default()
        }),
        config_sha256: Some("00".into()),
    }
}

fn event(seq: u32, total: u32) -> String {
    probe_frame(seq, total, now_ms())
}

async fn sse(sock: &mut TcpStream, mode: SseMode, n: u32, interval: u64) -> std::io::Result<()> {
    if mode == SseMode::HttpError {
        return respond(sock, 503, "text/plain", "unavailable").await;
    }
    sock.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
    )
    .await?;
    sock.flush().await?;
    let gap = Duration::from_millis(interval);
    let mut held = String::new();
    for seq in 1..=n {
        if seq > 1 {
            tokio::time::sleep(gap).await;
        }
        let ev = event(seq, n);
        match mode {
            SseMode::Buffering => held.push_str(&ev),
            _ => {
                sock.write_all(ev.as_bytes()).await?;
                sock.flush().await?;
            }
        }
        if mode == SseMode::Stall && seq == 2 {
            tokio::time::sleep(Duration::from_secs(600)).await;
            return Ok(());
        }
        if mode == SseMode::Drop && seq == 3.min(n) {
            return sock.shutdown().await;
        }
    }
    held.push_str(&done_frame(n));
    sock.write_all(held.as_bytes()).await?;
    sock.flush().await?;
    sock.shutdown().await
}

/// `events` and `interval_ms` of a stream request, with the shim's defaults and bounds.
fn stream_params(query: &str) -> (u32, u64) {
    let p = SseParams::from_query(query);
    (p.events, p.interval_ms)
}
