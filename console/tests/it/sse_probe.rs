//! The SSE probe (eventsource-client) against real local servers: one that streams with
//! spacing, one that buffers everything until the end, one that stalls, one that drops
//! mid-stream, one that answers 503, and a closed port. The verdict must be right for each.

use std::time::Duration;

use opsconsole::collectors::sse::{SseTarget, run};
use opsconsole::domain::sse::SseRule;
use opsconsole::model::{DataEvent, Verdict};
use opsconsole_testsupport::sse::{ShimStandIn, SseMode};

const TOKEN: &str = "sse-test-token";

fn target(base: &str, events: u32, interval_ms: u32) -> SseTarget {
    SseTarget {
        url: format!("{base}/api/__shim/sse?events={events}&interval_ms={interval_ms}"),
        headers: vec![("x-opsconsole-token".into(), TOKEN.into())],
        expected: Some(u64::from(events)),
        stall_after: Duration::from_millis(1500),
        stall: opsconsole::domain::stall::StallRule::default(),
        budget: None,
        post_body: None,
    }
}

async fn probe(mode: SseMode, events: u32, interval_ms: u32) -> opsconsole::model::SseProbeData {
    let s = ShimStandIn::start(TOKEN, mode).expect("stand-in");
    run(
        &target(&s.url(), events, interval_ms),
        None,
        &SseRule::default(),
    )
    .await
}

#[tokio::test]
async fn spaced_stream_is_streaming() {
    let d = probe(SseMode::Streaming, 8, 100).await;
    assert_eq!(d.verdict, Verdict::Streaming, "{}", d.reason);
    assert_eq!(d.events.len(), 8);
    assert_eq!(
        d.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<u64>>()
    );
    // Arrival gaps follow the server's send gaps (no timing assertion beyond the verdict's own
    // rule: each gap is filled and every send gap is ~100 ms by construction of the server).
    assert!(
        d.events[1..]
            .iter()
            .all(|e| e.gap_ms.is_some() && e.sent_gap_ms.is_some())
    );
    assert!(d.connect_ms.is_some() && d.ttfb_ms.is_some() && d.first_event_ms.is_some());
}

#[tokio::test]
async fn held_back_stream_is_buffered() {
    let d = probe(SseMode::Buffering, 8, 100).await;
    assert_eq!(d.verdict, Verdict::Buffered, "{}", d.reason);
    assert_eq!(d.events.len(), 8, "all events arrived, together");
    assert!(d.reason.contains("arrived together"), "{}", d.reason);
}

#[tokio::test]
async fn stalled_stream_fails() {
    let d = probe(SseMode::Stall, 8, 50).await;
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(d.reason.starts_with("stalled"), "{}", d.reason);
    assert_eq!(d.events.len(), 2);
}

#[tokio::test]
async fn dropped_stream_fails() {
    let d = probe(SseMode::Drop, 8, 50).await;
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(d.reason.contains("before the done event"), "{}", d.reason);
    assert_eq!(d.events.len(), 3);
}

#[tokio::test]
async fn http_error_fails_with_the_status() {
    let d = probe(SseMode::HttpError, 8, 50).await;
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(d.reason.contains("503"), "{}", d.reason);
}

#[tokio::test]
async fn wrong_token_is_not_a_stream() {
    let s = ShimStandIn::start("another-token", SseMode::Streaming).expect("stand-in");
    let d = run(&target(&s.url(), 4, 50), None, &SseRule::default()).await;
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(d.reason.contains("404"), "{}", d.reason);
}

#[tokio::test]
async fn closed_port_fails_to_connect() {
    let port = opsconsole_testsupport::free_port().expect("port");
    let d = run(
        &target(&format!("http://127.0.0.1:{port}"), 4, 50),
        None,
        &SseRule::default(),
    )
    .await;
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(d.reason.contains("could not connect"), "{}", d.reason);
    assert!(d.connect_ms.is_none());
}

#[tokio::test]
async fn events_are_sent_live_while_the_probe_runs() {
    let s = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("stand-in");
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let d = run(&target(&s.url(), 5, 40), Some(&tx), &SseRule::default()).await;
    drop(tx);
    let mut started = 0;
    let mut seqs = vec![];
    while let Some(ev) = rx.recv().await {
        match ev {
            DataEvent::SseStarted { url } => {
                started += 1;
                assert!(url.contains("/api/__shim/sse"));
            }
            DataEvent::SseEvent(o) => seqs.push(o.seq),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(started, 1);
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(d.verdict, Verdict::Streaming);
}

/// The LibreChat stand-in (tools/librechat-standin), started directly: it compresses (and so
/// buffers) a stream when the request carries `Accept-Encoding`, as LibreChat does.
struct LibreChatStandIn {
    _proc: opsconsole_proc::child::Proc,
    _dir: tempfile::TempDir,
    url: String,
}

impl LibreChatStandIn {
    async fn start() -> LibreChatStandIn {
        let root = opsconsole_testsupport::repo_root();
        let dir = tempfile::tempdir().unwrap();
        let port = opsconsole_testsupport::free_port().unwrap();
        let mut cmd = std::process::Command::new("node");
        cmd.arg(root.join("tools/librechat-standin/server.mjs"))
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("STANDIN_API_KEY", "sk-chat-probe-test");
        let proc = opsconsole_proc::child::Proc::spawn(
            "librechat-standin",
            cmd,
            &dir.path().join("standin.log"),
        )
        .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        LibreChatStandIn {
            _proc: proc,
            _dir: dir,
            url,
        }
    }
}

const CHAT_PROMPT: &str = "hi [fake chunks=5 delay_ms=80]";

#[tokio::test]
async fn chat_mode_with_a_browsers_headers_sees_a_compressing_server_as_buffered() {
    use opsconsole::collectors::sse::chat_target;
    let s = LibreChatStandIn::start().await;
    let t = chat_target(&s.url, "agent_probe", CHAT_PROMPT, "sk-chat-probe-test");
    // The request is a browser's: POST, the agents API, Accept-Encoding as browsers send it.
    assert_eq!(t.url, format!("{}/api/agents/v1/chat/completions", s.url));
    assert!(t.post_body.as_deref().unwrap().contains("\"stream\":true"));
    let d = run(&t, None, &SseRule::default()).await;
    assert_eq!(d.verdict, Verdict::Buffered, "{}: {:?}", d.reason, d.events);
    assert_eq!(d.mode.as_deref(), Some("chat"));
    // Decoded (brotli) and framed: role chunk + 5 content chunks + finish chunk.
    assert_eq!(d.events.len(), 7, "{:?}", d.events);
    assert!(d.ttfb_ms.is_some() && d.first_event_ms.is_some());

    // The same server without Accept-Encoding (what the shim sends it) streams.
    let mut plain = t.clone();
    plain.headers.retain(|(k, _)| k != "accept-encoding");
    let d = run(&plain, None, &SseRule::default()).await;
    assert_eq!(
        d.verdict,
        Verdict::Streaming,
        "{}: {:?}",
        d.reason,
        d.events
    );
    assert_eq!(d.events.len(), 7);
    let span = d.events[6].arrived_ms - d.events[0].arrived_ms;
    assert!(span >= 5.0 * 60.0, "content chunks spaced ~80 ms: {span}");
}

#[tokio::test]
async fn chat_mode_failures_name_the_cause() {
    use opsconsole::collectors::sse::chat_target;
    let s = LibreChatStandIn::start().await;
    // A wrong API key: LibreChat's 401.
    let d = run(
        &chat_target(&s.url, "agent_probe", CHAT_PROMPT, "sk-wrong"),
        None,
        &SseRule::default(),
    )
    .await;
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(d.reason.contains("401"), "{}", d.reason);
    // Nothing listens: a connect error.
    let port = opsconsole_testsupport::free_port().unwrap();
    let d = run(
        &chat_target(
            &format!("http://127.0.0.1:{port}"),
            "a",
            CHAT_PROMPT,
            "sk-x",
        ),
        None,
        &SseRule::default(),
    )
    .await;
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(d.reason.contains("could not connect"), "{}", d.reason);
}

#[tokio::test]
async fn chat_mode_names_a_model_pausing_mid_answer_even_when_the_stream_ends_well() {
    use opsconsole::collectors::sse::chat_target;
    use opsconsole::domain::stall::{Rhythm, StallCause, StallRule};
    let s = LibreChatStandIn::start().await;
    // The model pauses 1.5 s after its second content chunk, then finishes.
    let prompt = "hi [fake chunks=6 delay_ms=60 pause_after=2 pause_ms=1500]";
    let mut t = chat_target(&s.url, "agent_probe", prompt, "sk-chat-probe-test");
    // Without Accept-Encoding: the stand-in compresses (and so buffers) for a browser's.
    t.headers.retain(|(k, _)| k != "accept-encoding");
    t.stall = StallRule {
        fixed_ms: Some(1000.0),
        ..StallRule::default()
    };
    let d = run(&t, None, &SseRule::default()).await;
    assert_eq!(
        d.verdict,
        Verdict::Streaming,
        "{}: {:?}",
        d.reason,
        d.events
    );
    let stall = d.stall.clone().expect("the pause is named");
    // role chunk (1), content 1 (2), content 2 (3), the pause, content 3 (4), ...
    assert_eq!(stall.after_event, 3, "{stall:?}");
    assert_eq!(stall.events, d.events.len());
    assert!(stall.gap_ms >= 1500.0, "{stall:?}");
    assert_eq!(
        (stall.before, stall.after),
        (Rhythm::Spaced, Rhythm::Spaced)
    );
    assert_eq!(stall.cause, StallCause::SenderPaused);
    // The probe's finding: degraded, after which event, for how long.
    let r = opsconsole::domain::findings::ProbeResults {
        sse: Some(Ok(d)),
        ..Default::default()
    };
    let t0 = opsconsole::domain::findings::Thresholds {
        cold_start_p95_ms: 5000.0,
    };
    let f = opsconsole::domain::findings::findings(&r, &t0);
    assert_eq!(
        f.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
        ["sse_stalled"]
    );
    assert!(
        f[0].message.contains("after event 3 of"),
        "{}",
        f[0].message
    );
    // With the stream's own rhythm (5 s floor) a 1.5 s pause is no stall.
    t.stall = StallRule::default();
    let d = run(&t, None, &SseRule::default()).await;
    assert_eq!(d.verdict, Verdict::Streaming, "{}", d.reason);
    assert_eq!(d.stall, None, "{:?}", d.events);
}
