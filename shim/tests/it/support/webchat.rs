//! The web UI's chat as a browser makes it (a POST that answers at once and keeps generating,
//! then the stream's GET) against a [`Stack`] on the local Lambda: the tests in web_chat.rs and
//! the web_chat bench.

use super::librechat::*;
use super::*;
use opsconsole::domain::sse::{SseRule, StreamEnd, fill_gaps, verdict};
use opsconsole::model::{SseEventObs, Verdict};
use opsconsole_locallambda::{EnvPhase, SERVED_BY_HEADER};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The chat's directive for the fake model: 6 chunks 300 ms apart.
pub const DIRECTIVE: &str = "[fake chunks=6 delay_ms=300]";

pub fn stack(extra_env: &[(&str, &str)]) -> Option<Stack> {
    stack_with(extra_env, LambdaOpts::default())
}

/// [`stack`] with the local Lambda's settings (memory, CPU share).
pub fn stack_with(extra_env: &[(&str, &str)], lambda: LambdaOpts) -> Option<Stack> {
    let tree = tree()?;
    let mut env: Vec<(String, String)> = vec![
        // One pending chat per user at a time: a chat left `running` refuses the next one.
        ("LIMIT_CONCURRENT_MESSAGES".into(), "true".into()),
        ("CONCURRENT_MESSAGE_MAX".into(), "1".into()),
    ];
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    Some(Stack::start(
        &tree,
        StackOpts {
            extra_env: env,
            lambda: Some(lambda),
            ..Default::default()
        },
    ))
}

pub fn served_by(r: &Invoked) -> u32 {
    r.header(SERVED_BY_HEADER)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {SERVED_BY_HEADER}: {:?}", r.headers))
}

/// Waits (bounded) until `n` environments are idle.
pub async fn idle_envs(stack: &Stack, n: usize) -> Vec<u32> {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let idle: Vec<u32> = stack
            .lambda()
            .environments()
            .iter()
            .filter(|e| e.phase == EnvPhase::Idle)
            .map(|e| e.id)
            .collect();
        if idle.len() >= n || Instant::now() > until {
            return idle;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two (or more) warm environments, and a user with an agent.
pub async fn warm(stack: &Stack, c: &reqwest::Client) -> Seeded {
    let s = seed(c, stack.invoke_port).await;
    let r = invoke_routed(
        c,
        stack.invoke_port,
        &v1_event("GET", "/api/health"),
        Some("new"),
    )
    .await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let idle = idle_envs(stack, 2).await;
    // (The seeding's requests may have started a third one.)
    assert!(idle.len() >= 2, "{:?}", stack.lambda().environments());
    s
}

pub fn browser(s: &Seeded) -> Vec<(String, String)> {
    vec![
        ("Authorization".into(), format!("Bearer {}", s.token)),
        ("User-Agent".into(), BROWSER_UA.into()),
    ]
}

pub fn ev(method: &str, path: &str, s: &Seeded, body: Option<&Value>) -> Value {
    let h = browser(s);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    event(method, path, &h, body)
}

/// The stream's events (`event:`/`data:` frames, data as JSON) with arrival times, read until the
/// final event, the end, or `bound`.
pub struct Stream {
    pub served_by: u32,
    pub status: u16,
    pub events: Vec<(Instant, Value)>,
    pub finished: bool,
}

pub async fn read_stream(
    stack: &Stack,
    c: &reqwest::Client,
    s: &Seeded,
    id: &str,
    route: &str,
    bound: Duration,
) -> Stream {
    let path = format!("/api/agents/chat/stream/{id}");
    read_stream_at(stack, c, s, &path, route, bound).await
}

/// [`read_stream`] of any path (e.g. with `?resume=true`, as the web client reconnects); an empty
/// `route` lets the local Lambda choose the environment.
pub async fn read_stream_at(
    stack: &Stack,
    c: &reqwest::Client,
    s: &Seeded,
    path: &str,
    route: &str,
    bound: Duration,
) -> Stream {
    read_stream_with(stack, c, s, path, route, bound, &mut |_| {}).await
}

/// [`read_stream_at`], calling `on_event` with each event as it arrives (e.g. to kill an
/// environment once the first delta was seen).
pub async fn read_stream_with(
    stack: &Stack,
    c: &reqwest::Client,
    s: &Seeded,
    path: &str,
    route: &str,
    bound: Duration,
    on_event: &mut dyn FnMut(&Value),
) -> Stream {
    use futures::StreamExt;
    let url = format!(
        "http://127.0.0.1:{}/2015-03-31/functions/_/invocations",
        stack.invoke_port
    );
    let mut req = c.post(url).json(&ev("GET", path, s, None));
    if !route.is_empty() {
        req = req.header(opsconsole_locallambda::ROUTE_HEADER, route);
    }
    let resp = req.send().await.expect("stream request");
    let status = resp.status().as_u16();
    let served_by = resp
        .headers()
        .get(SERVED_BY_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut frames = opsconsole_wire::sse::Frames::new();
    let mut events = Vec::new();
    let mut body = resp.bytes_stream();
    let until = tokio::time::Instant::now() + bound;
    let mut finished = false;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(until, body.next()).await {
        let at = Instant::now();
        for f in frames.push(&String::from_utf8_lossy(&chunk)) {
            if let Ok(v) = serde_json::from_str::<Value>(&f.data) {
                finished |= v["final"] == true;
                on_event(&v);
                events.push((at, v));
            }
        }
        if finished {
            break;
        }
    }
    Stream {
        served_by,
        status,
        events,
        finished,
    }
}

/// The text of the reply's deltas, with arrival times.
pub fn deltas(events: &[(Instant, Value)]) -> Vec<(Instant, String)> {
    events
        .iter()
        .filter(|(_, v)| v["event"] == "on_message_delta")
        .filter_map(|(at, v)| {
            let parts = v["data"]["delta"]["content"].as_array()?;
            let text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
            (!text.is_empty()).then_some((*at, text))
        })
        .collect()
}

/// The console's BUFFERED rule over the deltas the model sent after the stream was subscribed
/// (`subscribed_ms`, epoch): LibreChat replays what was generated before a subscriber came in one
/// burst, as any client sees it; the POST's chat started at `since_ms`. Returns the verdict, its
/// reason and how many deltas were live.
pub fn spacing(
    stack: &Stack,
    d: &[(Instant, String)],
    since_ms: f64,
    subscribed_ms: f64,
) -> (Verdict, String, usize) {
    let send: Vec<f64> = model_send_times(stack)
        .into_iter()
        .filter(|t| *t >= since_ms)
        .take(d.len())
        .collect();
    let replayed = send.iter().filter(|t| **t < subscribed_ms).count();
    let Some((first_at, _)) = d.first() else {
        return (Verdict::Failed, "no delta".into(), 0);
    };
    let mut obs: Vec<SseEventObs> = d
        .iter()
        .zip(&send)
        .skip(replayed)
        .enumerate()
        .map(|(i, ((at, _), s))| SseEventObs {
            seq: i as u64 + 1,
            arrived_ms: at.duration_since(*first_at).as_secs_f64() * 1000.0,
            sent_at_ms: Some(*s),
            gap_ms: None,
            sent_gap_ms: None,
        })
        .collect();
    fill_gaps(&mut obs);
    let (v, why) = verdict(
        &obs,
        Some(obs.len() as u64),
        &StreamEnd::Done,
        &SseRule::default(),
    );
    (v, why, obs.len())
}

pub fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// The web UI's POST: `(environment, conversation id)`.
pub async fn start_chat(
    stack: &Stack,
    c: &reqwest::Client,
    s: &Seeded,
    convo: Option<&str>,
    parent: &str,
) -> (u32, String) {
    start_chat_routed(stack, c, s, convo, parent, None).await
}

/// [`start_chat`] with the local Lambda's routing header (`Some("new")`: a new environment, a
/// cold start).
pub async fn start_chat_routed(
    stack: &Stack,
    c: &reqwest::Client,
    s: &Seeded,
    convo: Option<&str>,
    parent: &str,
    route: Option<&str>,
) -> (u32, String) {
    let body = json!({"text": format!("hello {DIRECTIVE}"), "endpoint": "agents", "agent_id": s.agent_id,
                      "conversationId": convo, "parentMessageId": parent});
    let event = ev("POST", "/api/agents/chat/agents", s, Some(&body));
    // Unrouted, a throttle is retried as a client's SDK does: on one environment the previous
    // step's response can arrive before its runtime asks for the next event (CI: 429 here).
    let r = match route {
        None => invoke_unthrottled(c, stack.invoke_port, &event).await,
        Some(_) => invoke_routed(c, stack.invoke_port, &event, route).await,
    };
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    assert_eq!(r.json()["status"], "started", "{}", r.text());
    (
        served_by(&r),
        r.json()["conversationId"]
            .as_str()
            .expect("conversationId")
            .to_string(),
    )
}

/// An idle environment other than `not`.
pub async fn other_idle(stack: &Stack, not: u32) -> u32 {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(e) = stack
            .lambda()
            .environments()
            .iter()
            .find(|e| e.id != not && e.phase == EnvPhase::Idle)
        {
            return e.id;
        }
        assert!(Instant::now() < until, "no idle environment besides {not}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn get_json(stack: &Stack, c: &reqwest::Client, s: &Seeded, path: &str) -> Value {
    let r =
        super::librechat::invoke_unthrottled(c, stack.invoke_port, &ev("GET", path, s, None)).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

/// `redis-cli` against the stack's Redis: its output.
pub fn redis_cli(stack: &Stack, args: &[&str]) -> String {
    let uri = stack
        .shim_env
        .iter()
        .find(|(k, _)| k == "REDIS_URI")
        .map(|(_, v)| v.clone())
        .expect("a stack with Redis");
    let out = std::process::Command::new("redis-cli")
        .args(["-u", &uri])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
