//! `:apply`: `terraform plan -out` for the environment (its summary is shown and confirmed in
//! the TUI), then `terraform apply PLANFILE`. Output streams line by line to the activity pane.
//! Cancelling sends SIGINT (terraform stops gracefully and releases its state lock), then
//! kills the process if it has not exited after 10 s.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::{ActionEnv, ActionEvent, ActionResult};

/// The plan summary line (`Plan: 1 to add, 0 to change, 0 to destroy.`, `No changes. ...`)
/// found in terraform's output, if any.
pub(crate) fn plan_summary(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with("Plan:") || l.starts_with("No changes."))
        .map(str::to_string)
}

pub(crate) enum RunEnd {
    Exited(ExitStatus),
    Cancelled,
}

/// Runs `cmd`, sending each stdout/stderr line as an [`ActionEvent::Line`] and collecting them.
pub(crate) async fn run_streaming(
    mut cmd: Command,
    tx: &UnboundedSender<ActionEvent>,
    cancel: &CancellationToken,
    collected: &mut Vec<String>,
) -> Result<RunEnd, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let program = format!("{:?}", cmd.as_std().get_program());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let (line_tx, mut line_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    if let Some(out) = child.stdout.take() {
        let t = line_tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let _ = t.send(l);
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        let t = line_tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let _ = t.send(l);
            }
        });
    }
    drop(line_tx);
    let mut cancelled = false;
    let mut interrupted_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            line = line_rx.recv() => match line {
                Some(l) => {
                    let _ = tx.send(ActionEvent::Line(l.clone()));
                    collected.push(l);
                }
                None => break,
            },
            _ = cancel.cancelled(), if !cancelled => {
                cancelled = true;
                interrupted_at = Some(tokio::time::Instant::now());
                let _ = tx.send(ActionEvent::Line("cancelling: sent SIGINT".into()));
                if let Some(pid) = child.id() {
                    let _ = Command::new("kill").arg("-INT").arg(pid.to_string()).status().await;
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(500)), if cancelled => {
                if interrupted_at.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
                    let _ = child.start_kill();
                }
            }
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| format!("waiting for {program}: {e}"))?;
    if cancelled {
        Ok(RunEnd::Cancelled)
    } else {
        Ok(RunEnd::Exited(status))
    }
}

fn terraform(env: &ActionEnv) -> Command {
    let mut cmd = Command::new(&env.terraform_bin);
    cmd.arg(format!("-chdir={}", env.tf_dir.display()));
    cmd.env("TF_IN_AUTOMATION", "1");
    cmd
}

pub async fn plan(
    env: &ActionEnv,
    tx: &UnboundedSender<ActionEvent>,
    cancel: &CancellationToken,
) -> ActionResult {
    if !env.tf_dir.is_dir() {
        return ActionResult::Failed(format!(
            "no Terraform directory {} for environment {}",
            env.tf_dir.display(),
            env.env
        ));
    }
    let mut lines = Vec::new();
    if !env.tf_dir.join(".terraform").exists() {
        let _ = tx.send(ActionEvent::Line("terraform init".into()));
        let mut init = terraform(env);
        init.args(["init", "-input=false", "-no-color"]);
        match run_streaming(init, tx, cancel, &mut lines).await {
            Ok(RunEnd::Exited(s)) if s.success() => {}
            Ok(RunEnd::Exited(s)) => {
                return ActionResult::Failed(format!("terraform init exited with {s}"));
            }
            Ok(RunEnd::Cancelled) => return ActionResult::Cancelled("during init".into()),
            Err(e) => return ActionResult::Failed(e),
        }
    }
    let plan_file = std::env::temp_dir().join(format!(
        "opsconsole-{}-{}.tfplan",
        env.env,
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    let _ = tx.send(ActionEvent::Line(format!(
        "terraform plan ({})",
        env.tf_dir.display()
    )));
    let mut cmd = terraform(env);
    cmd.args(["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .arg(format!("-out={}", plan_file.display()));
    lines.clear();
    match run_streaming(cmd, tx, cancel, &mut lines).await {
        Ok(RunEnd::Exited(s)) => {
            // -detailed-exitcode: 0 no changes, 2 changes, anything else an error.
            let changes = match s.code() {
                Some(0) => false,
                Some(2) => true,
                _ => return ActionResult::Failed(format!("terraform plan exited with {s}")),
            };
            let summary = plan_summary(&lines).unwrap_or_else(|| {
                if changes {
                    "changes planned".into()
                } else {
                    "No changes.".into()
                }
            });
            let _ = tx.send(ActionEvent::PlanReady {
                summary: summary.clone(),
                plan_file,
                changes,
            });
            ActionResult::Ok(summary)
        }
        Ok(RunEnd::Cancelled) => ActionResult::Cancelled("during plan".into()),
        Err(e) => ActionResult::Failed(e),
    }
}

pub async fn apply(
    env: &ActionEnv,
    plan_file: &Path,
    tx: &UnboundedSender<ActionEvent>,
    cancel: &CancellationToken,
) -> ActionResult {
    let _ = tx.send(ActionEvent::Line(format!(
        "terraform apply {}",
        plan_file.display()
    )));
    let mut cmd = terraform(env);
    cmd.args(["apply", "-input=false", "-no-color"])
        .arg(plan_file);
    let mut lines = Vec::new();
    let result = match run_streaming(cmd, tx, cancel, &mut lines).await {
        Ok(RunEnd::Exited(s)) if s.success() => {
            let summary = lines
                .iter()
                .rev()
                .map(|l| l.trim())
                .find(|l| l.starts_with("Apply complete!"))
                .unwrap_or("apply complete")
                .to_string();
            ActionResult::Ok(summary)
        }
        Ok(RunEnd::Exited(s)) => ActionResult::Failed(format!("terraform apply exited with {s}")),
        Ok(RunEnd::Cancelled) => {
            ActionResult::Cancelled("apply interrupted; check the state and rerun :apply".into())
        }
        Err(e) => ActionResult::Failed(e),
    };
    let _ = std::fs::remove_file(plan_file);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plan_summary() {
        let lines = vec![
            "Terraform will perform the following actions:".to_string(),
            "Plan: 1 to add, 2 to change, 0 to destroy.".to_string(),
            "Saved the plan to: x".to_string(),
        ];
        assert_eq!(
            plan_summary(&lines).as_deref(),
            Some("Plan: 1 to add, 2 to change, 0 to destroy.")
        );
        assert_eq!(
            plan_summary(&["No changes. Your infrastructure matches the configuration.".into()])
                .as_deref(),
            Some("No changes. Your infrastructure matches the configuration.")
        );
        assert_eq!(plan_summary(&["Error: boom".into()]), None);
    }
}
