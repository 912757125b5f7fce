//! `:deploy image [URI]`: build and push the Lambda image (skipped when URI names an image
//! already in ECR), `UpdateFunctionCode` with it, then poll `GetFunctionConfiguration` until
//! `LastUpdateStatus` is `Successful` (or `Failed`). The post-deploy verification (health check
//! and SSE probe) is started by the TUI when this finishes successfully, through the collectors.

use tokio::process::Command;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::terraform::{RunEnd, run_streaming};
use super::{ActionEnv, ActionEvent, ActionResult, sleep_or_cancel};

/// The tag of a freshly built image: `REPO:opsconsole-YYYYMMDDhhmmss`.
pub(crate) fn image_tag(repository_url: &str, now: time::OffsetDateTime) -> String {
    format!(
        "{}:opsconsole-{:04}{:02}{:02}{:02}{:02}{:02}",
        repository_url.trim_end_matches('/'),
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// What a `LastUpdateStatus` means for the wait loop.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UpdateProgress {
    Done,
    Failed,
    Waiting,
}

pub(crate) fn classify_update(status: Option<&str>) -> UpdateProgress {
    match status.map(|s| s.to_ascii_lowercase()) {
        Some(s) if s == "successful" => UpdateProgress::Done,
        Some(s) if s == "failed" => UpdateProgress::Failed,
        _ => UpdateProgress::Waiting,
    }
}

async fn build_and_push(
    env: &ActionEnv,
    tx: &UnboundedSender<ActionEvent>,
    cancel: &CancellationToken,
) -> Result<String, ActionResult> {
    let Some(repo) = env.ecr_repository_url.as_deref() else {
        return Err(ActionResult::Failed(
            "the outputs have no ecr_repository_url; give an image: :deploy image URI".into(),
        ));
    };
    let tag = image_tag(repo, time::OffsetDateTime::now_utc());
    let mut lines = Vec::new();
    let mut build = Command::new(&env.docker_bin);
    // Lambda rejects image indexes with provenance attestations: --provenance=false.
    build.args([
        "build",
        "--platform",
        "linux/amd64",
        "--provenance=false",
        "-t",
        &tag,
    ]);
    if let Some(f) = &env.dockerfile {
        build.arg("-f").arg(f);
    }
    build.arg(&env.image_context);
    let _ = tx.send(ActionEvent::Line(format!("docker build -t {tag}")));
    let _ = tx.send(ActionEvent::Progress("building image".into()));
    match run_streaming(build, tx, cancel, &mut lines).await {
        Ok(RunEnd::Exited(s)) if s.success() => {}
        Ok(RunEnd::Exited(s)) => {
            return Err(ActionResult::Failed(format!(
                "docker build exited with {s}"
            )));
        }
        Ok(RunEnd::Cancelled) => return Err(ActionResult::Cancelled("during build".into())),
        Err(e) => return Err(ActionResult::Failed(e)),
    }
    let mut push = Command::new(&env.docker_bin);
    push.args(["push", &tag]);
    let _ = tx.send(ActionEvent::Line(format!("docker push {tag}")));
    let _ = tx.send(ActionEvent::Progress("pushing image".into()));
    match run_streaming(push, tx, cancel, &mut lines).await {
        Ok(RunEnd::Exited(s)) if s.success() => Ok(tag),
        Ok(RunEnd::Exited(s)) => Err(ActionResult::Failed(format!(
            "docker push exited with {s} (logged in to ECR? `aws ecr get-login-password | docker login --username AWS --password-stdin {repo}`)"
        ))),
        Ok(RunEnd::Cancelled) => Err(ActionResult::Cancelled("during push".into())),
        Err(e) => Err(ActionResult::Failed(e)),
    }
}

pub(crate) async fn deploy_image(
    env: &ActionEnv,
    image: Option<String>,
    tx: &UnboundedSender<ActionEvent>,
    cancel: &CancellationToken,
) -> ActionResult {
    let Some(client) = env.lambda.as_ref() else {
        return ActionResult::Failed("no Lambda client for this environment".into());
    };
    let Some(function) = env.function_name.as_deref() else {
        return ActionResult::Failed("the outputs have no lambda_function_name".into());
    };
    let image = match image {
        Some(i) => i,
        None => match build_and_push(env, tx, cancel).await {
            Ok(i) => i,
            Err(r) => return r,
        },
    };
    let _ = tx.send(ActionEvent::Line(format!(
        "UpdateFunctionCode {function} -> {image}"
    )));
    let updated = tokio::select! {
        _ = cancel.cancelled() => return ActionResult::Cancelled("before the function was updated".into()),
        r = client.update_function_code().function_name(function).image_uri(&image).send() => r,
    };
    if let Err(e) = updated {
        return ActionResult::Failed(format!(
            "Lambda UpdateFunctionCode failed ({}): the function still runs its previous image; run :deploy image again",
            crate::aws::failure_cause(&e, "Lambda")
        ));
    }
    let mut polls = 0u32;
    loop {
        let got = tokio::select! {
            _ = cancel.cancelled() => return ActionResult::Cancelled(
                "stopped waiting; the function update continues in Lambda".into()),
            r = client.get_function_configuration().function_name(function).send() => r,
        };
        match got {
            Ok(cfg) => {
                let status = cfg.last_update_status().map(|s| s.as_str().to_string());
                let state = cfg.state().map(|s| s.as_str().to_string());
                let _ = tx.send(ActionEvent::Progress(format!(
                    "function {function}: state {}, update {} (poll {polls})",
                    state.as_deref().unwrap_or("?"),
                    status.as_deref().unwrap_or("?")
                )));
                match classify_update(status.as_deref()) {
                    UpdateProgress::Done => {
                        let _ = tx.send(ActionEvent::Line(format!(
                            "function {function} updated: LastUpdateStatus Successful"
                        )));
                        return ActionResult::Ok(format!("{function} runs {image}"));
                    }
                    UpdateProgress::Failed => {
                        return ActionResult::Failed(format!(
                            "function update failed: {}",
                            cfg.last_update_status_reason().unwrap_or("no reason given")
                        ));
                    }
                    UpdateProgress::Waiting => {}
                }
            }
            Err(e) => {
                let _ = tx.send(ActionEvent::Line(format!(
                    "Lambda GetFunctionConfiguration failed (poll {polls}: {}); still waiting",
                    crate::aws::failure_cause(&e, "Lambda")
                )));
            }
        }
        polls += 1;
        if polls >= env.max_polls {
            return ActionResult::Failed(format!(
                "function {function} not Successful after {polls} polls"
            ));
        }
        if !sleep_or_cancel(env.poll_interval, cancel).await {
            return ActionResult::Cancelled(
                "stopped waiting; the function update continues in Lambda".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_is_timestamped() {
        let t = time::macros::datetime!(2026-11-21 23:05:09 UTC);
        assert_eq!(
            image_tag("1.dkr.ecr.eu-west-1.amazonaws.com/librechat/", t),
            "1.dkr.ecr.eu-west-1.amazonaws.com/librechat:opsconsole-20261121230509"
        );
    }

    #[test]
    fn update_status_classification() {
        assert_eq!(classify_update(Some("Successful")), UpdateProgress::Done);
        assert_eq!(classify_update(Some("Failed")), UpdateProgress::Failed);
        assert_eq!(classify_update(Some("InProgress")), UpdateProgress::Waiting);
        assert_eq!(classify_update(None), UpdateProgress::Waiting);
    }
}
