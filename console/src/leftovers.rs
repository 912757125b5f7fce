//! `opsconsole leftovers ENV [--json]`: after `terraform destroy`, what the deployment owned and
//! still exists. Two ways of looking, both needed:
//! - by tag: the Resource Groups Tagging API, `Project`/`Environment` (the `default_tags` of
//!   environments/dev), in the home region and us-east-1 (CloudFront, its alarms);
//! - by name, from the outputs saved before the destroy, for what is untagged or commonly
//!   forgotten: the function's log groups (Lambda creates `/aws/lambda/<fn>` itself if Terraform
//!   did not), API Gateway's execution log groups, the ECR repository and its images, the
//!   buckets with their object versions, CloudFront functions and origin access controls, the
//!   ENIs Lambda made in the VPC (they outlive the function by up to ~20 minutes and block the
//!   subnets' deletion), and the function, distribution, replication group, alarms and dashboard
//!   themselves.
//!
//! The Terraform configuration creates no SSM parameter (secrets are the operator's; the tagging
//! API lists any tagged one). Exit: 0 nothing left, 1 something left, 2 nothing found but a check
//! could not run, 3 usage/configuration error. Names and matching rules:
//! [`crate::domain::leftovers`].

use std::process::ExitCode;

use aws_config::Region;
use aws_sdk_sts::error::ProvideErrorMetadata;
use futures::FutureExt;
use futures::future::BoxFuture;

use crate::cli::{GlobalOpts, LeftoversArgs};
use crate::context::Context;
use crate::domain::leftovers::{self as dom, CheckError, Leftover, Owned};

type CheckResult = Result<Vec<Leftover>, String>;

/// Runs every check and returns the exit code.
pub async fn run(global: &GlobalOpts, args: &LeftoversArgs) -> ExitCode {
    let env = args.env.clone().unwrap_or_else(|| "dev".into());
    let now = crate::probe::now_rfc3339();
    let tags = match args.tag.iter().map(|t| dom::parse_tag(t)).collect() {
        Ok(t) => t,
        Err(e) => return usage(&env, &now, &e, args.json),
    };
    let ctx = match Context::build(global, &env).await {
        Ok(c) => c,
        Err(e) => return usage(&env, &now, &e.to_string(), args.json),
    };
    let owned = Owned::from_outputs(&ctx.outputs, &env, tags);
    let (checked, leftovers, errors) = check_all(&ctx, &owned).await;
    let code = dom::exit_code(&leftovers, &errors);
    if args.json {
        let doc = dom::document(&env, &now, &checked, &leftovers, &errors);
        print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    } else {
        print_out(&dom::human(&env, &checked, &leftovers, &errors));
    }
    ExitCode::from(code)
}

fn usage(env: &str, now: &str, msg: &str, json: bool) -> ExitCode {
    eprintln!("opsconsole: {msg}");
    if json {
        let doc = dom::usage_document(env, now, msg);
        print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    }
    ExitCode::from(dom::EXIT_USAGE)
}

fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("opsconsole: cannot write to stdout: {e}");
    }
}

/// Runs the checks concurrently: (names of the checks, leftovers, checks that failed).
pub async fn check_all(ctx: &Context, o: &Owned) -> (Vec<String>, Vec<Leftover>, Vec<CheckError>) {
    let mut checks: Vec<(String, BoxFuture<'_, CheckResult>)> = vec![
        ("lambda_function".into(), lambda_function(ctx, o).boxed()),
        ("log_groups".into(), log_groups(ctx, o).boxed()),
        ("ecr".into(), ecr(ctx, o).boxed()),
        ("s3".into(), buckets(ctx, o).boxed()),
        ("cloudfront".into(), cloudfront(ctx, o).boxed()),
        ("network_interfaces".into(), enis(ctx, o).boxed()),
        ("elasticache".into(), redis(ctx, o).boxed()),
        ("alarms".into(), alarms(ctx, o).boxed()),
        ("dashboard".into(), dashboard(ctx, o).boxed()),
    ];
    for region in &o.tag_regions {
        checks.push((
            format!("tagged:{region}"),
            tagged(ctx, o, region.clone()).boxed(),
        ));
    }
    let names: Vec<String> = checks.iter().map(|(n, _)| n.clone()).collect();
    let results = futures::future::join_all(checks.into_iter().map(|(_, f)| f)).await;
    let (mut by_name, mut by_tag, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for (name, r) in names.iter().zip(results) {
        match r {
            Ok(found) if name.starts_with("tagged:") => by_tag.extend(found),
            Ok(found) => by_name.extend(found),
            Err(message) => errors.push(CheckError {
                check: name.clone(),
                message,
            }),
        }
    }
    (names, dom::merge(by_name, by_tag), errors)
}

/// Error codes that mean "it does not exist" (the answer a clean destroy gives).
fn is_gone<E: ProvideErrorMetadata>(e: &E) -> bool {
    matches!(
        e.code(),
        Some(
            "ResourceNotFoundException"
                | "RepositoryNotFoundException"
                | "NoSuchDistribution"
                | "ReplicationGroupNotFoundFault"
                | "NoSuchBucket"
                | "NotFound"
                | "ResourceNotFound"
        )
    )
}

fn err_text(what: &str, e: &(dyn std::error::Error + 'static)) -> String {
    format!("{what}: {}", opsconsole_proc::error_chain(e))
}

fn sdk_in(ctx: &Context, region: &str) -> aws_config::SdkConfig {
    ctx.aws
        .sdk
        .to_builder()
        .region(Region::new(region.to_string()))
        .build()
}

async fn lambda_function(ctx: &Context, o: &Owned) -> CheckResult {
    match ctx
        .aws
        .lambda
        .get_function()
        .function_name(&o.function_name)
        .send()
        .await
    {
        Ok(_) => Ok(vec![Leftover::new(
            "lambda_function",
            &o.function_name,
            &o.region,
            "",
        )]),
        Err(e) if e.as_service_error().is_some_and(is_gone) => Ok(vec![]),
        Err(e) => Err(err_text("GetFunction", &e)),
    }
}

async fn log_groups(ctx: &Context, o: &Owned) -> CheckResult {
    let mut out = Vec::new();
    let mut prefixes: Vec<(String, bool)> =
        o.log_groups.iter().map(|g| (g.clone(), true)).collect();
    if let Some(p) = &o.api_log_group_prefix {
        prefixes.push((p.clone(), false));
    }
    for (prefix, exact) in prefixes {
        let mut pages = ctx
            .aws
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| err_text("DescribeLogGroups", &e))?;
            for g in page.log_groups() {
                let name = g.log_group_name().unwrap_or_default();
                if (exact && name == prefix) || (!exact && name.starts_with(&prefix)) {
                    let bytes = g.stored_bytes().unwrap_or(0);
                    out.push(Leftover::new(
                        "log_group",
                        name,
                        &o.region,
                        format!("{bytes} bytes stored"),
                    ));
                }
            }
        }
    }
    Ok(out)
}

async fn ecr(ctx: &Context, o: &Owned) -> CheckResult {
    let Some(repo) = &o.ecr_repository else {
        return Ok(vec![]);
    };
    let client = aws_sdk_ecr::Client::new(&ctx.aws.sdk);
    match client
        .describe_repositories()
        .repository_names(repo)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(is_gone) => return Ok(vec![]),
        Err(e) => return Err(err_text("DescribeRepositories", &e)),
    }
    let mut images = 0usize;
    let mut pages = client
        .list_images()
        .repository_name(repo)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        images += page
            .map_err(|e| err_text("ListImages", &e))?
            .image_ids()
            .len();
    }
    Ok(vec![Leftover::new(
        "ecr_repository",
        repo,
        &o.region,
        format!("{images} images"),
    )])
}

async fn buckets(ctx: &Context, o: &Owned) -> CheckResult {
    let mut out = Vec::new();
    for b in &o.buckets {
        match ctx.aws.s3.head_bucket().bucket(b).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) || is_gone(&e) => {
                continue;
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => continue,
            Err(e) => return Err(err_text(&format!("HeadBucket {b}"), &e)),
        }
        let (mut versions, mut markers) = (0usize, 0usize);
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let page = ctx
                .aws
                .s3
                .list_object_versions()
                .bucket(b)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| err_text(&format!("ListObjectVersions {b}"), &e))?;
            versions += page.versions().len();
            markers += page.delete_markers().len();
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
            if key_marker.is_none() && version_marker.is_none() {
                break;
            }
        }
        out.push(Leftover::new(
            "s3_bucket",
            b,
            &o.region,
            format!("{versions} object versions, {markers} delete markers"),
        ));
    }
    Ok(out)
}

async fn cloudfront(ctx: &Context, o: &Owned) -> CheckResult {
    let cf = &ctx.aws.cloudfront;
    let mut out = Vec::new();
    match cf.get_distribution().id(&o.distribution_id).send().await {
        Ok(d) => {
            let status = d
                .distribution()
                .map(|d| d.status().to_string())
                .unwrap_or_default();
            out.push(Leftover::new(
                "cloudfront_distribution",
                &o.distribution_id,
                "global",
                status,
            ));
        }
        Err(e) if e.as_service_error().is_some_and(is_gone) => {}
        Err(e) => return Err(err_text("GetDistribution", &e)),
    }
    let functions = cf
        .list_functions()
        .send()
        .await
        .map_err(|e| err_text("ListFunctions", &e))?;
    for f in functions
        .function_list()
        .map(|l| l.items())
        .unwrap_or_default()
    {
        if o.owns_cloudfront_name(f.name()) {
            out.push(Leftover::new(
                "cloudfront_function",
                f.name(),
                "global",
                f.status().unwrap_or_default(),
            ));
        }
    }
    let oacs = cf
        .list_origin_access_controls()
        .send()
        .await
        .map_err(|e| err_text("ListOriginAccessControls", &e))?;
    for c in oacs
        .origin_access_control_list()
        .map(|l| l.items())
        .unwrap_or_default()
    {
        if o.owns_cloudfront_name(c.name()) {
            out.push(Leftover::new(
                "origin_access_control",
                c.name(),
                "global",
                c.id(),
            ));
        }
    }
    Ok(out)
}

async fn enis(ctx: &Context, o: &Owned) -> CheckResult {
    let ec2 = aws_sdk_ec2::Client::new(&ctx.aws.sdk);
    let filter = aws_sdk_ec2::types::Filter::builder()
        .name("description")
        .values(o.eni_description_filter())
        .build();
    let mut out = Vec::new();
    let mut pages = ec2
        .describe_network_interfaces()
        .filters(filter)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| err_text("DescribeNetworkInterfaces", &e))?;
        for n in page.network_interfaces() {
            // The filter is the server's; the rule is ours (a prefix filter also matches
            // functions whose names extend this one's).
            if o.owns_eni(n.description().unwrap_or_default()) {
                let status = n
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                out.push(Leftover::new(
                    "network_interface",
                    n.network_interface_id().unwrap_or_default(),
                    &o.region,
                    format!("{status}; subnet {}", n.subnet_id().unwrap_or_default()),
                ));
            }
        }
    }
    Ok(out)
}

async fn redis(ctx: &Context, o: &Owned) -> CheckResult {
    match ctx
        .aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id(&o.redis_replication_group_id)
        .send()
        .await
    {
        Ok(r) => Ok(r
            .replication_groups()
            .iter()
            .map(|g| {
                Leftover::new(
                    "elasticache_replication_group",
                    g.replication_group_id().unwrap_or_default(),
                    &o.region,
                    g.status().unwrap_or_default(),
                )
            })
            .collect()),
        Err(e) if e.as_service_error().is_some_and(is_gone) => Ok(vec![]),
        Err(e) => Err(err_text("DescribeReplicationGroups", &e)),
    }
}

async fn alarms(ctx: &Context, o: &Owned) -> CheckResult {
    let mut out = Vec::new();
    for (region, names) in &o.alarms {
        let cw = ctx.aws.cloudwatch_in(region);
        // DescribeAlarms takes at most 100 names per call.
        for chunk in names.chunks(100) {
            let r = cw
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| err_text(&format!("DescribeAlarms ({region})"), &e))?;
            for a in r.metric_alarms() {
                out.push(Leftover::new(
                    "cloudwatch_alarm",
                    a.alarm_name().unwrap_or_default(),
                    region,
                    "",
                ));
            }
            for a in r.composite_alarms() {
                out.push(Leftover::new(
                    "cloudwatch_alarm",
                    a.alarm_name().unwrap_or_default(),
                    region,
                    "composite",
                ));
            }
        }
    }
    Ok(out)
}

async fn dashboard(ctx: &Context, o: &Owned) -> CheckResult {
    let Some(name) = &o.dashboard else {
        return Ok(vec![]);
    };
    match ctx
        .aws
        .cloudwatch
        .get_dashboard()
        .dashboard_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(vec![Leftover::new(
            "cloudwatch_dashboard",
            name,
            &o.region,
            "",
        )]),
        Err(e) if e.as_service_error().is_some_and(is_gone) => Ok(vec![]),
        Err(e) => Err(err_text("GetDashboard", &e)),
    }
}

async fn tagged(ctx: &Context, o: &Owned, region: String) -> CheckResult {
    let client = aws_sdk_resourcegroupstagging::Client::new(&sdk_in(ctx, &region));
    let filters: Vec<_> = o
        .tags
        .iter()
        .map(|(k, v)| {
            aws_sdk_resourcegroupstagging::types::TagFilter::builder()
                .key(k)
                .values(v)
                .build()
        })
        .collect();
    let mut out = Vec::new();
    let mut pages = client
        .get_resources()
        .set_tag_filters(Some(filters))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| err_text(&format!("GetResources ({region})"), &e))?;
        for m in page.resource_tag_mapping_list() {
            let arn = m.resource_arn().unwrap_or_default();
            // The filter is the server's; the rule is ours too (every tag asked for).
            let has_all = o
                .tags
                .iter()
                .all(|(k, v)| m.tags().iter().any(|t| t.key() == k && t.value() == v));
            if has_all {
                out.push(Leftover::new("tagged", arn, &region, ""));
            }
        }
    }
    Ok(out)
}
