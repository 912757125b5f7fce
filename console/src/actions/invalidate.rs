//! CloudFront invalidation: create it, then poll `GetInvalidation` until it is completed.
//! The SDK's waiter is not used: moto reports `COMPLETED` in capitals where AWS says
//! `Completed`, so the status is compared without case. Cancelling stops following; an
//! invalidation cannot be withdrawn once created (CloudFront has no such call).

use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::{ActionEnv, ActionEvent, ActionResult, sleep_or_cancel};

/// True once an invalidation status means done (`Completed`, moto's `COMPLETED`).
pub fn is_completed(status: &str) -> bool {
    status.trim().eq_ignore_ascii_case("completed")
}

/// Checks and normalises the paths typed after `:invalidate` (each must start with `/`).
pub(crate) fn normalise_paths(raw: &[String]) -> Result<Vec<String>, String> {
    let paths: Vec<String> = raw
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if paths.is_empty() {
        return Ok(vec!["/*".to_string()]);
    }
    if let Some(bad) = paths.iter().find(|p| !p.starts_with('/')) {
        return Err(format!("invalidation path {bad:?} must start with /"));
    }
    Ok(paths)
}

pub async fn run(
    env: &ActionEnv,
    paths: &[String],
    tx: &UnboundedSender<ActionEvent>,
    cancel: &CancellationToken,
) -> ActionResult {
    let Some(client) = env.cloudfront.as_ref() else {
        return ActionResult::Failed("no CloudFront client for this environment".into());
    };
    let Some(dist) = env.distribution_id.as_deref() else {
        return ActionResult::Failed("the outputs have no cloudfront_distribution_id".into());
    };
    let paths = match normalise_paths(paths) {
        Ok(p) => p,
        Err(e) => return ActionResult::Failed(e),
    };
    let caller_reference = format!(
        "opsconsole-{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let batch = Paths::builder()
        .quantity(paths.len() as i32)
        .set_items(Some(paths.clone()))
        .build()
        .map_err(|e| e.to_string())
        .and_then(|p| {
            InvalidationBatch::builder()
                .paths(p)
                .caller_reference(caller_reference)
                .build()
                .map_err(|e| e.to_string())
        });
    let batch = match batch {
        Ok(b) => b,
        Err(e) => return ActionResult::Failed(format!("invalid invalidation request: {e}")),
    };
    let _ = tx.send(ActionEvent::Line(format!(
        "creating invalidation of {} on {dist}",
        paths.join(" ")
    )));
    let created = tokio::select! {
        _ = cancel.cancelled() => return ActionResult::Cancelled("before the invalidation was created".into()),
        r = client.create_invalidation().distribution_id(dist).invalidation_batch(batch).send() => r,
    };
    let created = match created {
        Ok(c) => c,
        Err(e) => {
            return ActionResult::Failed(format!(
                "CloudFront CreateInvalidation failed ({}): nothing was invalidated; run :invalidate again",
                crate::aws::failure_cause(&e, "CloudFront")
            ));
        }
    };
    let Some(inv) = created.invalidation() else {
        return ActionResult::Failed("CreateInvalidation returned no invalidation".into());
    };
    let id = inv.id().to_string();
    let mut status = inv.status().to_string();
    let _ = tx.send(ActionEvent::Line(format!(
        "invalidation {id} created: {status}"
    )));
    let mut polls = 0u32;
    while !is_completed(&status) {
        if polls >= env.max_polls {
            return ActionResult::Failed(format!(
                "invalidation {id} still {status} after {polls} polls; follow it in the CloudFront panel"
            ));
        }
        if !sleep_or_cancel(env.poll_interval, cancel).await {
            return ActionResult::Cancelled(format!(
                "stopped following invalidation {id} ({status}); it continues in CloudFront"
            ));
        }
        polls += 1;
        let got = tokio::select! {
            _ = cancel.cancelled() => return ActionResult::Cancelled(format!(
                "stopped following invalidation {id} ({status}); it continues in CloudFront")),
            r = client.get_invalidation().distribution_id(dist).id(&id).send() => r,
        };
        match got {
            Ok(g) => {
                let new = g
                    .invalidation()
                    .map(|i| i.status().to_string())
                    .unwrap_or_default();
                if new != status {
                    let _ = tx.send(ActionEvent::Line(format!("invalidation {id}: {new}")));
                }
                status = new;
                let _ = tx.send(ActionEvent::Progress(format!(
                    "invalidation {id}: {status} (poll {polls})"
                )));
            }
            Err(e) => {
                // One failed poll is not the end: report it and keep following.
                let _ = tx.send(ActionEvent::Line(format!(
                    "CloudFront GetInvalidation failed (poll {polls}: {}); still following it",
                    crate::aws::failure_cause(&e, "CloudFront")
                )));
            }
        }
    }
    ActionResult::Ok(format!(
        "invalidation {id} of {} completed",
        paths.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_compares_without_case() {
        assert!(is_completed("Completed"));
        assert!(is_completed("COMPLETED"));
        assert!(!is_completed("InProgress"));
        assert!(!is_completed(""));
    }

    #[test]
    fn paths_default_and_validation() {
        assert_eq!(normalise_paths(&[]).unwrap(), vec!["/*"]);
        assert_eq!(
            normalise_paths(&["/a".into(), " /b/* ".into()]).unwrap(),
            vec!["/a", "/b/*"]
        );
        assert!(normalise_paths(&["index.html".into()]).is_err());
    }
}
