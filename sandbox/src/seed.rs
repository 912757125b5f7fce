//! Seeds moto through the SDK with what the Terraform would create: the IAM role and the Lambda
//! function, its log group (REPORT lines cold and warm, the shim's EMF cold-start lines), the
//! 10 alarms of the monitoring module and the 2 of the canary module (enabled by default in
//! environments/dev), metric data for the sparklines and charts, the dashboard, the Redis
//! replication group, the CloudFront distribution, the buckets (with the shim's
//! `librechat.yaml`) and the SSM parameters the shim resolves at cold start.
//!
//! Names and definitions follow the default dev deployment; `sandbox/tests/it/deployment_shape.rs`
//! compares what this seeds with `infrastructure/deployment-shape.json`, which apply-local checks
//! against what `terraform apply` creates.
//!
//! One file per service under `seed/`: `s3`, `ssm`, `lambda` (and its IAM role), `logs`,
//! `metrics` and `cloudwatch` (alarms, dashboard), `elasticache`, `cloudfront`.

use aws_config::SdkConfig;
use opsconsole_wire::emf;

use super::Fault;

mod cloudfront;
mod cloudwatch;
mod elasticache;
mod lambda;
mod logs;
mod metrics;
pub(crate) mod s3;
mod ssm;

/// The function's memory (modules/backend `memory_size`'s default), also in the REPORT lines.
pub(crate) const MEMORY_MB: u32 = 1024;
/// The REST API's stage (modules/api-gateway `stage_name`'s default).
const STAGE: &str = "prod";

/// The names of one sandbox deployment, derived like the Terraform's (`librechat-${env}`).
#[derive(Debug, Clone)]
pub(crate) struct Names {
    pub env: String,
    pub prefix: String,
    pub region: String,
    pub account: String,
    pub function: String,
    pub log_group: String,
    pub role: String,
    pub api_id: String,
    pub stage: String,
    pub redis_group: String,
    /// The member cluster the monitoring module's Redis alarms watch.
    pub redis_cluster: String,
    pub frontend_bucket: String,
    pub files_bucket: String,
    pub config_bucket: String,
    pub config_key: String,
    pub ssm_prefix: String,
    pub ecr_repository_url: String,
    pub shim_namespace: String,
    pub dashboard: String,
}

impl Names {
    pub(crate) fn new(env: &str, region: &str) -> Names {
        let prefix = format!("librechat-{env}");
        let account = opsconsole_testsupport::moto::MOTO_ACCOUNT.to_string();
        let function = format!("{prefix}-api");
        Names {
            env: env.into(),
            region: region.into(),
            log_group: format!("/aws/lambda/{function}"),
            role: format!("{function}-lambda"),
            api_id: "sbx0api1".into(),
            stage: STAGE.into(),
            redis_group: format!("{prefix}-redis"),
            redis_cluster: format!("{prefix}-redis-001"),
            // environments/dev names the two buckets after the environment, not the prefix.
            frontend_bucket: format!("librechat-frontend-{env}"),
            files_bucket: format!("librechat-lambda-files-{env}"),
            config_bucket: format!("{prefix}-config"),
            config_key: "librechat.yaml".into(),
            ssm_prefix: format!("/{prefix}"),
            ecr_repository_url: format!("{account}.dkr.ecr.{region}.amazonaws.com/{function}"),
            shim_namespace: emf::NAMESPACE.into(),
            dashboard: prefix.clone(),
            account,
            function,
            prefix,
        }
    }

    pub(crate) fn alarm_name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }

    pub(crate) fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account, self.function
        )
    }

    /// The SSM parameter holding the shim's diagnostics token.
    pub(crate) fn token_parameter(&self) -> String {
        format!("{}/shim-diagnostics-token", self.ssm_prefix)
    }

    /// `NAME=parameter` pairs for `SHIM_SSM_SECRETS`.
    pub(crate) fn secret_parameters(&self) -> Vec<(String, String)> {
        [
            "CREDS_KEY",
            "CREDS_IV",
            "JWT_SECRET",
            "JWT_REFRESH_SECRET",
            "MONGO_URI",
        ]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                format!("{}/{}", self.ssm_prefix, n.to_ascii_lowercase()),
            )
        })
        .collect()
    }
}

/// What seeding created that the outputs file needs.
#[derive(Debug, Clone)]
pub(crate) struct Seeded {
    pub distribution_id: String,
    pub distribution_domain: String,
}

/// A small deterministic generator so the sandbox looks the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as f64) / ((1u64 << 31) as f64)
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seeds everything. `east` is the us-east-1 configuration (CloudFront's alarm).
pub(crate) async fn seed(
    sdk: &SdkConfig,
    east: &SdkConfig,
    n: &Names,
    fault: Option<Fault>,
    site_origin: &str,
    diagnostics_token: &str,
) -> anyhow::Result<Seeded> {
    s3::seed_config(sdk, n).await?;
    ssm::seed_secrets(sdk, n, diagnostics_token).await?;
    lambda::seed_lambda(sdk, n).await?;
    logs::seed_logs(sdk, n, fault == Some(Fault::ColdStartStorm)).await?;
    elasticache::seed_redis(sdk, n).await?;
    let seeded = cloudfront::seed_cloudfront(sdk, n, site_origin).await?;
    let dist = seeded.distribution_id.as_str();
    metrics::seed_metrics(sdk, east, n, dist, fault == Some(Fault::ColdStartStorm)).await?;
    metrics::seed_canary_metrics(sdk, n).await?;
    cloudwatch::seed_alarms(sdk, east, n, dist, fault == Some(Fault::Alarm)).await?;
    cloudwatch::seed_canary_alarms(sdk, n).await?;
    cloudwatch::seed_dashboard(sdk, n).await?;
    Ok(seeded)
}
