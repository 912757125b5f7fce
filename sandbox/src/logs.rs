//! The live half of the function's log group: what Lambda puts in CloudWatch Logs for the
//! running function. The local Lambda hands over every line of each execution environment (the
//! shim's JSON logs and EMF lines, LibreChat's output, and the platform's `START` / `END` /
//! `REPORT` with `Init Duration` on a cold start), each with its environment's log stream.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use tokio::sync::mpsc;

/// What the forwarder is told.
#[derive(Debug)]
pub(crate) enum LogMsg {
    /// A line of an execution environment, for its log stream.
    Line {
        stream: String,
        ts_ms: i64,
        line: String,
    },
}

pub(crate) type LogTx = mpsc::UnboundedSender<LogMsg>;

/// Runs until every sender is dropped: batches what arrives every 300 ms into PutLogEvents.
pub(crate) async fn forward(
    client: aws_sdk_cloudwatchlogs::Client,
    group: String,
    mut rx: mpsc::UnboundedReceiver<LogMsg>,
) {
    let mut created: std::collections::BTreeSet<String> = Default::default();
    let mut open = true;
    while open {
        let mut batch: std::collections::BTreeMap<String, Vec<(i64, String)>> = Default::default();
        let tick = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                _ = &mut tick => break,
                msg = rx.recv() => match msg {
                    None => { open = false; break; }
                    Some(LogMsg::Line { stream, ts_ms, line }) => {
                        batch.entry(stream).or_default().push((ts_ms, line));
                    }
                }
            }
        }
        for (stream, mut events) in batch {
            if created.insert(stream.clone()) {
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
