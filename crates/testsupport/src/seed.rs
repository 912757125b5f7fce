//! Seeds moto (through the SDK) with one deployment as the Terraform outputs describe it, and
//! returns the matching outputs document. Used by the tests, the benchmark, and available to the
//! sandbox. Resource names all start with `prefix`, so several deployments can share one moto.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use serde_json::{Value, json};

use opsconsole::aws::AwsClients;
use opsconsole_wire::emf;

use crate::moto::MotoServer;

pub use opsconsole::model::ALARM_SUFFIXES;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedSpec {
    pub prefix: String,
    pub region: String,
    pub site_url: String,
    /// Alarm suffixes set to ALARM.
    pub firing: Vec<String>,
    /// Alarm suffixes left out of CloudWatch (but named in the outputs).
    pub missing: Vec<String>,
    /// Init Durations of the cold starts in the log (ms); one REPORT line each.
    pub cold_inits_ms: Vec<f64>,
    /// Warm REPORT lines.
    pub warm: usize,
    /// Lines that are neither (START/END/app logs), interleaved.
    pub noise: usize,
    /// Shim EMF cold-start lines (total ms each).
    pub emf_totals_ms: Vec<f64>,
    /// Extra alarm names in the outputs beyond the 10 (all created), for pagination tests.
    pub extra_alarms: usize,
    /// Create one invalidation.
    pub invalidation: bool,
    /// The config object (`{prefix}-config/librechat.yaml`, named by the function's
    /// CONFIG_S3_BUCKET / CONFIG_S3_KEY); `None`: the bucket is created, the object not.
    pub librechat_yaml: Option<String>,
}

/// A librechat.yaml that fits Lambda (issue 30): files in S3, every size limit at 4 MB.
pub const LIBRECHAT_YAML_FITS_LAMBDA: &str = concat!(
    "version: 1.2.1\ncache: true\n",
    include_str!("../../../infrastructure/librechat-files.yaml")
);

/// The objects seeded into the files bucket (key, size in bytes).
pub const SEEDED_FILES: [(&str, usize); 2] =
    [("images/u1/a.png", 1500), ("uploads/u1/b.pdf", 2048)];

impl SeedSpec {
    pub fn healthy(prefix: &str, region: &str, site_url: &str) -> SeedSpec {
        SeedSpec {
            prefix: prefix.into(),
            region: region.into(),
            site_url: site_url.into(),
            firing: vec![],
            missing: vec![],
            cold_inits_ms: vec![900.0, 1200.0, 1500.0],
            warm: 20,
            noise: 10,
            emf_totals_ms: vec![1000.0, 1400.0],
            extra_alarms: 0,
            invalidation: true,
            librechat_yaml: Some(LIBRECHAT_YAML_FITS_LAMBDA.into()),
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Creates an IAM role in moto (Lambda's CreateFunction needs one). IAM speaks the query
/// protocol; moto routes by the credential scope and does not check signatures.
fn create_role(moto: &MotoServer, name: &str) -> anyhow::Result<String> {
    let policy = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={policy}"
    );
    let _ = moto.raw_request(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            ),
        ],
        &body,
    );
    Ok(format!(
        "arn:aws:iam::{}:role/{name}",
        crate::moto::MOTO_ACCOUNT
    ))
}

/// An empty but valid zip archive (end-of-central-directory record only).
fn empty_zip() -> Vec<u8> {
    let mut z = vec![0x50, 0x4b, 0x05, 0x06];
    z.extend_from_slice(&[0u8; 18]);
    z
}

/// Seeds everything and returns the outputs document (`terraform output -json` shape).
pub async fn seed(moto: &MotoServer, c: &AwsClients, spec: &SeedSpec) -> anyhow::Result<Value> {
    let p = &spec.prefix;
    let function = format!("{p}-api");
    let log_group = format!("/aws/lambda/{function}");
    let rg_id = format!("{p}-redis");

    // Alarms.
    let mut alarm_refs = Vec::new();
    let mut names: Vec<(String, String, &str)> = ALARM_SUFFIXES
        .iter()
        .map(|s| {
            let region = if *s == "cloudfront-5xx-rate" {
                "us-east-1".to_string()
            } else {
                spec.region.clone()
            };
            (format!("{p}-{s}"), region, *s)
        })
        .collect();
    for i in 0..spec.extra_alarms {
        names.push((format!("{p}-extra-{i:04}"), spec.region.clone(), "extra"));
    }
    for (name, region, suffix) in &names {
        alarm_refs.push(json!({"name": name, "region": region}));
        if spec.missing.iter().any(|m| m == suffix) {
            continue;
        }
        let cw = c.cloudwatch_in(region);
        cw.put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/Lambda")
            .metric_name("Errors")
            .dimensions(
                aws_sdk_cloudwatch::types::Dimension::builder()
                    .name("FunctionName")
                    .value(&function)
                    .build(),
            )
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(5.0)
            .comparison_operator(
                aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
            )
            .send()
            .await
            .with_context(|| format!("PutMetricAlarm {name}"))?;
        let state = if spec.firing.iter().any(|f| f == suffix) {
            aws_sdk_cloudwatch::types::StateValue::Alarm
        } else {
            aws_sdk_cloudwatch::types::StateValue::Ok
        };
        cw.set_alarm_state()
            .alarm_name(name)
            .state_value(state)
            .state_reason("seeded")
            .send()
            .await
            .with_context(|| format!("SetAlarmState {name}"))?;
    }

    seed_buckets(c, spec).await?;

    // Lambda function and its log.
    let role = create_role(moto, &format!("{p}-role"))?;
    c.lambda
        .create_function()
        .function_name(&function)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role)
        .memory_size(1024)
        .timeout(30)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("CONFIG_S3_BUCKET", format!("{p}-config"))
                .variables("CONFIG_S3_KEY", "librechat.yaml")
                .build(),
        )
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(empty_zip()))
                .build(),
        )
        .send()
        .await
        .context("CreateFunction")?;
    let _ = c
        .logs
        .create_log_group()
        .log_group_name(&log_group)
        .send()
        .await;
    c.logs
        .create_log_stream()
        .log_group_name(&log_group)
        .log_stream_name("2026/01/01/[$LATEST]seed")
        .send()
        .await
        .context("CreateLogStream")?;
    let mut lines: Vec<String> = Vec::new();
    for (i, init) in spec.cold_inits_ms.iter().enumerate() {
        lines.push(format!("REPORT RequestId: cold-{i}\tDuration: 45.10 ms\tBilled Duration: 46 ms\tMemory Size: 1024 MB\tMax Memory Used: 180 MB\tInit Duration: {init:.2} ms\t"));
    }
    for i in 0..spec.warm {
        lines.push(format!("REPORT RequestId: warm-{i}\tDuration: 12.00 ms\tBilled Duration: 12 ms\tMemory Size: 1024 MB\tMax Memory Used: 150 MB\t"));
    }
    for t in &spec.emf_totals_ms {
        let ts = u64::try_from(now_ms()).unwrap_or(0);
        lines.push(emf::cold_start_line(&function, 10.0, 30.0, t - 40.0, *t, ts).to_string());
    }
    for i in 0..spec.noise {
        lines.push(format!("START RequestId: n-{i} Version: $LATEST"));
    }
    let base = now_ms() - 10 * 60 * 1000;
    let n = lines.len().max(1) as i64;
    let events: Vec<_> = lines
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(base + (i as i64) * (9 * 60 * 1000) / n)
                .message(m)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .context("building log events")?;
    for chunk in events.chunks(5000) {
        c.logs
            .put_log_events()
            .log_group_name(&log_group)
            .log_stream_name("2026/01/01/[$LATEST]seed")
            .set_log_events(Some(chunk.to_vec()))
            .send()
            .await
            .context("PutLogEvents")?;
    }

    // Redis.
    c.elasticache
        .create_replication_group()
        .replication_group_id(&rg_id)
        .replication_group_description("seeded")
        .engine("redis")
        .cache_node_type("cache.t4g.micro")
        .num_cache_clusters(1)
        .send()
        .await
        .context("CreateReplicationGroup")?;

    // CloudFront.
    let dist_id = create_distribution(c, p).await?;
    if spec.invalidation {
        c.cloudfront
            .create_invalidation()
            .distribution_id(&dist_id)
            .invalidation_batch(
                aws_sdk_cloudfront::types::InvalidationBatch::builder()
                    .caller_reference(format!("{p}-inv"))
                    .paths(
                        aws_sdk_cloudfront::types::Paths::builder()
                            .quantity(1)
                            .items("/*")
                            .build()?,
                    )
                    .build()?,
            )
            .send()
            .await
            .context("CreateInvalidation")?;
    }

    let s = |v: &str| json!({"value": v, "type": "string", "sensitive": false});
    Ok(json!({
        "site_url": s(&spec.site_url),
        "region": s(&spec.region),
        "cloudfront_distribution_id": s(&dist_id),
        "cloudfront_domain_name": s(&format!("{}.cloudfront.net", dist_id.to_lowercase())),
        "api_gateway_id": s("abc123"),
        "api_gateway_stage": s("prod"),
        "api_gateway_invoke_url": s(&format!("https://abc123.execute-api.{}.amazonaws.com/prod", spec.region)),
        "lambda_function_name": s(&function),
        "lambda_function_arn": s(&format!("arn:aws:lambda:{}:{}:function:{function}", spec.region, crate::moto::MOTO_ACCOUNT)),
        "lambda_log_group_name": s(&log_group),
        "ecr_repository_url": s("123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat"),
        "redis_replication_group_id": s(&rg_id),
        "redis_endpoint": s("redis.local"),
        "redis_port": {"value": 6379, "type": "number", "sensitive": false},
        "frontend_bucket_name": s(&format!("{p}-frontend")),
        "files_bucket_name": s(&format!("{p}-files")),
        "alarms": {"value": alarm_refs, "type": ["list", ["object", {"name": "string", "region": "string"}]], "sensitive": false},
        "dashboard_name": s(&format!("{p}-dashboard")),
        "shim_metrics_namespace": s(emf::NAMESPACE),
        "redis_auth_token": {"value": "do-not-print-me", "type": "string", "sensitive": true}
    }))
}

/// The files bucket with [`SEEDED_FILES`], the config bucket with `spec.librechat_yaml`.
async fn seed_buckets(c: &AwsClients, spec: &SeedSpec) -> anyhow::Result<()> {
    let p = &spec.prefix;
    let (files, config) = (format!("{p}-files"), format!("{p}-config"));
    for b in [&files, &config] {
        let mut req = c.s3.create_bucket().bucket(b.as_str());
        if spec.region != "us-east-1" {
            req = req.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        spec.region.as_str(),
                    ))
                    .build(),
            );
        }
        req.send()
            .await
            .with_context(|| format!("S3 CreateBucket {b}"))?;
    }
    let mut objects: Vec<(String, String, Vec<u8>)> = SEEDED_FILES
        .iter()
        .map(|(k, n)| (files.clone(), k.to_string(), vec![b'x'; *n]))
        .collect();
    if let Some(y) = &spec.librechat_yaml {
        objects.push((config, "librechat.yaml".into(), y.clone().into_bytes()));
    }
    for (b, k, body) in objects {
        c.s3.put_object()
            .bucket(&b)
            .key(&k)
            .body(aws_sdk_s3::primitives::ByteStream::from(body))
            .send()
            .await
            .with_context(|| format!("S3 PutObject {b}/{k}"))?;
    }
    Ok(())
}

async fn create_distribution(c: &AwsClients, p: &str) -> anyhow::Result<String> {
    let origin = ApiOrigin {
        domain_name: "abc123.execute-api.eu-west-1.amazonaws.com",
        origin_path: Some("/prod"),
        https: true,
    };
    let (id, _) = create_api_distribution(
        &c.cloudfront,
        origin,
        &format!("{p}-dist"),
        &format!("{p} seeded"),
    )
    .await?;
    // moto moves InProgress -> Deployed as the distribution is read; settle it (bounded).
    for _ in 0..10 {
        let d = c.cloudfront.get_distribution().id(&id).send().await?;
        if d.distribution()
            .is_some_and(|d| d.status().eq_ignore_ascii_case("Deployed"))
        {
            break;
        }
    }
    Ok(id)
}

/// The trust policy of a role that Lambda may assume.
pub const LAMBDA_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Creates, through the SDK, an IAM role `role_name` that Lambda may assume and an
/// image-packaged Lambda function `function_name` with that role, running `image_uri`.
pub async fn create_image_function(
    sdk: &aws_config::SdkConfig,
    role_name: &str,
    function_name: &str,
    image_uri: &str,
) -> anyhow::Result<()> {
    let role = aws_sdk_iam::Client::new(sdk)
        .create_role()
        .role_name(role_name)
        .assume_role_policy_document(LAMBDA_TRUST_POLICY)
        .send()
        .await
        .with_context(|| format!("CreateRole {role_name}"))?;
    let arn = role
        .role()
        .map(|r| r.arn().to_string())
        .context("CreateRole returned no role")?;
    aws_sdk_lambda::Client::new(sdk)
        .create_function()
        .function_name(function_name)
        .role(arn)
        .package_type(aws_sdk_lambda::types::PackageType::Image)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .image_uri(image_uri)
                .build(),
        )
        .send()
        .await
        .with_context(|| format!("CreateFunction {function_name}"))?;
    Ok(())
}

/// The API origin of a distribution to create: CloudFront -> API Gateway (or its stand-in).
#[derive(Debug, Clone, Copy)]
pub struct ApiOrigin<'a> {
    pub domain_name: &'a str,
    /// The stage, as CloudFront's `origin_path` (`/prod`); None for none.
    pub origin_path: Option<&'a str>,
    /// HTTPS to the origin (API Gateway); false for a plain-HTTP local stand-in.
    pub https: bool,
}

/// Creates a CloudFront distribution whose one origin (id `api`) is `origin`, behind the
/// managed CachingDisabled policy, and returns its id and domain name.
pub async fn create_api_distribution(
    cf: &aws_sdk_cloudfront::Client,
    origin: ApiOrigin<'_>,
    caller_reference: &str,
    comment: &str,
) -> anyhow::Result<(String, String)> {
    use aws_sdk_cloudfront::types::{
        CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, Origin, OriginProtocolPolicy,
        Origins, ViewerProtocolPolicy,
    };
    let protocol = if origin.https {
        OriginProtocolPolicy::HttpsOnly
    } else {
        OriginProtocolPolicy::HttpOnly
    };
    let origin = Origin::builder()
        .id("api")
        .domain_name(origin.domain_name)
        .set_origin_path(origin.origin_path.map(str::to_string))
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(protocol)
                .build()
                .context("CustomOriginConfig")?,
        )
        .build()
        .context("Origin")?;
    let config = DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(comment)
        .enabled(true)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .context("Origins")?,
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("api")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id(CACHING_DISABLED_POLICY_ID)
                .build()
                .context("DefaultCacheBehavior")?,
        )
        .build()
        .context("DistributionConfig")?;
    let out = cf
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .context("CloudFront CreateDistribution")?;
    out.distribution()
        .map(|d| (d.id().to_string(), d.domain_name().to_string()))
        .context("CreateDistribution returned no distribution")
}

/// The managed cache policy "CachingDisabled" (what the frontend module uses for `/api/*`).
pub const CACHING_DISABLED_POLICY_ID: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";

/// Creates a CloudFront distribution with one HTTPS-only custom origin (`api.example.org`,
/// id `api`) behind the managed CachingDisabled policy, and returns its id.
pub async fn create_example_distribution(
    cf: &aws_sdk_cloudfront::Client,
    caller_reference: &str,
    comment: &str,
) -> anyhow::Result<String> {
    let origin = ApiOrigin {
        domain_name: "api.example.org",
        origin_path: None,
        https: true,
    };
    let (id, _) = create_api_distribution(cf, origin, caller_reference, comment).await?;
    Ok(id)
}
