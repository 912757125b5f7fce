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
