//! One async task per [`Source`], sending [`DataEvent`]s on a tokio mpsc channel.
//!
//! Each task collects, sends the result, then waits for its refresh interval, a refresh request
//! ([`CollectorHandle::refresh`]), or, after a failure, an exponential backoff (2 s doubling to
//! 60 s). Every collection is bounded by the context's timeout. Failures are independent: one
//! source failing never delays another. Dropping the handle stops all tasks.
//!
//! The TUI calls [`spawn`] and only reads the channel; it never awaits the network.

pub mod aws;
pub mod files;
pub mod frontend;
pub mod http;
pub mod logs;
pub mod series;
pub mod sse;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::context::Context;
use crate::domain::window::Window;
use crate::model::{CollectorError, DataEvent, ErrorKind, Source};

/// How often each source refreshes on its own when healthy.
pub fn interval(source: Source) -> Duration {
    Duration::from_secs(match source {
        Source::Identity => 300,
        Source::Alarms => 30,
        Source::Lambda => 60,
        Source::Redis => 60,
        Source::CloudFront => 60,
        Source::Health => 15,
        Source::Sse => 300,
        // The canary runs every 5 minutes by default: reading its history more often reads the
        // same points again (each read is a DescribeAlarms and a GetMetricData of 3 series).
        Source::Canary => 300,
        // index.html and its assets: about 30 requests to the CDN, cheap.
        Source::Frontend => 120,
        // The month's cost moves slowly; each read is 3 describes and 2 GetMetricData.
        Source::Cost => 300,
        // A GetObject, up to 10 ListObjectsV2 pages and the access log: every 5 minutes.
        Source::Files => 300,
    })
}

/// Backoff after `failures` consecutive failures (1-based): 2, 4, 8, 16, 32, 60, 60... s.
pub(crate) fn backoff(failures: u32) -> Duration {
    let secs = 2u64.saturating_pow(failures.clamp(1, 6));
    Duration::from_secs(secs.min(60))
}

fn timeout_error(source: Source, budget: Duration) -> CollectorError {
    CollectorError {
        kind: ErrorKind::Timeout,
        message: format!(
            "{} did not finish within {} s",
            source.name(),
            budget.as_secs()
        ),
        fix: Some("raise --timeout, or check the network / endpoint".into()),
    }
}

fn is_ok(ev: &DataEvent) -> bool {
    match ev {
        DataEvent::Identity(r) => r.is_ok(),
        DataEvent::Alarms(r) => r.is_ok(),
        DataEvent::Lambda(r) => r.is_ok(),
        DataEvent::Redis(r) => r.is_ok(),
        DataEvent::CloudFront(r) => r.is_ok(),
        DataEvent::Health(r) => r.as_ref().is_ok_and(|h| h.ok),
        DataEvent::Sse(r) => r.is_ok(),
        DataEvent::Canary(r) => r.is_ok(),
        DataEvent::Frontend(r) => r.is_ok(),
        DataEvent::Cost(r) => r.is_ok(),
        DataEvent::Files(r) => r.is_ok(),
        DataEvent::SseStarted { .. } | DataEvent::SseEvent(_) => true,
    }
}

/// Collects `source` once, bounded by `budget`. For the SSE probe, live events go to `live`.
pub(crate) async fn collect_once(
    ctx: &Context,
    source: Source,
    budget: Duration,
    window: Window,
    live: Option<&mpsc::Sender<DataEvent>>,
) -> DataEvent {
    macro_rules! bounded {
        ($variant:ident, $fut:expr) => {
            DataEvent::$variant(match tokio::time::timeout(budget, $fut).await {
                Ok(r) => r,
                Err(_) => Err(timeout_error(source, budget)),
            })
        };
    }
    match source {
        Source::Identity => bounded!(Identity, aws::identity(ctx)),
        Source::Alarms => bounded!(Alarms, aws::alarms(ctx, window)),
        Source::Lambda => bounded!(Lambda, aws::lambda(ctx, window)),
        Source::Redis => bounded!(Redis, aws::redis(ctx, window)),
        Source::CloudFront => bounded!(CloudFront, aws::cloudfront(ctx)),
        Source::Health => bounded!(Health, http::health(ctx)),
        Source::Sse => bounded!(Sse, sse::probe(ctx, live)),
        Source::Canary => bounded!(Canary, aws::canary(ctx, window)),
        Source::Frontend => bounded!(Frontend, frontend::frontend(ctx)),
        // Its own window (`opsconsole cost`'s default), whatever the console's.
        Source::Cost => bounded!(Cost, async {
            crate::cost::default_document(ctx).await.map(Box::new)
        }),
        Source::Files => bounded!(Files, files::files(ctx, window)),
    }
}

fn error_event(source: Source, e: CollectorError) -> DataEvent {
    match source {
        Source::Identity => DataEvent::Identity(Err(e)),
        Source::Alarms => DataEvent::Alarms(Err(e)),
        Source::Lambda => DataEvent::Lambda(Err(e)),
        Source::Redis => DataEvent::Redis(Err(e)),
        Source::CloudFront => DataEvent::CloudFront(Err(e)),
        Source::Health => DataEvent::Health(Err(e)),
        Source::Sse => DataEvent::Sse(Err(e)),
        Source::Canary => DataEvent::Canary(Err(e)),
        Source::Frontend => DataEvent::Frontend(Err(e)),
        Source::Cost => DataEvent::Cost(Err(e)),
        Source::Files => DataEvent::Files(Err(e)),
    }
}

/// Aborts the task when dropped (so stopping a collector also stops its current collection).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// [`collect_once`] in its own task: a panic in a collector becomes an error result of that
/// source instead of a silent, dead collector.
pub(crate) async fn collect_isolated(
    ctx: Arc<Context>,
    source: Source,
    budget: Duration,
    window: Window,
    live: Option<mpsc::Sender<DataEvent>>,
) -> DataEvent {
    let mut task = AbortOnDrop(tokio::spawn(async move {
        collect_once(&ctx, source, budget, window, live.as_ref()).await
    }));
    match (&mut task.0).await {
        Ok(ev) => ev,
        Err(e) => error_event(
            source,
            CollectorError {
                kind: ErrorKind::Other,
                message: format!("the {} collector crashed: {e}", source.name()),
                fix: None,
            },
        ),
    }
}

/// Controls the running collector tasks; dropping it stops them.
#[derive(Debug)]
pub struct CollectorHandle {
    notify: HashMap<Source, Arc<Notify>>,
    tasks: Vec<JoinHandle<()>>,
    window: watch::Sender<Window>,
}

impl CollectorHandle {
    /// Asks `source` to collect now (a running collection finishes first).
    pub fn refresh(&self, source: Source) {
        if let Some(n) = self.notify.get(&source) {
            n.notify_one();
        }
    }

    pub(crate) fn refresh_all(&self) {
        for s in Source::ALL {
            self.refresh(s);
        }
    }

    /// Looks back over `window` from now on: the sources that depend on it collect again.
    pub fn set_window(&self, window: Window) {
        self.window.send_replace(window);
        for s in Source::ALL.into_iter().filter(|s| s.windowed()) {
            self.refresh(s);
        }
    }

    /// Follows the window (for tasks outside the handle, e.g. the logs view's follower).
    pub fn subscribe_window(&self) -> watch::Receiver<Window> {
        self.window.subscribe()
    }

    /// The window the collectors look back over.
    pub fn window(&self) -> Window {
        *self.window.borrow()
    }

    /// Runs the SSE probe again.
    pub(crate) fn rerun_sse(&self) {
        self.refresh(Source::Sse);
    }

    /// Stops every task now.
    pub fn stop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for CollectorHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts one task per source. Must be called inside a tokio runtime.
pub fn spawn(ctx: Arc<Context>, tx: mpsc::Sender<DataEvent>) -> CollectorHandle {
    let window = Window::covering(ctx.settings.lambda_window_minutes);
    spawn_sources(ctx, tx, &Source::ALL, window)
}

/// Like [`spawn`], looking back over `window` at first.
pub fn spawn_windowed(
    ctx: Arc<Context>,
    tx: mpsc::Sender<DataEvent>,
    window: Window,
) -> CollectorHandle {
    spawn_sources(ctx, tx, &Source::ALL, window)
}

/// Like [`spawn`], for a subset of the sources.
pub(crate) fn spawn_sources(
    ctx: Arc<Context>,
    tx: mpsc::Sender<DataEvent>,
    sources: &[Source],
    window: Window,
) -> CollectorHandle {
    let mut notify = HashMap::new();
    let mut tasks = Vec::new();
    let (window_tx, window_rx) = watch::channel(window);
    for &source in sources {
        let window_rx = window_rx.clone();
        let n = Arc::new(Notify::new());
        notify.insert(source, n.clone());
        let ctx = ctx.clone();
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let budget = ctx.settings.timeout;
                let window = *window_rx.borrow();
                let ev =
                    collect_isolated(ctx.clone(), source, budget, window, Some(tx.clone())).await;
                let ok = is_ok(&ev);
                if tx.send(ev).await.is_err() {
                    return; // receiver gone
                }
                let wait = if ok {
                    failures = 0;
                    interval(source)
                } else {
                    failures = failures.saturating_add(1);
                    backoff(failures)
                };
                tokio::select! {
                    _ = n.notified() => { failures = 0; }
                    _ = tokio::time::sleep(wait) => {}
                    _ = tx.closed() => return,
                }
            }
        }));
    }
    CollectorHandle {
        notify,
        tasks,
        window: window_tx,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_minute() {
        let v: Vec<u64> = (1..=8).map(|f| backoff(f).as_secs()).collect();
        assert_eq!(v, [2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
