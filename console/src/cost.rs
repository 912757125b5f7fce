//! `opsconsole cost ENV [--window W] [--json]` (issue 29): the deployment's monthly cost.
//! Thin adapters: the live configuration (the function's memory and architecture, the
//! replication group's node type and size, the log group's retention) over the Terraform
//! modules' defaults, and the window's usage metrics; the arithmetic is
//! [`crate::domain::cost`].

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::cli::{CostArgs, GlobalOpts};
use crate::collectors::aws::metric_data::{dim, get_metric_data, metric_query};
use crate::context::Context;
use crate::domain::cost::{self, Arch, Basis, Deployment, Input, Load};
pub use crate::domain::cost_document::{Actual, CostDocument};
use crate::domain::cost_inputs::{self as inputs, Usage};
use crate::domain::prices::PriceTable;
use crate::domain::window::Window;
use crate::model::{CollectorError, ErrorKind};

const EXIT_OK: u8 = 0;
const EXIT_PARTIAL: u8 = 2;
const EXIT_USAGE: u8 = 3;

pub async fn run(global: &GlobalOpts, args: &CostArgs) -> ExitCode {
    let env = args.env.clone().unwrap_or_else(|| "dev".into());
    let ctx = match Context::build(global, &env).await {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let window = args.window.unwrap_or(Window::H24);
    let doc = match command_document(&ctx, args, window).await {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    if args.json {
        print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    } else {
        print_out(&human(&doc));
    }
    let nothing_refreshed = doc
        .price_refresh
        .as_ref()
        .is_some_and(|r| r.refreshed.is_empty());
    ExitCode::from(if doc.errors.is_empty() && !nothing_refreshed {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    })
}

/// The table to price with: `--prices FILE`, else the built-in one.
pub fn load_table(file: Option<&std::path::Path>) -> Result<PriceTable, String> {
    match file {
        None => PriceTable::builtin().map_err(|e| e.to_string()),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| format!("--prices {}: {e}", p.display()))?;
            PriceTable::parse(&text).map_err(|e| format!("--prices {}: {e}", p.display()))
        }
    }
}

/// What `opsconsole cost` prints: the table (`--prices`, refreshed from the Price List API
/// with `--refresh-prices` and written with `--write-prices`), the document, and Cost
/// Explorer's billed cost unless `--no-billed`. An error is a usage error (a table that cannot
/// be read or written).
pub async fn command_document(
    ctx: &Context,
    args: &CostArgs,
    window: Window,
) -> Result<CostDocument, String> {
    let mut table = load_table(args.prices.as_deref())?;
    let mut refresh = None;
    if args.refresh_prices {
        let today = crate::probe::now_rfc3339()
            .chars()
            .take(10)
            .collect::<String>();
        let (t, r) =
            crate::cost_refresh::refresh(&ctx.aws, &ctx.env, &table, &ctx.outputs.region, &today)
                .await;
        if let Some(path) = &args.write_prices {
            let header = refreshed_header(&r, &table.as_of);
            std::fs::write(path, t.to_toml(&header))
                .map_err(|e| format!("--write-prices {}: {e}", path.display()))?;
        }
        table = t;
        refresh = Some(r);
    }
    let mut doc = document(ctx, args, window, &table)
        .await
        .ok_or("the price table has no fallback region")?;
    doc.price_refresh = refresh;
    if !args.no_billed {
        doc.billed = Some(crate::cost_billed::billed(ctx, window).await);
    }
    Ok(doc)
}

/// The leading comment of a table written by `--write-prices`.
fn refreshed_header(r: &crate::domain::pricelist::PriceRefresh, as_of: &str) -> String {
    let mut h = format!(
        "The price table of `opsconsole cost`, written by `opsconsole cost --refresh-prices \
         --write-prices`\non {}: {} price(s) for {} taken from the AWS Price List API (their \
         `source` names the SKU and rate),\nthe others kept from the table read (as of {as_of}). \
         Read it with `opsconsole cost ENV --prices FILE`.\nUSD list prices: no free tier, \
         Savings Plans, credits or taxes; the first volume tier.",
        r.fetched,
        r.refreshed.len(),
        r.region
    );
    if !r.not_refreshed.is_empty() {
        h.push_str("\n\nNot refreshed:");
        for n in &r.not_refreshed {
            h.push_str(&format!("\n- {}: {}", n.price, n.reason));
        }
    }
    h
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("opsconsole: {msg}");
    ExitCode::from(EXIT_USAGE)
}

/// Reads the configuration and (unless `--no-usage`) the window's usage, and prices both.
pub async fn document(
    ctx: &Context,
    args: &CostArgs,
    window: Window,
    table: &PriceTable,
) -> Option<CostDocument> {
    document_at(ctx, stated_load(args), !args.no_usage, window, table).await
}

/// The window the console's cost source (probe, TUI, bundle) projects: `opsconsole cost`'s
/// default.
pub const DEFAULT_WINDOW: Window = Window::H24;

/// What `opsconsole cost ENV --json` prints (no flags: the default load, the last 24 hours),
/// for the probe's `cost` section, the TUI and the bundle; a document that cannot be made at
/// all is an error saying why (a read that failed is in the document's `errors`).
pub async fn default_document(ctx: &Context) -> Result<CostDocument, CollectorError> {
    let table = PriceTable::builtin().map_err(|e| CollectorError {
        kind: ErrorKind::Config,
        message: format!("price table: {e}"),
        fix: Some("console/data/prices.toml is built in: rebuild opsconsole".into()),
    })?;
    document_at(ctx, inputs::default_load(), true, DEFAULT_WINDOW, &table)
        .await
        .ok_or_else(|| CollectorError {
            kind: ErrorKind::Config,
            message: "the price table has no fallback region".into(),
            fix: Some("console/data/prices.toml: name a fallback region".into()),
        })
}

/// [`document`] at a stated load; `with_usage`: read the window's usage too. The configuration
/// and the usage are read concurrently.
pub async fn document_at(
    ctx: &Context,
    stated: Load,
    with_usage: bool,
    window: Window,
    table: &PriceTable,
) -> Option<CostDocument> {
    let usage_fut = async {
        if with_usage {
            Some(usage(ctx, window).await)
        } else {
            None
        }
    };
    let ((deployment, mut errors), usage_read) = tokio::join!(live_deployment(ctx), usage_fut);
    let estimate = cost::estimate(&deployment, &stated, table)?;
    let actual = if let Some((usage, errs)) = usage_read {
        errors.extend(errs);
        let (load, notes) = inputs::measured_load(&stated, &usage);
        let estimate = cost::estimate(&deployment, &load, table)?;
        Some(Actual {
            window: window.to_string(),
            usage,
            load,
            estimate,
            notes,
        })
    } else {
        None
    };
    let what_ifs = inputs::what_ifs(&deployment, &stated, table);
    Some(CostDocument {
        env: ctx.env.clone(),
        generated_at: crate::probe::now_rfc3339(),
        prices_as_of: table.as_of.clone(),
        price_sources: table.sources.clone(),
        deployment,
        estimate,
        stated_load: stated,
        actual,
        what_ifs,
        errors,
        price_refresh: None,
        billed: None,
    })
}

/// The flags' load: a flag left at its default is marked as the default.
fn stated_load(a: &CostArgs) -> Load {
    let mut l = inputs::default_load();
    let set = |i: &mut Input<f64>, v: f64, flag: &str| {
        if i.value != v {
            *i = Input::assumed(v, format!("--{flag}"));
        }
    };
    set(
        &mut l.api_requests_per_day,
        a.requests_per_day,
        "requests-per-day",
    );
    set(&mut l.api_duration_ms, a.duration_ms, "duration-ms");
    set(&mut l.api_response_kb, a.response_kb, "response-kb");
    set(
        &mut l.static_requests_per_day,
        a.static_requests_per_day,
        "static-requests-per-day",
    );
    set(&mut l.static_response_kb, a.static_kb, "static-kb");
    set(
        &mut l.log_kb_per_request,
        a.log_kb_per_request,
        "log-kb-per-request",
    );
    set(
        &mut l.nat_kb_per_request,
        a.nat_kb_per_request,
        "nat-kb-per-request",
    );
    set(&mut l.uploads_per_day, a.uploads_per_day, "uploads-per-day");
    set(&mut l.stored_gb, a.stored_gb, "stored-gb");
    l
}

/// The module defaults, overridden by what the account says; what cannot be read stays
/// assumed and is listed.
async fn live_deployment(ctx: &Context) -> (Deployment, Vec<String>) {
    let o = &ctx.outputs;
    let mut d = inputs::module_defaults(&o.region);
    let mut errors = Vec::new();
    let fname = &o.lambda_function_name;
    match ctx
        .aws
        .lambda
        .get_function_configuration()
        .function_name(fname)
        .send()
        .await
    {
        Ok(c) => {
            let from = format!("lambda:GetFunctionConfiguration {fname}");
            if let Some(m) = c.memory_size().and_then(|m| u32::try_from(m).ok()) {
                d.lambda_memory_mb = Input::new(m, Basis::Configured, from.clone());
            }
            if let Some(a) = c
                .architectures()
                .first()
                .and_then(|a| Arch::parse(a.as_str()))
            {
                d.lambda_architecture = Input::new(a, Basis::Configured, from);
            }
        }
        Err(e) => errors.push(format!(
            "function configuration: {} (memory and architecture assumed)",
            crate::aws::failure_cause(&e, "lambda")
        )),
    }
    let rg = &o.redis_replication_group_id;
    match ctx
        .aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id(rg)
        .send()
        .await
    {
        Ok(out) => {
            if let Some(g) = out.replication_groups().first() {
                let from = format!("elasticache:DescribeReplicationGroups {rg}");
                if let Some(t) = g.cache_node_type() {
                    d.redis_node_type = Input::new(t.to_string(), Basis::Configured, from.clone());
                }
                let n = g.member_clusters().len();
                if n > 0 {
                    d.redis_nodes =
                        Input::new(u32::try_from(n).unwrap_or(1), Basis::Configured, from);
                }
            }
        }
        Err(e) => errors.push(format!(
            "replication group: {} (node type and count assumed)",
            crate::aws::failure_cause(&e, "elasticache")
        )),
    }
    let group = &o.lambda_log_group_name;
    match ctx
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
    {
        Ok(out) => {
            if let Some(g) = out
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(group.as_str()))
            {
                d.log_retention_days = Input::new(
                    g.retention_in_days().and_then(|r| u32::try_from(r).ok()),
                    Basis::Configured,
                    format!("logs:DescribeLogGroups {group}"),
                );
            }
        }
        Err(e) => errors.push(format!(
            "log group: {} (retention assumed)",
            crate::aws::failure_cause(&e, "logs")
        )),
    }
    d.alarms = Input::new(
        u32::try_from(o.alarms.len()).unwrap_or(0),
        Basis::Configured,
        "outputs `alarms`",
    );
    d.dashboards = Input::new(
        u32::from(o.dashboard_name.is_some()),
        Basis::Configured,
        "outputs `dashboard_name`",
    );
    if o.canary_alarms.is_empty() {
        d.canary = None;
    } else if let Some(c) = d.canary.as_mut() {
        c.alarms = Input::new(
            u32::try_from(o.canary_alarms.len()).unwrap_or(0),
            Basis::Configured,
            "outputs `canary_alarms`",
        );
    }
    (d, errors)
}

/// The window's sums (and the duration's average) from CloudWatch; a metric without
/// datapoints is `None`.
async fn usage(ctx: &Context, window: Window) -> (Usage, Vec<String>) {
    let o = &ctx.outputs;
    let minutes = window.minutes();
    let end = SystemTime::now();
    let start = end - Duration::from_secs(u64::from(minutes) * 60);
    let period = i32::try_from(minutes * 60).unwrap_or(86_400);
    let mut u = Usage {
        window_minutes: minutes,
        ..Usage::default()
    };
    let mut errors = Vec::new();
    let sum = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>());

    let f = &o.lambda_function_name;
    let mut q = vec![
        metric_query(
            "inv",
            "AWS/Lambda",
            "Invocations",
            vec![dim("FunctionName", f)],
            "Sum",
            period,
        ),
        metric_query(
            "dur",
            "AWS/Lambda",
            "Duration",
            vec![dim("FunctionName", f)],
            "Average",
            period,
        ),
        metric_query(
            "logb",
            "AWS/Logs",
            "IncomingBytes",
            vec![dim("LogGroupName", &o.lambda_log_group_name)],
            "Sum",
            period,
        ),
    ];
    if let Some(api) = api_name(o) {
        q.push(metric_query(
            "api",
            "AWS/ApiGateway",
            "Count",
            vec![dim("ApiName", &api)],
            "Sum",
            period,
        ));
    }
    match get_metric_data(&ctx.aws.cloudwatch, "cloudwatch", q, start, end).await {
        Ok(series) => {
            for (id, v) in series {
                match id.as_str() {
                    "inv" => u.invocations = sum(&v),
                    "api" => u.apigw_count = sum(&v),
                    "logb" => u.log_bytes = sum(&v),
                    "dur" if !v.is_empty() => {
                        u.duration_avg_ms = Some(v.iter().sum::<f64>() / v.len() as f64)
                    }
                    _ => {}
                }
            }
        }
        Err(e) => errors.push(format!("usage metrics: {e}")),
    }
    let dist = &o.cloudfront_distribution_id;
    let cf_dims = || vec![dim("DistributionId", dist), dim("Region", "Global")];
    let q = vec![
        metric_query(
            "req",
            "AWS/CloudFront",
            "Requests",
            cf_dims(),
            "Sum",
            period,
        ),
        metric_query(
            "bytes",
            "AWS/CloudFront",
            "BytesDownloaded",
            cf_dims(),
            "Sum",
            period,
        ),
    ];
    let cw = ctx.aws.cloudwatch_in("us-east-1");
    match get_metric_data(&cw, "cloudwatch (us-east-1)", q, start, end).await {
        Ok(series) => {
            for (id, v) in series {
                match id.as_str() {
                    "req" => u.cloudfront_requests = sum(&v),
                    "bytes" => u.cloudfront_bytes = sum(&v),
                    _ => {}
                }
            }
        }
        Err(e) => errors.push(format!("CloudFront metrics: {e}")),
    }
    (u, errors)
}

/// API Gateway's metrics are per `ApiName`: the raw output `api_gateway_rest_api_name` when
/// there is one.
fn api_name(o: &crate::outputs::Outputs) -> Option<String> {
    o.raw
        .get("api_gateway_rest_api_name")
        .and_then(|r| r.value.as_str())
        .map(str::to_string)
}

fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("opsconsole: cannot write to stdout: {e}");
    }
}

/// The text report.
pub fn human(d: &CostDocument) -> String {
    let prices = match &d.price_refresh {
        Some(r) => format!(
            "{} AWS list prices from the Price List API fetched {}, the rest as of {}",
            r.refreshed.len(),
            r.fetched,
            d.prices_as_of
        ),
        None => format!("AWS list prices as of {}, to be refreshed", d.prices_as_of),
    };
    let mut s = format!(
        "{}: monthly cost in {} (priced as {}; {prices})\n\n",
        d.env, d.estimate.region, d.estimate.priced_as
    );
    if let Some(r) = &d.price_refresh {
        s.push_str(&refresh_text(r));
    }
    s.push_str(&format!(
        "ESTIMATE from the configuration at the stated load ({:.0} API requests/day, {:.0} ms):\n",
        d.stated_load.api_requests_per_day.value, d.stated_load.api_duration_ms.value
    ));
    s.push_str(&inputs::table_text(&d.estimate));
    if let Some(a) = &d.actual {
        s.push_str(&format!(
            "\nACTUAL: the last {} of usage projected to a month ({:.0} API requests/day, {:.0} ms):\n",
            a.window, a.load.api_requests_per_day.value, a.load.api_duration_ms.value
        ));
        s.push_str(&inputs::table_text(&a.estimate));
        for n in &a.notes {
            s.push_str(&format!("  note: {n}\n"));
        }
    }
    if let Some(b) = &d.billed {
        s.push_str(&crate::domain::billed::text(b));
    }
    s.push_str("\nWHAT IF (against the estimate):\n");
    for w in &d.what_ifs {
        s.push_str(&format!(
            "  {:<48} {:>+10.2} USD/month\n",
            w.change, w.delta_usd
        ));
    }
    s.push_str("\nASSUMPTIONS:\n");
    for a in &d.estimate.assumptions {
        s.push_str(&format!("  - {a}\n"));
    }
    for e in &d.errors {
        s.push_str(&format!("  - could not read {e}\n"));
    }
    s
}

/// The text report's account of `--refresh-prices`.
fn refresh_text(r: &crate::domain::pricelist::PriceRefresh) -> String {
    let total = r.refreshed.len() + r.not_refreshed.len();
    let mut s = format!(
        "PRICES from the AWS Price List API ({}, fetched {}): {} of {total} refreshed\n",
        r.region,
        r.fetched,
        r.refreshed.len()
    );
    for p in &r.refreshed {
        let before = p
            .previous_usd
            .map_or_else(|| "-".to_string(), |u| u.to_string());
        let mark = if p.previous_usd == Some(p.usd) {
            "unchanged"
        } else {
            "CHANGED"
        };
        s.push_str(&format!(
            "  {:<58} {before} -> {} USD ({mark}; {})\n",
            p.price, p.usd, p.source
        ));
    }
    if !r.not_refreshed.is_empty() {
        s.push_str("NOT REFRESHED (the table's price kept):\n");
        for n in &r.not_refreshed {
            let kept = n
                .kept_usd
                .map_or_else(|| "no price".to_string(), |u| format!("{u} USD"));
            s.push_str(&format!("  {:<58} {kept}: {}\n", n.price, n.reason));
        }
    }
    for n in &r.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    s.push('\n');
    s
}
