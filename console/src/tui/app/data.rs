//! Data from the collectors ([`Action::Data`](super::Action::Data)): the panels' states, the
//! live SSE timeline and the post-deploy verification.

use crate::actions::ActionRequest;
use crate::model::DataEvent;

use super::{App, Effect, SseLive};

pub(super) fn on_data(app: &mut App, ev: DataEvent) -> Vec<Effect> {
    let now = app.now;
    let mut effects = Vec::new();
    match ev {
        DataEvent::Identity(r) => {
            if let Ok(i) = &r {
                app.region = Some(i.region.clone());
            }
            app.identity.apply(r, now)
        }
        DataEvent::Alarms(r) => app.alarms.apply(r, now),
        DataEvent::Lambda(r) => app.lambda.apply(r, now),
        DataEvent::Redis(r) => app.redis.apply(r, now),
        DataEvent::CloudFront(r) => app.cloudfront.apply(r, now),
        DataEvent::Health(r) => {
            if let Some(v) = app.verify.as_mut().filter(|v| v.health.is_none()) {
                v.health = Some(match &r {
                    Ok(h) if h.ok => Ok(format!("health {} in {:.0} ms", h.status, h.latency_ms)),
                    Ok(h) => Err(format!("health answered {}", h.status)),
                    Err(e) => Err(format!("health check failed: {}", e.message)),
                });
            }
            app.health.apply(r, now)
        }
        DataEvent::SseStarted { url } => {
            if let Some(v) = app.verify.as_mut() {
                v.sse_started = true;
            }
            app.sse_live = Some(SseLive {
                url,
                started_at: now,
                events: Vec::new(),
            });
        }
        DataEvent::SseEvent(e) => {
            if let Some(live) = app.sse_live.as_mut() {
                live.events.push(e);
            }
        }
        DataEvent::Sse(r) => {
            if let Some(v) = app
                .verify
                .as_mut()
                .filter(|v| v.sse_started && v.sse.is_none())
            {
                v.sse = Some(match &r {
                    Ok(d) if d.verdict == crate::model::Verdict::Streaming => {
                        Ok(format!("SSE {:?}", d.verdict).to_uppercase())
                    }
                    Ok(d) => Err(format!("SSE {:?}: {}", d.verdict, d.reason).to_uppercase()),
                    Err(e) => Err(format!("SSE probe failed: {}", e.message)),
                });
            }
            app.sse_live = None;
            app.sse.apply(r, now)
        }
        DataEvent::Canary(r) => app.canary.apply(r, now),
        DataEvent::Frontend(r) => app.frontend.apply(r, now),
        DataEvent::Cost(r) => app.cost.apply(r.map(|d| *d), now),
        DataEvent::Files(r) => app.files.apply(r, now),
    }
    app.last_refresh = Some(now);
    if let Some(v) = &app.verify
        && let (Some(h), Some(s)) = (&v.health, &v.sse)
    {
        let passed = h.is_ok() && s.is_ok();
        let text = |r: &Result<String, String>| match r {
            Ok(s) | Err(s) => s.clone(),
        };
        let line = format!(
            "post-deploy verification {}: {}; {}",
            if passed { "PASSED" } else { "FAILED" },
            text(h),
            text(s)
        );
        app.verify = None;
        app.push_activity(line.clone());
        app.set_status(line.clone());
        effects.push(app.audit(
            &ActionRequest::DeployImage { image: None },
            format!("verification: {line}"),
        ));
    }
    effects
}
