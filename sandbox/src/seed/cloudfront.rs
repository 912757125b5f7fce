//! CloudFront: the distribution in front of the site's origin.

use aws_config::SdkConfig;
use opsconsole_testsupport::seed::{ApiOrigin, create_api_distribution};

use super::{Names, Seeded, now_ms};

pub(super) async fn seed_cloudfront(
    sdk: &SdkConfig,
    n: &Names,
    site_origin: &str,
) -> anyhow::Result<Seeded> {
    let cf = aws_sdk_cloudfront::Client::new(sdk);
    let stage = format!("/{}", n.stage);
    let origin = ApiOrigin {
        domain_name: site_origin,
        origin_path: Some(&stage),
        https: false,
    };
    let (distribution_id, distribution_domain) = create_api_distribution(
        &cf,
        origin,
        &format!("opsconsole-sandbox-{}", now_ms()),
        &format!("LibreChat {} (opsconsole sandbox)", n.env),
    )
    .await?;
    Ok(Seeded {
        distribution_id,
        distribution_domain,
    })
}
