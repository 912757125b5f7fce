//! The web UI's chat (a POST that answers at once and keeps generating, then the stream's GET)
//! through the real shim and the real LibreChat on the local Lambda (crates/locallambda), whose
//! idle environments are frozen as Lambda freezes them, with Redis as the deployment has it.
//! Skipped, saying why, without LibreChat (support/librechat.rs).

use crate::support::librechat::*;
use crate::support::*;
use opsconsole::domain::sse::{SseRule, StreamEnd, fill_gaps, verdict};
use opsconsole::model::{SseEventObs, Verdict};
use opsconsole_locallambda::{EnvPhase, SERVED_BY_HEADER};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The chat's directive for the fake model: 5 chunks 300 ms apart.
const DIRECTIVE: &str = "[fake chunks=5 delay_ms=300]";

fn stack(extra_env: &[(&str, &str)]) -> Option<Stack> {
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
            lambda: Some(LambdaOpts::default()),
            ..Default::default()
        },
    ))
}

fn served_by(r: &Invoked) -> u32 {
    r.header(SERVED_BY_HEADER)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {SERVED_BY_HEADER}: {:?}", r.headers))
}

/// Waits (bounded) until `n` environments are idle.
async fn idle_envs(stack: &Stack, n: usize) -> Vec<u32> {
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

/// Two warm environments, and a user with an agent.
async fn warm(stack: &Stack, c: &reqwest::Client) -> Seeded {
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
    assert_eq!(idle.len(), 2, "{:?}", stack.lambda().environments());
    s
}

fn browser(s: &Seeded) -> Vec<(String, String)> {
    vec![
        ("Authorization".into(), format!("Bearer {}", s.token)),
        ("User-Agent".into(), BROWSER_UA.into()),
    ]
}

fn ev(method: &str, path: &str, s: &Seeded, body: Option<&Value>) -> Value {
    let h = browser(s);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    event(method, path, &h, body)
}

/// The stream's events (`event:`/`data:` frames, data as JSON) with arrival times, read until the
/// final event, the end, or `bound`.
struct Stream {
    served_by: u32,
    status: u16,
    events: Vec<(Instant, Value)>,
    finished: bool,
}

async fn read_stream(
    stack: &Stack,
    c: &reqwest::Client,
    s: &Seeded,
    id: &str,
    route: &str,
    bound: Duration,
) -> Stream {
    use futures::StreamExt;
    let url = format!(
        "http://127.0.0.1:{}/2015-03-31/functions/_/invocations",
        stack.invoke_port
    );
    let resp = c
        .post(url)
        .header(opsconsole_locallambda::ROUTE_HEADER, route)
        .json(&ev(
            "GET",
            &format!("/api/agents/chat/stream/{id}"),
            s,
            None,
        ))
        .send()
        .await
        .expect("stream request");
    let status = resp.status().as_u16();
    let served_by = resp.headers()[SERVED_BY_HEADER]
        .to_str()
        .ok()
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
fn deltas(events: &[(Instant, Value)]) -> Vec<(Instant, String)> {
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

/// The console's BUFFERED rule over the deltas, with the model's send times since `since_ms`.
fn spacing(
    stack: &Stack,
    d: &[(Instant, String)],
    sent: Instant,
    since_ms: f64,
) -> (Verdict, String) {
    let send: Vec<f64> = model_send_times(stack)
        .into_iter()
        .filter(|t| *t >= since_ms)
        .collect();
    let mut obs: Vec<SseEventObs> = d
        .iter()
        .zip(&send)
        .enumerate()
        .map(|(i, ((at, _), s))| SseEventObs {
            seq: i as u64 + 1,
            arrived_ms: at.duration_since(sent).as_secs_f64() * 1000.0,
            sent_at_ms: Some(*s),
            gap_ms: None,
            sent_gap_ms: None,
        })
        .collect();
    fill_gaps(&mut obs);
    verdict(
        &obs,
        Some(obs.len() as u64),
        &StreamEnd::Done,
        &SseRule::default(),
    )
}

fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// The web UI's POST: `(environment, conversation id)`.
async fn start_chat(
    stack: &Stack,
    c: &reqwest::Client,
    s: &Seeded,
    convo: Option<&str>,
    parent: &str,
) -> (u32, String) {
    let body = json!({"text": format!("hello {DIRECTIVE}"), "endpoint": "agents", "agent_id": s.agent_id,
                      "conversationId": convo, "parentMessageId": parent});
    let r = invoke(
        c,
        stack.invoke_port,
        &ev("POST", "/api/agents/chat/agents", s, Some(&body)),
    )
    .await;
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
async fn other_idle(stack: &Stack, not: u32) -> u32 {
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

async fn get_json(stack: &Stack, c: &reqwest::Client, s: &Seeded, path: &str) -> Value {
    let r = invoke(c, stack.invoke_port, &ev("GET", path, s, None)).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_chat_completes_when_another_environment_serves_its_stream() {
    let Some(stack) = stack(&[]) else { return };
    let c = http_client();
    let s = warm(&stack, &c).await;
    for round in 1..=2 {
        let since = epoch_ms();
        let sent = Instant::now();
        let (post_env, id) =
            start_chat(&stack, &c, &s, None, "00000000-0000-0000-0000-000000000000").await;
        let get_env = other_idle(&stack, post_env).await;
        let st = read_stream(
            &stack,
            &c,
            &s,
            &id,
            &get_env.to_string(),
            Duration::from_secs(90),
        )
        .await;
        assert_eq!((st.status, st.served_by), (200, get_env));
        assert!(
            st.finished,
            "round {round}: no final event on environment {get_env} (POST on {post_env}): {:?}\n{}",
            st.events
                .iter()
                .map(|(_, v)| v.to_string())
                .collect::<Vec<_>>(),
            stack.logs()
        );
        let d = deltas(&st.events);
        let text: String = d.iter().map(|(_, t)| t.as_str()).collect();
        assert!(text.contains("Chunk 5 of 5"), "round {round}: {text}");
        let (v, why) = spacing(&stack, &d, sent, since);
        assert_eq!(v, Verdict::Streaming, "round {round}: {why}");
        // The title comes after the final event, generated by the POST's environment, which the
        // shim keeps from being frozen until it is saved.
        let until = Instant::now() + Duration::from_secs(60);
        let title = loop {
            let convo = get_json(&stack, &c, &s, &format!("/api/convos/{id}")).await;
            let t = convo["title"].as_str().unwrap_or("").to_string();
            if (!t.is_empty() && t != "New Chat") || Instant::now() > until {
                break t;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(
            !title.is_empty() && title != "New Chat",
            "round {round}: title {title:?}\n{}",
            stack.logs()
        );
        let active = get_json(&stack, &c, &s, "/api/agents/chat/active").await;
        assert_eq!(active["activeJobIds"], json!([]), "round {round}");
        let logs = stack.logs();
        assert!(
            logs.contains("waited for LibreChat's work after the response"),
            "{logs}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_wait_the_frozen_environment_stalls_the_stream() {
    // The shim as it was: it asks for the next event as soon as the POST is answered.
    let Some(stack) = stack(&[("SHIM_PENDING_WAIT_MS", "0")]) else {
        return;
    };
    let c = http_client();
    let s = warm(&stack, &c).await;
    let (post_env, id) =
        start_chat(&stack, &c, &s, None, "00000000-0000-0000-0000-000000000000").await;
    let get_env = other_idle(&stack, post_env).await;
    let st = read_stream(
        &stack,
        &c,
        &s,
        &id,
        &get_env.to_string(),
        Duration::from_secs(8),
    )
    .await;
    assert!(
        !st.finished,
        "the stream finished although its generator was frozen"
    );
    assert!(
        !deltas(&st.events)
            .iter()
            .any(|(_, t)| t.contains("Chunk 5")),
        "{:?}",
        st.events
    );
    let envs = stack.lambda().environments();
    let post = envs
        .iter()
        .find(|e| e.id == post_env)
        .expect("the POST's environment");
    assert!(post.frozen, "{envs:?}");
    // Thawing the POST's environment (any request to it) lets the generation finish.
    let r = invoke_routed(
        &c,
        stack.invoke_port,
        &v1_event("GET", "/api/health"),
        Some(&post_env.to_string()),
    )
    .await;
    assert_eq!(r.status, 200);
}
