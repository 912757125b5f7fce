//! IAM and Lambda: the function's execution role and the container-image function.

use anyhow::Context as _;
use aws_config::SdkConfig;
use serde_json::json;

use super::{MEMORY_MB, Names};

/// The function's timeout (modules/backend: the streaming integration waits up to 900 s).
const TIMEOUT_S: i32 = 900;

pub(super) async fn seed_lambda(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    let iam = aws_sdk_iam::Client::new(sdk);
    let assume = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    });
    let role = iam
        .create_role()
        .role_name(&n.role)
        .assume_role_policy_document(assume.to_string())
        .send()
        .await
        .context("IAM CreateRole")?;
    let role_arn = role
        .role()
        .map(|r| r.arn().to_string())
        .context("IAM CreateRole returned no role")?;
    let lambda = aws_sdk_lambda::Client::new(sdk);
    lambda
        .create_function()
        .function_name(&n.function)
        .role(role_arn)
        .package_type(aws_sdk_lambda::types::PackageType::Image)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .image_uri(format!("{}:sandbox", n.ecr_repository_url))
                .build(),
        )
        .memory_size(MEMORY_MB as i32)
        .timeout(TIMEOUT_S)
        .architectures(aws_sdk_lambda::types::Architecture::X8664)
        .description("LibreChat API (opsconsole sandbox)")
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("CONFIG_S3_BUCKET", &n.config_bucket)
                .variables("CONFIG_S3_KEY", &n.config_key)
                .variables("SHIM_DIAGNOSTICS_TOKEN_SSM", n.token_parameter())
                .build(),
        )
        .send()
        .await
        .context("Lambda CreateFunction")?;
    Ok(())
}
