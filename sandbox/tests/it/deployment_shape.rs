//! The sandbox cannot drift from the Terraform (issue 11): moto seeded exactly as the sandbox
//! seeds it, read back with the same AWS calls and the same normalization as apply-local uses on
//! what `terraform apply` of environments/dev creates (`infrastructure/scripts/apply_local.py
//! shape`), must equal the committed `infrastructure/deployment-shape.json` - which apply-local
//! checks against the applied Terraform on every run. So both sides agree through the file.
//!
//! On a difference the test prints one line per field (`alarms.{prefix}-lambda-errors.threshold:
//! expected 5.0, found 6.0`) and what the sandbox seeded (`actual.json`); fix the seed
//! (`sandbox/src/seed.rs`, `alarms.rs`, `outputs.rs`): the Terraform is the truth.

use std::process::Stdio;
use std::time::Duration;

use opsconsole_testsupport::moto::{MotoServer, venv_python};
use opsconsole_testsupport::repo_root;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_seeds_what_terraform_apply_creates() {
    let root = repo_root();
    let moto = tokio::task::block_in_place(MotoServer::start).expect("moto started");
    let outputs = opsconsole_sandbox::seed_only(&moto)
        .await
        .expect("the sandbox's seed into moto");
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs_file = dir.path().join("outputs.json");
    std::fs::write(
        &outputs_file,
        serde_json::to_vec_pretty(&outputs).expect("outputs JSON"),
    )
    .expect("write outputs.json");
    let actual = dir.path().join("actual.json");
    let shape_file = root.join("infrastructure/deployment-shape.json");

    let mut cmd = tokio::process::Command::new(venv_python().expect("the venv's python"));
    cmd.arg(root.join("infrastructure/scripts/apply_local.py"))
        .args(["shape", "--endpoint", moto.endpoint_url()])
        .arg(&outputs_file)
        .args(["--env", "sandbox", "--check"])
        .arg(&shape_file)
        .arg("--actual")
        .arg(&actual)
        // moto's credentials; never the developer's profile or configuration
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-credentials"),
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("apply_local.py shape finished within 120 s")
        .expect("apply_local.py shape ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let found = std::fs::read_to_string(&actual).unwrap_or_default();
    assert!(
        out.status.success(),
        "what the sandbox seeds differs from what `terraform apply` of environments/dev creates \
         ({}); fix the seed (sandbox/src/seed.rs, alarms.rs, outputs.rs):\n{stderr}\n\
         what the sandbox seeded:\n{found}",
        shape_file.display()
    );
    // The check looked at the whole deployment, not an empty moto.
    let shape: serde_json::Value = serde_json::from_str(&found).expect("actual.json");
    assert_eq!(shape["alarms"].as_object().map(|a| a.len()), Some(12));
    assert!(
        shape["names"]
            .as_object()
            .expect("names")
            .values()
            .all(|v| !v.is_null()),
        "every name the shape lists was found in moto: {}",
        shape["names"]
    );
}
