//! `opsconsole init` all the way: plan, apply into moto with progress, the probe's verdict, in
//! apply-local's setting (infrastructure/scripts/apply-local.sh: the registry modules resolved
//! from TF_MODULES_DIR, the provider mirror, every endpoint at moto through an override file,
//! the project's moto extensions). The first apply fails on a resource the account already has
//! (an ECR repository of the same name): init names it; after the operator removes it, the
//! re-run continues from the state and ends with the verdict. Skipped, saying why, without the
//! registry modules (as apply-local is). Takes minutes (the AWS provider's own waits).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::isolated_env;
use opsconsole_testsupport::moto::venv_python;
use opsconsole_testsupport::repo_root;

const SERVICES: &[&str] = &[
    "acm",
    "apigateway",
    "cloudfront",
    "cloudwatch",
    "ec2",
    "ecr",
    "elasticache",
    "iam",
    "lambda",
    "logs",
    "resourcegroupstaggingapi",
    "route53",
    "s3",
    "scheduler",
    "sns",
    "ssm",
    "sts",
];

fn provider(alias: &str, endpoint: &str) -> String {
    let endpoints: String = SERVICES
        .iter()
        .map(|s| format!("    {s} = \"{endpoint}\"\n"))
        .collect();
    format!(
        "provider \"aws\" {{\n{alias}  skip_credentials_validation = true\n  skip_metadata_api_check = true\n  s3_use_path_style = true\n  max_retries = 1\n  endpoints {{\n{endpoints}  }}\n}}\n"
    )
}

fn run(a: &super::init::Account, env_dir: &Path, venv: &Path) -> (i32, Value, String) {
    let tmp = a.tmp.path();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    isolated_env(&mut cmd, tmp);
    let aws_config = tmp.join("aws-config");
    std::fs::write(
        &aws_config,
        "[default]\nregion = eu-west-1\ns3 =\n    addressing_style = path\n",
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let infra = repo_root().join("infrastructure");
    std::fs::create_dir_all(infra.join(".cache/plugins")).unwrap();
    cmd.env("TF_CLI_CONFIG_FILE", infra.join("terraform.rc"))
        .env("TF_PLUGIN_CACHE_DIR", infra.join(".cache/plugins"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("GOGC", "off")
        .env("GOMEMLIMIT", "1GiB")
        // upload.sh runs the aws CLI against moto
        .env("AWS_ENDPOINT_URL", a.moto.endpoint_url())
        .env("AWS_CONFIG_FILE", &aws_config)
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("PATH", path)
        .args([
            "init",
            "dev",
            "--json",
            "--yes",
            "--endpoint-url",
            a.moto.endpoint_url(),
        ])
        .arg("--dir")
        .arg(env_dir)
        .arg("--from")
        .arg(super::init::committed_tfvars())
        .args([
            "--probe-only",
            "alarms,lambda,redis,cloudfront",
            "--timeout",
            "60",
        ])
        .args(["--set", "build_image=false", "--set"])
        .arg(format!(
            "client_dist_dir={}",
            tmp.join("client-dist").display()
        ))
        .arg("--set")
        .arg(format!(
            "canary_package_path={}",
            tmp.join("canary-bootstrap.zip").display()
        ));
    let out = cmd.output().expect("run opsconsole init");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), doc, stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn init_applies_into_moto_names_a_failure_and_continues_to_the_verdict() {
    let root = repo_root();
    let modules = std::env::var("TF_MODULES_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("../shared/terraform-modules"));
    if !modules.is_dir() {
        eprintln!(
            "skipped: TF_MODULES_DIR not found ({}): apply-local's registry module copies are needed",
            modules.display()
        );
        return;
    }
    let venv = root.join(".tools/venv");
    // Every extension apply-local runs with (its moto).
    let all = "cloudfront.publish_function,elasticache.replication_group_members,elasticache.delete_cache_subnet_group,apigateway.openapi_import,s3.bucket_policy_conditions,cloudwatch.percentile_statistics,auth.session_token,iam.simulate_principal_policy";
    let a = super::init::account_with(
        true,
        &[
            ("OPSCONSOLE_MOTOEXT", all),
            ("MOTO_IAM_LOAD_MANAGED_POLICIES", "true"),
        ],
    )
    .await;
    a.moto
        .control(
            "/moto-api/state-manager/set-transition",
            r#"{"model_name": "cloudfront::distribution", "transition": {"progression": "immediate"}}"#,
        )
        .unwrap();
    // The configuration where it sits in a checkout (modules/backend hashes ../../../..'s sources).
    let work = a.tmp.path().join("repo");
    std::fs::create_dir_all(work.join("infrastructure")).unwrap();
    for f in ["Cargo.toml", "Cargo.lock", "shim"] {
        std::os::unix::fs::symlink(root.join(f), work.join(f)).unwrap();
    }
    let tf = work.join("infrastructure/terraform");
    let out = Command::new(venv_python().unwrap())
        .arg(root.join("infrastructure/scripts/resolve_registry_modules.py"))
        .arg(root.join("infrastructure/terraform"))
        .arg(&tf)
        .arg(&modules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env_dir = tf.join("environments/dev");
    let _ = std::fs::remove_file(env_dir.join("terraform.tfvars.json"));
    let ep = a.moto.endpoint_url();
    std::fs::write(
        env_dir.join("zz_init_test_override.tf"),
        format!(
            "terraform {{\n  backend \"local\" {{\n    path = \"terraform.tfstate\"\n  }}\n}}\n{}{}",
            provider("", ep),
            provider("  alias = \"us_east_1\"\n", ep)
        ),
    )
    .unwrap();

    // An ECR repository of the name the apply creates: its create fails.
    let ecr = aws_sdk_ecr::Client::new(&a.sdk().await);
    ecr.create_repository()
        .repository_name("librechat-dev-api")
        .send()
        .await
        .unwrap();
    let (code, doc, stderr) = run(&a, &env_dir, &venv);
    assert_eq!(code, 2, "{doc:#}\n{stderr}");
    assert_eq!(doc["status"], "failed");
    let failures = doc["apply"]["failures"].as_array().unwrap();
    assert!(
        failures
            .iter()
            .any(|f| f["resource"] == "module.backend.aws_ecr_repository.api"
                && f["error"]
                    .as_str()
                    .unwrap()
                    .contains("RepositoryAlreadyExists")),
        "{failures:#?}"
    );
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("module.backend.aws_ecr_repository.api"),
        "{doc:#}"
    );
    let planned = doc["apply"]["total"].as_u64().unwrap();
    assert!(planned > 40, "{doc:#}");
    assert!(doc["apply"]["done"].as_u64().unwrap() < planned);
    assert!(
        stderr.contains(&format!("/{planned}] create ")),
        "progress lines: {stderr}"
    );

    // The operator removes it; the re-run recognises its own partial deployment and continues.
    ecr.delete_repository()
        .repository_name("librechat-dev-api")
        .force(true)
        .send()
        .await
        .unwrap();
    let (code, doc, stderr) = run(&a, &env_dir, &venv);
    assert_eq!(check_status(&doc, "existing"), "warn", "{doc:#}");
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["status"], "applied");
    let (done, total) = (
        doc["apply"]["done"].as_u64().unwrap(),
        doc["apply"]["total"].as_u64().unwrap(),
    );
    assert_eq!(done, total);
    assert!(
        total < planned,
        "the re-run applied only the rest: {total} of {planned}"
    );
    assert_eq!(doc["verdict"]["status"], "healthy", "{doc:#}");
    eprintln!(
        "init_apply: first apply {planned} operations planned, failed as expected; the re-run applied {done}/{total}, verdict {}",
        doc["verdict"]["status"]
    );
}

fn check_status(doc: &Value, id: &str) -> String {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .map(|c| c["status"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}
