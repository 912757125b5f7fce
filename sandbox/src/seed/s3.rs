//! S3: the frontend, files and config buckets, the shim's `librechat.yaml` and a placeholder
//! `index.html`.

use anyhow::Context as _;
use aws_config::SdkConfig;

use super::Names;

/// What a librechat.yaml needs to fit Lambda (issue 30, infrastructure/README.md): files in the
/// files bucket, and every file size limit (MB) under what one invocation carries (about
/// 4.4 MB). LibreChat's built-in endpoints keep their own 512 MB unless named.
pub(crate) const FILES_FIT_LAMBDA: &str =
    include_str!("../../../infrastructure/librechat-files.yaml");

/// The config object of the plain sandbox (the stand-in LibreChat).
pub(crate) fn seeded_librechat_yaml(env: &str) -> String {
    format!(
        "# librechat.yaml seeded by opsconsole sandbox\nversion: 1.2.1\ncache: true\ninterface:\n  privacyPolicy:\n    externalUrl: 'https://genai.{env}.data.apro.is/privacy'\n{FILES_FIT_LAMBDA}"
    )
}

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
    let yaml = seeded_librechat_yaml(&n.env);
    s3.put_object()
        .bucket(&n.config_bucket)
        .key(&n.config_key)
        .body(aws_sdk_s3::primitives::ByteStream::from(yaml.into_bytes()))
        .send()
        .await
        .context("S3 PutObject librechat.yaml")?;
    // A placeholder frontend shaped like the real one: index.html (not cached) naming a hashed
    // script and stylesheet (immutable), with the content types and cache headers the frontend
    // module's upload.sh sets, so the console's frontend check has something to fetch.
    for (key, content_type, cache_control, body) in PLACEHOLDER_FRONTEND {
        s3.put_object()
            .bucket(&n.frontend_bucket)
            .key(*key)
            .content_type(*content_type)
            .cache_control(*cache_control)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(
                body.as_bytes(),
            ))
            .send()
            .await
            .with_context(|| format!("S3 PutObject {key}"))?;
    }
    Ok(())
}

/// The placeholder frontend: `(key, content type, cache control, body)`.
pub const PLACEHOLDER_FRONTEND: &[(&str, &str, &str, &str)] = &[
    (
        "index.html",
        "text/html",
        "no-cache",
        "<!doctype html><html><head><title>LibreChat (sandbox)</title>\
         <script type=\"module\" crossorigin src=\"./assets/sandbox.0a1b2c3d.js\"></script>\
         <link rel=\"stylesheet\" href=\"./assets/sandbox.4e5f6a7b.css\"></head>\
         <body><div id=\"root\">LibreChat (sandbox placeholder)</div></body></html>",
    ),
    (
        "assets/sandbox.0a1b2c3d.js",
        "application/javascript",
        "public, max-age=31536000, immutable",
        "document.title = 'LibreChat (sandbox)';",
    ),
    (
        "assets/sandbox.4e5f6a7b.css",
        "text/css",
        "public, max-age=31536000, immutable",
        "body { font-family: sans-serif; }",
    ),
];

#[cfg(test)]
mod tests {
    /// The sandbox's config objects pass the console's files judge (issue 30): the plain one and
    /// `--librechat`'s (tools/librechat-local/librechat.yaml with [`super::FILES_FIT_LAMBDA`]).
    #[test]
    fn the_sandboxs_config_objects_fit_lambda() {
        let plain = super::seeded_librechat_yaml("sbx");
        let j = opsconsole::domain::files::judge(&plain);
        assert!(j.findings.is_empty(), "{plain}\n{:#?}", j.findings);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let local = crate::peers::librechat_yaml(&root, false).expect("tools/librechat-local");
        let j = opsconsole::domain::files::judge(&local);
        assert!(j.findings.is_empty(), "{local}\n{:#?}", j.findings);
    }

    /// infrastructure/README.md shows the same YAML as infrastructure/librechat-files.yaml.
    #[test]
    fn the_readme_shows_the_files_config_the_sandbox_uses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let readme = std::fs::read_to_string(root.join("infrastructure/README.md")).unwrap();
        let body: String = super::FILES_FIT_LAMBDA
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(readme.contains(&format!("```yaml\n{body}```")), "{body}");
    }
}
