//! `opsconsole init` against moto (issue 28). Each test has a moto of its own (the checks list
//! every VPC, certificate and zone of the account: the shared one holds other tests'), with the
//! operator's prerequisites created as apply-local creates them (`apply_local.py prereqs`, from
//! the committed environments/dev tfvars), plus the NAT gateway apply-local's VPC lacks.
//! The binary runs isolated (`common::isolated_env`), in a temporary environment directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::isolated_env;
use opsconsole_testsupport::moto::{MotoServer, venv_python};
use opsconsole_testsupport::repo_root;

const REGION: &str = "eu-west-1";

pub(crate) struct Account {
    pub(crate) moto: MotoServer,
    pub(crate) tmp: tempfile::TempDir,
    /// What apply_local.py prereqs created (vpc_id, private_subnet_ids, ...).
    pub(crate) prereqs: Value,
}

impl Account {
    pub(crate) fn dir(&self) -> PathBuf {
        self.tmp.path().join("env")
    }
    /// apply-local's variables (apply_local.py prereqs wrote them).
    fn apply_local_tfvars(&self) -> Value {
        read_json(&self.tmp.path().join("apply-local.tfvars.json"))
    }
    pub(crate) async fn sdk(&self) -> aws_config::SdkConfig {
        opsconsole::aws::load_sdk_config(&self.moto.aws_options(REGION)).await
    }
}

fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

pub(crate) fn committed_tfvars() -> PathBuf {
    repo_root().join("infrastructure/terraform/environments/dev/terraform.tfvars.json")
}

/// A moto with apply-local's prerequisites (and, with `nat`, a NAT route for its subnets).
async fn account(nat: bool) -> Account {
    // IAM policy simulation is the project's extension (moto has none).
    account_with(
        nat,
        &[(
            "OPSCONSOLE_MOTOEXT",
            "cloudwatch.percentile_statistics,auth.session_token,iam.simulate_principal_policy",
        )],
    )
    .await
}

pub(crate) async fn account_with(nat: bool, env: &[(&str, &str)]) -> Account {
    // Certificates requested with DNS validation are ISSUED at once (moto's default: 60 s).
    let mut all = vec![("MOTO_ACM_VALIDATION_WAIT", "0")];
    all.extend_from_slice(env);
    let moto = MotoServer::start_with_env(&all).expect("moto");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("env")).unwrap();
    let out = Command::new(venv_python().unwrap())
        .arg(repo_root().join("infrastructure/scripts/apply_local.py"))
        .args(["prereqs", "--endpoint", moto.endpoint_url()])
        .arg(committed_tfvars())
        .arg(tmp.path().join("apply-local.tfvars.json"))
        .arg("--dist")
        .arg(tmp.path().join("client-dist"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_CONFIG_FILE", tmp.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", tmp.path().join("none"))
        .output()
        .expect("apply_local.py prereqs");
    assert!(
        out.status.success(),
        "prereqs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prereqs = read_json(&tmp.path().join("apply-local.tfvars.prereqs.json"));
    let a = Account { moto, tmp, prereqs };
    if nat {
        add_nat(&a).await;
    }
    a
}

/// A public subnet with an internet gateway and a NAT gateway, and a route table that sends the
/// private subnets' 0.0.0.0/0 to it: what "private subnets with NAT" means.
async fn add_nat(a: &Account) {
    let vpc = a.prereqs["vpc_id"].as_str().unwrap().to_string();
    let privates: Vec<String> = a.prereqs["private_subnet_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    add_nat_to(a, &vpc, &privates, "10.20.100.0/24").await;
}

pub(crate) async fn add_nat_to(a: &Account, vpc: &str, privates: &[String], public_cidr: &str) {
    let ec2 = aws_sdk_ec2::Client::new(&a.sdk().await);
    let igw = ec2.create_internet_gateway().send().await.unwrap();
    let igw = igw
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(vpc)
        .send()
        .await
        .unwrap();
    let public = ec2
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(public_cidr)
        .availability_zone(format!("{REGION}a"))
        .send()
        .await
        .unwrap();
    let public = public.subnet().unwrap().subnet_id().unwrap().to_string();
    let public_rt = ec2.create_route_table().vpc_id(vpc).send().await.unwrap();
    let public_rt = public_rt
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    ec2.create_route()
        .route_table_id(&public_rt)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();
    ec2.associate_route_table()
        .route_table_id(&public_rt)
        .subnet_id(&public)
        .send()
        .await
        .unwrap();
    let eip = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap();
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&public)
        .allocation_id(eip.allocation_id().unwrap())
        .send()
        .await
        .unwrap();
    let nat = nat
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_string();
    let private_rt = ec2.create_route_table().vpc_id(vpc).send().await.unwrap();
    let private_rt = private_rt
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    ec2.create_route()
        .route_table_id(&private_rt)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nat)
        .send()
        .await
        .unwrap();
    for s in privates {
        ec2.associate_route_table()
            .route_table_id(&private_rt)
            .subnet_id(s)
            .send()
            .await
            .unwrap();
    }
}

/// An IAM user allowed `actions` (moto answers GetCallerIdentity with the user of the key):
/// its access key id and secret.
async fn deployer(a: &Account, name: &str, actions: &[&str]) -> (String, String) {
    let iam = aws_sdk_iam::Client::new(&a.sdk().await);
    iam.create_user().user_name(name).send().await.unwrap();
    let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
    iam.put_user_policy()
        .user_name(name)
        .policy_name("deploy")
        .policy_document(doc.to_string())
        .send()
        .await
        .unwrap();
    let k = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    (
        k.access_key_id().to_string(),
        k.secret_access_key().to_string(),
    )
}

/// `opsconsole init dev --json` in the account, from the committed tfvars, with apply-local's
/// extra variables; returns (exit code, document, stderr).
fn init(a: &Account, extra: &[&str]) -> (i32, Value, String) {
    init_as(a, None, extra)
}

fn init_as(a: &Account, keys: Option<&(String, String)>, extra: &[&str]) -> (i32, Value, String) {
    let dist = a.tmp.path().join("client-dist");
    let canary = a.tmp.path().join("canary-bootstrap.zip");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    isolated_env(&mut cmd, a.tmp.path());
    if let Some((id, secret)) = keys {
        cmd.env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret);
    }
    cmd.args([
        "init",
        "dev",
        "--json",
        "--endpoint-url",
        a.moto.endpoint_url(),
        "--dir",
    ])
    .arg(a.dir())
    .arg("--from")
    .arg(committed_tfvars())
    .args(["--set", "build_image=false", "--set"])
    .arg(format!("client_dist_dir={}", dist.display()))
    .arg("--set")
    .arg(format!("canary_package_path={}", canary.display()))
    .args(extra);
    let out = cmd.output().expect("run opsconsole init");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), doc, stderr)
}

fn check<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {doc:#}"))
}

fn nothing_written(a: &Account) {
    let left: Vec<_> = std::fs::read_dir(a.dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "written: {left:?}");
}

/// The happy path: every check passes, the tfvars written are the ones apply-local applies
/// with (same ids: same VPC, subnets, group, certificate, zone; the parameters' ARNs in moto's
/// account), the document carries the cost, and a `--check` before it wrote nothing.
#[tokio::test(flavor = "multi_thread")]
async fn init_writes_the_tfvars_apply_local_uses() {
    let a = account(true).await;
    let admin = deployer(&a, "admin", &["*"]).await;
    let (code, doc, stderr) = init_as(&a, Some(&admin), &["--check"]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["status"], "checked");
    nothing_written(&a);

    let (code, doc, stderr) = init_as(&a, Some(&admin), &["--yes", "--no-apply"]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["status"], "written");
    assert_eq!(doc["account"], "123456789012");
    assert_eq!(doc["caller"], "arn:aws:iam::123456789012:user/admin");
    for c in doc["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "pass", "{c:#}");
    }
    let written = read_json(&a.dir().join("terraform.tfvars.json"));
    assert_eq!(
        written,
        a.apply_local_tfvars(),
        "init's tfvars differ from apply-local's"
    );
    assert_eq!(doc["tfvars"], written);
    assert_eq!(doc["tfvars_file"]["written"], true);
    // The candidates: the default VPC is listed but not chosen (no NAT).
    let vpc = check(&doc, "vpc");
    let chosen: Vec<&Value> = vpc["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["chosen"] == true)
        .collect();
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0]["id"], a.prereqs["vpc_id"]);
    assert!(vpc["candidates"].as_array().unwrap().len() >= 2, "{vpc:#}");
    // Parameters by name and type, never their values.
    let text = doc.to_string();
    assert!(
        !text.contains("local-jwt_secret"),
        "a parameter value leaked"
    );
    assert!(
        check(&doc, "ssm")["summary"]
            .as_str()
            .unwrap()
            .contains("11 parameter(s) present")
    );
    assert!(
        check(&doc, "config_object")["summary"]
            .as_str()
            .unwrap()
            .contains("parses")
    );
    assert!(
        check(&doc, "permissions")["summary"]
            .as_str()
            .unwrap()
            .contains("IAM policy simulation")
    );
    assert!(doc["cost"]["total_usd"].as_f64().unwrap() > 0.0);
    // A re-run changes nothing (and moto's default caller, no IAM user, is not simulated: said).
    let (code, doc, _) = init(&a, &["--yes", "--no-apply"]);
    let perm = check(&doc, "permissions");
    assert_eq!(perm["status"], "skipped", "{perm:#}");
    assert!(
        perm["summary"].as_str().unwrap().contains("NoSuchEntity"),
        "{perm:#}"
    );
    assert_eq!(code, 0);
    assert_eq!(doc["tfvars_file"]["unchanged"], true);
}

/// Each missing prerequisite is named, with its fix, and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn init_names_each_missing_prerequisite() {
    let a = account(false).await;
    // A VPC without NAT.
    let (code, doc, _) = init(&a, &["--yes"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["status"], "blocked");
    let vpc = check(&doc, "vpc");
    assert_eq!(vpc["status"], "fail");
    assert_eq!(
        vpc["summary"],
        "no VPC in eu-west-1 has a private subnet that routes to a NAT gateway"
    );
    assert!(vpc["fix"].as_str().unwrap().contains("NAT gateway"));
    let asked = format!("--vpc={}", a.prereqs["vpc_id"].as_str().unwrap());
    let (_, doc, _) = init(&a, &["--yes", &asked]);
    assert!(
        check(&doc, "vpc")["summary"]
            .as_str()
            .unwrap()
            .ends_with("has no private subnet that routes to a NAT gateway")
    );
    nothing_written(&a);
    add_nat(&a).await;

    // A domain without a certificate (nor a zone).
    let (code, doc, _) = init(&a, &["--yes", "--domain", "chat.nowhere.example"]);
    assert_eq!(code, 1);
    let cert = check(&doc, "certificate");
    assert_eq!(
        cert["summary"],
        "no certificate in us-east-1 covers chat.nowhere.example"
    );
    assert!(
        cert["fix"]
            .as_str()
            .unwrap()
            .contains("aws acm request-certificate --region us-east-1")
    );
    assert_eq!(check(&doc, "zone")["status"], "fail");
    assert_eq!(check(&doc, "vpc")["status"], "pass");
    nothing_written(&a);

    // A missing SSM parameter, named by secret and parameter name.
    let ssm = aws_sdk_ssm::Client::new(&a.sdk().await);
    ssm.delete_parameter()
        .name("/ecs/genai/mongo/DB_URI")
        .send()
        .await
        .unwrap();
    let (code, doc, _) = init(&a, &["--yes"]);
    assert_eq!(code, 1);
    let c = check(&doc, "ssm");
    assert_eq!(c["summary"], "missing: MONGO_URI (/ecs/genai/mongo/DB_URI)");
    nothing_written(&a);
    ssm.put_parameter()
        .name("/ecs/genai/mongo/DB_URI")
        .value("x")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();

    // The config object: missing, then not YAML.
    let s3 = opsconsole::aws::AwsClients::from_sdk(a.sdk().await, None).s3;
    let tf = read_json(&committed_tfvars());
    let (bucket, key) = (
        tf["config_s3_bucket"].as_str().unwrap(),
        tf["config_s3_key"].as_str().unwrap(),
    );
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let (code, doc, _) = init(&a, &["--yes"]);
    assert_eq!(code, 1);
    assert_eq!(
        check(&doc, "config_object")["fix"],
        format!("aws s3 cp librechat.yaml s3://{bucket}/{key}")
    );
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(b"version: [1.2\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let (code, doc, _) = init(&a, &["--yes"]);
    assert_eq!(code, 1);
    assert!(
        check(&doc, "config_object")["summary"]
            .as_str()
            .unwrap()
            .contains("does not parse"),
        "{doc:#}"
    );
    nothing_written(&a);
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(b"version: 1.2.1\n".to_vec().into())
        .send()
        .await
        .unwrap();
    // All there again: it passes (the failures above were the prerequisites', not init's).
    let (code, doc, _) = init(&a, &["--check"]);
    assert_eq!(code, 0, "{doc:#}");

    // A caller who may not create IAM roles nor pass them: named.
    let limited = deployer(
        &a,
        "limited",
        &[
            "lambda:*",
            "ec2:*",
            "s3:*",
            "ecr:*",
            "apigateway:*",
            "cloudfront:*",
            "route53:*",
            "elasticache:*",
            "logs:*",
            "cloudwatch:*",
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
        ],
    )
    .await;
    let (code, doc, _) = init_as(&a, Some(&limited), &["--yes"]);
    assert_eq!(code, 1, "{doc:#}");
    let p = check(&doc, "permissions");
    assert_eq!(p["status"], "fail");
    assert_eq!(
        p["summary"],
        "2 of 24 actions apply needs are denied: iam:CreateRole, iam:PassRole"
    );
    nothing_written(&a);
}

/// An environment that is already deployed (here: a resource tagged with its name) is said so
/// before anything is written; the same account with init's own variables already written is a
/// re-run and continues.
#[tokio::test(flavor = "multi_thread")]
async fn init_refuses_an_existing_environment_and_continues_its_own() {
    let a = account(true).await;
    let (code, _, _) = init(&a, &["--yes", "--no-apply"]);
    assert_eq!(code, 0);
    let ours = std::fs::read_to_string(a.dir().join("terraform.tfvars.json")).unwrap();
    // Deployed: a bucket with the providers' default tags.
    let s3 = opsconsole::aws::AwsClients::from_sdk(a.sdk().await, None).s3;
    s3.create_bucket()
        .bucket("librechat-frontend-dev")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tag = |k: &str, v: &str| {
        aws_sdk_s3::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    s3.put_bucket_tagging()
        .bucket("librechat-frontend-dev")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag("Project", "librechat"))
                .tag_set(tag("Environment", "dev"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Same variables: a continuation.
    let (code, doc, _) = init(&a, &["--yes", "--no-apply"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(check(&doc, "existing")["status"], "warn");
    // Other variables (another subnet set): refused, nothing changed.
    let first = a.prereqs["private_subnet_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let (code, doc, _) = init(&a, &["--yes", "--no-apply", "--subnets", &first]);
    assert_eq!(code, 1, "{doc:#}");
    let e = check(&doc, "existing");
    assert_eq!(e["status"], "fail");
    assert!(e["summary"].as_str().unwrap().contains("already deployed"));
    assert!(
        e["candidates"]
            .to_string()
            .contains("arn:aws:s3:::librechat-frontend-dev"),
        "{e:#}"
    );
    assert_eq!(
        std::fs::read_to_string(a.dir().join("terraform.tfvars.json")).unwrap(),
        ours
    );
    assert!(!a.dir().join("terraform.tfvars.json.bak").exists());
}

/// No credentials: the first check says so with the next step; nothing is written.
#[test]
fn init_without_credentials_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("env");
    std::fs::create_dir(&dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    isolated_env(&mut cmd, tmp.path());
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let out = cmd
        .args([
            "init",
            "dev",
            "--json",
            "--yes",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--dir",
        ])
        .arg(&dir)
        .arg("--from")
        .arg(committed_tfvars())
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    let c = check(&doc, "credentials");
    assert_eq!(c["status"], "fail");
    assert!(
        c["fix"].as_str().unwrap().contains("aws sso login"),
        "{c:#}"
    );
    assert_eq!(doc["checks"].as_array().unwrap().len(), 1);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

/// Issue 28 item 5, at the binary: a global option before the subcommand is not clap's error.
#[test]
fn a_global_option_before_the_subcommand_works() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    isolated_env(&mut cmd, tmp.path());
    let out = cmd
        .args(["--read-only", "--timeout", "5", "init", "dev", "--dir"])
        .arg(tmp.path().join("absent"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // init's own usage error (the directory), not clap's "cannot be used with".
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("does not exist"), "{stdout}{stderr}");
    assert!(!stderr.contains("cannot be used with"), "{stderr}");
}
