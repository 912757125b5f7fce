//! The cost model's arithmetic against figures computed by hand from console/data/prices.toml.

use super::*;

fn table() -> PriceTable {
    PriceTable::builtin().unwrap()
}

fn cfg<T>(v: T) -> Input<T> {
    Input::new(v, Basis::Configured, "test")
}

fn assumed<T>(v: T) -> Input<T> {
    Input::assumed(v, "test")
}

/// A deployment with round numbers: 1,000,000 API requests a month (1e6 / 30.4167 a day).
fn dep(region: &str) -> Deployment {
    Deployment {
        region: region.into(),
        lambda_memory_mb: cfg(1024),
        lambda_architecture: cfg(Arch::X86_64),
        provisioned_concurrency: cfg(0),
        log_retention_days: cfg(Some(30)),
        redis_node_type: cfg("cache.t4g.micro".into()),
        redis_nodes: cfg(1),
        alarms: cfg(10),
        dashboards: cfg(1),
        custom_metrics: cfg(8),
        ecr_images_kept: cfg(5),
        nat: cfg(false),
        canary: None,
    }
}

fn load() -> Load {
    Load {
        api_requests_per_day: assumed(1e6 / DAYS_PER_MONTH),
        api_duration_ms: assumed(1000.0),
        api_response_kb: assumed(10.0),
        static_requests_per_day: assumed(0.0),
        static_response_kb: assumed(100.0),
        static_miss_ratio: assumed(0.1),
        log_kb_per_request: assumed(1.0),
        nat_kb_per_request: assumed(1.0),
        uploads_per_day: assumed(0.0),
        stored_gb: assumed(10.0),
        image_gb: assumed(1.0),
    }
}

fn usd(e: &Estimate, service: &str, item_starts: &str) -> f64 {
    let l = e
        .lines
        .iter()
        .find(|l| l.service == service && l.item.starts_with(item_starts))
        .unwrap_or_else(|| panic!("no line {service} {item_starts}: {:#?}", e.lines));
    l.monthly_usd.unwrap()
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-6, "{a} != {b}");
}

#[test]
fn lambda_requests_and_gb_seconds_at_memory_and_architecture() {
    let e = estimate(&dep("us-east-1"), &load(), &table()).unwrap();
    // 1e6 requests x $0.20 / 1e6
    close(usd(&e, "Lambda", "API requests"), 0.20);
    // 1e6 x 1 s x 1 GB = 1e6 GB-s x $0.0000166667
    close(usd(&e, "Lambda", "API duration"), 16.6667);

    let mut d = dep("us-east-1");
    d.lambda_memory_mb = cfg(2048);
    d.lambda_architecture = cfg(Arch::Arm64);
    let e = estimate(&d, &load(), &table()).unwrap();
    // 2e6 GB-s x $0.0000133334
    close(usd(&e, "Lambda", "API duration"), 26.6668);
}

#[test]
fn api_gateway_and_cloudfront() {
    let mut l = load();
    l.static_requests_per_day = assumed(1e6 / DAYS_PER_MONTH);
    let e = estimate(&dep("us-east-1"), &l, &table()).unwrap();
    close(usd(&e, "API Gateway", "REST"), 3.50);
    // 2e6 requests / 10k x $0.01
    close(usd(&e, "CloudFront", "HTTPS"), 2.0);
    // 1e6 x 10 KB + 1e6 x 100 KB = 110 GB x $0.085
    close(usd(&e, "CloudFront", "data out"), 9.35);
    // 1e6 static x 0.1 misses / 1000 x $0.0004
    close(usd(&e, "S3", "GET"), 0.04);
}

#[test]
fn elasticache_node_hours_per_node_type_and_region() {
    let e = estimate(&dep("us-east-1"), &load(), &table()).unwrap();
    // 730 h x $0.016
    close(usd(&e, "ElastiCache", "1 x cache.t4g.micro"), 11.68);
    let mut d = dep("eu-west-1");
    d.redis_node_type = cfg("cache.t4g.small".into());
    d.redis_nodes = cfg(2);
    let e = estimate(&d, &load(), &table()).unwrap();
    // 2 x 730 h x $0.036
    close(usd(&e, "ElastiCache", "2 x cache.t4g.small"), 52.56);
}

#[test]
fn cloudwatch_s3_ecr_and_logs_with_retention() {
    let e = estimate(&dep("eu-west-1"), &load(), &table()).unwrap();
    close(usd(&e, "CloudWatch", "alarms"), 1.0);
    close(usd(&e, "CloudWatch", "dashboard"), 3.0);
    close(usd(&e, "CloudWatch", "custom metrics"), 2.4);
    // 1e6 x 1 KB = 1 GB x $0.57 (eu-west-1)
    close(usd(&e, "CloudWatch", "log ingestion"), 0.57);
    // 1 GB a month kept 30 days: 30 / 30.4167 GB-month x $0.03
    close(
        usd(&e, "CloudWatch", "log storage"),
        30.0 / DAYS_PER_MONTH * 0.03,
    );
    close(usd(&e, "S3", "Standard storage"), 0.23);
    // 5 images x 1 GB x $0.10
    close(usd(&e, "ECR", "image storage"), 0.5);
    assert!(!e.lines.iter().any(|l| l.service == "VPC"));

    let mut d = dep("eu-west-1");
    d.log_retention_days = cfg(None);
    d.nat = cfg(true);
    let e = estimate(&d, &load(), &table()).unwrap();
    // never expire: a year's logs, 12 GB-month
    close(usd(&e, "CloudWatch", "log storage"), 0.36);
    // 1e6 x 1 KB = 1 GB x $0.048
    close(usd(&e, "VPC", "NAT"), 0.048);
}

#[test]
fn total_is_the_sum_and_matches_a_hand_computed_deployment() {
    let e = estimate(&dep("us-east-1"), &load(), &table()).unwrap();
    let sum: f64 = e.lines.iter().filter_map(|l| l.monthly_usd).sum();
    close(e.total_usd, sum);
    // By hand: 0.20 + 16.6667 + 3.50 + 1.0 (CF req) + 0.85 (CF 10 GB) + 11.68 + 0.23 + 0 + 0
    // + 1.0 + 3.0 + 2.4 + 0.50 + 30/30.4167 x 0.03 + 0.5
    let by_hand = 0.20
        + 1e6 * 0.0000166667
        + 3.50
        + 1.0
        + 0.85
        + 11.68
        + 0.23
        + 1.0
        + 3.0
        + 2.4
        + 0.50
        + 30.0 / DAYS_PER_MONTH * 0.03
        + 0.5;
    close(e.total_usd, by_hand);
}

#[test]
fn the_canary_matches_its_readme() {
    let mut d = dep("us-east-1");
    d.canary = Some(Canary {
        runs_per_month: cfg(runs_per_month("rate(5 minutes)").unwrap()),
        memory_mb: cfg(128),
        duration_s: assumed(2.2),
        log_kb_per_run: assumed(4.0),
        metrics: cfg(6),
        alarms: cfg(2),
    });
    let e = estimate(&d, &load(), &table()).unwrap();
    let canary: f64 = e
        .lines
        .iter()
        .filter(|l| l.service == "Canary")
        .filter_map(|l| l.monthly_usd)
        .sum();
    // 8,760 runs (730 h x 12): requests 0.00175, 2,409 GB-s 0.0402, 35 MB logs 0.0175,
    // metrics 1.80, alarms 0.20, scheduler 0.0088: about $2.07 (README: about $2.1).
    close(runs_per_month("rate(5 minutes)").unwrap(), 8760.0);
    assert!((canary - 2.068).abs() < 0.01, "{canary}");
}

#[test]
fn schedule_expressions() {
    close(runs_per_month("rate(1 hour)").unwrap(), 730.0);
    close(runs_per_month("rate(1 day)").unwrap(), 730.0 / 24.0);
    assert_eq!(runs_per_month("cron(0 12 * * ? *)"), None);
    assert_eq!(runs_per_month("rate(0 minutes)"), None);
    assert_eq!(runs_per_month("rate(5 fortnights)"), None);
}

#[test]
fn provisioned_concurrency_is_priced_all_month() {
    let mut d = dep("us-east-1");
    d.provisioned_concurrency = cfg(2);
    let e = estimate(&d, &load(), &table()).unwrap();
    // 2 x 1 GB x 2,628,000 s x $0.0000041667
    close(
        usd(&e, "Lambda", "provisioned concurrency"),
        2.0 * 2_628_000.0 * 0.0000041667,
    );
}

#[test]
fn unknown_node_type_is_unpriced_never_zero() {
    let mut d = dep("us-east-1");
    d.redis_node_type = cfg("cache.x9.huge".into());
    let e = estimate(&d, &load(), &table()).unwrap();
    let l = e.lines.iter().find(|l| l.service == "ElastiCache").unwrap();
    assert_eq!(l.monthly_usd, None);
    assert!(l.note.as_deref().unwrap().contains("cache.x9.huge"));
    assert_eq!(
        e.unpriced,
        vec!["ElastiCache: 1 x cache.x9.huge".to_string()]
    );
}

#[test]
fn unknown_region_is_priced_as_the_fallback_and_says_so() {
    let e = estimate(&dep("ap-south-2"), &load(), &table()).unwrap();
    assert_eq!(e.priced_as, "us-east-1");
    assert!(e.assumptions.iter().any(|a| a.contains("ap-south-2")));
    let us = estimate(&dep("us-east-1"), &load(), &table()).unwrap();
    close(e.total_usd, us.total_usd);
}

#[test]
fn a_line_is_as_weak_as_its_weakest_input() {
    let mut l = load();
    l.api_requests_per_day = Input::new(1000.0, Basis::Measured, "Invocations");
    l.api_duration_ms = Input::new(500.0, Basis::Measured, "Duration");
    let e = estimate(&dep("us-east-1"), &l, &table()).unwrap();
    let basis = |item: &str| {
        e.lines
            .iter()
            .find(|x| x.item.starts_with(item))
            .unwrap()
            .basis
    };
    assert_eq!(basis("API requests"), Basis::Measured);
    // duration: measured load at configured memory
    assert_eq!(basis("API duration"), Basis::Configured);
    // log ingestion: measured requests x assumed KB per request
    assert_eq!(basis("log ingestion"), Basis::Assumed);
}
