//! `GET /api/__shim/sse?events=N&interval_ms=M` -> `200 text/event-stream` (docs/contracts.md
//! section 2): one `probe` event per interval, stamped with the server's send time, then `done`.
//!
//! ```text
//! id: 3
//! event: probe
//! data: {"seq":3,"sent_at_ms":1763769600123.456,"total":10}
//!
//! event: done
//! data: {"total":10}
//! ```

use serde::{Deserialize, Serialize};

/// The event name of each probe event.
pub const PROBE_EVENT: &str = "probe";
/// The event name of the last event.
pub const DONE_EVENT: &str = "done";
/// The `Content-Type` of the stream.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// The stream's query parameters, with the contract's defaults and bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseParams {
    pub events: u32,
    pub interval_ms: u64,
}

impl SseParams {
    pub const DEFAULT_EVENTS: u32 = 10;
    pub const DEFAULT_INTERVAL_MS: u64 = 200;
    pub const MAX_EVENTS: u32 = 1000;
    pub const MAX_INTERVAL_MS: u64 = 10_000;

    /// From a query string (`events=3&interval_ms=50`): a missing or unparsable value takes its
    /// default, a larger one its maximum; other parameters are ignored.
    pub fn from_query(query: &str) -> SseParams {
        let mut p = SseParams::default();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "events" => {
                    if let Ok(n) = v.parse::<u32>() {
                        p.events = n.min(Self::MAX_EVENTS);
                    }
                }
                "interval_ms" => {
                    if let Ok(n) = v.parse::<u64>() {
                        p.interval_ms = n.min(Self::MAX_INTERVAL_MS);
                    }
                }
                _ => {}
            }
        }
        p
    }

    /// The query string for these parameters.
    pub fn to_query(&self) -> String {
        format!("events={}&interval_ms={}", self.events, self.interval_ms)
    }
}

impl Default for SseParams {
    fn default() -> Self {
        SseParams {
            events: Self::DEFAULT_EVENTS,
            interval_ms: Self::DEFAULT_INTERVAL_MS,
        }
    }
}

/// The `data` of a `probe` event. Read leniently (every field optional): a stream that is not
/// the shim's (a chat endpoint) still yields events, without send times.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeData {
    pub seq: Option<u64>,
    /// The server's wall clock (Unix epoch, fractional milliseconds) when the event was written.
    pub sent_at_ms: Option<f64>,
    pub total: Option<u64>,
}

impl ProbeData {
    /// Parses an event's `data`; None when it is not a JSON object of this shape.
    pub fn parse(data: &str) -> Option<ProbeData> {
        serde_json::from_str(data).ok()
    }
}

/// One `probe` event, as written on the wire (fields in the contract's order).
pub fn probe_frame(seq: u32, total: u32, sent_at_ms: f64) -> String {
    let sent = serde_json::to_string(&sent_at_ms).unwrap_or_else(|_| "null".into());
    format!(
        "id: {seq}\nevent: {PROBE_EVENT}\ndata: {{\"seq\":{seq},\"sent_at_ms\":{sent},\"total\":{total}}}\n\n"
    )
}

/// The `done` event after the last probe event.
pub fn done_frame(total: u32) -> String {
    format!("event: {DONE_EVENT}\ndata: {{\"total\":{total}}}\n\n")
}

/// One event of a `text/event-stream`, as [`Frames`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// `event:` (`message` when absent).
    pub event: String,
    pub id: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// An incremental reader of `text/event-stream` bytes: feed chunks as they arrive, get the
/// events they complete (an event ends at a blank line). Comments and unknown fields are skipped.
#[derive(Debug, Default)]
pub struct Frames {
    buf: String,
}

impl Frames {
    pub fn new() -> Frames {
        Frames::default()
    }

    /// Adds `chunk` and returns the events it completed, in order.
    pub fn push(&mut self, chunk: &str) -> Vec<Frame> {
        self.buf.push_str(&chunk.replace("\r\n", "\n"));
        let mut out = Vec::new();
        while let Some(end) = self.buf.find("\n\n") {
            let block: String = self.buf.drain(..end + 2).collect();
            if let Some(f) = parse_block(&block) {
                out.push(f);
            }
        }
        out
    }
}

fn parse_block(block: &str) -> Option<Frame> {
    let mut frame = Frame {
        event: "message".into(),
        id: None,
        data: String::new(),
    };
    let mut has_data = false;
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => frame.event = value.to_string(),
            "id" => frame.id = Some(value.to_string()),
            "data" => {
                if has_data {
                    frame.data.push('\n');
                }
                frame.data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    (has_data || frame.event != "message").then_some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_defaults_and_caps() {
        assert_eq!(SseParams::from_query(""), SseParams::default());
        assert_eq!(
            SseParams::from_query("events=5000&interval_ms=99999"),
            SseParams {
                events: 1000,
                interval_ms: 10_000
            }
        );
        assert_eq!(
            SseParams::from_query("events=x&interval_ms=-1"),
            SseParams {
                events: 10,
                interval_ms: 200
            }
        );
        let p = SseParams {
            events: 3,
            interval_ms: 50,
        };
        assert_eq!(SseParams::from_query(&p.to_query()), p);
    }

    #[test]
    fn frames_are_the_contracts() {
        assert_eq!(
            probe_frame(3, 10, 1763769600123.456),
            "id: 3\nevent: probe\ndata: {\"seq\":3,\"sent_at_ms\":1763769600123.456,\"total\":10}\n\n"
        );
        assert_eq!(done_frame(10), "event: done\ndata: {\"total\":10}\n\n");
    }

    #[test]
    fn the_reader_reads_what_the_writer_wrote_in_any_chunking() {
        let wire = format!("{}{}", probe_frame(1, 2, 5.5), done_frame(2));
        for cut in 0..wire.len() {
            let mut r = Frames::new();
            let mut got = r.push(&wire[..cut]);
            got.extend(r.push(&wire[cut..]));
            assert_eq!(got.len(), 2, "cut at {cut}");
            assert_eq!(got[0].event, PROBE_EVENT);
            assert_eq!(got[0].id.as_deref(), Some("1"));
            assert_eq!(
                ProbeData::parse(&got[0].data),
                Some(ProbeData {
                    seq: Some(1),
                    sent_at_ms: Some(5.5),
                    total: Some(2)
                })
            );
            assert_eq!(got[1].event, DONE_EVENT);
            assert_eq!(
                ProbeData::parse(&got[1].data).and_then(|d| d.total),
                Some(2)
            );
        }
    }

    #[test]
    fn the_reader_skips_comments_and_joins_data_lines() {
        let mut r = Frames::new();
        let got = r.push(": keep-alive\n\ndata: a\ndata: b\r\n\r\n");
        assert_eq!(
            got,
            vec![Frame {
                event: "message".into(),
                id: None,
                data: "a\nb".into()
            }]
        );
        assert_eq!(
            ProbeData::parse("{\"text\":\"token 1\"}"),
            Some(ProbeData::default())
        );
        assert_eq!(ProbeData::parse("not json"), None);
    }
}
