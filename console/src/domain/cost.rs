//! The deployment's monthly cost (issue 29): every billed part priced from the price table
//! ([`super::prices`]) at a stated load. Pure: the inputs come with their basis (measured from
//! CloudWatch, read from the configuration, or assumed), each line carries the weakest basis of
//! what it used, and what cannot be priced is listed as unpriced, never counted as zero.

use serde::Serialize;

use super::prices::{PriceTable, RegionPrices};

/// AWS's billing month: 730 hours.
pub const HOURS_PER_MONTH: f64 = 730.0;
pub const DAYS_PER_MONTH: f64 = HOURS_PER_MONTH / 24.0;
const SECONDS_PER_MONTH: f64 = HOURS_PER_MONTH * 3600.0;
/// Decimal gigabytes, as AWS bills data transfer and storage.
const KB_PER_GB: f64 = 1_000_000.0;

/// Where a figure comes from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// From the account's usage metrics in the window.
    Measured,
    /// From the deployment's configuration (live AWS configuration or Terraform).
    Configured,
    /// A default or a flag: the operator's statement, not the account's.
    Assumed,
}

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Basis::Measured => "measured",
            Basis::Configured => "configured",
            Basis::Assumed => "assumed",
        }
    }
}

/// One input with its basis and where it was taken from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Input<T> {
    pub value: T,
    pub basis: Basis,
    pub from: String,
}

impl<T> Input<T> {
    pub fn new(value: T, basis: Basis, from: impl Into<String>) -> Input<T> {
        Input {
            value,
            basis,
            from: from.into(),
        }
    }
    pub fn assumed(value: T, from: impl Into<String>) -> Input<T> {
        Input::new(value, Basis::Assumed, from)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "x86_64" => Some(Arch::X86_64),
            "arm64" => Some(Arch::Arm64),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }
}

/// The scheduled canary (modules/canary), when deployed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Canary {
    pub runs_per_month: Input<f64>,
    pub memory_mb: Input<u32>,
    pub duration_s: Input<f64>,
    pub log_kb_per_run: Input<f64>,
    pub metrics: Input<u32>,
    pub alarms: Input<u32>,
}

/// What the configuration says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub region: String,
    pub lambda_memory_mb: Input<u32>,
    pub lambda_architecture: Input<Arch>,
    pub provisioned_concurrency: Input<u32>,
    /// `None`: never expire.
    pub log_retention_days: Input<Option<u32>>,
    pub redis_node_type: Input<String>,
    pub redis_nodes: Input<u32>,
    pub alarms: Input<u32>,
    pub dashboards: Input<u32>,
    /// Custom metrics the shim emits (EMF, one `FunctionName` value).
    pub custom_metrics: Input<u32>,
    pub ecr_images_kept: Input<u32>,
    /// Whether the function's outbound traffic goes through a NAT gateway (the NAT's hours
    /// belong to the VPC's owner: only its data processing is counted here).
    pub nat: Input<bool>,
    pub canary: Option<Canary>,
}

/// The load the estimate is made at (per day unless named otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Load {
    /// Requests to the API (API Gateway -> Lambda), all through CloudFront.
    pub api_requests_per_day: Input<f64>,
    pub api_duration_ms: Input<f64>,
    pub api_response_kb: Input<f64>,
    /// Requests for the frontend's files (CloudFront -> S3).
    pub static_requests_per_day: Input<f64>,
    pub static_response_kb: Input<f64>,
    /// Share of the static requests CloudFront fetches from S3 (cache misses).
    pub static_miss_ratio: Input<f64>,
    pub log_kb_per_request: Input<f64>,
    pub nat_kb_per_request: Input<f64>,
    pub uploads_per_day: Input<f64>,
    pub stored_gb: Input<f64>,
    pub image_gb: Input<f64>,
}

/// One priced part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub service: &'static str,
    pub item: String,
    pub quantity: f64,
    pub unit: &'static str,
    /// USD per `unit`; `None` when the table has no price for it.
    pub unit_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
    pub basis: Basis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The month's estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub region: String,
    pub priced_as: String,
    pub prices_as_of: String,
    pub lines: Vec<Line>,
    /// Sum of the priced lines.
    pub total_usd: f64,
    /// Lines without a price (not in the total).
    pub unpriced: Vec<String>,
    /// Assumptions the figures rest on (region fallbacks, free tiers, what is not counted).
    pub assumptions: Vec<String>,
}

fn line(
    service: &'static str,
    item: impl Into<String>,
    quantity: f64,
    unit: &'static str,
    unit_usd: f64,
    basis: Basis,
) -> Line {
    Line {
        service,
        item: item.into(),
        quantity,
        unit,
        unit_usd: Some(unit_usd),
        monthly_usd: Some(quantity * unit_usd),
        basis,
        note: None,
    }
}

fn worst(b: &[Basis]) -> Basis {
    b.iter().copied().max().unwrap_or(Basis::Assumed)
}

fn gb_second_price(p: &RegionPrices, arch: Arch) -> f64 {
    match arch {
        Arch::X86_64 => p.lambda_gb_second_x86_64,
        Arch::Arm64 => p.lambda_gb_second_arm64,
    }
}

/// The monthly estimate of `dep` at `load`, priced from `table`.
pub fn estimate(dep: &Deployment, load: &Load, table: &PriceTable) -> Option<Estimate> {
    let lookup = table.lookup(&dep.region)?;
    let p = lookup.prices;
    let mut assumptions: Vec<String> = lookup.assumption.into_iter().collect();
    assumptions.push(format!(
        "AWS list prices as of {} (console/data/prices.toml), first volume tier; free tiers, \
         Savings Plans and taxes not applied; a month is {HOURS_PER_MONTH} hours",
        table.as_of
    ));
    let mut lines = Vec::new();

    let api_month = load.api_requests_per_day.value * DAYS_PER_MONTH;
    let api_b = load.api_requests_per_day.basis;

    // Lambda: the API function.
    let arch = dep.lambda_architecture.value;
    let mem_gb = f64::from(dep.lambda_memory_mb.value) / 1024.0;
    lines.push(line(
        "Lambda",
        "API requests",
        api_month / 1e6,
        "million requests",
        p.lambda_requests_per_million,
        api_b,
    ));
    let gb_s = api_month * load.api_duration_ms.value / 1000.0 * mem_gb;
    lines.push(line(
        "Lambda",
        format!(
            "API duration ({} MB, {})",
            dep.lambda_memory_mb.value,
            arch.as_str()
        ),
        gb_s,
        "GB-second",
        gb_second_price(p, arch),
        worst(&[
            api_b,
            load.api_duration_ms.basis,
            dep.lambda_memory_mb.basis,
            dep.lambda_architecture.basis,
        ]),
    ));
    let pc = dep.provisioned_concurrency.value;
    if pc > 0 {
        let price = match arch {
            Arch::X86_64 => p.lambda_provisioned_gb_second_x86_64,
            Arch::Arm64 => p.lambda_provisioned_gb_second_arm64,
        };
        let mut l = line(
            "Lambda",
            format!("provisioned concurrency {pc}"),
            f64::from(pc) * mem_gb * SECONDS_PER_MONTH,
            "GB-second",
            price,
            worst(&[
                dep.provisioned_concurrency.basis,
                dep.lambda_memory_mb.basis,
            ]),
        );
        l.note = Some(
            "duration on provisioned instances still priced at the on-demand rate (an upper bound)"
                .into(),
        );
        lines.push(l);
    }

    // API Gateway REST.
    lines.push(line(
        "API Gateway",
        "REST requests",
        api_month / 1e6,
        "million requests",
        p.apigw_rest_requests_per_million,
        api_b,
    ));

    // CloudFront: the frontend and the API behind it.
    let static_month = load.static_requests_per_day.value * DAYS_PER_MONTH;
    let static_b = load.static_requests_per_day.basis;
    lines.push(line(
        "CloudFront",
        "HTTPS requests (frontend + API)",
        (api_month + static_month) / 10_000.0,
        "10k requests",
        table.cloudfront_https_requests_per_10k,
        worst(&[api_b, static_b]),
    ));
    let out_gb = (api_month * load.api_response_kb.value
        + static_month * load.static_response_kb.value)
        / KB_PER_GB;
    lines.push(line(
        "CloudFront",
        "data out to the internet",
        out_gb,
        "GB",
        table.cloudfront_data_out_gb,
        worst(&[
            api_b,
            static_b,
            load.api_response_kb.basis,
            load.static_response_kb.basis,
        ]),
    ));

    // ElastiCache.
    let nodes = f64::from(dep.redis_nodes.value);
    let node_type = &dep.redis_node_type.value;
    let node_b = worst(&[dep.redis_node_type.basis, dep.redis_nodes.basis]);
    match p.elasticache_node_hour.get(node_type) {
        Some(&hourly) => lines.push(line(
            "ElastiCache",
            format!("{} x {node_type}", dep.redis_nodes.value),
            nodes * HOURS_PER_MONTH,
            "node-hour",
            hourly,
            node_b,
        )),
        None => lines.push(Line {
            service: "ElastiCache",
            item: format!("{} x {node_type}", dep.redis_nodes.value),
            quantity: nodes * HOURS_PER_MONTH,
            unit: "node-hour",
            unit_usd: None,
            monthly_usd: None,
            basis: node_b,
            note: Some(format!(
                "node type `{node_type}` is not in the price table for {}: not priced, not in the total",
                lookup.priced_as
            )),
        }),
    }

    // S3: uploads and the frontend.
    lines.push(line(
        "S3",
        "Standard storage (uploads + frontend)",
        load.stored_gb.value,
        "GB-month",
        p.s3_standard_gb_month,
        load.stored_gb.basis,
    ));
    lines.push(line(
        "S3",
        "PUT requests (uploads)",
        load.uploads_per_day.value * DAYS_PER_MONTH / 1000.0,
        "1k requests",
        p.s3_put_per_1000,
        load.uploads_per_day.basis,
    ));
    lines.push(line(
        "S3",
        "GET requests (CloudFront misses, downloads)",
        (static_month * load.static_miss_ratio.value + load.uploads_per_day.value * DAYS_PER_MONTH)
            / 1000.0,
        "1k requests",
        p.s3_get_per_1000,
        worst(&[
            static_b,
            load.static_miss_ratio.basis,
            load.uploads_per_day.basis,
        ]),
    ));

    // CloudWatch.
    lines.push(line(
        "CloudWatch",
        "alarms (standard resolution)",
        f64::from(dep.alarms.value),
        "alarm-month",
        p.cloudwatch_alarm_month,
        dep.alarms.basis,
    ));
    let mut dash = line(
        "CloudWatch",
        "dashboard",
        f64::from(dep.dashboards.value),
        "dashboard-month",
        p.cloudwatch_dashboard_month,
        dep.dashboards.basis,
    );
    dash.note = Some("the account's first 3 dashboards are free (not applied)".into());
    lines.push(dash);
    lines.push(line(
        "CloudWatch",
        "custom metrics (shim EMF)",
        f64::from(dep.custom_metrics.value),
        "metric-month",
        p.cloudwatch_metric_month,
        dep.custom_metrics.basis,
    ));
    let ingest_gb = api_month * load.log_kb_per_request.value / KB_PER_GB;
    let log_b = worst(&[api_b, load.log_kb_per_request.basis]);
    lines.push(line(
        "CloudWatch",
        "log ingestion (API function)",
        ingest_gb,
        "GB",
        p.logs_ingestion_gb,
        log_b,
    ));
    let (stored_months, retention_note) = match dep.log_retention_days.value {
        Some(d) => (f64::from(d) / DAYS_PER_MONTH, None),
        None => (
            12.0,
            Some("retention: never expire; a year's logs counted (it keeps growing)".to_string()),
        ),
    };
    let mut storage = line(
        "CloudWatch",
        format!(
            "log storage ({})",
            dep.log_retention_days
                .value
                .map_or("never expire".to_string(), |d| format!("{d}-day retention"))
        ),
        ingest_gb * stored_months,
        "GB-month",
        p.logs_storage_gb_month,
        worst(&[log_b, dep.log_retention_days.basis]),
    );
    storage.note = retention_note.or_else(|| {
        Some("steady state; billed compressed, counted uncompressed (an upper bound)".into())
    });
    lines.push(storage);

    // ECR.
    let mut ecr = line(
        "ECR",
        format!("image storage ({} images kept)", dep.ecr_images_kept.value),
        f64::from(dep.ecr_images_kept.value) * load.image_gb.value,
        "GB-month",
        p.ecr_storage_gb_month,
        worst(&[dep.ecr_images_kept.basis, load.image_gb.basis]),
    );
    ecr.note = Some("layers shared between images are stored once (an upper bound)".into());
    lines.push(ecr);

    // NAT data processing.
    if dep.nat.value {
        let mut nat = line(
            "VPC",
            "NAT gateway data processed",
            api_month * load.nat_kb_per_request.value / KB_PER_GB,
            "GB",
            p.nat_gateway_data_gb,
            worst(&[dep.nat.basis, api_b, load.nat_kb_per_request.basis]),
        );
        nat.note = Some("the NAT gateway's hours belong to the existing VPC: not counted".into());
        lines.push(nat);
    }

    if let Some(c) = &dep.canary {
        lines.extend(canary_lines(c, p));
    }

    let total_usd = lines.iter().filter_map(|l| l.monthly_usd).sum();
    let unpriced = lines
        .iter()
        .filter(|l| l.monthly_usd.is_none())
        .map(|l| format!("{}: {}", l.service, l.item))
        .collect();
    Some(Estimate {
        region: dep.region.clone(),
        priced_as: lookup.priced_as.to_string(),
        prices_as_of: table.as_of.clone(),
        lines,
        total_usd,
        unpriced,
        assumptions,
    })
}

fn canary_lines(c: &Canary, p: &RegionPrices) -> Vec<Line> {
    let runs = c.runs_per_month.value;
    let rb = c.runs_per_month.basis;
    let gb_s = runs * c.duration_s.value * f64::from(c.memory_mb.value) / 1024.0;
    let ingest = runs * c.log_kb_per_run.value / KB_PER_GB;
    let mut sched = line(
        "Canary",
        "scheduler invocations",
        runs / 1e6,
        "million invocations",
        p.scheduler_invocations_per_million,
        rb,
    );
    sched.note = Some("EventBridge Scheduler's 14 million free a month not applied".into());
    vec![
        line(
            "Canary",
            "Lambda requests",
            runs / 1e6,
            "million requests",
            p.lambda_requests_per_million,
            rb,
        ),
        line(
            "Canary",
            format!("Lambda duration ({} MB, x86_64)", c.memory_mb.value),
            gb_s,
            "GB-second",
            p.lambda_gb_second_x86_64,
            worst(&[rb, c.duration_s.basis, c.memory_mb.basis]),
        ),
        line(
            "Canary",
            "log ingestion",
            ingest,
            "GB",
            p.logs_ingestion_gb,
            worst(&[rb, c.log_kb_per_run.basis]),
        ),
        line(
            "Canary",
            "custom metrics",
            f64::from(c.metrics.value),
            "metric-month",
            p.cloudwatch_metric_month,
            c.metrics.basis,
        ),
        line(
            "Canary",
            "alarms",
            f64::from(c.alarms.value),
            "alarm-month",
            p.cloudwatch_alarm_month,
            c.alarms.basis,
        ),
        sched,
    ]
}

/// Runs a month of an EventBridge Scheduler `rate(N unit)` expression; `None` for anything
/// else (cron expressions, typos): the caller states its assumption.
pub fn runs_per_month(schedule: &str) -> Option<f64> {
    let inner = schedule.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let mut it = inner.split_whitespace();
    let n: f64 = it.next()?.parse().ok()?;
    let unit = it.next()?;
    if it.next().is_some() || n <= 0.0 {
        return None;
    }
    let minutes = match unit {
        "minute" | "minutes" => n,
        "hour" | "hours" => n * 60.0,
        "day" | "days" => n * 1440.0,
        _ => return None,
    };
    Some(HOURS_PER_MONTH * 60.0 / minutes)
}

#[cfg(test)]
#[path = "cost_tests.rs"]
mod tests;
