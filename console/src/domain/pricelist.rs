//! The AWS Price List Query API for the price table (issue 29): which product each price of the
//! table is ([`query_for`]), what a product document of `GetProducts`' `PriceList` says
//! ([`parse_product`]), which of its prices is the table's ([`pick`]), and the refreshed table
//! with what was and was not refreshed ([`apply`]). Pure; the calls are `crate::cost_refresh`.
//!
//! The filters were written from AWS's documented Price List attributes (`regionCode`,
//! `productFamily`, `group`, `usagetype`, ...) as known on 2026-12-07, not checked against the
//! live API (no internet here): a filter that matches nothing leaves the table's price and says
//! so, it never prices anything at zero.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::prices::{CLOUDFRONT_KEYS, PriceId, PriceTable, REGION_KEYS};

/// The Price List Query API's endpoint region.
pub const PRICING_REGION: &str = "us-east-1";

/// One `GetProducts` request, and how to read its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub service_code: &'static str,
    /// `TERM_MATCH` filters: (field, value).
    pub filters: Vec<(String, String)>,
    /// The product's `usagetype` is this, or ends with `-` and this (a region's prefix, e.g.
    /// `EUW1-`; us-east-1 often has none).
    pub usagetype: Option<String>,
    /// The units the price may be in (compared without case).
    pub units: &'static [&'static str],
    /// The table's unit in the Price List's: USD per table unit = USD per unit x `per` (e.g.
    /// 1,000,000 for a price per million requests).
    pub per: f64,
}

/// The prices a refresh for `region` asks for: CloudFront's, the region's keys and the node
/// types the table prices there (the fallback region's when the table lacks `region`).
pub fn wanted(table: &PriceTable, region: &str) -> Vec<PriceId> {
    let mut out: Vec<PriceId> = CLOUDFRONT_KEYS
        .iter()
        .map(|k| PriceId::CloudFront(k))
        .collect();
    out.extend(
        REGION_KEYS
            .iter()
            .map(|k| PriceId::Region(region.to_string(), k)),
    );
    let nodes = table
        .regions
        .get(region)
        .or_else(|| table.regions.get(&table.fallback_region));
    if let Some(r) = nodes {
        out.extend(
            r.elasticache_node_hour
                .keys()
                .map(|t| PriceId::Node(region.to_string(), t.clone())),
        );
    }
    out
}

fn f(field: &str, value: &str) -> (String, String) {
    (field.to_string(), value.to_string())
}

/// The `GetProducts` request for a price of the table (None for a key the table does not have).
pub fn query_for(id: &PriceId) -> Option<Query> {
    const REQUESTS: &[&str] = &["Requests", "Request"];
    const GB: &[&str] = &["GB"];
    const GB_MO: &[&str] = &["GB-Mo", "GB-Month"];
    const GB_S: &[&str] = &["Lambda-GB-Second", "GB-Second", "Second"];
    let q = |service_code, filters, usagetype: &str, units, per| Query {
        service_code,
        filters,
        usagetype: Some(usagetype.to_string()),
        units,
        per,
    };
    let (region, key) = match id {
        PriceId::CloudFront(k) => {
            // CloudFront is priced per edge location: the United States' (PriceClass_100).
            return match *k {
                "https_requests_per_10k" => Some(q(
                    "AmazonCloudFront",
                    vec![f("usagetype", "US-Requests-Tier2-HTTPS")],
                    "US-Requests-Tier2-HTTPS",
                    REQUESTS,
                    10_000.0,
                )),
                "data_out_gb" => Some(q(
                    "AmazonCloudFront",
                    vec![f("usagetype", "US-DataTransfer-Out-Bytes")],
                    "US-DataTransfer-Out-Bytes",
                    GB,
                    1.0,
                )),
                _ => None,
            };
        }
        PriceId::Node(region, node_type) => {
            return Some(q(
                "AmazonElastiCache",
                vec![
                    f("regionCode", region),
                    f("productFamily", "Cache Instance"),
                    f("instanceType", node_type),
                    f("cacheEngine", "Redis"),
                ],
                &format!("NodeUsage:{node_type}"),
                &["Hrs", "Hours"],
                1.0,
            ));
        }
        PriceId::Region(region, key) => (region.as_str(), *key),
    };
    let at = |mut filters: Vec<(String, String)>| {
        filters.insert(0, f("regionCode", region));
        filters
    };
    let lambda = |group: &str| at(vec![f("group", group)]);
    Some(match key {
        "lambda_requests_per_million" => q(
            "AWSLambda",
            lambda("AWS-Lambda-Requests"),
            "Request",
            REQUESTS,
            1e6,
        ),
        "lambda_gb_second_x86_64" => q(
            "AWSLambda",
            lambda("AWS-Lambda-Duration"),
            "Lambda-GB-Second",
            GB_S,
            1.0,
        ),
        "lambda_gb_second_arm64" => q(
            "AWSLambda",
            lambda("AWS-Lambda-Duration-ARM"),
            "Lambda-GB-Second-ARM",
            GB_S,
            1.0,
        ),
        "lambda_provisioned_gb_second_x86_64" => q(
            "AWSLambda",
            lambda("AWS-Lambda-Provisioned-Concurrency"),
            "Lambda-Provisioned-Concurrency",
            GB_S,
            1.0,
        ),
        "lambda_provisioned_gb_second_arm64" => q(
            "AWSLambda",
            lambda("AWS-Lambda-Provisioned-Concurrency-ARM"),
            "Lambda-Provisioned-Concurrency-ARM",
            GB_S,
            1.0,
        ),
        "apigw_rest_requests_per_million" => q(
            "AmazonApiGateway",
            at(vec![
                f("productFamily", "API Calls"),
                f("operation", "ApiGatewayRequest"),
            ]),
            "ApiGatewayRequest",
            REQUESTS,
            1e6,
        ),
        "s3_standard_gb_month" => q(
            "AmazonS3",
            at(vec![
                f("productFamily", "Storage"),
                f("volumeType", "Standard"),
            ]),
            "TimedStorage-ByteHrs",
            GB_MO,
            1.0,
        ),
        "s3_put_per_1000" => q(
            "AmazonS3",
            at(vec![
                f("productFamily", "API Request"),
                f("group", "S3-API-Tier1"),
            ]),
            "Requests-Tier1",
            REQUESTS,
            1000.0,
        ),
        "s3_get_per_1000" => q(
            "AmazonS3",
            at(vec![
                f("productFamily", "API Request"),
                f("group", "S3-API-Tier2"),
            ]),
            "Requests-Tier2",
            REQUESTS,
            1000.0,
        ),
        "cloudwatch_alarm_month" => q(
            "AmazonCloudWatch",
            at(vec![f("productFamily", "Alarm")]),
            "AlarmMonitorUsage",
            &["Alarms", "Alarm"],
            1.0,
        ),
        "cloudwatch_metric_month" => q(
            "AmazonCloudWatch",
            at(vec![f("productFamily", "Metric")]),
            "CW:MetricMonitorUsage",
            &["Metrics", "Metric"],
            1.0,
        ),
        "cloudwatch_dashboard_month" => q(
            "AmazonCloudWatch",
            at(vec![f("productFamily", "Dashboard")]),
            "DashboardsUsageHour",
            &["Dashboards", "Dashboard"],
            1.0,
        ),
        "logs_ingestion_gb" => q(
            "AmazonCloudWatch",
            at(vec![f("productFamily", "Data Payload")]),
            "DataProcessing-Bytes",
            GB,
            1.0,
        ),
        "logs_storage_gb_month" => q(
            "AmazonCloudWatch",
            at(vec![f("productFamily", "Storage Snapshot")]),
            "TimedStorage-ByteHrs",
            GB_MO,
            1.0,
        ),
        "ecr_storage_gb_month" => q(
            "AmazonECR",
            at(Vec::new()),
            "TimedStorage-ByteHrs",
            GB_MO,
            1.0,
        ),
        "nat_gateway_data_gb" => q(
            "AmazonEC2",
            at(vec![f("productFamily", "NAT Gateway")]),
            "NatGateway-Bytes",
            GB,
            1.0,
        ),
        "scheduler_invocations_per_million" => q(
            "AWSEvents",
            at(Vec::new()),
            "Scheduler-Invocation",
            &["Invocations", "Invocation", "Requests"],
            1e6,
        ),
        _ => return None,
    })
}

/// One on-demand price of a product.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub rate_code: String,
    pub unit: String,
    pub usd: f64,
    /// The tier's start (`beginRange`), when the price is tiered.
    pub begin_range: Option<f64>,
    pub description: String,
}

/// What a Price List product document says that the table needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub sku: String,
    pub service_code: String,
    pub usagetype: String,
    pub attributes: BTreeMap<String, String>,
    pub on_demand: Vec<Dimension>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProductError {
    #[error("not a JSON document: {0}")]
    NotJson(String),
    #[error("no `{0}` in the product document")]
    Missing(&'static str),
    #[error("price `{value}` of rate {rate_code} is not a number")]
    BadPrice { rate_code: String, value: String },
}

/// Parses one string of `GetProducts`' `PriceList` (a JSON document as a string): the SKU, the
/// attributes and each `terms.OnDemand.*.priceDimensions.*` with its `pricePerUnit.USD`.
pub fn parse_product(doc: &str) -> Result<Product, ProductError> {
    let v: Value = serde_json::from_str(doc).map_err(|e| ProductError::NotJson(e.to_string()))?;
    let product = v.get("product").ok_or(ProductError::Missing("product"))?;
    let sku = product
        .get("sku")
        .and_then(Value::as_str)
        .ok_or(ProductError::Missing("product.sku"))?
        .to_string();
    let attributes: BTreeMap<String, String> = product
        .get("attributes")
        .and_then(Value::as_object)
        .ok_or(ProductError::Missing("product.attributes"))?
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
        .collect();
    let service_code = v
        .get("serviceCode")
        .and_then(Value::as_str)
        .or_else(|| attributes.get("servicecode").map(String::as_str))
        .unwrap_or_default()
        .to_string();
    let terms = v
        .pointer("/terms/OnDemand")
        .and_then(Value::as_object)
        .ok_or(ProductError::Missing("terms.OnDemand"))?;
    let mut on_demand = Vec::new();
    for offer in terms.values() {
        let Some(dims) = offer.get("priceDimensions").and_then(Value::as_object) else {
            continue;
        };
        for (rate_code, d) in dims {
            let text = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or_default();
            let usd_text = d
                .pointer("/pricePerUnit/USD")
                .and_then(Value::as_str)
                .ok_or(ProductError::Missing("pricePerUnit.USD"))?;
            let usd = usd_text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|u| u.is_finite())
                .ok_or_else(|| ProductError::BadPrice {
                    rate_code: rate_code.clone(),
                    value: usd_text.to_string(),
                })?;
            on_demand.push(Dimension {
                rate_code: rate_code.clone(),
                unit: text("unit").to_string(),
                usd,
                begin_range: text("beginRange").parse::<f64>().ok(),
                description: text("description").to_string(),
            });
        }
    }
    Ok(Product {
        sku,
        service_code,
        usagetype: attributes.get("usagetype").cloned().unwrap_or_default(),
        attributes,
        on_demand,
    })
}

/// The price found for a key of the table, in the table's unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub usd: f64,
    pub service_code: String,
    pub sku: String,
    pub rate_code: String,
    pub unit: String,
}

fn usagetype_matches(usagetype: &str, want: &str) -> bool {
    usagetype == want || usagetype.ends_with(&format!("-{want}"))
}

/// The table's price among a `GetProducts` answer's documents, or why there is none: no
/// product (or several) of the usage type, no on-demand price, another unit, a zero price
/// (a free tier is no list price), a document that does not parse. The first tier of a tiered
/// price (`beginRange` 0).
pub fn pick(docs: &[String], q: &Query) -> Result<Picked, String> {
    let mut bad = Vec::new();
    let mut products = Vec::new();
    for d in docs {
        match parse_product(d) {
            Ok(p) => products.push(p),
            Err(e) => bad.push(e.to_string()),
        }
    }
    let all = products.len();
    products.retain(|p| match &q.usagetype {
        Some(u) => usagetype_matches(&p.usagetype, u),
        None => true,
    });
    let filters = q
        .filters
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let product = match products.as_slice() {
        [] if !bad.is_empty() => {
            return Err(format!("unexpected product document: {}", bad[0]));
        }
        [] => {
            let ut = q.usagetype.as_deref().unwrap_or("any");
            return Err(format!(
                "no product matched ({} with {filters}; usage type {ut}; {all} product(s) answered)",
                q.service_code
            ));
        }
        [p] => p,
        many => {
            let skus: Vec<&str> = many.iter().map(|p| p.sku.as_str()).collect();
            return Err(format!(
                "{} products matched ({}): ambiguous, not chosen",
                many.len(),
                skus.join(", ")
            ));
        }
    };
    let dim = product
        .on_demand
        .iter()
        .min_by(|a, b| {
            let (x, y) = (a.begin_range.unwrap_or(0.0), b.begin_range.unwrap_or(0.0));
            x.total_cmp(&y)
        })
        .ok_or_else(|| format!("no on-demand price in product {}", product.sku))?;
    if !q.units.iter().any(|u| u.eq_ignore_ascii_case(&dim.unit)) {
        return Err(format!(
            "product {} is priced per `{}`, expected {}",
            product.sku,
            dim.unit,
            q.units.join(" or ")
        ));
    }
    if dim.usd <= 0.0 {
        return Err(format!(
            "product {} lists 0 USD per {} (a free tier, not a list price)",
            product.sku, dim.unit
        ));
    }
    Ok(Picked {
        usd: significant(dim.usd * q.per),
        service_code: product.service_code.clone(),
        sku: product.sku.clone(),
        rate_code: dim.rate_code.clone(),
        unit: dim.unit.clone(),
    })
}

/// `v` to 10 significant digits: the unit conversion's float noise away (0.0000002 USD a
/// request is 0.2 a million, not 0.19999999999999998), far below any price's precision.
fn significant(v: f64) -> f64 {
    format!("{v:.9e}").parse().unwrap_or(v)
}

/// A price taken from the Price List.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refreshed {
    /// Its path in the table (`regions.eu-west-1.logs_ingestion_gb`).
    pub price: String,
    pub usd: f64,
    /// The table's price before (None: a key the table had not).
    pub previous_usd: Option<f64>,
    /// `AWS Price List API, fetched <date>: <service> SKU <sku>, rate <code> (<unit>)`.
    pub source: String,
}

/// A price the refresh left as it was, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotRefreshed {
    pub price: String,
    /// The price kept (the table's).
    pub kept_usd: Option<f64>,
    pub reason: String,
}

/// What `--refresh-prices` did: the document's `price_refresh` section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRefresh {
    pub region: String,
    /// The day of the fetch (UTC).
    pub fetched: String,
    pub refreshed: Vec<Refreshed>,
    pub not_refreshed: Vec<NotRefreshed>,
    pub notes: Vec<String>,
}

/// The source written for a fetched price.
pub fn fetched_source(fetched: &str, p: &Picked) -> String {
    format!(
        "AWS Price List API, fetched {fetched}: {} SKU {}, rate {} ({})",
        p.service_code, p.sku, p.rate_code, p.unit
    )
}

/// The table with the fetched prices of `region` in it (a region the table lacks is added as
/// a copy of the fallback's first, and the refresh says so), and the account of it.
pub fn apply(
    table: &PriceTable,
    region: &str,
    fetched: &str,
    results: Vec<(PriceId, Result<Picked, String>)>,
) -> (PriceTable, PriceRefresh) {
    let mut t = table.clone();
    let mut notes = Vec::new();
    if t.add_region_from_fallback(region) {
        notes.push(format!(
            "region `{region}` is not in the price table: its prices not refreshed below are \
             {}'s",
            t.fallback_region
        ));
    }
    let mut refreshed = Vec::new();
    let mut not_refreshed = Vec::new();
    for (id, r) in results {
        let previous = t.get(&id);
        match r {
            Ok(p) => {
                let source = fetched_source(fetched, &p);
                if t.set(&id, p.usd, &source) {
                    refreshed.push(Refreshed {
                        price: id.path(),
                        usd: p.usd,
                        previous_usd: previous,
                        source,
                    });
                } else {
                    not_refreshed.push(NotRefreshed {
                        price: id.path(),
                        kept_usd: previous,
                        reason: "the table has no such price".into(),
                    });
                }
            }
            Err(reason) => not_refreshed.push(NotRefreshed {
                price: id.path(),
                kept_usd: previous,
                reason,
            }),
        }
    }
    (
        t,
        PriceRefresh {
            region: region.to_string(),
            fetched: fetched.to_string(),
            refreshed,
            not_refreshed,
            notes,
        },
    )
}

#[cfg(test)]
#[path = "pricelist_tests.rs"]
mod tests;
