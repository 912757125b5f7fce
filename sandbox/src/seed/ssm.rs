//! SSM: the SecureString parameters the shim resolves at cold start.

use anyhow::Context as _;
use aws_config::SdkConfig;

use super::Names;

/// The shim's secrets (`SHIM_SSM_SECRETS`) and its diagnostics token.
pub(super) async fn seed_secrets(sdk: &SdkConfig, n: &Names, token: &str) -> anyhow::Result<()> {
    let ssm = aws_sdk_ssm::Client::new(sdk);
    let mut params: Vec<(String, String)> = n
        .secret_parameters()
        .into_iter()
        .map(|(name, p)| (p, format!("sandbox-{}", name.to_ascii_lowercase())))
        .collect();
    params.push((n.token_parameter(), token.to_string()));
    for (name, value) in params {
        ssm.put_parameter()
            .name(&name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| format!("SSM PutParameter {name}"))?;
    }
    Ok(())
}
