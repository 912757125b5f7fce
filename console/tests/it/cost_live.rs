//! `opsconsole cost`'s live price and bill sources against moto (issue 29): `--refresh-prices`
//! through motoext's Price List API (`pricing.get_products`, fed the hand-written fixture of
//! product documents in tools/motoext/fixtures), `--write-prices` read back with `--prices`,
//! and Cost Explorer's billed cost by the deployment's tags (moto's `ce`, results configured
//! through `/moto-api/static/ce/cost-and-usage-results`); each failure a stated line.

use std::process::Command;

use clap::Parser;
use serde_json::{Value, json};

use crate::common::{moto, seed_outputs, seeded_ctx};
use crate::probe_cli::{config, write};
use opsconsole::cli::{Cli, Command as Cmd, CostArgs};
use opsconsole::cost::command_document;
use opsconsole::domain::billed::BilledStatus;
use opsconsole::domain::prices::{PriceId, PriceTable};
use opsconsole::domain::window::Window;
use opsconsole_testsupport::moto::MotoServer;
use opsconsole_testsupport::seed::SeedSpec;

const REGION: &str = "eu-west-1";
const FIXTURE: &str = include_str!("../../../tools/motoext/fixtures/pricing-products.json");

fn args(extra: &[&str]) -> CostArgs {
    let mut argv = vec!["opsconsole", "cost", "test"];
    argv.extend_from_slice(extra);
    match Cli::parse_from(argv).command {
        Some(Cmd::Cost(a)) => a,
        other => panic!("not a cost command: {other:?}"),
    }
}

fn put_products(m: &MotoServer, deny: bool) {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture");
    let body = json!({"products": fixture["products"], "deny": deny}).to_string();
    m.control("/moto-api/motoext/pricing/products", &body)
        .expect("pricing products");
}

fn redis_line(doc: &opsconsole::cost::CostDocument) -> f64 {
    doc.estimate
        .lines
        .iter()
        .find(|l| l.item.ends_with("x cache.t4g.micro"))
        .and_then(|l| l.monthly_usd)
        .expect("a priced Redis line")
}

/// One test for the Price List (its products are the server's, not an account's): the
/// fixture's answer used and written, read back, then denied, then a region nobody prices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_prices_uses_the_price_list_and_keeps_the_rest_saying_why() {
    let spec = SeedSpec::healthy("costr", REGION, "http://127.0.0.1:9");
    let ctx = seeded_ctx(&spec, |_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("prices.toml");
    let file_arg = file.to_string_lossy().into_owned();
    put_products(moto(), false);

    let builtin = command_document(&ctx, &args(&["--no-usage", "--no-billed"]), Window::H1)
        .await
        .expect("built-in document");
    let refresh_args = args(&[
        "--no-usage",
        "--no-billed",
        "--refresh-prices",
        "--write-prices",
        &file_arg,
    ]);
    let doc = command_document(&ctx, &refresh_args, Window::H1)
        .await
        .expect("refreshed document");
    let r = doc.price_refresh.clone().expect("price_refresh");
    assert_eq!(r.region, REGION);
    let micro = r
        .refreshed
        .iter()
        .find(|p| p.price == "regions.eu-west-1.elasticache_node_hour.cache.t4g.micro")
        .unwrap_or_else(|| panic!("t4g.micro not refreshed: {r:#?}"));
    assert_eq!(micro.usd, 0.018);
    assert_eq!(micro.previous_usd, Some(0.0176));
    assert!(
        micro.source.starts_with("AWS Price List API, fetched ")
            && micro
                .source
                .contains("AmazonElastiCache SKU 8C2ZJ3QXW5M6A9YB"),
        "{}",
        micro.source
    );
    let names: Vec<&str> = r.refreshed.iter().map(|p| p.price.as_str()).collect();
    for p in [
        "cloudfront.data_out_gb",
        "regions.eu-west-1.lambda_requests_per_million",
        "regions.eu-west-1.lambda_gb_second_x86_64",
        "regions.eu-west-1.logs_ingestion_gb",
    ] {
        assert!(names.contains(&p), "{p} not in {names:?}");
    }
    // What the fixture lacks keeps the table's price, with the filters that matched nothing.
    let s3 = r
        .not_refreshed
        .iter()
        .find(|n| n.price == "regions.eu-west-1.s3_standard_gb_month")
        .expect("s3 not refreshed");
    assert_eq!(s3.kept_usd, Some(0.023));
    assert!(
        s3.reason.starts_with("no product matched (AmazonS3"),
        "{}",
        s3.reason
    );
    assert_eq!(r.refreshed.len() + r.not_refreshed.len(), 2 + 17 + 7);
    // The run is priced with the fetched price: one node (module default) at 0.018 an hour.
    let (old, new) = (redis_line(&builtin), redis_line(&doc));
    assert!((new - old * 0.018 / 0.0176).abs() < 1e-9, "{old} -> {new}");
    let text = opsconsole::cost::human(&doc);
    assert!(
        text.contains("CHANGED") && text.contains("NOT REFRESHED"),
        "{text}"
    );

    // The written table reads back, and prices the same.
    let written = std::fs::read_to_string(&file).expect("written table");
    let table = PriceTable::parse(&written).expect("written table parses");
    let micro_id = PriceId::Node(REGION.into(), "cache.t4g.micro".into());
    assert_eq!(table.get(&micro_id), Some(0.018));
    assert!(written.contains("Not refreshed:"), "{written}");
    let reread = command_document(
        &ctx,
        &args(&["--no-usage", "--no-billed", "--prices", &file_arg]),
        Window::H1,
    )
    .await
    .expect("document from the written table");
    assert!(reread.price_refresh.is_none());
    assert!((reread.estimate.total_usd - doc.estimate.total_usd).abs() < 1e-9);

    // Denied: nothing refreshed, each price kept with the reason.
    put_products(moto(), true);
    let denied = command_document(
        &ctx,
        &args(&["--no-usage", "--no-billed", "--refresh-prices"]),
        Window::H1,
    )
    .await
    .expect("denied document");
    put_products(moto(), false);
    let r = denied.price_refresh.expect("price_refresh");
    assert!(r.refreshed.is_empty());
    assert!(
        r.not_refreshed
            .iter()
            .all(|n| n.reason.starts_with("access denied: ") && n.kept_usd.is_some()),
        "{:#?}",
        r.not_refreshed
    );
    assert!((denied.estimate.total_usd - builtin.estimate.total_usd).abs() < 1e-9);

    // A region neither the table nor the Price List knows: the fallback's prices, said so.
    let t = PriceTable::builtin().expect("table");
    let (t2, r) =
        opsconsole::cost_refresh::refresh(&ctx.aws, "test", &t, "mars-1", "2026-12-07").await;
    // Only CloudFront's (priced per edge, not per region) are found.
    let found: Vec<&str> = r.refreshed.iter().map(|p| p.price.as_str()).collect();
    assert_eq!(found, vec!["cloudfront.data_out_gb"]);
    assert!(
        r.notes[0].contains("`mars-1` is not in the price table"),
        "{:?}",
        r.notes
    );
    assert!(
        r.not_refreshed
            .iter()
            .filter(|n| n.price.starts_with("regions.mars-1."))
            .all(|n| n.reason.starts_with("no product matched")),
        "{:#?}",
        r.not_refreshed
    );
    assert_eq!(r.not_refreshed.len(), 1 + 17 + 7);
    assert_eq!(t2.regions["mars-1"], t.regions["us-east-1"]);
}

fn ce_results(start: &str, end: &str) -> String {
    let group = |service: &str, amount: &str| json!({"Keys": [service], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}});
    json!({"results": [{
        "ResultsByTime": [{
            "TimePeriod": {"Start": start, "End": end},
            "Total": {},
            "Groups": [group("AWS Lambda", "1.25"), group("Amazon ElastiCache", "0.39"),
                       group("Amazon Simple Storage Service", "0")],
            "Estimated": true
        }],
        "DimensionValueAttributes": []
    }]})
    .to_string()
}

/// Cost Explorer on the shared moto (only this test asks it): nothing configured is an empty
/// answer stated as such; then the configured day, per service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billed_cost_comes_from_cost_explorer_by_the_tags() {
    let spec = SeedSpec::healthy("costb", REGION, "http://127.0.0.1:9");
    let ctx = seeded_ctx(&spec, |_| {}).await;

    let doc = command_document(&ctx, &args(&["--no-usage"]), Window::H24)
        .await
        .expect("document");
    let b = doc.billed.expect("billed");
    assert_eq!(b.status, BilledStatus::Empty);
    assert_eq!(
        b.tags,
        vec![
            ("Project".to_string(), "librechat".to_string()),
            ("Environment".to_string(), "test".to_string())
        ]
    );
    assert!(
        b.reason
            .unwrap_or_default()
            .contains("no cost for the tags")
    );
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);

    moto()
        .control(
            "/moto-api/static/ce/cost-and-usage-results",
            &ce_results(&b.period_start, &b.period_end),
        )
        .expect("ce results");
    let doc = command_document(&ctx, &args(&["--no-usage", "--json"]), Window::H24)
        .await
        .expect("document");
    let b = doc.billed.clone().expect("billed");
    assert_eq!(b.status, BilledStatus::Ok, "{b:?}");
    assert_eq!(b.days, 1);
    assert_eq!(b.by_service.len(), 2, "{:?}", b.by_service);
    assert_eq!(b.by_service[0].service, "AWS Lambda");
    assert!((b.total_usd.unwrap_or(0.0) - 1.64).abs() < 1e-9);
    assert!(b.estimated);
    let v = serde_json::to_value(&doc).expect("json");
    assert_eq!(v["billed"]["status"], "ok");
    assert_eq!(
        v["billed"]["by_service"][1]["service"],
        "Amazon ElastiCache"
    );
    let text = opsconsole::cost::human(&doc);
    assert!(
        text.contains("BILLED (Cost Explorer, tags Project=librechat, Environment=test"),
        "{text}"
    );
    assert!(
        text.contains("updated at least once every 24 hours"),
        "{text}"
    );
    assert!(text.contains("0.01 USD per request"), "{text}");
    // --no-billed: no section, no request.
    let doc = command_document(&ctx, &args(&["--no-usage", "--no-billed"]), Window::H24)
        .await
        .expect("document");
    assert!(doc.billed.is_none());
}

/// moto enforcing IAM: a user without policies is refused Cost Explorer; the command states it
/// and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_explorer_access_denied_is_one_stated_line() {
    let (_own, ctx) = crate::common::denied_context("test", "nobilling", REGION).await;
    let b = opsconsole::cost_billed::billed(&ctx, Window::H24).await;
    assert_eq!(b.status, BilledStatus::Unavailable, "{b:?}");
    let reason = b.reason.unwrap_or_default();
    assert!(reason.starts_with("Cost Explorer refused: "), "{reason}");
    assert!(reason.contains("AccessDenied"), "{reason}");
    assert!(b.total_usd.is_none());
}

/// The binary without credentials: every price kept with the reason, Cost Explorer one line,
/// the estimate printed all the same (exit 2: partial).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_the_command_says_so_and_still_prices() {
    let spec = SeedSpec::healthy("costc", REGION, "http://127.0.0.1:9");
    let outputs_doc = seed_outputs(&spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs = write(dir.path(), "outputs.json", &outputs_doc.to_string());
    let cfg = write(dir.path(), "config.toml", &config(false));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    cmd.args(["cost", "test", "--json", "--no-usage", "--refresh-prices"])
        .arg("--endpoint-url")
        .arg(moto().endpoint_url())
        .arg("--outputs")
        .arg(&outputs)
        .arg("--config")
        .arg(&cfg);
    crate::common::isolated_env(&mut cmd, dir.path());
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let out = cmd.output().expect("running opsconsole");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(doc["estimate"]["total_usd"].as_f64().unwrap_or(0.0) > 0.0);
    let r = &doc["price_refresh"];
    assert_eq!(r["refreshed"].as_array().map(Vec::len), Some(0));
    let kept = r["not_refreshed"].as_array().expect("not_refreshed");
    assert_eq!(kept.len(), 2 + 17 + 7);
    for n in kept {
        let reason = n["reason"].as_str().unwrap_or_default();
        assert!(reason.starts_with("no usable AWS credentials"), "{reason}");
        assert!(n["kept_usd"].as_f64().is_some(), "{n}");
    }
    assert_eq!(doc["billed"]["status"], "unavailable");
    let reason = doc["billed"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("no usable AWS credentials for Cost Explorer"),
        "{reason}"
    );
}
