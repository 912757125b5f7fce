//! The function's log group, live, for the logs view: CloudWatch Logs `StartLiveTail` where the
//! endpoint offers it, else `FilterLogEvents` polling (moto has no live tail). One task; it
//! first reads the window's newest lines, then follows. The view is told which mode runs.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};

use crate::context::Context;
use crate::domain::loglines::{LogLine, parse_line};
use crate::domain::window::Window;

/// At most this many lines are read back when the view starts or the window changes.
pub const BACKFILL_LINES: usize = 2000;
/// How often the poller asks for new lines.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// How the lines arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailMode {
    /// `StartLiveTail` (pushed by CloudWatch).
    LiveTail,
    /// `FilterLogEvents` every [`POLL_EVERY`]; the reason live tail is not used.
    Polling { why: String },
}

impl TailMode {
    pub fn label(&self) -> String {
        match self {
            TailMode::LiveTail => "live tail (StartLiveTail)".into(),
            TailMode::Polling { why } => format!(
                "polling FilterLogEvents every {} s ({why})",
                POLL_EVERY.as_secs()
            ),
        }
    }
}

/// What the logs task sends.
#[derive(Debug, Clone, PartialEq)]
pub enum LogsEvent {
    /// Start over with these lines (oldest first): the first read or a new window.
    Reset {
        group: String,
        window: Window,
        lines: Vec<LogLine>,
        truncated: bool,
    },
    /// New lines (oldest first).
    Append(Vec<LogLine>),
    Mode(TailMode),
    /// A failed read (the task keeps trying).
    Error(String),
}

/// Unix milliseconds, as CloudWatch Logs takes them (0 before the epoch, saturating).
pub(crate) fn ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Lines already delivered at the newest timestamp (so a poll from that timestamp does not
/// repeat them).
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    pub since_ms: i64,
    seen_at_since: HashSet<String>,
}

impl Cursor {
    /// Keeps the events not delivered yet and moves the cursor (pure; events oldest first as
    /// `(timestamp, id, message)`).
    pub(crate) fn take_new(&mut self, events: Vec<(i64, String, String)>) -> Vec<(i64, String)> {
        let mut out = Vec::new();
        for (ts, id, msg) in events {
            if ts < self.since_ms || (ts == self.since_ms && self.seen_at_since.contains(&id)) {
                continue;
            }
            if ts > self.since_ms {
                self.since_ms = ts;
                self.seen_at_since.clear();
            }
            self.seen_at_since.insert(id);
            out.push((ts, msg));
        }
        out
    }
}

/// Pages read at most per [`filter_events`] call (10 000 events each).
pub(crate) const MAX_PAGES: usize = 20;

/// FilterLogEvents from `start_ms` to now: the newest `max` events `(ts, id, message)`, oldest
/// first, reading all pages up to [`MAX_PAGES`]; `true` when events were left out (older than
/// the newest `max`, or past the page bound). The logs view and `opsconsole bundle` both read
/// through it.
pub(crate) async fn filter_events(
    ctx: &Context,
    group: &str,
    start_ms: i64,
    max: usize,
) -> Result<(Vec<(i64, String, String)>, bool), String> {
    let mut out: std::collections::VecDeque<(i64, String, String)> =
        std::collections::VecDeque::new();
    let mut token: Option<String> = None;
    let mut truncated = false;
    let mut pages = 0;
    loop {
        let resp = ctx
            .aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .end_time(ms(SystemTime::now()) + 1)
            .limit(10_000)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "logs:FilterLogEvents {group}: {}",
                    opsconsole_proc::error_chain(&e)
                )
            })?;
        pages += 1;
        for ev in resp.events() {
            let ts = ev.timestamp().unwrap_or(0);
            let id = ev
                .event_id()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{ts}:{}", ev.message().unwrap_or_default()));
            out.push_back((ts, id, ev.message().unwrap_or_default().to_string()));
            // Pages come oldest first: keep only the newest `max` while reading.
            if out.len() > max {
                out.pop_front();
                truncated = true;
            }
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        if pages >= MAX_PAGES {
            truncated = true;
            break;
        }
    }
    let mut out: Vec<_> = out.into();
    out.sort_by_key(|e| e.0);
    Ok((out, truncated))
}

/// The log group's ARN for StartLiveTail (DescribeLogGroups).
async fn group_arn(ctx: &Context, group: &str) -> Result<String, String> {
    let resp = ctx
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .map_err(|e| format!("DescribeLogGroups: {}", opsconsole_proc::error_chain(&e)))?;
    let g = resp
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .ok_or_else(|| format!("log group {group} not found"))?;
    g.log_group_arn()
        .or_else(|| g.arn())
        .map(|a| a.trim_end_matches(":*").to_string())
        .ok_or_else(|| "DescribeLogGroups gave no ARN".to_string())
}

/// Follows with StartLiveTail until the stream ends or fails; `Err` (before any event) when
/// the endpoint does not offer it.
async fn live_tail(
    ctx: &Context,
    group: &str,
    tx: &mpsc::Sender<LogsEvent>,
    cursor: &mut Cursor,
) -> Result<(), String> {
    use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream as S;
    let arn = group_arn(ctx, group).await?;
    let mut out = ctx
        .aws
        .logs
        .start_live_tail()
        .log_group_identifiers(arn)
        .send()
        .await
        .map_err(|e| {
            let who = crate::aws::endpoint_label(&ctx.aws.sdk, "CloudWatch Logs");
            format!("StartLiveTail: {}", crate::aws::failure_cause(&e, &who))
        })?;
    let mut announced = false;
    loop {
        match out.response_stream.recv().await {
            Ok(Some(S::SessionStart(_))) => {
                if !announced {
                    announced = true;
                    let _ = tx.send(LogsEvent::Mode(TailMode::LiveTail)).await;
                }
            }
            Ok(Some(S::SessionUpdate(u))) => {
                if !announced {
                    announced = true;
                    let _ = tx.send(LogsEvent::Mode(TailMode::LiveTail)).await;
                }
                let evs: Vec<(i64, String, String)> = u
                    .session_results()
                    .iter()
                    .map(|e| {
                        let ts = e.timestamp().unwrap_or(0);
                        let msg = e.message().unwrap_or_default().to_string();
                        (
                            ts,
                            format!("{ts}:{}:{msg}", e.log_stream_name().unwrap_or("")),
                            msg,
                        )
                    })
                    .collect();
                let lines: Vec<LogLine> = cursor
                    .take_new(evs)
                    .into_iter()
                    .map(|(ts, m)| parse_line(ts, &m))
                    .collect();
                if !lines.is_empty() && tx.send(LogsEvent::Append(lines)).await.is_err() {
                    return Ok(());
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(e) => {
                return Err(format!(
                    "StartLiveTail stream: {}",
                    opsconsole_proc::error_chain(&e)
                ));
            }
        }
    }
}

/// Runs until `tx` closes: backfill over the window, then live tail or polling. A new window
/// starts over.
pub async fn run(
    ctx: std::sync::Arc<Context>,
    tx: mpsc::Sender<LogsEvent>,
    mut window: watch::Receiver<Window>,
) {
    let group = ctx.outputs.lambda_log_group_name.clone();
    let mut live_refused: Option<String> = None;
    loop {
        let w = *window.borrow_and_update();
        let mut cursor = Cursor::default();
        let start = ms(SystemTime::now()) - i64::try_from(w.secs() * 1000).unwrap_or(0);
        match filter_events(&ctx, &group, start, BACKFILL_LINES).await {
            Ok((evs, truncated)) => {
                let lines = cursor
                    .take_new(evs)
                    .into_iter()
                    .map(|(ts, m)| parse_line(ts, &m))
                    .collect();
                if tx
                    .send(LogsEvent::Reset {
                        group: group.clone(),
                        window: w,
                        lines,
                        truncated,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(e) => {
                if tx.send(LogsEvent::Error(e)).await.is_err() {
                    return;
                }
            }
        }
        if cursor.since_ms == 0 {
            cursor.since_ms = ms(SystemTime::now());
        }
        // Live tail once per window; a refusal is remembered (the endpoint will not change).
        if live_refused.is_none() {
            let follow = live_tail(&ctx, &group, &tx, &mut cursor);
            tokio::select! {
                r = follow => match r {
                    Ok(()) => {}
                    Err(e) => live_refused = Some(e),
                },
                _ = window.changed() => continue,
                _ = tx.closed() => return,
            }
        }
        let why = live_refused
            .clone()
            .unwrap_or_else(|| "the live tail session ended".into());
        if tx
            .send(LogsEvent::Mode(TailMode::Polling {
                why: short_reason(&why),
            }))
            .await
            .is_err()
        {
            return;
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL_EVERY) => {}
                r = window.changed() => {
                    if r.is_err() { return; }
                    break;
                }
                _ = tx.closed() => return,
            }
            match filter_events(&ctx, &group, cursor.since_ms, BACKFILL_LINES).await {
                Ok((evs, _)) => {
                    let lines: Vec<LogLine> = cursor
                        .take_new(evs)
                        .into_iter()
                        .map(|(ts, m)| parse_line(ts, &m))
                        .collect();
                    if !lines.is_empty() && tx.send(LogsEvent::Append(lines)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    if tx.send(LogsEvent::Error(e)).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The first line of a refusal, bounded (the view's title has one line).
fn short_reason(why: &str) -> String {
    let first = why.lines().next().unwrap_or(why);
    let mut s: String = first.chars().take(120).collect();
    if first.chars().count() > 120 {
        s.push('…');
    }
    format!("live tail not offered: {s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_delivers_each_event_once() {
        let mut c = Cursor::default();
        let e = |ts: i64, id: &str| (ts, id.to_string(), format!("m{id}"));
        let a = c.take_new(vec![e(10, "a"), e(20, "b"), e(20, "c")]);
        assert_eq!(a.len(), 3);
        assert_eq!(c.since_ms, 20);
        // The next poll starts at 20: b and c come again, d is new.
        let b = c.take_new(vec![e(20, "b"), e(20, "c"), e(20, "d"), e(30, "e")]);
        assert_eq!(
            b.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
            ["md", "me"]
        );
        assert!(c.take_new(vec![e(5, "old"), e(30, "e")]).is_empty());
    }

    #[test]
    fn mode_labels_say_which() {
        assert!(TailMode::LiveTail.label().contains("StartLiveTail"));
        let p = TailMode::Polling {
            why: short_reason("StartLiveTail: HTTP 500\nmore"),
        };
        assert!(p.label().contains("FilterLogEvents"), "{}", p.label());
        assert!(p.label().contains("not offered"), "{}", p.label());
        assert!(!p.label().contains("more"));
    }
}
