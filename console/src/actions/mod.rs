//! Actions that change the deployment: `terraform plan`/`apply`, `:deploy image`, CloudFront
//! invalidations. Each runs as one tokio task that streams [`ActionEvent`]s to the TUI over a
//! channel and stops when its [`CancellationToken`] fires. The TUI owns the confirm step,
//! the read-only refusal and the audit records (see `crate::tui::app`); this module only runs.

pub mod audit;
pub(crate) mod deploy;
pub mod invalidate;
pub(crate) mod terraform;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionRequest {
    /// `terraform plan` for the environment: the first step of `:apply` (changes nothing).
    Plan,
    /// `terraform apply` of the plan file that was shown and confirmed.
    Apply { plan_file: PathBuf },
    /// Build and push the Lambda image (unless `image` names one already pushed), update the
    /// function, wait for `LastUpdateStatus=Successful`; the TUI then verifies (health + SSE).
    DeployImage { image: Option<String> },
    /// Create a CloudFront invalidation and follow it to completion.
    Invalidate { paths: Vec<String> },
}

impl ActionRequest {
    /// The name written to the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            ActionRequest::Plan => "plan",
            ActionRequest::Apply { .. } => "apply",
            ActionRequest::DeployImage { .. } => "deploy-image",
            ActionRequest::Invalidate { .. } => "invalidate",
        }
    }

    pub fn arguments(&self) -> serde_json::Value {
        match self {
            ActionRequest::Plan => serde_json::json!({}),
            ActionRequest::Apply { plan_file } => {
                serde_json::json!({ "plan_file": plan_file.display().to_string() })
            }
            ActionRequest::DeployImage { image } => serde_json::json!({ "image": image }),
            ActionRequest::Invalidate { paths } => serde_json::json!({ "paths": paths }),
        }
    }

    /// Whether it reads files of the checkout: the Terraform environment, or the Dockerfile to
    /// build the image from.
    pub(crate) fn needs_repo(&self) -> bool {
        match self {
            ActionRequest::Plan | ActionRequest::Apply { .. } => true,
            ActionRequest::DeployImage { image } => image.is_none(),
            ActionRequest::Invalidate { .. } => false,
        }
    }

    /// A one-line description for the activity pane and the confirm popup.
    pub fn describe(&self) -> String {
        match self {
            ActionRequest::Plan => "terraform plan".into(),
            ActionRequest::Apply { .. } => "terraform apply (the plan shown)".into(),
            ActionRequest::DeployImage { image: Some(i) } => format!("deploy image {i}"),
            ActionRequest::DeployImage { image: None } => {
                "deploy image (build, push, update function)".into()
            }
            ActionRequest::Invalidate { paths } => {
                format!("invalidate CloudFront {}", paths.join(" "))
            }
        }
    }
}

/// How an action ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionResult {
    Ok(String),
    Failed(String),
    Cancelled(String),
}

impl ActionResult {
    /// The `result` field of the audit record.
    pub(crate) fn audit_text(&self) -> String {
        match self {
            ActionResult::Ok(s) => format!("ok: {s}"),
            ActionResult::Failed(s) => format!("failed: {s}"),
            ActionResult::Cancelled(s) => format!("cancelled: {s}"),
        }
    }
}

/// What a running action reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionEvent {
    /// One line of output (terraform, docker) or a step taken.
    Line(String),
    /// The current progress, replacing the previous one (e.g. `InProgress (poll 3)`).
    Progress(String),
    /// `terraform plan` finished: the summary to confirm before applying.
    PlanReady {
        summary: String,
        plan_file: PathBuf,
        changes: bool,
    },
    Finished(ActionResult),
}

/// Everything the actions need about the environment (built from the run's context).
#[derive(Debug, Clone)]
pub struct ActionEnv {
    pub env: String,
    /// The Terraform root module of the environment.
    pub tf_dir: PathBuf,
    pub terraform_bin: PathBuf,
    pub docker_bin: PathBuf,
    /// Docker build context and Dockerfile of the Lambda image.
    pub image_context: PathBuf,
    pub dockerfile: Option<PathBuf>,
    pub cloudfront: Option<aws_sdk_cloudfront::Client>,
    pub lambda: Option<aws_sdk_lambda::Client>,
    pub distribution_id: Option<String>,
    pub function_name: Option<String>,
    pub ecr_repository_url: Option<String>,
    /// Interval between status polls, and the most polls before giving up.
    pub poll_interval: Duration,
    pub max_polls: u32,
    /// Why there is no checkout (the paths above are then relative to `.`): the actions that
    /// need it (plan, apply, building the image) fail with this instead of a missing file.
    pub repo_error: Option<String>,
}

impl ActionEnv {
    /// Defaults for an environment: paths relative to `repo_root`, no AWS clients.
    pub fn new(env: &str, repo_root: &std::path::Path) -> Self {
        ActionEnv {
            env: env.to_string(),
            tf_dir: repo_root
                .join("infrastructure/terraform/environments")
                .join(env),
            terraform_bin: PathBuf::from("terraform"),
            docker_bin: PathBuf::from("docker"),
            // As `task docker:build`: the repository root as context, the backend module's
            // Dockerfile.
            image_context: repo_root.to_path_buf(),
            dockerfile: Some(
                repo_root.join("infrastructure/terraform/modules/backend/docker/Dockerfile"),
            ),
            cloudfront: None,
            lambda: None,
            distribution_id: None,
            function_name: None,
            ecr_repository_url: None,
            poll_interval: Duration::from_secs(5),
            max_polls: 360,
            repo_error: None,
        }
    }
}

/// Starts `req` on its own task. Every path ends with exactly one `ActionEvent::Finished`.
pub fn spawn(
    env: Arc<ActionEnv>,
    req: ActionRequest,
    tx: UnboundedSender<ActionEvent>,
    cancel: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Some(e) = env.repo_error.as_ref().filter(|_| req.needs_repo()) {
            let msg = format!("{} needs the opsconsole checkout: {e}", req.describe());
            let _ = tx.send(ActionEvent::Finished(ActionResult::Failed(msg)));
            return;
        }
        let result = match req {
            ActionRequest::Plan => terraform::plan(&env, &tx, &cancel).await,
            ActionRequest::Apply { plan_file } => {
                terraform::apply(&env, &plan_file, &tx, &cancel).await
            }
            ActionRequest::DeployImage { image } => {
                deploy::deploy_image(&env, image, &tx, &cancel).await
            }
            ActionRequest::Invalidate { paths } => {
                invalidate::run(&env, &paths, &tx, &cancel).await
            }
        };
        let _ = tx.send(ActionEvent::Finished(result));
    })
}

/// Sleeps `d` unless cancelled first (returns false when cancelled).
pub(crate) async fn sleep_or_cancel(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}
