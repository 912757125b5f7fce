//! The cost model's inputs: the Terraform modules' defaults (what a deployment has when the live
//! configuration cannot be read), the default load (documented with `opsconsole cost --help`),
//! and the window's measured usage turned into a month's load. Pure.

use serde::Serialize;

use super::cost::{
    Arch, Basis, Canary, Deployment, Estimate, Input, Load, estimate, runs_per_month,
};
use super::prices::PriceTable;

/// The default load: a small team's deployment. Each figure is stated, never measured.
pub const DEFAULT_REQUESTS_PER_DAY: f64 = 10_000.0;
/// Average billed duration of an API request: most calls take ~100 ms, a streamed chat is
/// billed for its whole stream (~10 s): one chat in ten gives ~1 s.
pub const DEFAULT_DURATION_MS: f64 = 1_000.0;
pub const DEFAULT_RESPONSE_KB: f64 = 10.0;
pub const DEFAULT_STATIC_REQUESTS_PER_DAY: f64 = 2_000.0;
pub const DEFAULT_STATIC_KB: f64 = 100.0;
pub const DEFAULT_STATIC_MISS_RATIO: f64 = 0.1;
/// START/END/REPORT (~0.3 KB) and the shim's JSON lines.
pub const DEFAULT_LOG_KB_PER_REQUEST: f64 = 1.0;
pub const DEFAULT_NAT_KB_PER_REQUEST: f64 = 1.0;
pub const DEFAULT_UPLOADS_PER_DAY: f64 = 50.0;
pub const DEFAULT_STORED_GB: f64 = 5.0;
/// The LibreChat image, compressed in ECR.
pub const DEFAULT_IMAGE_GB: f64 = 0.6;

/// The load at the defaults above (each `from` names the flag that changes it).
pub fn default_load() -> Load {
    let a = |v: f64, flag: &str| Input::assumed(v, format!("default (--{flag})"));
    Load {
        api_requests_per_day: a(DEFAULT_REQUESTS_PER_DAY, "requests-per-day"),
        api_duration_ms: a(DEFAULT_DURATION_MS, "duration-ms"),
        api_response_kb: a(DEFAULT_RESPONSE_KB, "response-kb"),
        static_requests_per_day: a(DEFAULT_STATIC_REQUESTS_PER_DAY, "static-requests-per-day"),
        static_response_kb: a(DEFAULT_STATIC_KB, "static-kb"),
        static_miss_ratio: a(DEFAULT_STATIC_MISS_RATIO, "static-miss-ratio"),
        log_kb_per_request: a(DEFAULT_LOG_KB_PER_REQUEST, "log-kb-per-request"),
        nat_kb_per_request: a(DEFAULT_NAT_KB_PER_REQUEST, "nat-kb-per-request"),
        uploads_per_day: a(DEFAULT_UPLOADS_PER_DAY, "uploads-per-day"),
        stored_gb: a(DEFAULT_STORED_GB, "stored-gb"),
        image_gb: a(DEFAULT_IMAGE_GB, "image-gb"),
    }
}

/// What infrastructure/terraform/modules set when nothing overrides them (environments/dev
/// does not): the deployment assumed when its live configuration cannot be read.
pub fn module_defaults(region: &str) -> Deployment {
    let m = |module: &str, var: &str| format!("modules/{module} default `{var}`");
    Deployment {
        region: region.to_string(),
        lambda_memory_mb: Input::assumed(1024, m("backend", "memory_size")),
        lambda_architecture: Input::assumed(Arch::X86_64, m("backend", "architecture")),
        provisioned_concurrency: Input::new(0, Basis::Configured, "modules/backend sets none"),
        log_retention_days: Input::assumed(Some(30), m("backend", "log_retention_days")),
        redis_node_type: Input::assumed("cache.t4g.micro".to_string(), m("redis", "node_type")),
        redis_nodes: Input::assumed(1, "modules/redis num_cache_clusters = 1"),
        alarms: Input::assumed(10, "modules/monitoring: 10 alarms"),
        dashboards: Input::assumed(1, "modules/monitoring: one dashboard"),
        custom_metrics: Input::new(
            8,
            Basis::Configured,
            "the shim's EMF metric names (crates/wire emf)",
        ),
        ecr_images_kept: Input::new(
            5,
            Basis::Configured,
            "modules/backend ECR lifecycle: 5 images",
        ),
        nat: Input::assumed(
            true,
            "environments/dev: private subnets with NAT (variables.tf)",
        ),
        canary: Some(default_canary()),
    }
}

/// modules/canary at its defaults; its duration and log size are the README's measurement.
pub fn default_canary() -> Canary {
    Canary {
        runs_per_month: Input::assumed(
            runs_per_month("rate(5 minutes)").unwrap_or(8760.0),
            "modules/canary default schedule rate(5 minutes)",
        ),
        memory_mb: Input::assumed(128, "modules/canary default memory_size"),
        duration_s: Input::assumed(2.2, "modules/canary README (measured on the sandbox)"),
        log_kb_per_run: Input::assumed(4.0, "modules/canary README"),
        metrics: Input::new(
            6,
            Basis::Configured,
            "the canary's metrics (crates/wire canary)",
        ),
        alarms: Input::new(2, Basis::Configured, "modules/canary: 2 alarms"),
    }
}

/// Sums over the window from CloudWatch; `None` when the metric had no datapoints (or could not
/// be read): then the stated load stands and the estimate says so.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub window_minutes: u32,
    pub invocations: Option<f64>,
    pub duration_avg_ms: Option<f64>,
    pub apigw_count: Option<f64>,
    pub cloudfront_requests: Option<f64>,
    pub cloudfront_bytes: Option<f64>,
    pub log_bytes: Option<f64>,
}

/// The load the window's usage amounts to, projected to a day (the model projects a day to the
/// month); every figure without a datapoint keeps the stated load, and the list says which.
pub fn measured_load(stated: &Load, u: &Usage) -> (Load, Vec<String>) {
    let mut load = stated.clone();
    let mut notes = Vec::new();
    let window = f64::from(u.window_minutes.max(1));
    let per_day = |x: f64| x * 1440.0 / window;
    let w = format!("{} min window", u.window_minutes);
    let mut missing = |metric: &str, what: &str| {
        notes.push(format!(
            "no `{metric}` datapoints in the {w}: {what} stays at the stated load"
        ))
    };

    let api = u.apigw_count.or(u.invocations);
    match (u.apigw_count, u.invocations) {
        (Some(c), _) => {
            load.api_requests_per_day = Input::new(
                per_day(c),
                Basis::Measured,
                format!("API Gateway Count, {w}"),
            )
        }
        (None, Some(i)) => {
            load.api_requests_per_day = Input::new(
                per_day(i),
                Basis::Measured,
                format!("Lambda Invocations, {w}"),
            )
        }
        (None, None) => missing("Count`/`Invocations", "API requests"),
    }
    match u.duration_avg_ms {
        Some(d) => {
            load.api_duration_ms =
                Input::new(d, Basis::Measured, format!("Lambda Duration average, {w}"))
        }
        None => missing("Duration", "the average duration"),
    }
    match u.cloudfront_requests {
        Some(r) => {
            let api_n = api.unwrap_or(0.0);
            load.static_requests_per_day = Input::new(
                per_day((r - api_n).max(0.0)),
                Basis::Measured,
                format!("CloudFront Requests less API requests, {w}"),
            );
            if let Some(b) = u.cloudfront_bytes.filter(|_| r > 0.0) {
                let kb = b / r / 1000.0;
                let src = format!("CloudFront BytesDownloaded / Requests, {w}");
                load.api_response_kb = Input::new(kb, Basis::Measured, src.clone());
                load.static_response_kb = Input::new(kb, Basis::Measured, src);
            } else {
                missing("BytesDownloaded", "the response sizes");
            }
        }
        None => missing(
            "Requests` (CloudFront, us-east-1",
            "frontend requests and sizes",
        ),
    }
    match (u.log_bytes, u.invocations.filter(|i| *i > 0.0)) {
        (Some(b), Some(i)) => {
            load.log_kb_per_request = Input::new(
                b / i / 1000.0,
                Basis::Measured,
                format!("Logs IncomingBytes / Invocations, {w}"),
            )
        }
        _ => missing("IncomingBytes", "log KB per request"),
    }
    (load, notes)
}

/// One change an operator asks about, with the month's difference against the estimate
/// (positive: costs more).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub change: String,
    pub delta_usd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Memory sizes (at the same duration: a stated assumption, more memory is more CPU and often
/// shorter), the other architecture, provisioned concurrency 1 and 2, the Redis node types the
/// table prices, log retention of 7, 90 days and never expire.
pub fn what_ifs(dep: &Deployment, load: &Load, table: &PriceTable) -> Vec<WhatIf> {
    let Some(base) = estimate(dep, load, table) else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut try_one = |change: String, d: Deployment, note: Option<&str>| {
        if let Some(e) = estimate(&d, load, table)
            && e.unpriced.is_empty()
        {
            out.push(WhatIf {
                change,
                delta_usd: e.total_usd - base.total_usd,
                note: note.map(str::to_string),
            });
        }
    };
    fn conf<T>(v: T, what: &str) -> Input<T> {
        Input::assumed(v, format!("what-if: {what}"))
    }
    for mb in [512u32, 2048, 3008] {
        if mb != dep.lambda_memory_mb.value {
            let mut d = dep.clone();
            d.lambda_memory_mb = conf(mb, "memory");
            try_one(
                format!("Lambda memory {mb} MB"),
                d,
                Some("at the same duration per request"),
            );
        }
    }
    let other = match dep.lambda_architecture.value {
        Arch::X86_64 => Arch::Arm64,
        Arch::Arm64 => Arch::X86_64,
    };
    let mut d = dep.clone();
    d.lambda_architecture = conf(other, "architecture");
    try_one(
        format!("Lambda on {}", other.as_str()),
        d,
        Some("needs an image built for it; same duration"),
    );
    for pc in [1u32, 2] {
        if pc != dep.provisioned_concurrency.value {
            let mut d = dep.clone();
            d.provisioned_concurrency = conf(pc, "provisioned concurrency");
            try_one(
                format!("provisioned concurrency {pc}"),
                d,
                Some("removes up to that many concurrent cold starts"),
            );
        }
    }
    if let Some(l) = table.lookup(&dep.region) {
        for node in l.prices.elasticache_node_hour.keys() {
            if *node != dep.redis_node_type.value {
                let mut d = dep.clone();
                d.redis_node_type = conf(node.clone(), "node type");
                try_one(format!("Redis {node}"), d, None);
            }
        }
    }
    for days in [Some(7u32), Some(90), None] {
        if days != dep.log_retention_days.value {
            let mut d = dep.clone();
            d.log_retention_days = conf(days, "retention");
            let label = days.map_or("never expire".to_string(), |x| format!("{x} days"));
            try_one(format!("log retention {label}"), d, None);
        }
    }
    out
}

/// The estimate as aligned text lines (the CLI and the support bundle).
pub fn table_text(e: &Estimate) -> String {
    let mut s = String::new();
    for l in &e.lines {
        let cost = l
            .monthly_usd
            .map_or("   unpriced".to_string(), |u| format!("{u:>11.2}"));
        s.push_str(&format!(
            "  {:<12} {:<44} {:>14.3} {:<19} {} USD  [{}]\n",
            l.service,
            l.item,
            l.quantity,
            l.unit,
            cost,
            l.basis.label()
        ));
        if let Some(n) = &l.note {
            s.push_str(&format!("  {:<12}   ({n})\n", ""));
        }
    }
    s.push_str(&format!(
        "  {:<12} {:<44} {:>14} {:<19} {:>11.2} USD/month\n",
        "TOTAL", "", "", "", e.total_usd
    ));
    if !e.unpriced.is_empty() {
        s.push_str(&format!(
            "  not in the total (no price): {}\n",
            e.unpriced.join("; ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_usage_replaces_the_stated_load_per_day() {
        let u = Usage {
            window_minutes: 60,
            invocations: Some(100.0),
            duration_avg_ms: Some(250.0),
            apigw_count: Some(120.0),
            cloudfront_requests: Some(200.0),
            cloudfront_bytes: Some(200.0 * 5_000.0),
            log_bytes: Some(100.0 * 2_000.0),
        };
        let (l, notes) = measured_load(&default_load(), &u);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(l.api_requests_per_day.value, 120.0 * 24.0);
        assert_eq!(l.api_requests_per_day.basis, Basis::Measured);
        assert_eq!(l.api_duration_ms.value, 250.0);
        assert_eq!(l.static_requests_per_day.value, 80.0 * 24.0);
        assert_eq!(l.static_response_kb.value, 5.0);
        assert_eq!(l.log_kb_per_request.value, 2.0);
    }

    #[test]
    fn a_missing_metric_keeps_the_stated_load_and_says_so() {
        let u = Usage {
            window_minutes: 60,
            invocations: Some(10.0),
            ..Usage::default()
        };
        let (l, notes) = measured_load(&default_load(), &u);
        assert_eq!(l.api_requests_per_day.value, 240.0);
        assert_eq!(
            l.api_requests_per_day.from,
            "Lambda Invocations, 60 min window"
        );
        assert_eq!(l.api_duration_ms.value, DEFAULT_DURATION_MS);
        assert_eq!(l.api_duration_ms.basis, Basis::Assumed);
        assert!(notes.iter().any(|n| n.contains("`Duration`")), "{notes:?}");
        assert!(
            notes.iter().any(|n| n.contains("IncomingBytes")),
            "{notes:?}"
        );

        let (l, notes) = measured_load(&default_load(), &Usage::default());
        assert_eq!(l, default_load());
        assert_eq!(notes.len(), 4, "{notes:?}");
    }

    #[test]
    fn what_ifs_price_the_difference() {
        let t = PriceTable::builtin().unwrap();
        let mut d = module_defaults("us-east-1");
        d.canary = None;
        let w = what_ifs(&d, &default_load(), &t);
        let get = |c: &str| w.iter().find(|x| x.change == c).unwrap().delta_usd;
        // 10,000/day x 30.4167 x 1 s x (2 - 1) GB x $0.0000166667
        let extra = 10_000.0 * (730.0 / 24.0) * 0.0000166667;
        assert!((get("Lambda memory 2048 MB") - extra).abs() < 1e-6);
        // 730 h x ($0.032 - $0.016)
        assert!((get("Redis cache.t4g.small") - 11.68).abs() < 1e-6);
        // 1 x 1 GB x 2,628,000 s x $0.0000041667
        assert!((get("provisioned concurrency 1") - 2_628_000.0 * 0.0000041667).abs() < 1e-6);
        assert!(get("log retention 7 days") < 0.0);
        assert!(get("Lambda on arm64") < 0.0);
    }

    #[test]
    fn the_module_defaults_are_the_terraform_defaults() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../infrastructure/terraform/modules");
        let backend = std::fs::read_to_string(root.join("backend/variables.tf")).unwrap();
        let redis = std::fs::read_to_string(root.join("redis/variables.tf")).unwrap();
        let default_of = |text: &str, var: &str| -> String {
            let at = text.find(&format!("variable \"{var}\"")).unwrap();
            let rest = &text[at..];
            let d = rest.find("default").unwrap();
            let line = rest[d..].lines().next().unwrap();
            line.split('=')
                .nth(1)
                .unwrap()
                .trim()
                .trim_matches('"')
                .to_string()
        };
        let d = module_defaults("eu-west-1");
        assert_eq!(
            d.lambda_memory_mb.value.to_string(),
            default_of(&backend, "memory_size")
        );
        assert_eq!(
            d.lambda_architecture.value.as_str(),
            default_of(&backend, "architecture")
        );
        assert_eq!(
            d.log_retention_days.value.map(|x| x.to_string()),
            Some(default_of(&backend, "log_retention_days"))
        );
        assert_eq!(d.redis_node_type.value, default_of(&redis, "node_type"));
        let c = d.canary.unwrap();
        assert_eq!(c.runs_per_month.value, 8760.0);
    }
}
