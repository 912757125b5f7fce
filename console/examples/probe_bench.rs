//! Benchmark (not a test): gathering the probe's data - alarms (with their sparklines), the
//! function, cold starts from the log, Redis, CloudFront - from one seeded moto, in one run:
//! `opsconsole probe --json --only alarms,lambda,redis,cloudfront` versus the equivalent
//! sequence of `aws` CLI calls (`.tools/venv/bin/aws`). Prints each side's median wall time over
//! a few alternating rounds and the ratio.
//!
//!     cargo build --release -p opsconsole --bin opsconsole --example probe_bench
//!     target/release/examples/probe_bench [ROUNDS]
//!
//! The opsconsole binary is taken from next to this example's directory (`target/release/`), or
//! from `$OPSCONSOLE_BIN`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use opsconsole_testsupport::moto::MotoServer;
use opsconsole_testsupport::seed::{SeedSpec, seed};

const REGION: &str = "eu-west-1";

fn opsconsole_bin() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("OPSCONSOLE_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("cannot locate the target directory")?;
    let bin = dir.join("opsconsole");
    if !bin.is_file() {
        bail!(
            "{} not found: build it first (see the header of this file)",
            bin.display()
        );
    }
    Ok(bin)
}

fn clean_env(cmd: &mut Command, home: &Path) {
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
}

fn run(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.output().context("spawning")?;
    if !out.status.success() && out.status.code() != Some(1) {
        bail!(
            "{:?} failed ({}): {}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3)
        .max(1);
    let bin = opsconsole_bin()?;
    let root = opsconsole_testsupport::find_repo(None)?;
    let aws = root.join(".tools/venv/bin/aws");
    if !aws.is_file() {
        bail!("{} missing: run scripts/bootstrap.sh venv", aws.display());
    }
    let moto = MotoServer::start()?;
    let ep = moto.endpoint_url().to_string();
    let clients = moto.clients(REGION).await;
    let mut spec = SeedSpec::healthy("bench", REGION, "http://127.0.0.1:9");
    spec.cold_inits_ms = (1..=30).map(|i| f64::from(i) * 100.0).collect();
    spec.warm = 500;
    spec.noise = 200;
    let doc = seed(&moto, &clients, &spec).await?;
    let home = tempfile::tempdir()?;
    let outputs = home.path().join("outputs.json");
    std::fs::write(&outputs, doc.to_string())?;
    let v = |k: &str| doc[k]["value"].as_str().unwrap_or_default().to_string();
    let (function, log_group, rg, dist) = (
        v("lambda_function_name"),
        v("lambda_log_group_name"),
        v("redis_replication_group_id"),
        v("cloudfront_distribution_id"),
    );
    let alarms: Vec<(String, String)> = doc["alarms"]["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["name"].as_str().unwrap_or_default().to_string(),
                        x["region"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();

    let probe_once = || -> anyhow::Result<Duration> {
        let t = Instant::now();
        let mut cmd = Command::new(&bin);
        cmd.args([
            "probe",
            "bench",
            "--json",
            "--only",
            "alarms,lambda,redis,cloudfront",
        ])
        .args(["--endpoint-url", &ep])
        .arg("--outputs")
        .arg(&outputs);
        clean_env(&mut cmd, home.path());
        let out = run(&mut cmd)?;
        let d = t.elapsed();
        let j: serde_json::Value = serde_json::from_str(&out)?;
        for c in ["alarms", "lambda", "redis", "cloudfront"] {
            if j["checks"][c]["status"] != "ok" {
                bail!("probe check {c} not ok: {}", j["checks"][c]);
            }
        }
        Ok(d)
    };

    let end = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let start3h = end - 3 * 3600;
    let start1h = end - 3600;
    let cli_once = || -> anyhow::Result<(Duration, usize)> {
        let t = Instant::now();
        let mut calls = 0usize;
        let mut aws_cmd = |region: &str, args: &[&str]| -> anyhow::Result<String> {
            calls += 1;
            let mut cmd = Command::new(&aws);
            cmd.args([
                "--endpoint-url",
                &ep,
                "--region",
                region,
                "--output",
                "json",
            ])
            .args(args);
            clean_env(&mut cmd, home.path());
            run(&mut cmd)
        };
        // Alarms: DescribeAlarms per region, then each alarm's metric over 3 h.
        let mut regions: Vec<&str> = alarms.iter().map(|a| a.1.as_str()).collect();
        regions.sort();
        regions.dedup();
        for r in &regions {
            let mut args = vec!["cloudwatch", "describe-alarms", "--alarm-names"];
            args.extend(alarms.iter().filter(|a| a.1 == *r).map(|a| a.0.as_str()));
            aws_cmd(r, &args)?;
        }
        let q = format!(
            r#"[{{"Id":"m0","MetricStat":{{"Metric":{{"Namespace":"AWS/Lambda","MetricName":"Errors","Dimensions":[{{"Name":"FunctionName","Value":"{function}"}}]}},"Period":300,"Stat":"Sum"}}}}]"#
        );
        for (_, r) in &alarms {
            aws_cmd(
                r,
                &[
                    "cloudwatch",
                    "get-metric-data",
                    "--metric-data-queries",
                    &q,
                    "--start-time",
                    &start3h.to_string(),
                    "--end-time",
                    &end.to_string(),
                ],
            )?;
        }
        // Function, its metrics, its log.
        aws_cmd(
            REGION,
            &["lambda", "get-function", "--function-name", &function],
        )?;
        let lq = format!(
            r#"[{{"Id":"inv","MetricStat":{{"Metric":{{"Namespace":"AWS/Lambda","MetricName":"Invocations","Dimensions":[{{"Name":"FunctionName","Value":"{function}"}}]}},"Period":3600,"Stat":"Sum"}}}},{{"Id":"err","MetricStat":{{"Metric":{{"Namespace":"AWS/Lambda","MetricName":"Errors","Dimensions":[{{"Name":"FunctionName","Value":"{function}"}}]}},"Period":3600,"Stat":"Sum"}}}}]"#
        );
        aws_cmd(
            REGION,
            &[
                "cloudwatch",
                "get-metric-data",
                "--metric-data-queries",
                &lq,
                "--start-time",
                &start1h.to_string(),
                "--end-time",
                &end.to_string(),
            ],
        )?;
        let logs = aws_cmd(
            REGION,
            &[
                "logs",
                "filter-log-events",
                "--log-group-name",
                &log_group,
                "--start-time",
                &(start1h * 1000).to_string(),
                "--filter-pattern",
                "?\"REPORT RequestId\" ?ColdStartTotalMs",
            ],
        )?;
        if !logs.contains("Init Duration") {
            bail!("aws logs filter-log-events returned no cold starts");
        }
        // Redis and its metrics.
        aws_cmd(
            REGION,
            &[
                "elasticache",
                "describe-replication-groups",
                "--replication-group-id",
                &rg,
            ],
        )?;
        let rq = r#"[{"Id":"cpu","MetricStat":{"Metric":{"Namespace":"AWS/ElastiCache","MetricName":"EngineCPUUtilization","Dimensions":[{"Name":"CacheClusterId","Value":"x"}]},"Period":300,"Stat":"Average"}}]"#;
        aws_cmd(
            REGION,
            &[
                "cloudwatch",
                "get-metric-data",
                "--metric-data-queries",
                rq,
                "--start-time",
                &start1h.to_string(),
                "--end-time",
                &end.to_string(),
            ],
        )?;
        // CloudFront.
        aws_cmd(
            "us-east-1",
            &["cloudfront", "get-distribution", "--id", &dist],
        )?;
        let inv = aws_cmd(
            "us-east-1",
            &[
                "cloudfront",
                "list-invalidations",
                "--distribution-id",
                &dist,
                "--max-items",
                "10",
            ],
        )?;
        let j: serde_json::Value = serde_json::from_str(&inv)?;
        if let Some(items) = j["InvalidationList"]["Items"].as_array() {
            for i in items {
                let id = i["Id"].as_str().unwrap_or_default().to_string();
                aws_cmd(
                    "us-east-1",
                    &[
                        "cloudfront",
                        "get-invalidation",
                        "--distribution-id",
                        &dist,
                        "--id",
                        &id,
                    ],
                )?;
            }
        }
        Ok((t.elapsed(), calls))
    };

    // Warm-up (page cache, moto's first-request costs), then alternating rounds.
    probe_once()?;
    let mut probe_t = Vec::new();
    let mut cli_t = Vec::new();
    let mut calls = 0;
    for _ in 0..rounds {
        probe_t.push(probe_once()?);
        let (d, n) = cli_once()?;
        cli_t.push(d);
        calls = n;
    }
    let (p, c) = (median(probe_t), median(cli_t));
    println!("rounds: {rounds}; aws CLI calls per round: {calls}");
    println!(
        "opsconsole probe --json (alarms,lambda,redis,cloudfront): median {:.3} s",
        p.as_secs_f64()
    );
    println!(
        "aws CLI sequence:                                     median {:.3} s",
        c.as_secs_f64()
    );
    println!(
        "ratio (aws CLI / opsconsole): {:.1}x",
        c.as_secs_f64() / p.as_secs_f64()
    );
    Ok(())
}
