//! The SSE probe, with `eventsource-client`, against the shim's `/api/__shim/sse` (or a
//! configured chat endpoint with a bearer token, `chat_url`). Measures connect time (TCP), time
//! to the response head (TTFB), time to the first event, each event's arrival against its send
//! time, and gives the verdict of [`crate::domain::sse`].
//!
//! The chat mode (`chat_agent`): a real LibreChat chat, POSTed to the agents API
//! ([`crate::config::CHAT_PATH`]) with an API key and the headers a browser sends (`Accept:
//! text/event-stream`, `Accept-Encoding: gzip, deflate, br`, a browser User-Agent), read with
//! reqwest and decoded here (br/gzip/deflate), each `data:` frame's arrival recorded, ending on
//! `data: [DONE]`. A hop that compresses (and so buffers) the stream shows as BUFFERED.
//!
//! The web mode (`web_agent`, wins): the web UI's chat as a browser makes it (LibreChat v0.8.6):
//! log in as the probe user (`POST /api/auth/login`), `POST /api/agents/chat/agents` (answered at
//! once with the conversation id), then `GET /api/agents/chat/stream/<id>` read as SSE until the
//! `final` frame. Each message delta is an observation; no frame within the stall limit
//! ([`crate::domain::sse::stall_limit_ms`]) is STALLED. The frame reading and the verdict are the
//! pure functions of [`crate::domain::sse`]; this is the HTTP around them.

use std::time::{Duration, Instant};

use eventsource_client::{Client as _, ClientBuilder, ReconnectOptions, SSE};
use futures::StreamExt;
use launchdarkly_sdk_transport::HyperTransport;
use opsconsole_wire::TOKEN_HEADER;
use opsconsole_wire::sse::{DONE_EVENT, ProbeData, SseParams};
use tokio::sync::mpsc;

use crate::context::Context;
use crate::domain::sse::{
    SseRule, StreamEnd, WEB_STALL_FLOOR_MS, WebEnd, WebFrame, fill_gaps, missed_note, retry_missed,
    verdict, web_frame, web_verdict,
};
use crate::domain::stall::{StallRule, find_stall};

mod chat;
use crate::model::{CollectorError, DataEvent, ErrorKind, SseEventObs, SseProbeData};

/// What to probe.
#[derive(Debug, Clone)]
pub struct SseTarget {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expected: Option<u64>,
    /// No event for this long = stop reading (FAILED: stalled). In the chat modes the whole
    /// budget (0.9 x `--timeout`): a pause that ends is judged afterwards by `stall`.
    pub stall_after: Duration,
    /// The stall limit between events, judged after the stream ([`crate::domain::stall`]).
    pub stall: StallRule,
    /// The whole stream ends by then (TimedOut: FAILED), so that the verdict comes within
    /// `--timeout`.
    pub budget: Option<Duration>,
    /// The chat mode: POST this JSON body (OpenAI-style stream, ends on `data: [DONE]`).
    pub post_body: Option<String>,
}

/// A browser's User-Agent (LibreChat rejects non-browser agents on its JWT routes).
pub const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";
/// What a browser sends as `Accept-Encoding`.
pub const BROWSER_ACCEPT_ENCODING: &str = "gzip, deflate, br";

/// The chat mode's request: the agents API on `site_url`, the browser's headers, the API key.
pub fn chat_target(site_url: &str, agent: &str, prompt: &str, key: &str) -> SseTarget {
    let body = serde_json::json!({
        "model": agent,
        "stream": true,
        "messages": [{"role": "user", "content": prompt}],
    });
    SseTarget {
        url: format!(
            "{}{}",
            site_url.trim_end_matches('/'),
            crate::config::CHAT_PATH
        ),
        headers: vec![
            ("authorization".into(), format!("Bearer {key}")),
            ("accept".into(), "text/event-stream".into()),
            ("accept-encoding".into(), BROWSER_ACCEPT_ENCODING.into()),
            ("user-agent".into(), BROWSER_UA.into()),
            ("content-type".into(), "application/json".into()),
        ],
        expected: None,
        stall_after: Duration::from_secs(30),
        stall: StallRule::default(),
        budget: None,
        post_body: Some(body.to_string()),
    }
}

/// The budget of a chat (login to the end of the stream): within the check's own bound
/// (`--timeout`), so that a slow chat still gets its verdict.
fn chat_budget(timeout: Duration) -> Duration {
    timeout
        .mul_f64(0.9)
        .max(Duration::from_secs(1))
        .min(timeout)
}

/// The probe target from the context: the shim endpoint with the token, or the chat endpoint.
pub fn target(ctx: &Context) -> Result<SseTarget, CollectorError> {
    let s = &ctx.settings;
    let stall = StallRule {
        fixed_ms: s.stall_limit_ms.map(|m| m as f64),
        ..StallRule::default()
    };
    let budget = chat_budget(s.timeout);
    let stall_after = match s.stall_limit_ms {
        Some(m) => Duration::from_millis(m),
        None => Duration::from_millis((s.sse_interval_ms * 5).max(5000)),
    }
    .min(budget);
    if let Some(agent) = &s.chat_agent {
        let key = match (&ctx.chat_key, &ctx.chat_key_error) {
            (Some(k), _) => k.0.clone(),
            (None, Some(e)) => return Err(chat_key_err(e.clone())),
            (None, None) => {
                return Err(chat_key_err(
                    "chat_agent is set but no API key: set chat_key_env or chat_key_ssm in [env.NAME.probe]".into(),
                ));
            }
        };
        return Ok(SseTarget {
            stall_after: budget,
            stall,
            budget: Some(budget),
            ..chat_target(&ctx.outputs.site_url, agent, &s.chat_prompt, &key)
        });
    }
    if let Some(chat) = &s.chat_url {
        let mut headers = vec![];
        if let Some(var) = &s.chat_token_env {
            let tok = std::env::var(var).map_err(|_| {
                config_err(format!("chat token: environment variable {var} is not set"))
            })?;
            headers.push(("authorization".to_string(), format!("Bearer {tok}")));
        }
        return Ok(SseTarget {
            url: chat.clone(),
            headers,
            expected: None,
            stall_after: budget,
            stall,
            budget: Some(budget),
            post_body: None,
        });
    }
    let token = match (&ctx.token, &ctx.token_error) {
        (Some(t), _) => t.0.clone(),
        (None, Some(e)) => return Err(config_err(e.clone())),
        (None, None) => {
            return Err(config_err(
                "no diagnostics token configured: set [env.NAME.probe] token/token_env/token_ssm in the config file or OPSCONSOLE_DIAGNOSTICS_TOKEN".into(),
            ));
        }
    };
    Ok(SseTarget {
        url: format!(
            "{}{}?{}",
            ctx.outputs.site_url,
            s.sse_path,
            SseParams {
                events: s.sse_events,
                interval_ms: s.sse_interval_ms,
            }
            .to_query()
        ),
        headers: vec![(TOKEN_HEADER.to_string(), token)],
        expected: Some(u64::from(s.sse_events)),
        stall_after,
        stall,
        budget: Some(budget),
        post_body: None,
    })
}

fn chat_key_err(message: String) -> CollectorError {
    CollectorError {
        kind: ErrorKind::Config,
        message,
        fix: Some(
            "configure the chat probe's API key: chat_key_env or chat_key_ssm (see console/README.md, config file)"
                .into(),
        ),
    }
}

fn config_err(message: String) -> CollectorError {
    CollectorError {
        kind: ErrorKind::Config,
        message,
        fix: Some("configure the diagnostics token (see console/README.md, config file)".into()),
    }
}

/// The web mode's request: who logs in, which agent, what to say, and the bounds.
#[derive(Clone)]
pub struct WebTarget {
    pub site_url: String,
    pub email: String,
    pub password: String,
    pub agent: String,
    pub prompt: String,
    /// The whole chat (login to the final frame) ends by then: FAILED.
    pub budget: Duration,
    /// The stall limit's floor ([`WEB_STALL_FLOOR_MS`] unless a test wants less).
    pub stall_floor_ms: f64,
    /// A fixed stall limit (`stall_limit_ms`, `--stall-limit-ms`) instead of the rhythm's.
    pub stall_fixed_ms: Option<f64>,
}

impl std::fmt::Debug for WebTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebTarget")
            .field("site_url", &self.site_url)
            .field("email", &self.email)
            .field("password", &"(secret)")
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}

/// The web mode's target from the context, `None` when `web_agent` is not configured.
pub fn web_target(ctx: &Context) -> Result<Option<WebTarget>, CollectorError> {
    let s = &ctx.settings;
    let Some(agent) = &s.web_agent else {
        return Ok(None);
    };
    let web_err = |message: String| {
        CollectorError {
        kind: ErrorKind::Config,
        message,
        fix: Some(
            "configure the web probe: web_agent, web_email and web_password_env or web_password_ssm in [env.NAME.probe] (see console/README.md, the web mode)"
                .into(),
        ),
    }
    };
    let Some(email) = &s.web_email else {
        return Err(web_err(
            "web_agent is set but no web_email (the probe user)".into(),
        ));
    };
    let password = match (&ctx.web_password, &ctx.web_password_error) {
        (Some(p), _) => p.0.clone(),
        (None, Some(e)) => return Err(web_err(e.clone())),
        (None, None) => {
            return Err(web_err(
                "web_agent is set but no password: set web_password_env or web_password_ssm".into(),
            ));
        }
    };
    let budget = chat_budget(s.timeout);
    Ok(Some(WebTarget {
        site_url: ctx.outputs.site_url.trim_end_matches('/').to_string(),
        email: email.clone(),
        password,
        agent: agent.clone(),
        prompt: s.web_prompt.clone(),
        budget,
        stall_floor_ms: WEB_STALL_FLOOR_MS,
        stall_fixed_ms: s.stall_limit_ms.map(|m| m as f64),
    }))
}

/// Runs the SSE probe from the context's settings.
pub async fn probe(
    ctx: &Context,
    live: Option<&mpsc::Sender<DataEvent>>,
) -> Result<SseProbeData, CollectorError> {
    if let Some(w) = web_target(ctx)? {
        return Ok(run_web(&w, live, &SseRule::default()).await);
    }
    let t = target(ctx)?;
    Ok(run(&t, live, &SseRule::default()).await)
}

/// Runs the SSE probe against `t`. Never fails: problems are a FAILED verdict with the reason.
pub async fn run(
    t: &SseTarget,
    live: Option<&mpsc::Sender<DataEvent>>,
    rule: &SseRule,
) -> SseProbeData {
    if let Some(tx) = live {
        let _ = tx
            .send(DataEvent::SseStarted {
                url: redact(&t.url),
            })
            .await;
    }
    let mut data = SseProbeData {
        url: redact(&t.url),
        connect_ms: None,
        ttfb_ms: None,
        first_event_ms: None,
        events: vec![],
        expected_events: t.expected,
        verdict: crate::model::Verdict::Failed,
        reason: String::new(),
        mode: Some(
            if t.post_body.is_some() {
                "chat"
            } else if t.expected.is_none() {
                "chat_url"
            } else {
                "shim"
            }
            .into(),
        ),
        stall: None,
    };
    let start = Instant::now();
    let ms = |i: Instant| i.duration_since(start).as_secs_f64() * 1000.0;
    data.connect_ms = tcp_connect_ms(&t.url).await;
    let read = async {
        if t.post_body.is_some() {
            chat::chat_stream(t, &mut data, live, ms).await
        } else {
            stream(t, &mut data, live, ms).await
        }
    };
    let res = match t.budget {
        Some(b) => tokio::time::timeout(b, read)
            .await
            .unwrap_or(Err(StreamEnd::TimedOut)),
        None => read.await,
    };
    let end = match res {
        Ok(end) => end,
        Err(end) => end,
    };
    fill_gaps(&mut data.events);
    let (v, reason) = verdict(&data.events, data.expected_events, &end, rule);
    data.verdict = v;
    data.reason = reason;
    data.stall = find_stall(&data.events, &t.stall);
    data
}

async fn stream(
    t: &SseTarget,
    data: &mut SseProbeData,
    live: Option<&mpsc::Sender<DataEvent>>,
    ms: impl Fn(Instant) -> f64,
) -> Result<StreamEnd, StreamEnd> {
    opsconsole_proc::tls::install_crypto_provider();
    let mut builder = HyperTransport::builder().connect_timeout(Duration::from_secs(10));
    if is_loopback(&t.url) {
        builder = builder.disable_proxy();
    }
    let transport = builder
        .build_https()
        .map_err(|e| StreamEnd::ConnectError(format!("HTTP transport: {e}")))?;
    let mut cb = ClientBuilder::for_url(&t.url)
        .map_err(|e| StreamEnd::ConnectError(format!("bad URL: {e}")))?
        .reconnect(ReconnectOptions::reconnect(false).build());
    for (k, v) in &t.headers {
        cb = cb
            .header(k, v)
            .map_err(|e| StreamEnd::ConnectError(format!("bad header {k}: {e}")))?;
    }
    let client = cb.build_with_transport(transport);
    let mut s = client.stream();
    let mut connected = false;
    let mut last = Instant::now();
    loop {
        let item = match tokio::time::timeout(t.stall_after, s.next()).await {
            Err(_) => {
                return Ok(StreamEnd::Stalled {
                    after_ms: last.elapsed().as_secs_f64() * 1000.0,
                });
            }
            // A chat endpoint has no `done` event: there the end of the stream is the end.
            Ok(None) if t.expected.is_none() => return Ok(StreamEnd::Done),
            Ok(None) => return Ok(StreamEnd::Dropped("connection closed".into())),
            Ok(Some(i)) => i,
        };
        let now = Instant::now();
        match item {
            Ok(SSE::Connected(d)) => {
                connected = true;
                data.ttfb_ms = Some(ms(now));
                let st = d.response().status();
                if !(200..300).contains(&st) {
                    return Ok(StreamEnd::HttpStatus(st));
                }
                last = now;
            }
            Ok(SSE::Comment(_)) => {}
            Ok(SSE::Event(ev)) => {
                last = now;
                if ev.event_type == DONE_EVENT {
                    return Ok(StreamEnd::Done);
                }
                let payload = ProbeData::parse(&ev.data);
                let seq = payload
                    .as_ref()
                    .and_then(|p| p.seq)
                    .or_else(|| ev.id.as_deref().and_then(|i| i.parse().ok()))
                    .unwrap_or(data.events.len() as u64 + 1);
                if let Some(total) = payload.as_ref().and_then(|p| p.total) {
                    data.expected_events = Some(total);
                }
                if data.first_event_ms.is_none() {
                    data.first_event_ms = Some(ms(now));
                }
                let mut obs = SseEventObs {
                    seq,
                    arrived_ms: ms(now),
                    sent_at_ms: payload.as_ref().and_then(|p| p.sent_at_ms),
                    gap_ms: None,
                    sent_gap_ms: None,
                };
                if let Some(prev) = data.events.last() {
                    obs.gap_ms = Some(obs.arrived_ms - prev.arrived_ms);
                    obs.sent_gap_ms = match (prev.sent_at_ms, obs.sent_at_ms) {
                        (Some(a), Some(b)) => Some(b - a),
                        _ => None,
                    };
                }
                if let Some(tx) = live {
                    let _ = tx.send(DataEvent::SseEvent(obs.clone())).await;
                }
                data.events.push(obs);
                if data.events.len() > 10_000 {
                    return Ok(StreamEnd::Dropped(
                        "more than 10000 events: stopped reading".into(),
                    ));
                }
            }
            Err(eventsource_client::Error::UnexpectedResponse(r, _)) => {
                data.ttfb_ms.get_or_insert(ms(now));
                return Ok(StreamEnd::HttpStatus(r.status()));
            }
            Err(eventsource_client::Error::Eof) if t.expected.is_none() => {
                return Ok(StreamEnd::Done);
            }
            Err(e) if !connected => return Ok(StreamEnd::ConnectError(e.to_string())),
            Err(e) => return Ok(StreamEnd::Dropped(e.to_string())),
        }
    }
}

/// Runs the web mode against `w`. Never fails: problems are a FAILED (or STALLED) verdict.
pub async fn run_web(
    w: &WebTarget,
    live: Option<&mpsc::Sender<DataEvent>>,
    rule: &SseRule,
) -> SseProbeData {
    let chat_url = format!("{}{}", w.site_url, crate::config::WEB_CHAT_PATH);
    if let Some(tx) = live {
        let _ = tx
            .send(DataEvent::SseStarted {
                url: chat_url.clone(),
            })
            .await;
    }
    let mut data = SseProbeData {
        url: chat_url,
        connect_ms: tcp_connect_ms(&w.site_url).await,
        ttfb_ms: None,
        first_event_ms: None,
        events: vec![],
        expected_events: None,
        verdict: crate::model::Verdict::Failed,
        reason: String::new(),
        mode: Some("web".into()),
        stall: None,
    };
    let deadline = tokio::time::Instant::now() + w.budget;
    let mut missed = Vec::new();
    let mut tries = 0;
    let end = loop {
        tries += 1;
        let end = match tokio::time::timeout_at(deadline, web_chat(w, &mut data, live)).await {
            Ok(end) => end,
            Err(_) => WebEnd::Failed(format!(
                "time budget ({} ms) ran out after {} delta(s)",
                w.budget.as_millis(),
                data.events.len()
            )),
        };
        match end {
            WebEnd::Missed { get_ms } if retry_missed(&end, tries) => {
                missed.push(get_ms);
                data.events.clear();
                data.ttfb_ms = None;
                data.first_event_ms = None;
            }
            end => break end,
        }
    };
    fill_gaps(&mut data.events);
    let (v, reason) = web_verdict(&data.events, &end, rule);
    data.verdict = v;
    data.reason = format!("{}{reason}", missed_note(&missed));
    data.stall = find_stall(&data.events, &w.stall_rule());
    data
}

impl WebTarget {
    /// The stall limit: the configured one, else the rhythm's with this target's floor.
    pub fn stall_rule(&self) -> StallRule {
        StallRule {
            fixed_ms: self.stall_fixed_ms,
            floor_ms: self.stall_floor_ms,
        }
    }
}

/// The body's first 200 characters, for a failure's reason.
fn snippet(text: &str) -> String {
    let t: String = text.trim().chars().take(200).collect();
    if t.is_empty() { "(empty)".into() } else { t }
}

/// Login, POST, GET: the web UI's chat. Times in `data` are from the chat POST.
async fn web_chat(
    w: &WebTarget,
    data: &mut SseProbeData,
    live: Option<&mpsc::Sender<DataEvent>>,
) -> WebEnd {
    use tokio::io::AsyncReadExt as _;
    opsconsole_proc::tls::install_crypto_provider();
    let mut b = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
    if is_loopback(&w.site_url) {
        b = b.no_proxy();
    }
    let client = match b.build() {
        Ok(c) => c,
        Err(e) => return WebEnd::Failed(format!("HTTP client: {e}")),
    };
    let post = |path: &str| {
        client
            .post(format!("{}{path}", w.site_url))
            .header("user-agent", BROWSER_UA)
            .header("content-type", "application/json")
    };
    // 1. Log in as the probe user.
    let login = serde_json::json!({"email": w.email, "password": w.password});
    let resp = match post(crate::config::WEB_LOGIN_PATH)
        .body(login.to_string())
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return WebEnd::Failed(format!(
                "could not connect to log in: {}",
                opsconsole_proc::error_chain(&e)
            ));
        }
    };
    let st = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let token = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str().map(str::to_string)));
    let token = match token {
        Some(t) if st == 200 => t,
        // The answer may hold the token: never quote a 200's body.
        _ if st == 200 => return WebEnd::Failed("login answered 200 without a token".into()),
        _ => {
            return WebEnd::Failed(format!(
                "login as {} answered HTTP {st}: {}",
                w.email,
                snippet(&text)
            ));
        }
    };
    // 2. Start the chat: LibreChat answers at once with the conversation id.
    let start = Instant::now();
    let ms = |i: Instant| i.duration_since(start).as_secs_f64() * 1000.0;
    let body = serde_json::json!({"text": w.prompt, "endpoint": "agents", "agent_id": w.agent,
        "conversationId": null, "parentMessageId": "00000000-0000-0000-0000-000000000000"});
    let resp = match post(crate::config::WEB_CHAT_PATH)
        .bearer_auth(&token)
        .body(body.to_string())
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return WebEnd::Failed(format!(
                "chat POST failed: {}",
                opsconsole_proc::error_chain(&e)
            ));
        }
    };
    let st = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let started: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let id = started.as_ref().and_then(|v| {
        v.get("conversationId")
            .or_else(|| v.get("streamId"))
            .and_then(|i| i.as_str().map(str::to_string))
    });
    let id = match id {
        Some(id) if st == 200 => id,
        _ => {
            // LibreChat answers a refused request (e.g. a non-browser User-Agent) SSE-shaped.
            let mut frames = opsconsole_wire::sse::Frames::new();
            let err = frames
                .push(&format!(
                    "{text}

"
                ))
                .into_iter()
                .find_map(|f| match web_frame(&f.event, &f.data) {
                    WebFrame::Error(m) => Some(m),
                    _ => None,
                });
            return WebEnd::Failed(match err {
                Some(m) => format!("chat POST answered HTTP {st} with an error event: {m}"),
                None => format!(
                    "chat POST answered HTTP {st} without a conversation id: {}",
                    snippet(&text)
                ),
            });
        }
    };
    // 3. Read the stream.
    let stream_url = format!("{}{}/{id}", w.site_url, crate::config::WEB_STREAM_PATH);
    data.url = stream_url.clone();
    let resp = match client
        .get(&stream_url)
        .bearer_auth(&token)
        .header("user-agent", BROWSER_UA)
        .header("accept", "text/event-stream")
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return WebEnd::Failed(format!(
                "stream GET failed: {}",
                opsconsole_proc::error_chain(&e)
            ));
        }
    };
    let head = Instant::now();
    data.ttfb_ms = Some(ms(head));
    let st = resp.status().as_u16();
    if st == 404 {
        return WebEnd::Missed { get_ms: ms(head) };
    }
    if st != 200 {
        let text = resp.text().await.unwrap_or_default();
        return WebEnd::Failed(format!(
            "the stream GET answered HTTP {st}: {}",
            snippet(&text)
        ));
    }
    let mut body = tokio_util::io::StreamReader::new(
        resp.bytes_stream()
            .map(|r| r.map_err(std::io::Error::other)),
    );
    let mut frames = opsconsole_wire::sse::Frames::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut last = head;
    let mut last_name: Option<String> = None;
    let mut gaps: Vec<f64> = vec![];
    let mut n_frames = 0usize;
    loop {
        let limit_ms = w.stall_rule().limit_ms(&gaps);
        let deadline = last + Duration::from_secs_f64(limit_ms / 1000.0);
        let n = match tokio::time::timeout_at(deadline.into(), body.read(&mut buf)).await {
            Err(_) => {
                return WebEnd::Stalled {
                    after_ms: last.elapsed().as_secs_f64() * 1000.0,
                    limit_ms,
                    frames: n_frames,
                    last: last_name,
                };
            }
            Ok(Err(e)) => {
                return WebEnd::Failed(format!("the stream broke after {n_frames} frame(s): {e}"));
            }
            Ok(Ok(0)) => {
                return WebEnd::Failed(format!(
                    "the stream closed before the final event, after {n_frames} frame(s)"
                ));
            }
            Ok(Ok(n)) => n,
        };
        let now = Instant::now();
        pending.extend_from_slice(&buf[..n]);
        let valid = match std::str::from_utf8(&pending) {
            Ok(_) => pending.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = String::from_utf8_lossy(&pending[..valid]).into_owned();
        pending.drain(..valid);
        for f in frames.push(&text) {
            if f.data.is_empty() {
                continue;
            }
            n_frames += 1;
            gaps.push(now.duration_since(last).as_secs_f64() * 1000.0);
            last = now;
            let frame = web_frame(&f.event, &f.data);
            last_name = Some(frame.name());
            match frame {
                WebFrame::Final => return WebEnd::Final,
                WebFrame::Error(m) => {
                    return WebEnd::Failed(format!(
                        "LibreChat's stream sent an error after {} frame(s): {m}",
                        n_frames - 1
                    ));
                }
                WebFrame::Delta(_) => {
                    if data.first_event_ms.is_none() {
                        data.first_event_ms = Some(ms(now));
                    }
                    let mut obs = SseEventObs {
                        seq: data.events.len() as u64 + 1,
                        arrived_ms: ms(now),
                        sent_at_ms: None,
                        gap_ms: None,
                        sent_gap_ms: None,
                    };
                    if let Some(prev) = data.events.last() {
                        obs.gap_ms = Some(obs.arrived_ms - prev.arrived_ms);
                    }
                    if let Some(tx) = live {
                        let _ = tx.send(DataEvent::SseEvent(obs.clone())).await;
                    }
                    data.events.push(obs);
                    if data.events.len() > 10_000 {
                        return WebEnd::Failed("more than 10000 deltas: stopped reading".into());
                    }
                }
                WebFrame::Created | WebFrame::Other(_) => {}
            }
        }
    }
}

/// Time to open a TCP connection to the URL's host (a separate connection).
async fn tcp_connect_ms(url: &str) -> Option<f64> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?.to_string();
    let port = u.port_or_known_default()?;
    let t0 = Instant::now();
    let c = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await;
    match c {
        Ok(Ok(_)) => Some(t0.elapsed().as_secs_f64() * 1000.0),
        _ => None,
    }
}

fn is_loopback(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
        })
        .unwrap_or(false)
}

/// The URL without query secrets (none today, but never print a token).
fn redact(url: &str) -> String {
    url.to_string()
}
