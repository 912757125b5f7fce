//! The chat mode's stream: POST, decode the body as the server encoded it (br/gzip/deflate),
//! one observation per `data:` frame, until `data: [DONE]`.

use std::time::{Duration, Instant};

use futures::StreamExt;
use opsconsole_wire::sse::ProbeData;
use tokio::sync::mpsc;

use super::{SseTarget, is_loopback};
use crate::domain::sse::StreamEnd;
use crate::model::{DataEvent, SseEventObs, SseProbeData};

/// The chat mode: POST, decode the body as the server encoded it, one observation per `data:`
/// frame, until `data: [DONE]`.
pub(super) async fn chat_stream(
    t: &SseTarget,
    data: &mut SseProbeData,
    live: Option<&mpsc::Sender<DataEvent>>,
    ms: impl Fn(Instant) -> f64,
) -> Result<StreamEnd, StreamEnd> {
    use tokio::io::AsyncReadExt as _;
    opsconsole_proc::tls::install_crypto_provider();
    let mut b = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
    if is_loopback(&t.url) {
        b = b.no_proxy();
    }
    let client = b
        .build()
        .map_err(|e| StreamEnd::ConnectError(format!("HTTP client: {e}")))?;
    let mut req = client
        .post(&t.url)
        .body(t.post_body.clone().unwrap_or_default());
    for (k, v) in &t.headers {
        req = req.header(k, v);
    }
    let resp = tokio::time::timeout(t.stall_after, req.send())
        .await
        .map_err(|_| StreamEnd::Stalled {
            after_ms: t.stall_after.as_secs_f64() * 1000.0,
        })?
        .map_err(|e| StreamEnd::ConnectError(opsconsole_proc::error_chain(&e)))?;
    data.ttfb_ms = Some(ms(Instant::now()));
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(StreamEnd::HttpStatus(status));
    }
    let encoding = resp
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let body = tokio_util::io::StreamReader::new(
        resp.bytes_stream()
            .map(|r| r.map_err(std::io::Error::other)),
    );
    let body = tokio::io::BufReader::new(body);
    let mut reader: std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>> = match encoding.as_str() {
        "br" => Box::pin(async_compression::tokio::bufread::BrotliDecoder::new(body)),
        "gzip" | "x-gzip" => Box::pin(async_compression::tokio::bufread::GzipDecoder::new(body)),
        "deflate" => Box::pin(async_compression::tokio::bufread::ZlibDecoder::new(body)),
        "identity" | "" => Box::pin(body),
        other => {
            return Err(StreamEnd::Dropped(format!(
                "unsupported Content-Encoding `{other}`"
            )));
        }
    };
    let mut frames = opsconsole_wire::sse::Frames::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut last = Instant::now();
    loop {
        let n = match tokio::time::timeout(t.stall_after, reader.read(&mut buf)).await {
            Err(_) => {
                return Ok(StreamEnd::Stalled {
                    after_ms: last.elapsed().as_secs_f64() * 1000.0,
                });
            }
            Ok(Err(e)) => return Ok(StreamEnd::Dropped(e.to_string())),
            Ok(Ok(0)) => {
                return Ok(StreamEnd::Dropped(
                    "the stream ended without `data: [DONE]`".into(),
                ));
            }
            Ok(Ok(n)) => n,
        };
        let now = Instant::now();
        last = now;
        pending.extend_from_slice(&buf[..n]);
        // Only whole UTF-8 characters to the frame reader; a split one waits for its rest.
        let valid = match std::str::from_utf8(&pending) {
            Ok(_) => pending.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = String::from_utf8_lossy(&pending[..valid]).into_owned();
        pending.drain(..valid);
        for f in frames.push(&text) {
            if f.data.is_empty() {
                continue;
            }
            if f.data.trim() == "[DONE]" {
                return Ok(StreamEnd::Done);
            }
            let payload = ProbeData::parse(&f.data);
            if data.first_event_ms.is_none() {
                data.first_event_ms = Some(ms(now));
            }
            let mut obs = SseEventObs {
                seq: data.events.len() as u64 + 1,
                arrived_ms: ms(now),
                sent_at_ms: payload.as_ref().and_then(|p| p.sent_at_ms),
                gap_ms: None,
                sent_gap_ms: None,
            };
            if let Some(prev) = data.events.last() {
                obs.gap_ms = Some(obs.arrived_ms - prev.arrived_ms);
            }
            if let Some(tx) = live {
                let _ = tx.send(DataEvent::SseEvent(obs.clone())).await;
            }
            data.events.push(obs);
            if data.events.len() > 10_000 {
                return Ok(StreamEnd::Dropped(
                    "more than 10000 events: stopped reading".into(),
                ));
            }
        }
    }
}
