//! SSE gap analysis and the verdict STREAMING / BUFFERED / FAILED.
//!
//! # The BUFFERED rule
//!
//! The shim stamps every probe event with its send time (`sent_at_ms`). For each pair of
//! consecutive events the probe compares the *arrival gap* (client clock) with the *send gap*
//! (server clock; a clock offset cancels out in the difference). A pair is **spaced** when the
//! server sent the two at least [`SseRule::min_sent_gap_ms`] apart (20 ms), and **collapsed**
//! when such a pair arrived less than [`SseRule::collapse_ratio`] (25 %) of its send gap apart.
//! The verdict is **BUFFERED** when at least [`SseRule::buffered_fraction`] (half) of the spaced
//! pairs collapsed, i.e. events sent apart arrived together: a hop on the path holds the stream
//! back and releases it in bursts (whole-response buffering or a large flush threshold).
//! A stream whose spacing survives (jitter, or a few late packets) stays **STREAMING**.
//!
//! Without send times (a chat endpoint), the rule falls back to arrival gaps alone: BUFFERED when
//! 3 or more events all arrived within 10 ms in total.
//!
//! **FAILED** comes first: a connect or HTTP error, no event at all, a stall (no event within
//! the stall timeout), a stream that ended before the `done` event, or fewer events than the
//! server announced.

use crate::model::{SseEventObs, Verdict};

/// Thresholds of the BUFFERED rule (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SseRule {
    pub min_sent_gap_ms: f64,
    pub collapse_ratio: f64,
    pub buffered_fraction: f64,
}

impl Default for SseRule {
    fn default() -> Self {
        SseRule {
            min_sent_gap_ms: 20.0,
            collapse_ratio: 0.25,
            buffered_fraction: 0.5,
        }
    }
}

/// How the stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEnd {
    /// The `done` event arrived.
    Done,
    /// The connection closed (or errored) before `done`.
    Dropped(String),
    /// No event for this long.
    Stalled { after_ms: f64 },
    /// Non-2xx status.
    HttpStatus(u16),
    /// Could not connect / send the request.
    ConnectError(String),
    /// The overall time budget ran out.
    TimedOut,
}

/// Fills `gap_ms` and `sent_gap_ms` of each event from its predecessor.
pub fn fill_gaps(events: &mut [SseEventObs]) {
    for i in 1..events.len() {
        let (prev_arr, prev_sent) = (events[i - 1].arrived_ms, events[i - 1].sent_at_ms);
        let e = &mut events[i];
        e.gap_ms = Some(e.arrived_ms - prev_arr);
        e.sent_gap_ms = match (prev_sent, e.sent_at_ms) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
    }
}

/// The counts behind the rule, for the reason text and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct GapCounts {
    pub spaced: usize,
    pub collapsed: usize,
}

pub(crate) fn gap_counts(events: &[SseEventObs], rule: &SseRule) -> GapCounts {
    let mut c = GapCounts::default();
    for e in events {
        if let (Some(gap), Some(sent_gap)) = (e.gap_ms, e.sent_gap_ms)
            && sent_gap >= rule.min_sent_gap_ms
        {
            c.spaced += 1;
            if gap < rule.collapse_ratio * sent_gap {
                c.collapsed += 1;
            }
        }
    }
    c
}

/// The verdict and its reason. `events` must have their gaps filled ([`fill_gaps`]).
pub fn verdict(
    events: &[SseEventObs],
    expected: Option<u64>,
    end: &StreamEnd,
    rule: &SseRule,
) -> (Verdict, String) {
    let n = events.len();
    match end {
        StreamEnd::ConnectError(e) => return (Verdict::Failed, format!("could not connect: {e}")),
        StreamEnd::HttpStatus(s) => return (Verdict::Failed, format!("HTTP status {s}")),
        StreamEnd::Stalled { after_ms } => {
            return (
                Verdict::Failed,
                format!(
                    "stalled: no event for {:.0} ms after {n} event(s)",
                    after_ms
                ),
            );
        }
        StreamEnd::Dropped(why) => {
            return (
                Verdict::Failed,
                format!("stream ended before the done event after {n} event(s): {why}"),
            );
        }
        StreamEnd::TimedOut => {
            return (
                Verdict::Failed,
                format!("time budget ran out after {n} event(s)"),
            );
        }
        StreamEnd::Done => {}
    }
    if n == 0 {
        return (Verdict::Failed, "no event received".into());
    }
    if let Some(exp) = expected
        && (n as u64) < exp
    {
        return (Verdict::Failed, format!("received {n} of {exp} events"));
    }
    let c = gap_counts(events, rule);
    if c.spaced > 0 {
        if (c.collapsed as f64) >= rule.buffered_fraction * c.spaced as f64 {
            return (
                Verdict::Buffered,
                format!(
                    "{} of {} events sent >= {:.0} ms apart arrived < {:.0}% of their send gap apart (events sent apart arrived together)",
                    c.collapsed,
                    c.spaced,
                    rule.min_sent_gap_ms,
                    rule.collapse_ratio * 100.0
                ),
            );
        }
        return (
            Verdict::Streaming,
            format!(
                "{n} events; {} of {} spaced pairs kept their spacing",
                c.spaced - c.collapsed,
                c.spaced
            ),
        );
    }
    if events.iter().any(|e| e.sent_gap_ms.is_some()) {
        return (
            Verdict::Streaming,
            format!(
                "{n} events, sent less than {:.0} ms apart: too close together to judge buffering",
                rule.min_sent_gap_ms
            ),
        );
    }
    // No send times: arrival gaps alone.
    let span = events[n - 1].arrived_ms - events[0].arrived_ms;
    if n >= 3 && span < 10.0 {
        return (
            Verdict::Buffered,
            format!("{n} events arrived within {span:.1} ms (no send times to compare)"),
        );
    }
    (
        Verdict::Streaming,
        format!("{n} events over {span:.0} ms (no send times to compare)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(pairs: &[(f64, f64)]) -> Vec<SseEventObs> {
        let mut v: Vec<SseEventObs> = pairs
            .iter()
            .enumerate()
            .map(|(i, (arr, sent))| SseEventObs {
                seq: i as u64 + 1,
                arrived_ms: *arr,
                sent_at_ms: Some(*sent),
                gap_ms: None,
                sent_gap_ms: None,
            })
            .collect();
        fill_gaps(&mut v);
        v
    }

    fn run(pairs: &[(f64, f64)]) -> Verdict {
        verdict(
            &obs(pairs),
            Some(pairs.len() as u64),
            &StreamEnd::Done,
            &SseRule::default(),
        )
        .0
    }

    #[test]
    fn spaced_arrivals_stream() {
        // sent 100 ms apart (server clock offset 1e6), arrive ~100 ms apart with jitter.
        let p: Vec<(f64, f64)> = (0..10)
            .map(|i| {
                (
                    50.0 + 100.0 * i as f64 + (i % 3) as f64 * 7.0,
                    1e6 + 100.0 * i as f64,
                )
            })
            .collect();
        assert_eq!(run(&p), Verdict::Streaming);
    }

    #[test]
    fn all_at_once_is_buffered() {
        let p: Vec<(f64, f64)> = (0..10)
            .map(|i| (1000.0 + 0.1 * i as f64, 100.0 * i as f64))
            .collect();
        assert_eq!(run(&p), Verdict::Buffered);
    }

    #[test]
    fn the_boundary_of_the_rule() {
        // Half of the spaced pairs collapsed: BUFFERED (>= half).
        let half = [
            (0.0, 0.0),
            (100.0, 100.0),
            (101.0, 200.0),
            (200.0, 300.0),
            (201.0, 400.0),
        ];
        assert_eq!(run(&half), Verdict::Buffered);
        // One of four collapsed: still STREAMING.
        let one = [
            (0.0, 0.0),
            (100.0, 100.0),
            (200.0, 200.0),
            (300.0, 300.0),
            (301.0, 400.0),
        ];
        assert_eq!(run(&one), Verdict::Streaming);
        // Arrival gap exactly 25% of the send gap is not collapsed.
        let quarter = [(0.0, 0.0), (25.0, 100.0), (50.0, 200.0)];
        assert_eq!(run(&quarter), Verdict::Streaming);
        let below = [(0.0, 0.0), (24.9, 100.0), (49.8, 200.0)];
        assert_eq!(run(&below), Verdict::Buffered);
        // Pairs sent closer than 20 ms are not judged.
        let tight = [(0.0, 0.0), (0.1, 10.0), (0.2, 19.0)];
        assert_eq!(run(&tight), Verdict::Streaming);
    }

    #[test]
    fn failures_come_first() {
        let ok = obs(&[(0.0, 0.0), (100.0, 100.0)]);
        let r = SseRule::default();
        assert_eq!(
            verdict(&ok, Some(2), &StreamEnd::Dropped("eof".into()), &r).0,
            Verdict::Failed
        );
        assert_eq!(
            verdict(&ok, Some(2), &StreamEnd::Stalled { after_ms: 5000.0 }, &r).0,
            Verdict::Failed
        );
        assert_eq!(
            verdict(&ok, Some(2), &StreamEnd::HttpStatus(503), &r).0,
            Verdict::Failed
        );
        assert_eq!(
            verdict(&ok, Some(5), &StreamEnd::Done, &r).0,
            Verdict::Failed
        );
        assert_eq!(verdict(&[], None, &StreamEnd::Done, &r).0, Verdict::Failed);
        let (v, why) = verdict(&ok, Some(2), &StreamEnd::ConnectError("refused".into()), &r);
        assert_eq!(v, Verdict::Failed);
        assert!(why.contains("refused"));
    }

    #[test]
    fn without_send_times_uses_arrival_span() {
        let mk = |arr: &[f64]| {
            let mut v: Vec<SseEventObs> = arr
                .iter()
                .enumerate()
                .map(|(i, a)| SseEventObs {
                    seq: i as u64,
                    arrived_ms: *a,
                    sent_at_ms: None,
                    gap_ms: None,
                    sent_gap_ms: None,
                })
                .collect();
            fill_gaps(&mut v);
            verdict(&v, None, &StreamEnd::Done, &SseRule::default()).0
        };
        assert_eq!(mk(&[0.0, 1.0, 2.0]), Verdict::Buffered);
        assert_eq!(mk(&[0.0, 100.0, 200.0]), Verdict::Streaming);
    }
}

/// The web chat mode's stall limit: no frame for this long after `gaps_ms` (the arrival gaps
/// between the frames seen so far) = STALLED. max(`floor`, 5 x the largest gap so far): a
/// model that sends slowly but steadily is not a stall; a pause five times longer than any
/// before it (and at least `floor`, 5 s by default) is.
pub fn stall_limit_ms(gaps_ms: &[f64], floor_ms: f64) -> f64 {
    let largest = gaps_ms.iter().copied().fold(0.0_f64, f64::max);
    floor_ms.max(5.0 * largest)
}

/// The web chat mode's stall floor (docs: console/README.md, "The web mode").
pub const WEB_STALL_FLOOR_MS: f64 = 5000.0;

/// One `data:` frame of LibreChat's chat stream (`GET /api/agents/chat/stream/<id>`), as the
/// web mode reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum WebFrame {
    /// `{"created": true, ...}`: the job exists, the reply is being generated.
    Created,
    /// `{"event": "on_message_delta", ...}` with this text (empty when the delta had none).
    Delta(String),
    /// `{"final": true, ...}`: the reply is complete.
    Final,
    /// `event: error`, or a JSON `{"error": ...}` / `{"message": ...}` with no other meaning.
    Error(String),
    /// Anything else (run steps, tool calls, ...), named by its `event` field when it has one.
    Other(String),
}

impl WebFrame {
    /// A short name for reports ("after the `created` event").
    pub fn name(&self) -> String {
        match self {
            WebFrame::Created => "created".into(),
            WebFrame::Delta(_) => "on_message_delta".into(),
            WebFrame::Final => "final".into(),
            WebFrame::Error(_) => "error".into(),
            WebFrame::Other(n) => n.clone(),
        }
    }
}

/// Classifies a frame from its SSE event type (`message` when absent) and its data.
pub fn web_frame(event_type: &str, data: &str) -> WebFrame {
    let v: Option<serde_json::Value> = serde_json::from_str(data).ok();
    if event_type == "error" {
        let msg = v
            .as_ref()
            .and_then(|v| {
                v.get("message")
                    .or_else(|| v.get("error"))
                    .and_then(|m| m.as_str().map(str::to_string))
            })
            .unwrap_or_else(|| data.trim().to_string());
        return WebFrame::Error(msg);
    }
    let Some(v) = v else {
        return WebFrame::Other("non-JSON".into());
    };
    if v.get("final").and_then(serde_json::Value::as_bool) == Some(true) {
        return WebFrame::Final;
    }
    if v.get("created").and_then(serde_json::Value::as_bool) == Some(true) {
        return WebFrame::Created;
    }
    let ev = v.get("event").and_then(serde_json::Value::as_str);
    if ev == Some("on_message_delta") {
        let text = v
            .pointer("/data/delta/content")
            .and_then(serde_json::Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(serde_json::Value::as_str))
                    .collect::<String>()
            })
            .unwrap_or_default();
        return WebFrame::Delta(text);
    }
    if ev.is_none()
        && let Some(e) = v.get("error")
    {
        let msg = e
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        return WebFrame::Error(msg);
    }
    WebFrame::Other(ev.unwrap_or("message").to_string())
}

/// How a web chat's stream ended, for [`web_verdict`].
#[derive(Debug, Clone, PartialEq)]
pub enum WebEnd {
    /// The `final` frame arrived.
    Final,
    /// No frame for `after_ms` (over the stall limit) after `frames` frames, the last one
    /// named `last` (`None`: not even one frame after the stream's response head).
    Stalled {
        after_ms: f64,
        limit_ms: f64,
        frames: usize,
        last: Option<String>,
    },
    /// Everything else that ends a web chat early: login, POST or GET failure, `event: error`,
    /// the stream closing before `final`, the time budget.
    Failed(String),
    /// The stream's GET answered 404 `get_ms` after the POST: the chat had already finished
    /// (e.g. the GET waited for a new environment's cold start), so its streaming was not seen.
    /// The probe tries once more ([`retry_missed`]); a second miss is FAILED.
    Missed { get_ms: f64 },
}

/// Tries of the web chat when its stream is missed: a probe's own concurrent checks may start
/// new environments, whose cold starts (seconds) outlast a short reply; each try warms one more.
pub const WEB_TRIES: u32 = 3;

/// Whether a web chat that ended `end` after `tries` tries is worth one more within the budget:
/// only a missed stream (the chat finished before its GET was answered), up to [`WEB_TRIES`].
pub fn retry_missed(end: &WebEnd, tries: u32) -> bool {
    matches!(end, WebEnd::Missed { .. }) && tries < WEB_TRIES
}

/// The reason's note about the tries whose stream was missed (the GETs' times after their POST).
pub fn missed_note(get_ms: &[f64]) -> String {
    if get_ms.is_empty() {
        return String::new();
    }
    let times: Vec<String> = get_ms.iter().map(|t| format!("{t:.0} ms")).collect();
    format!(
        "{} earlier chat(s) finished before their stream's GET was answered ({} after the POST: likely new environments' cold starts), so another chat was made; ",
        get_ms.len(),
        times.join(", ")
    )
}

/// The web mode's verdict: FAILED and STALLED first, then the BUFFERED rule without send times
/// ([`verdict`] on the deltas: 3 or more deltas within 10 ms in total = BUFFERED).
pub fn web_verdict(deltas: &[SseEventObs], end: &WebEnd, rule: &SseRule) -> (Verdict, String) {
    match end {
        WebEnd::Failed(why) => (Verdict::Failed, why.clone()),
        WebEnd::Missed { get_ms } => (
            Verdict::Failed,
            format!(
                "the stream GET answered 404 {get_ms:.0} ms after the POST: the chat's job had already finished (the web client then reloads the messages), so its streaming could not be observed"
            ),
        ),
        WebEnd::Stalled {
            after_ms,
            limit_ms,
            frames,
            last,
        } => (
            Verdict::Stalled,
            format!(
                "no event for {:.0} ms (stall limit {:.0} ms) after {} frame(s), the last {}; {} delta(s) before it",
                after_ms,
                limit_ms,
                frames,
                last.as_deref()
                    .map(|l| format!("`{l}`"))
                    .unwrap_or_else(|| "none (nothing after the response head)".into()),
                deltas.len()
            ),
        ),
        WebEnd::Final if deltas.is_empty() => (
            Verdict::Failed,
            "the reply finished without a single message delta".into(),
        ),
        WebEnd::Final => verdict(deltas, None, &StreamEnd::Done, rule),
    }
}

#[cfg(test)]
mod web_tests {
    use super::*;

    fn deltas(arr: &[f64]) -> Vec<SseEventObs> {
        let mut v: Vec<SseEventObs> = arr
            .iter()
            .enumerate()
            .map(|(i, a)| SseEventObs {
                seq: i as u64 + 1,
                arrived_ms: *a,
                sent_at_ms: None,
                gap_ms: None,
                sent_gap_ms: None,
            })
            .collect();
        fill_gaps(&mut v);
        v
    }

    #[test]
    fn frames_are_classified_as_librechat_sends_them() {
        assert_eq!(
            web_frame("message", r#"{"created":true,"message":{"text":"hi"}}"#),
            WebFrame::Created
        );
        assert_eq!(
            web_frame(
                "message",
                r#"{"event":"on_message_delta","data":{"id":"s","delta":{"content":[{"type":"text","text":"Chunk 1 of 4. "}]}}}"#
            ),
            WebFrame::Delta("Chunk 1 of 4. ".into())
        );
        assert_eq!(
            web_frame("message", r#"{"final":true,"responseMessage":{}}"#),
            WebFrame::Final
        );
        assert_eq!(
            web_frame("message", r#"{"event":"on_run_step","data":{}}"#),
            WebFrame::Other("on_run_step".into())
        );
        assert_eq!(
            web_frame("error", r#"{"message":"Illegal request"}"#),
            WebFrame::Error("Illegal request".into())
        );
        assert_eq!(
            web_frame("error", "Illegal request"),
            WebFrame::Error("Illegal request".into())
        );
        assert_eq!(
            web_frame("message", r#"{"error":"job failed"}"#),
            WebFrame::Error("job failed".into())
        );
        assert_eq!(
            web_frame("message", "x"),
            WebFrame::Other("non-JSON".into())
        );
    }

    #[test]
    fn the_stall_limit_is_five_times_the_largest_gap_with_a_floor() {
        assert_eq!(stall_limit_ms(&[], WEB_STALL_FLOOR_MS), 5000.0);
        assert_eq!(stall_limit_ms(&[200.0, 999.0], WEB_STALL_FLOOR_MS), 5000.0);
        assert_eq!(stall_limit_ms(&[200.0, 1001.0], WEB_STALL_FLOOR_MS), 5005.0);
        assert_eq!(stall_limit_ms(&[3000.0], 100.0), 15000.0);
    }

    #[test]
    fn web_verdicts() {
        let r = SseRule::default();
        let spaced = deltas(&[100.0, 300.0, 500.0, 700.0]);
        assert_eq!(
            web_verdict(&spaced, &WebEnd::Final, &r).0,
            Verdict::Streaming
        );
        let bunched = deltas(&[100.0, 100.5, 101.0, 101.5]);
        assert_eq!(
            web_verdict(&bunched, &WebEnd::Final, &r).0,
            Verdict::Buffered
        );
        assert_eq!(web_verdict(&[], &WebEnd::Final, &r).0, Verdict::Failed);
        let (v, why) = web_verdict(
            &spaced[..1],
            &WebEnd::Stalled {
                after_ms: 5001.0,
                limit_ms: 5000.0,
                frames: 3,
                last: Some("created".into()),
            },
            &r,
        );
        assert_eq!(v, Verdict::Stalled);
        assert!(
            why.contains("after 3 frame(s), the last `created`"),
            "{why}"
        );
        assert!(why.contains("1 delta(s)"), "{why}");
        let (v, why) = web_verdict(&spaced, &WebEnd::Failed("login answered 401".into()), &r);
        assert_eq!(v, Verdict::Failed);
        assert_eq!(why, "login answered 401");
    }
    #[test]
    fn a_missed_stream_is_tried_once_more_then_failed() {
        let missed = WebEnd::Missed { get_ms: 11350.4 };
        assert!(retry_missed(&missed, 1));
        assert!(retry_missed(&missed, 2));
        assert!(!retry_missed(&missed, 3));
        assert!(!retry_missed(&WebEnd::Final, 1));
        assert!(!retry_missed(&WebEnd::Failed("x".into()), 1));
        let (v, why) = web_verdict(&[], &missed, &SseRule::default());
        assert_eq!(v, Verdict::Failed);
        assert!(why.contains("404 11350 ms after the POST"), "{why}");
        assert!(missed_note(&[11350.4, 3402.0]).contains("2 earlier chat(s)"));
        assert!(missed_note(&[11350.4, 3402.0]).contains("(11350 ms, 3402 ms after"));
        assert_eq!(missed_note(&[]), "");
    }
}
