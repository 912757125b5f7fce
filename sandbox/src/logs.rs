//! The live half of the function's log group: what Lambda would put in CloudWatch Logs for the
//! running shim. Every stdout line of each shim process (its JSON logs and EMF lines) goes to the
//! log stream of that "execution environment", and each invocation through the gateway gets
//! `START` / `END` / `REPORT` lines - with `Init Duration` (the shim's own `ColdStartTotalMs`) on
//! the first invocation after a cold start, as Lambda reports it.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use opsconsole_wire::emf::COLD_START_TOTAL_MS;
use tokio::sync::mpsc;

use super::seed::report_line;

/// What the forwarder is told.
#[derive(Debug)]
pub(crate) enum LogMsg {
    /// A line the shim process of `generation` printed on stdout.
    Line {
        generation: u32,
        ts_ms: i64,
        line: String,
    },
    /// An invocation through the gateway finished.
    Invocation {
        request_id: String,
        start_ms: i64,
        duration_ms: f64,
    },
}

pub(crate) type LogTx = mpsc::UnboundedSender<LogMsg>;

/// Cold-start bookkeeping: the `ColdStartTotalMs` of a shim that has not served an invocation
/// yet becomes the `Init Duration` of the next REPORT line.
#[derive(Debug, Default)]
pub(crate) struct ReportState {
    pending_init_ms: Option<f64>,
    pub generation: u32,
}

impl ReportState {
    /// Notes a shim stdout line; returns true when it was an EMF cold-start line.
    pub(crate) fn observe(&mut self, generation: u32, line: &str) -> bool {
        self.generation = self.generation.max(generation);
        if !line.contains(COLD_START_TOTAL_MS) {
            return false;
        }
        let total = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get(COLD_START_TOTAL_MS).and_then(|t| t.as_f64()));
        if let Some(t) = total {
            self.pending_init_ms = Some(t);
            return true;
        }
        false
    }

    /// The `START`, `END` and `REPORT` lines of one invocation.
    pub(crate) fn invocation_lines(&mut self, request_id: &str, duration_ms: f64) -> [String; 3] {
        let init = self.pending_init_ms.take();
        [
            format!("START RequestId: {request_id} Version: $LATEST"),
            format!("END RequestId: {request_id}"),
            report_line(request_id, duration_ms, super::seed::MEMORY_MB, 96, init),
        ]
    }
}

fn stream_name(generation: u32) -> String {
    let today = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}/{:02}/{:02}/[$LATEST]sandbox{generation:04}",
        today.year(),
        u8::from(today.month()),
        today.day()
    )
}

/// Runs until every sender is dropped: batches what arrives every 300 ms into PutLogEvents.
pub(crate) async fn forward(
    client: aws_sdk_cloudwatchlogs::Client,
    group: String,
    mut rx: mpsc::UnboundedReceiver<LogMsg>,
) {
    let mut state = ReportState::default();
    let mut created: std::collections::BTreeSet<u32> = Default::default();
    let mut open = true;
    while open {
        let mut batch: std::collections::BTreeMap<u32, Vec<(i64, String)>> = Default::default();
        let tick = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                _ = &mut tick => break,
                msg = rx.recv() => match msg {
                    None => { open = false; break; }
                    Some(LogMsg::Line { generation, ts_ms, line }) => {
                        state.observe(generation, &line);
                        batch.entry(generation).or_default().push((ts_ms, line));
                    }
                    Some(LogMsg::Invocation { request_id, start_ms, duration_ms }) => {
                        let g = state.generation;
                        let [start, end, report] = state.invocation_lines(&request_id, duration_ms);
                        let end_ms = start_ms + duration_ms as i64;
                        let b = batch.entry(g).or_default();
                        b.push((start_ms, start));
                        b.push((end_ms, end));
                        b.push((end_ms, report));
                    }
                }
            }
        }
        for (generation, mut events) in batch {
            let stream = stream_name(generation);
            if created.insert(generation) {
                let _ = client
                    .create_log_stream()
                    .log_group_name(&group)
                    .log_stream_name(&stream)
                    .send()
                    .await;
            }
            events.sort_by_key(|e| e.0);
            let input: Vec<InputLogEvent> = events
                .into_iter()
                .filter_map(|(ts, message)| {
                    InputLogEvent::builder()
                        .timestamp(ts)
                        .message(message)
                        .build()
                        .ok()
                })
                .collect();
            if let Err(e) = client
                .put_log_events()
                .log_group_name(&group)
                .log_stream_name(&stream)
                .set_log_events(Some(input))
                .send()
                .await
            {
                tracing::debug!(error = %aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&e), "forwarding shim logs to moto failed");
            }
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_invocation_after_a_cold_start_reports_its_init_duration() {
        let mut s = ReportState::default();
        assert!(!s.observe(1, r#"{"level":"INFO","message":"shim starting"}"#));
        assert!(s.observe(
            1,
            r#"{"ColdStartTotalMs":151.5,"event":"cold_start","_aws":{}}"#
        ));
        let [start, end, report] = s.invocation_lines("r1", 12.0);
        assert_eq!(start, "START RequestId: r1 Version: $LATEST");
        assert_eq!(end, "END RequestId: r1");
        assert!(report.contains("Init Duration: 151.50 ms"), "{report}");
        // The next one is warm.
        let [_, _, warm] = s.invocation_lines("r2", 3.0);
        assert!(!warm.contains("Init Duration"), "{warm}");
        // A new environment is cold again.
        s.observe(2, r#"{"ColdStartTotalMs":90.0,"event":"cold_start"}"#);
        assert_eq!(s.generation, 2);
        assert!(s.invocation_lines("r3", 1.0)[2].contains("Init Duration: 90.00 ms"));
    }
}
