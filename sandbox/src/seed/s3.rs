//! S3: the frontend, files and config buckets, the shim's `librechat.yaml` and a placeholder
//! `index.html`.

use anyhow::Context as _;
use aws_config::SdkConfig;

use super::Names;

/// The buckets (modules/frontend, modules/backend) and their seeded objects.
pub(super) async fn seed_config(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    let buckets = [&n.frontend_bucket, &n.files_bucket, &n.config_bucket];
    for b in buckets {
        let mut req = s3.create_bucket().bucket(b.as_str());
        if n.region != "us-east-1" {
            req = req.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        n.region.as_str(),
                    ))
                    .build(),
            );
        }
        req.send()
            .await
            .with_context(|| format!("S3 CreateBucket {b}"))?;
    }
    let yaml = format!(
        "# librechat.yaml seeded by opsconsole sandbox\nversion: 1.2.1\ncache: true\ninterface:\n  privacyPolicy:\n    externalUrl: 'https://genai.{}.data.apro.is/privacy'\n",
        n.env
    );
    s3.put_object()
        .bucket(&n.config_bucket)
        .key(&n.config_key)
        .body(aws_sdk_s3::primitives::ByteStream::from(yaml.into_bytes()))
        .send()
        .await
        .context("S3 PutObject librechat.yaml")?;
    s3.put_object()
        .bucket(&n.frontend_bucket)
        .key("index.html")
        .content_type("text/html")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"<!doctype html><title>LibreChat (sandbox)</title>",
        ))
        .send()
        .await
        .context("S3 PutObject index.html")?;
    Ok(())
}
