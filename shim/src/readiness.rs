//! Readiness of LibreChat: watch the port cheaply, then poll the health endpoint.
//!
//! The spec's budget (FR-028a) is at most `max_attempts` health requests at `interval`
//! (60 x 500 ms = 30 s). Readiness is not quantised to the interval: the port is watched every
//! `port_poll` (10 ms) and the first health request goes out as soon as it accepts.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How readiness is polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadinessPolicy {
    pub max_attempts: u32,
    pub interval: Duration,
    pub port_poll: Duration,
}

impl Default for ReadinessPolicy {
    fn default() -> Self {
        ReadinessPolicy {
            max_attempts: 60,
            interval: Duration::from_millis(500),
            port_poll: Duration::from_millis(10),
        }
    }
}

impl ReadinessPolicy {
    /// Total time budget: attempts x interval.
    pub fn budget(&self) -> Duration {
        self.interval.saturating_mul(self.max_attempts)
    }
}

/// Result of the readiness wait.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    /// Health answered 2xx after `attempts` health requests.
    Ready { attempts: u32, elapsed: Duration },
    /// Budget exhausted (time or attempts); `last_error` says what the last probe saw.
    TimedOut {
        attempts: u32,
        elapsed: Duration,
        last_error: String,
    },
    /// The child process exited before becoming ready.
    ChildExited { reason: String, elapsed: Duration },
}

impl Readiness {
    pub(crate) fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready { .. })
    }

    /// Human-readable cause when not ready.
    pub(crate) fn cause(&self) -> Option<String> {
        match self {
            Readiness::Ready { .. } => None,
            Readiness::TimedOut {
                attempts,
                elapsed,
                last_error,
            } => Some(format!(
                "LibreChat not ready after {attempts} health checks in {} ms (last: {last_error})",
                elapsed.as_millis()
            )),
            Readiness::ChildExited { reason, .. } => {
                Some(format!("LibreChat exited before it was ready: {reason}"))
            }
        }
    }
}

/// Wait until ready, the budget runs out, or the child exits.
///
/// - `child_exit()` returns `Some(reason)` once the child has exited;
/// - `port_open()` is a cheap check that the port accepts connections;
/// - `health()` sends one health request: `Ok(status)` or `Err(reason)`.
pub(crate) async fn wait_ready<C, P, PF, H, HF>(
    policy: ReadinessPolicy,
    mut child_exit: C,
    mut port_open: P,
    mut health: H,
) -> Readiness
where
    C: FnMut() -> Option<String>,
    P: FnMut() -> PF,
    PF: Future<Output = bool>,
    H: FnMut() -> HF,
    HF: Future<Output = Result<u16, String>>,
{
    let start = Instant::now();
    let deadline = start + policy.budget();
    let mut attempts = 0u32;
    let mut last_error = "port never accepted a connection".to_string();
    loop {
        if let Some(reason) = child_exit() {
            return Readiness::ChildExited {
                reason,
                elapsed: start.elapsed(),
            };
        }
        let now = Instant::now();
        if now >= deadline || attempts >= policy.max_attempts {
            return Readiness::TimedOut {
                attempts,
                elapsed: start.elapsed(),
                last_error,
            };
        }
        if !port_open().await {
            tokio::time::sleep(policy.port_poll.min(deadline - now)).await;
            continue;
        }
        attempts += 1;
        let attempt_start = Instant::now();
        let remaining = deadline.saturating_duration_since(attempt_start);
        match tokio::time::timeout(policy.interval.min(remaining), health()).await {
            Ok(Ok(status)) if (200..300).contains(&status) => {
                return Readiness::Ready {
                    attempts,
                    elapsed: start.elapsed(),
                };
            }
            Ok(Ok(status)) => last_error = format!("health returned HTTP {status}"),
            Ok(Err(e)) => last_error = e,
            Err(_) => last_error = "health request timed out".to_string(),
        }
        // Next attempt one interval after this one started.
        let next = (attempt_start + policy.interval).min(deadline);
        tokio::time::sleep_until(next).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A simulated upstream: port opens at `open_at`, health is 200 from `healthy_at`.
    #[derive(Clone)]
    struct Sim {
        t0: Instant,
        open_at: Option<Duration>,
        healthy_at: Option<Duration>,
        exit_at: Option<Duration>,
        health_calls: Arc<Mutex<Vec<Duration>>>,
    }

    impl Sim {
        fn new(open_at: Option<u64>, healthy_at: Option<u64>, exit_at: Option<u64>) -> Sim {
            Sim {
                t0: Instant::now(),
                open_at: open_at.map(Duration::from_millis),
                healthy_at: healthy_at.map(Duration::from_millis),
                exit_at: exit_at.map(Duration::from_millis),
                health_calls: Arc::new(Mutex::new(Vec::new())),
            }
        }
        async fn run(&self, policy: ReadinessPolicy) -> Readiness {
            let s1 = self.clone();
            let s2 = self.clone();
            let s3 = self.clone();
            wait_ready(
                policy,
                move || {
                    s1.exit_at
                        .filter(|t| s1.t0.elapsed() >= *t)
                        .map(|_| "exit status: 1".to_string())
                },
                move || {
                    let open = s2.open_at.is_some_and(|t| s2.t0.elapsed() >= t);
                    async move { open }
                },
                move || {
                    let now = s3.t0.elapsed();
                    if let Ok(mut calls) = s3.health_calls.lock() {
                        calls.push(now);
                    }
                    let healthy = s3.healthy_at.is_some_and(|t| now >= t);
                    async move { if healthy { Ok(200) } else { Ok(503) } }
                },
            )
            .await
        }
        fn calls(&self) -> Vec<Duration> {
            self.health_calls
                .lock()
                .map(|c| c.clone())
                .unwrap_or_default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn first_health_request_follows_port_open_not_the_interval() {
        let sim = Sim::new(Some(1234), Some(0), None);
        let r = sim.run(ReadinessPolicy::default()).await;
        assert!(r.is_ready(), "{r:?}");
        let calls = sim.calls();
        assert_eq!(calls.len(), 1);
        // Port watched every 10 ms: the first probe is within one poll of the port opening,
        // not rounded up to a 500 ms tick.
        assert!(
            calls[0] >= Duration::from_millis(1234) && calls[0] < Duration::from_millis(1250),
            "{calls:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unhealthy_then_healthy_retries_at_interval() {
        let sim = Sim::new(Some(0), Some(1200), None);
        let r = sim.run(ReadinessPolicy::default()).await;
        assert_eq!(
            r,
            Readiness::Ready {
                attempts: 4,
                elapsed: Duration::from_millis(1500)
            }
        );
        let calls = sim.calls();
        assert_eq!(
            calls,
            vec![0, 500, 1000, 1500]
                .into_iter()
                .map(Duration::from_millis)
                .collect::<Vec<_>>()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn budget_is_attempts_times_interval() {
        let sim = Sim::new(Some(0), None, None);
        let r = sim.run(ReadinessPolicy::default()).await;
        match r {
            Readiness::TimedOut {
                attempts,
                elapsed,
                ref last_error,
            } => {
                assert_eq!(attempts, 60);
                assert_eq!(elapsed, Duration::from_secs(30));
                assert_eq!(last_error, "health returned HTTP 503");
            }
            other => panic!("expected timeout, got {other:?}"),
        }
        assert!(r.cause().is_some_and(|c| c.contains("60 health checks")));
    }

    #[tokio::test(start_paused = true)]
    async fn closed_port_times_out_on_time_budget() {
        let sim = Sim::new(None, None, None);
        let r = sim
            .run(ReadinessPolicy {
                max_attempts: 4,
                ..Default::default()
            })
            .await;
        match r {
            Readiness::TimedOut {
                attempts,
                elapsed,
                last_error,
            } => {
                assert_eq!(attempts, 0);
                assert_eq!(elapsed, Duration::from_secs(2));
                assert!(last_error.contains("port"));
            }
            other => panic!("expected timeout, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn child_exit_stops_waiting() {
        let sim = Sim::new(None, None, Some(700));
        let r = sim.run(ReadinessPolicy::default()).await;
        match r {
            Readiness::ChildExited { reason, elapsed } => {
                assert_eq!(reason, "exit status: 1");
                assert!(
                    elapsed >= Duration::from_millis(700) && elapsed < Duration::from_millis(720)
                );
            }
            other => panic!("expected child exit, got {other:?}"),
        }
    }
}
