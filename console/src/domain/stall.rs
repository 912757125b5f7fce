//! Stalls in every probe mode (issue 25): after the stream, the longest pause between two
//! events that is over the stall limit, even when the stream then went on and ended well.
//!
//! # The rule
//!
//! The limit for the gap before event `i` is the configured one (`stall_limit_ms` in
//! `[env.NAME.probe]`, or `--stall-limit-ms`), else the stream's own rhythm:
//! max(floor, 5 x the largest gap before it) ([`crate::domain::sse::stall_limit_ms`], floor
//! 5 s), the same rule as the web mode's live one. The gap before the first event (the time to
//! the first token) is not a stall. The stall found says after which event, how long, the limit,
//! and the rhythm around it: the events before and after **spaced** (a model sending token by
//! token: the model or LibreChat paused) or in a **burst** (a hop held the stream back and let
//! it go at once: buffering). With the server's send times (the shim's probe stream) the pair's
//! own send gap decides: sent apart too = the server paused; sent together = held on the path.

use serde::{Deserialize, Serialize};

use crate::domain::sse::stall_limit_ms;
use crate::model::SseEventObs;

/// The limit: fixed, or from the rhythm with this floor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StallRule {
    pub fixed_ms: Option<f64>,
    pub floor_ms: f64,
}

impl Default for StallRule {
    fn default() -> Self {
        StallRule {
            fixed_ms: None,
            floor_ms: crate::domain::sse::WEB_STALL_FLOOR_MS,
        }
    }
}

impl StallRule {
    /// The limit for the next gap after `gaps_ms` (the gaps so far).
    pub fn limit_ms(&self, gaps_ms: &[f64]) -> f64 {
        self.fixed_ms
            .unwrap_or_else(|| stall_limit_ms(gaps_ms, self.floor_ms))
    }

    /// How the limit is set, for messages.
    pub fn describe(&self) -> String {
        match self.fixed_ms {
            Some(f) => format!("the configured {f:.0} ms"),
            None => format!(
                "max({:.0} s, 5 x the largest gap before it)",
                self.floor_ms / 1000.0
            ),
        }
    }
}

/// The rhythm of a run of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rhythm {
    /// Arrived apart (median gap >= [`BURST_GAP_MS`]).
    Spaced,
    /// Arrived together.
    Burst,
    /// Fewer than two events: nothing to judge.
    TooFew,
}

/// Events closer than this arrived together.
pub const BURST_GAP_MS: f64 = 10.0;

/// Where the pause most likely came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StallCause {
    /// The sender paused (the model, or LibreChat before it): the pair was sent apart too, or
    /// the events after the pause kept their spacing.
    SenderPaused,
    /// A hop on the path held the events back: sent together, or released in a burst.
    Buffering,
}

/// A pause over the limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stall {
    /// 1-based: the pause came after this event.
    pub after_event: usize,
    pub events: usize,
    pub gap_ms: f64,
    pub limit_ms: f64,
    /// How the limit was set ([`StallRule::describe`]).
    pub rule: String,
    /// The server's own gap for the pair (with send times).
    pub sent_gap_ms: Option<f64>,
    pub before: Rhythm,
    pub after: Rhythm,
    pub cause: StallCause,
}

fn rhythm(gaps: &[f64]) -> Rhythm {
    if gaps.is_empty() {
        return Rhythm::TooFew;
    }
    let mut g = gaps.to_vec();
    g.sort_by(f64::total_cmp);
    if g[g.len() / 2] >= BURST_GAP_MS {
        Rhythm::Spaced
    } else {
        Rhythm::Burst
    }
}

/// The longest gap over its limit, if any. `events` must have their gaps filled.
pub fn find_stall(events: &[SseEventObs], rule: &StallRule) -> Option<Stall> {
    let gaps: Vec<f64> = events.iter().skip(1).filter_map(|e| e.gap_ms).collect();
    let mut best: Option<(usize, f64, f64)> = None;
    for (i, gap) in gaps.iter().copied().enumerate() {
        let limit = rule.limit_ms(&gaps[..i]);
        if gap > limit && best.is_none_or(|(_, g, _)| gap > g) {
            best = Some((i, gap, limit));
        }
    }
    let (i, gap_ms, limit_ms) = best?;
    // gaps[i] is between events i and i + 1 (0-based).
    let before = rhythm(&gaps[..i]);
    let after = rhythm(gaps.get(i + 1..).unwrap_or_default());
    let sent_gap_ms = events.get(i + 1).and_then(|e| e.sent_gap_ms);
    let cause = match sent_gap_ms {
        Some(s) if s >= 0.5 * gap_ms => StallCause::SenderPaused,
        Some(_) => StallCause::Buffering,
        None if after == Rhythm::Burst => StallCause::Buffering,
        None => StallCause::SenderPaused,
    };
    Some(Stall {
        after_event: i + 1,
        events: events.len(),
        gap_ms,
        limit_ms,
        rule: rule.describe(),
        sent_gap_ms,
        before,
        after,
        cause,
    })
}

fn rhythm_word(r: Rhythm) -> &'static str {
    match r {
        Rhythm::Spaced => "spaced",
        Rhythm::Burst => "in a burst",
        Rhythm::TooFew => "too few to judge",
    }
}

/// The `sse_stalled` message: what was seen, the likely cause and the next step.
pub fn stall_message(s: &Stall, mode: &str) -> String {
    let sent = s
        .sent_gap_ms
        .map(|g| format!("; the server sent the pair {g:.0} ms apart"))
        .unwrap_or_default();
    let cause = match s.cause {
        StallCause::SenderPaused => {
            "the sender paused: the model (or LibreChat waiting on it) stopped mid-answer, so the \
             user saw the reply freeze; next: the model provider's status and latency, then \
             LibreChat's log lines for this chat (`l` in the console)"
        }
        StallCause::Buffering => {
            "a hop on the path held the events back and released them together (buffering), \
             not the model; next: the same checks as sse_buffered (API Gateway's response \
             streaming, CloudFront, a compressing proxy)"
        }
    };
    format!(
        "the {mode} stream paused {:.0} ms after event {} of {} (stall limit {:.0} ms: {}), then \
         went on; the events before were {} and those after {}{sent}. Likely cause: {cause}",
        s.gap_ms,
        s.after_event,
        s.events,
        s.limit_ms,
        s.rule,
        rhythm_word(s.before),
        rhythm_word(s.after),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sse::fill_gaps;

    fn obs(arrived: &[f64], sent: Option<&[f64]>) -> Vec<SseEventObs> {
        let mut v: Vec<SseEventObs> = arrived
            .iter()
            .enumerate()
            .map(|(i, a)| SseEventObs {
                seq: i as u64 + 1,
                arrived_ms: *a,
                sent_at_ms: sent.map(|s| s[i]),
                gap_ms: None,
                sent_gap_ms: None,
            })
            .collect();
        fill_gaps(&mut v);
        v
    }

    /// Events `spacing` apart with one pause of `pause` after event `k` (1-based).
    fn paced(n: usize, spacing: f64, k: usize, pause: f64) -> Vec<f64> {
        let mut t = 1500.0; // the time to the first event is not a gap
        (0..n)
            .map(|i| {
                if i > 0 {
                    t += spacing + if i == k { pause } else { 0.0 };
                }
                t
            })
            .collect()
    }

    #[test]
    fn a_model_pausing_20_s_mid_answer_is_a_stall_after_its_event() {
        let ev = obs(&paced(12, 200.0, 2, 20_000.0), None);
        let s = find_stall(&ev, &StallRule::default()).expect("a stall");
        assert_eq!(s.after_event, 2);
        assert_eq!(s.events, 12);
        assert!((s.gap_ms - 20_200.0).abs() < 1e-6, "{s:?}");
        assert_eq!(s.limit_ms, 5000.0);
        assert_eq!((s.before, s.after), (Rhythm::Spaced, Rhythm::Spaced));
        assert_eq!(s.cause, StallCause::SenderPaused);
        let m = stall_message(&s, "chat");
        for needle in [
            "20200 ms after event 2 of 12",
            "stall limit 5000 ms",
            "spaced",
            "model",
        ] {
            assert!(m.contains(needle), "{needle}: {m}");
        }
    }

    #[test]
    fn the_limit_follows_the_rhythm_or_the_configuration() {
        // A slow but steady model (2 s between chunks) is no stall at 9 s: 5 x 2 s = 10 s.
        let slow = obs(&paced(6, 2000.0, 3, 7000.0), None);
        assert_eq!(find_stall(&slow, &StallRule::default()), None);
        // ... but is with a configured 3 s limit.
        let fixed = StallRule {
            fixed_ms: Some(3000.0),
            ..StallRule::default()
        };
        let s = find_stall(&slow, &fixed).expect("over 3 s");
        assert_eq!((s.after_event, s.limit_ms), (3, 3000.0));
        assert!(stall_message(&s, "shim").contains("the configured 3000 ms"));
        // Right at the limit is not over it; the first event's wait is never a stall.
        let at = obs(&paced(4, 100.0, 1, 4900.0), None);
        assert_eq!(find_stall(&at, &StallRule::default()), None);
        let late_first = obs(&[30_000.0, 30_100.0, 30_200.0], None);
        assert_eq!(find_stall(&late_first, &StallRule::default()), None);
        assert_eq!(find_stall(&[], &StallRule::default()), None);
    }

    #[test]
    fn a_burst_after_the_pause_or_close_send_times_is_buffering() {
        // Spaced, a pause, then the rest at once: held on the path.
        let mut arr = paced(4, 200.0, 9, 0.0);
        let last = arr[3];
        arr.extend([last + 8000.0, last + 8001.0, last + 8002.0, last + 8003.0]);
        let s = find_stall(&obs(&arr, None), &StallRule::default()).expect("a stall");
        assert_eq!((s.after_event, s.after), (4, Rhythm::Burst));
        assert_eq!(s.cause, StallCause::Buffering);
        // With send times: sent 200 ms apart but arrived 8 s apart = held on the path; sent 8 s
        // apart = the server paused.
        let arr = [0.0, 200.0, 8200.0, 8400.0];
        let held = obs(&arr, Some(&[0.0, 200.0, 400.0, 600.0]));
        let s = find_stall(&held, &StallRule::default()).expect("a stall");
        assert_eq!(
            (s.sent_gap_ms, s.cause),
            (Some(200.0), StallCause::Buffering)
        );
        let paused = obs(&arr, Some(&[0.0, 200.0, 8200.0, 8400.0]));
        let s = find_stall(&paused, &StallRule::default()).expect("a stall");
        assert_eq!(s.cause, StallCause::SenderPaused);
        assert!(stall_message(&s, "shim").contains("sent the pair 8000 ms apart"));
    }
}
