//! Seeds moto through the SDK with what the Terraform would create: the IAM role and the Lambda
//! function, its log group (REPORT lines cold and warm, the shim's EMF cold-start lines), the
//! 10 alarms of the monitoring module and the 2 of the canary module (enabled by default in
//! environments/dev), metric data for the sparklines and charts, the dashboard, the Redis
//! replication group, the CloudFront distribution, the buckets (with the shim's
//! `librechat.yaml`) and the SSM parameters the shim resolves at cold start.
//!
//! Names and definitions follow the default dev deployment; `sandbox/tests/it/deployment_shape.rs`
//! compares what this seeds with `infrastructure/deployment-shape.json`, which apply-local checks
//! against what `terraform apply` creates.

use anyhow::Context as _;
use aws_config::SdkConfig;
use aws_smithy_types::DateTime;
use opsconsole_testsupport::seed::{ApiOrigin, create_api_distribution};
use opsconsole_wire::emf;
use serde_json::json;

use super::Fault;
use super::alarms::{ALARMS, CANARY_ALARMS, CANARY_NAMESPACE, Dims};

/// The function's memory (modules/backend `memory_size`'s default), also in the REPORT lines.
pub(crate) const MEMORY_MB: u32 = 1024;
/// The function's timeout (modules/backend: the streaming integration waits up to 900 s).
const TIMEOUT_S: i32 = 900;
/// The log group's retention (modules/backend `log_retention_days`' default).
const LOG_RETENTION_DAYS: i32 = 30;
/// The REST API's stage (modules/api-gateway `stage_name`'s default).
const STAGE: &str = "prod";

/// The names of one sandbox deployment, derived like the Terraform's (`librechat-${env}`).
#[derive(Debug, Clone)]
pub(crate) struct Names {
    pub env: String,
    pub prefix: String,
    pub region: String,
    pub account: String,
    pub function: String,
    pub log_group: String,
    pub role: String,
    pub api_id: String,
    pub stage: String,
    pub redis_group: String,
    /// The member cluster the monitoring module's Redis alarms watch.
    pub redis_cluster: String,
    pub frontend_bucket: String,
    pub files_bucket: String,
    pub config_bucket: String,
    pub config_key: String,
    pub ssm_prefix: String,
    pub ecr_repository_url: String,
    pub shim_namespace: String,
    pub dashboard: String,
}

impl Names {
    pub(crate) fn new(env: &str, region: &str) -> Names {
        let prefix = format!("librechat-{env}");
        let account = opsconsole_testsupport::moto::MOTO_ACCOUNT.to_string();
        let function = format!("{prefix}-api");
        Names {
            env: env.into(),
            region: region.into(),
            log_group: format!("/aws/lambda/{function}"),
            role: format!("{function}-lambda"),
            api_id: "sbx0api1".into(),
            stage: STAGE.into(),
            redis_group: format!("{prefix}-redis"),
            redis_cluster: format!("{prefix}-redis-001"),
            // environments/dev names the two buckets after the environment, not the prefix.
            frontend_bucket: format!("librechat-frontend-{env}"),
            files_bucket: format!("librechat-lambda-files-{env}"),
            config_bucket: format!("{prefix}-config"),
            config_key: "librechat.yaml".into(),
            ssm_prefix: format!("/{prefix}"),
            ecr_repository_url: format!("{account}.dkr.ecr.{region}.amazonaws.com/{function}"),
            shim_namespace: emf::NAMESPACE.into(),
            dashboard: prefix.clone(),
            account,
            function,
            prefix,
        }
    }

    pub(crate) fn alarm_name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }

    pub(crate) fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account, self.function
        )
    }

    /// The SSM parameter holding the shim's diagnostics token.
    pub(crate) fn token_parameter(&self) -> String {
        format!("{}/shim-diagnostics-token", self.ssm_prefix)
    }

    /// `NAME=parameter` pairs for `SHIM_SSM_SECRETS`.
    pub(crate) fn secret_parameters(&self) -> Vec<(String, String)> {
        [
            "CREDS_KEY",
            "CREDS_IV",
            "JWT_SECRET",
            "JWT_REFRESH_SECRET",
            "MONGO_URI",
        ]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                format!("{}/{}", self.ssm_prefix, n.to_ascii_lowercase()),
            )
        })
        .collect()
    }
}

/// What seeding created that the outputs file needs.
#[derive(Debug, Clone)]
pub(crate) struct Seeded {
    pub distribution_id: String,
    pub distribution_domain: String,
}

/// A small deterministic generator so the sandbox looks the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as f64) / ((1u64 << 31) as f64)
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A Lambda `REPORT` line as CloudWatch Logs shows it.
pub(crate) fn report_line(
    request_id: &str,
    duration_ms: f64,
    memory_mb: u32,
    used_mb: u32,
    init_ms: Option<f64>,
) -> String {
    let mut s = format!(
        "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {used_mb} MB\t",
        duration_ms.ceil() as u64
    );
    if let Some(init) = init_ms {
        s.push_str(&format!("Init Duration: {init:.2} ms\t"));
    }
    s
}

/// The shim's EMF cold-start line (docs/contracts.md section 3), as the shim prints it.
pub(crate) fn emf_cold_start_line(
    function: &str,
    ts_ms: i64,
    config: f64,
    secrets: f64,
    ready: f64,
) -> String {
    let total = config + secrets + ready;
    let ts = u64::try_from(ts_ms).unwrap_or(0);
    emf::cold_start_line(function, config, secrets, ready, total, ts).to_string()
}

/// One seeded invocation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeedInvocation {
    pub ts_ms: i64,
    pub duration_ms: f64,
    pub init_ms: Option<f64>,
}

/// The invocation history of the last ~30 minutes: a few cold starts with a normal Init
/// Duration (baseline), or mostly cold starts with a long one (`cold-start-storm`).
pub(crate) fn invocation_history(storm: bool, now_ms: i64) -> Vec<SeedInvocation> {
    let mut rng = Lcg(if storm { 7 } else { 42 });
    let count = 40;
    (0..count)
        .map(|i| {
            let ts_ms = now_ms - (count - i) as i64 * 45_000;
            let cold = if storm { i % 5 != 4 } else { i % 9 == 0 };
            let init_ms = cold.then(|| {
                if storm {
                    rng.range(7_000.0, 14_000.0)
                } else {
                    rng.range(800.0, 1_900.0)
                }
            });
            SeedInvocation {
                ts_ms,
                duration_ms: rng.range(15.0, 900.0),
                init_ms,
            }
        })
        .collect()
}

/// Seeds everything. `east` is the us-east-1 configuration (CloudFront's alarm).
pub(crate) async fn seed(
    sdk: &SdkConfig,
    east: &SdkConfig,
    n: &Names,
    fault: Option<Fault>,
    site_origin: &str,
    diagnostics_token: &str,
) -> anyhow::Result<Seeded> {
    seed_config_and_secrets(sdk, n, diagnostics_token).await?;
    seed_lambda(sdk, n).await?;
    seed_logs(sdk, n, fault == Some(Fault::ColdStartStorm)).await?;
    seed_redis(sdk, n).await?;
    let seeded = seed_cloudfront(sdk, n, site_origin).await?;
    let dist = seeded.distribution_id.as_str();
    seed_metrics(sdk, east, n, dist, fault == Some(Fault::ColdStartStorm)).await?;
    seed_canary_metrics(sdk, n).await?;
    seed_alarms(sdk, east, n, dist, fault == Some(Fault::Alarm)).await?;
    seed_canary_alarms(sdk, n).await?;
    seed_dashboard(sdk, n).await?;
    Ok(seeded)
}

async fn seed_config_and_secrets(sdk: &SdkConfig, n: &Names, token: &str) -> anyhow::Result<()> {
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

async fn seed_lambda(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
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

async fn seed_logs(sdk: &SdkConfig, n: &Names, storm: bool) -> anyhow::Result<()> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    logs.create_log_group()
        .log_group_name(&n.log_group)
        .send()
        .await
        .context("Logs CreateLogGroup")?;
    logs.put_retention_policy()
        .log_group_name(&n.log_group)
        .retention_in_days(LOG_RETENTION_DAYS)
        .send()
        .await
        .context("Logs PutRetentionPolicy")?;
    let today = time::OffsetDateTime::now_utc().date();
    let stream = format!(
        "{:04}/{:02}/{:02}/[$LATEST]sandbox0seed",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let stream = stream.as_str();
    logs.create_log_stream()
        .log_group_name(&n.log_group)
        .log_stream_name(stream)
        .send()
        .await
        .context("Logs CreateLogStream")?;
    let mut events = Vec::new();
    let mut rng = Lcg(99);
    for (i, inv) in invocation_history(storm, now_ms()).iter().enumerate() {
        let rid = format!("5eed{:04x}-0000-4000-8000-{:012x}", i, i * 7919);
        if let Some(init) = inv.init_ms {
            let config = rng.range(20.0, 80.0);
            let secrets = rng.range(30.0, 120.0);
            let ready = (init - config - secrets).max(10.0);
            events.push((
                inv.ts_ms,
                emf_cold_start_line(&n.function, inv.ts_ms, config, secrets, ready),
            ));
        }
        events.push((
            inv.ts_ms + 1,
            format!("START RequestId: {rid} Version: $LATEST"),
        ));
        let end = inv.ts_ms + inv.duration_ms as i64 + 2;
        events.push((end, format!("END RequestId: {rid}")));
        let used = 280 + (rng.range(0.0, 120.0) as u32);
        events.push((
            end,
            report_line(&rid, inv.duration_ms, MEMORY_MB, used, inv.init_ms),
        ));
    }
    events.sort_by_key(|e| e.0);
    let input: Vec<_> = events
        .into_iter()
        .map(|(ts, message)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(ts)
                .message(message)
                .build()
        })
        .collect::<Result<_, _>>()
        .context("building log events")?;
    logs.put_log_events()
        .log_group_name(&n.log_group)
        .log_stream_name(stream)
        .set_log_events(Some(input))
        .send()
        .await
        .context("Logs PutLogEvents")?;
    Ok(())
}

fn dims(n: &Names, d: Dims, distribution_id: &str) -> Vec<aws_sdk_cloudwatch::types::Dimension> {
    let pairs: Vec<(&str, String)> = match d {
        Dims::Function => vec![("FunctionName", n.function.clone())],
        Dims::Api => vec![
            ("ApiName", format!("{}-api", n.prefix)),
            ("Stage", n.stage.clone()),
        ],
        Dims::Distribution => vec![
            ("DistributionId", distribution_id.to_string()),
            ("Region", "Global".into()),
        ],
        Dims::Redis => vec![("CacheClusterId", n.redis_cluster.clone())],
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name(k)
                .value(v)
                .build()
        })
        .collect()
}

async fn seed_metrics(
    sdk: &SdkConfig,
    east: &SdkConfig,
    n: &Names,
    dist: &str,
    storm: bool,
) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{MetricDatum, StandardUnit};
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let cw_east = aws_sdk_cloudwatch::Client::new(east);
    let now_s = now_ms() / 1000;
    let mut rng = Lcg(3);
    // (namespace, metric, dims, unit, generator(minute) -> value, in us-east-1)
    type Gen = Box<dyn Fn(&mut Lcg, i64) -> f64>;
    let wave = |m: i64| ((m as f64) / 6.0).sin();
    let series: Vec<(&str, &str, Dims, StandardUnit, Gen, bool)> = vec![
        (
            "AWS/Lambda",
            "Invocations",
            Dims::Function,
            StandardUnit::Count,
            Box::new(move |r, m| (12.0 + 8.0 * wave(m) + r.range(0.0, 4.0)).round()),
            false,
        ),
        (
            "AWS/Lambda",
            "Errors",
            Dims::Function,
            StandardUnit::Count,
            Box::new(|r, _| if r.next() > 0.9 { 1.0 } else { 0.0 }),
            false,
        ),
        (
            "AWS/Lambda",
            "Throttles",
            Dims::Function,
            StandardUnit::Count,
            Box::new(|_, _| 0.0),
            false,
        ),
        (
            "AWS/Lambda",
            "Duration",
            Dims::Function,
            StandardUnit::Milliseconds,
            Box::new(move |r, m| 220.0 + 90.0 * wave(m) + r.range(0.0, 60.0)),
            false,
        ),
        (
            "AWS/Lambda",
            "ConcurrentExecutions",
            Dims::Function,
            StandardUnit::Count,
            Box::new(move |r, m| (3.0 + 2.0 * wave(m) + r.range(0.0, 2.0)).round()),
            false,
        ),
        (
            emf::NAMESPACE,
            emf::COLD_START_TOTAL_MS,
            Dims::Function,
            StandardUnit::Milliseconds,
            Box::new(move |r, _| {
                if storm {
                    r.range(7_000.0, 14_000.0)
                } else {
                    r.range(800.0, 1_900.0)
                }
            }),
            false,
        ),
        (
            "AWS/ApiGateway",
            "Count",
            Dims::Api,
            StandardUnit::Count,
            Box::new(move |r, m| (14.0 + 8.0 * wave(m) + r.range(0.0, 4.0)).round()),
            false,
        ),
        (
            "AWS/ApiGateway",
            "5XXError",
            Dims::Api,
            StandardUnit::Count,
            Box::new(|_, _| 0.0),
            false,
        ),
        (
            "AWS/ApiGateway",
            "Latency",
            Dims::Api,
            StandardUnit::Milliseconds,
            Box::new(move |r, m| 260.0 + 90.0 * wave(m) + r.range(0.0, 80.0)),
            false,
        ),
        (
            "AWS/ElastiCache",
            "EngineCPUUtilization",
            Dims::Redis,
            StandardUnit::Percent,
            Box::new(move |r, m| 4.0 + 2.0 * wave(m) + r.range(0.0, 1.5)),
            false,
        ),
        (
            "AWS/ElastiCache",
            "DatabaseMemoryUsagePercentage",
            Dims::Redis,
            StandardUnit::Percent,
            Box::new(move |r, m| 12.0 + 0.05 * m as f64 + r.range(0.0, 0.5)),
            false,
        ),
        (
            "AWS/ElastiCache",
            "CurrConnections",
            Dims::Redis,
            StandardUnit::Count,
            Box::new(move |r, m| (6.0 + 3.0 * wave(m) + r.range(0.0, 2.0)).round()),
            false,
        ),
        (
            "AWS/ElastiCache",
            "Evictions",
            Dims::Redis,
            StandardUnit::Count,
            Box::new(|_, _| 0.0),
            false,
        ),
        (
            "AWS/ElastiCache",
            "CacheHits",
            Dims::Redis,
            StandardUnit::Count,
            Box::new(move |r, m| (90.0 + 30.0 * wave(m) + r.range(0.0, 10.0)).round()),
            false,
        ),
        (
            "AWS/ElastiCache",
            "CacheMisses",
            Dims::Redis,
            StandardUnit::Count,
            Box::new(|r, _| r.range(2.0, 9.0).round()),
            false,
        ),
        (
            "AWS/CloudFront",
            "Requests",
            Dims::Distribution,
            StandardUnit::None,
            Box::new(move |r, m| (40.0 + 20.0 * wave(m) + r.range(0.0, 8.0)).round()),
            true,
        ),
        (
            "AWS/CloudFront",
            "5xxErrorRate",
            Dims::Distribution,
            StandardUnit::Percent,
            Box::new(|r, _| r.range(0.0, 0.4)),
            true,
        ),
    ];
    let minutes = 90i64;
    for (ns, metric, d, unit, generator, in_east) in &series {
        let mut data = Vec::new();
        for m in 0..minutes {
            let ts = now_s - (minutes - m) * 60;
            data.push(
                MetricDatum::builder()
                    .metric_name(*metric)
                    .set_dimensions(Some(dims(n, *d, dist)))
                    .timestamp(DateTime::from_secs(ts))
                    .value(generator(&mut rng, m))
                    .unit(unit.clone())
                    .build(),
            );
        }
        let client = if *in_east { &cw_east } else { &cw };
        client
            .put_metric_data()
            .namespace(*ns)
            .set_metric_data(Some(data))
            .send()
            .await
            .with_context(|| format!("CloudWatch PutMetricData {ns} {metric}"))?;
    }
    Ok(())
}

async fn seed_alarms(
    sdk: &SdkConfig,
    east: &SdkConfig,
    n: &Names,
    dist: &str,
    firing: bool,
) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let cw_east = aws_sdk_cloudwatch::Client::new(east);
    for a in ALARMS.iter() {
        let client = if a.us_east_1 { &cw_east } else { &cw };
        let name = n.alarm_name(a.suffix);
        let ns = a.namespace.unwrap_or(n.shim_namespace.as_str());
        let mut req = client
            .put_metric_alarm()
            .alarm_name(&name)
            .alarm_description(format!(
                "{ns} {} {} above threshold; see modules/monitoring/README.md",
                a.metric, a.stat
            ))
            .namespace(ns)
            .metric_name(a.metric)
            .set_dimensions(Some(dims(n, a.dims, dist)))
            .period(a.period)
            .evaluation_periods(1)
            .threshold(a.threshold)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .treat_missing_data("notBreaching");
        req = if a.stat.starts_with('p') {
            req.extended_statistic(a.stat)
        } else {
            req.statistic(Statistic::from(a.stat))
        };
        req.send()
            .await
            .with_context(|| format!("CloudWatch PutMetricAlarm {name}"))?;
    }
    if firing {
        let name = n.alarm_name("lambda-errors");
        cw.set_alarm_state()
            .alarm_name(&name)
            .state_value(StateValue::Alarm)
            .state_reason("sandbox fault `alarm`: Threshold Crossed: 1 datapoint [9.0] was greater than the threshold (5.0).")
            .send()
            .await
            .with_context(|| format!("CloudWatch SetAlarmState {name}"))?;
    }
    Ok(())
}

/// The canary's two alarms (modules/canary, contracts section 7), in the home region.
async fn seed_canary_alarms(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    for a in CANARY_ALARMS.iter() {
        let name = n.alarm_name(a.suffix);
        cw.put_metric_alarm()
            .alarm_name(&name)
            .alarm_description(format!(
                "{CANARY_NAMESPACE} {} from the scheduled canary; see modules/canary/README.md",
                a.metric
            ))
            .namespace(CANARY_NAMESPACE)
            .metric_name(a.metric)
            .dimensions(
                Dimension::builder()
                    .name(opsconsole_wire::canary::DIMENSION)
                    .value(&n.env)
                    .build(),
            )
            .statistic(Statistic::from(a.stat))
            .period(a.period)
            .evaluation_periods(a.evaluation_periods)
            .threshold(a.threshold)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::from(
                a.comparison,
            ))
            .treat_missing_data(a.treat_missing_data)
            .send()
            .await
            .with_context(|| format!("CloudWatch PutMetricAlarm {name}"))?;
    }
    Ok(())
}

/// The canary's EMF metrics of the last 90 minutes, one run every 5 minutes, all healthy and
/// streaming (namespace `LibreChat/Probe`, dimension `Environment`; contracts section 7).
async fn seed_canary_metrics(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    use opsconsole_wire::canary;
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let dim = Dimension::builder()
        .name(canary::DIMENSION)
        .value(&n.env)
        .build();
    let now_s = now_ms() / 1000;
    let mut rng = Lcg(11);
    let mut data = Vec::new();
    for run in 0..18i64 {
        let ts = DateTime::from_secs(now_s - (18 - run) * 300);
        let metrics = [
            (canary::HEALTHY, 1.0),
            (canary::SSE_VERDICT, canary::VERDICT_STREAMING),
            (canary::SSE_FIRST_EVENT_MS, rng.range(40.0, 120.0)),
            (canary::SSE_WORST_GAP_RATIO, rng.range(0.85, 1.0)),
            (canary::HEALTH_LATENCY_MS, rng.range(8.0, 40.0)),
            (canary::FINDINGS, 0.0),
        ];
        for (metric, value) in metrics {
            data.push(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(dim.clone())
                    .timestamp(ts)
                    .value(value)
                    .unit(StandardUnit::from(canary::unit(metric)))
                    .build(),
            );
        }
    }
    cw.put_metric_data()
        .namespace(CANARY_NAMESPACE)
        .set_metric_data(Some(data))
        .send()
        .await
        .with_context(|| format!("CloudWatch PutMetricData {CANARY_NAMESPACE}"))?;
    Ok(())
}

/// The monitoring module's dashboard (by name; one text widget: the sandbox's console is the
/// view that matters here).
async fn seed_dashboard(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    let body = json!({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 2,
        "properties": {"markdown": format!("LibreChat {} (opsconsole sandbox)", n.env)}}]});
    aws_sdk_cloudwatch::Client::new(sdk)
        .put_dashboard()
        .dashboard_name(&n.dashboard)
        .dashboard_body(body.to_string())
        .send()
        .await
        .with_context(|| format!("CloudWatch PutDashboard {}", n.dashboard))?;
    Ok(())
}

async fn seed_redis(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    let ec = aws_sdk_elasticache::Client::new(sdk);
    ec.create_replication_group()
        .replication_group_id(&n.redis_group)
        .replication_group_description(format!("LibreChat sessions and cache ({})", n.prefix))
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.t4g.micro")
        // modules/redis: one node, so no automatic failover.
        .num_cache_clusters(1)
        .automatic_failover_enabled(false)
        .send()
        .await
        .context("ElastiCache CreateReplicationGroup")?;
    Ok(())
}

async fn seed_cloudfront(sdk: &SdkConfig, n: &Names, site_origin: &str) -> anyhow::Result<Seeded> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_have_the_lambda_format() {
        let cold = report_line("abc", 12.345, 2048, 300, Some(1500.5));
        assert_eq!(
            cold,
            "REPORT RequestId: abc\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 2048 MB\tMax Memory Used: 300 MB\tInit Duration: 1500.50 ms\t"
        );
        assert!(!report_line("abc", 1.0, 128, 64, None).contains("Init Duration"));
    }

    #[test]
    fn storm_history_has_mostly_long_cold_starts_and_baseline_few_short_ones() {
        let p95 = |h: &[SeedInvocation]| {
            let mut v: Vec<f64> = h.iter().filter_map(|i| i.init_ms).collect();
            v.sort_by(f64::total_cmp);
            v[((v.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)]
        };
        let base = invocation_history(false, 1_000_000_000);
        let storm = invocation_history(true, 1_000_000_000);
        let cold = |h: &[SeedInvocation]| h.iter().filter(|i| i.init_ms.is_some()).count();
        assert!(
            cold(&base) >= 3 && cold(&base) <= 6,
            "baseline cold starts: {}",
            cold(&base)
        );
        assert!(cold(&storm) >= 30);
        assert!(p95(&base) < 5000.0, "baseline p95 {}", p95(&base));
        assert!(p95(&storm) > 5000.0, "storm p95 {}", p95(&storm));
        // Oldest first, all in the past half hour.
        assert!(base.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms));
        assert!(base[0].ts_ms >= 1_000_000_000 - 31 * 60_000);
    }

    #[test]
    fn emf_line_is_found_by_the_plain_term_and_parses() {
        let line = emf_cold_start_line("f", 5, 1.0, 2.0, 3.0);
        assert!(line.contains("ColdStartTotalMs"));
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["ColdStartTotalMs"], 6.0);
        assert_eq!(v["event"], "cold_start");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "LibreChat/Shim"
        );
    }
}
