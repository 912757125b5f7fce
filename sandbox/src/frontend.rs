//! The web client deployed as the Terraform frontend module deploys it: its own `upload.sh`
//! (`infrastructure/terraform/modules/frontend/upload.sh`: hashed `assets/*` immutable for a
//! year, everything else `no-cache`, the manifest's content type) run with the AWS CLI of
//! `.tools/venv` against the frontend bucket in moto. The CloudFront stand-in then serves the
//! bucket ([`crate::gateway::FrontendOrigin`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// The frontend module's upload script in a checkout.
pub fn upload_script(root: &Path) -> PathBuf {
    root.join("infrastructure/terraform/modules/frontend/upload.sh")
}

/// The built web client of a LibreChat tree (`client/dist` with its `assets/`), or `None` when
/// the tree has only the placeholder `index.html` that `setup.sh` leaves
/// (`../shared/librechat/install-client.sh DIR` installs the real one).
pub fn client_dist(tree: &Path) -> Option<PathBuf> {
    let dist = tree.join("client/dist");
    (dist.join("index.html").is_file() && dist.join("assets").is_dir()).then_some(dist)
}

/// Runs the frontend module's `upload.sh` for `dist` into `bucket` in moto (`moto_url`), with
/// moto's dummy credentials and never the developer's AWS configuration. Its output goes to
/// `log`.
pub async fn upload(
    root: &Path,
    dist: &Path,
    bucket: &str,
    moto_url: &str,
    region: &str,
    log: &Path,
) -> anyhow::Result<()> {
    let venv_bin = root.join(".tools/venv/bin");
    if !venv_bin.join("aws").is_file() {
        bail!(
            "the AWS CLI is not in {} (the frontend upload runs the Terraform module's upload.sh with it)\n  fix: scripts/bootstrap.sh venv",
            venv_bin.display()
        );
    }
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut dirs = vec![venv_bin.clone()];
            dirs.extend(std::env::split_paths(&p));
            std::env::join_paths(dirs).context("PATH with .tools/venv/bin")?
        }
        None => venv_bin.clone().into_os_string(),
    };
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone().context("log file handle")?;
    let no_config = log.with_extension("no-aws-config");
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(upload_script(root))
        .env("BUCKET", bucket)
        .env("DIST_DIR", dist)
        .env("PATH", path)
        .env("AWS_ENDPOINT_URL", moto_url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", region)
        .env("AWS_CONFIG_FILE", &no_config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &no_config)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    let status = tokio::time::timeout(Duration::from_secs(300), cmd.status())
        .await
        .context("upload.sh did not finish within 300 s")?
        .context("running upload.sh")?;
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(8).collect();
        bail!(
            "the frontend upload (upload.sh {} -> s3://{bucket}) failed ({status}):\n    {}",
            dist.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
        );
    }
    Ok(())
}
