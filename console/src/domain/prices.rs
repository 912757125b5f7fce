//! The price table of the cost model: `console/data/prices.toml` (list prices with their date
//! and a source per price), compiled in as the offline default. A region the table lacks is
//! priced as the table's `fallback_region` and the lookup says so; an unknown node type has no
//! price (the estimate lists it as unpriced, never as zero).

use std::collections::BTreeMap;

use serde::Deserialize;

/// The table kept in the repository.
pub const BUILTIN: &str = include_str!("../../data/prices.toml");

#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("price table: {0}")]
    Parse(String),
    #[error("price table: fallback region `{0}` is not in the table")]
    NoFallback(String),
}

/// One list price: USD per the unit its key names, and the page it was read from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct RawPrice {
    usd: f64,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCloudFront {
    https_requests_per_10k: RawPrice,
    data_out_gb: RawPrice,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    lambda_requests_per_million: RawPrice,
    lambda_gb_second_x86_64: RawPrice,
    lambda_gb_second_arm64: RawPrice,
    lambda_provisioned_gb_second_x86_64: RawPrice,
    lambda_provisioned_gb_second_arm64: RawPrice,
    apigw_rest_requests_per_million: RawPrice,
    s3_standard_gb_month: RawPrice,
    s3_put_per_1000: RawPrice,
    s3_get_per_1000: RawPrice,
    cloudwatch_alarm_month: RawPrice,
    cloudwatch_metric_month: RawPrice,
    cloudwatch_dashboard_month: RawPrice,
    logs_ingestion_gb: RawPrice,
    logs_storage_gb_month: RawPrice,
    ecr_storage_gb_month: RawPrice,
    nat_gateway_data_gb: RawPrice,
    scheduler_invocations_per_million: RawPrice,
    elasticache_node_hour: BTreeMap<String, RawPrice>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    as_of: String,
    fallback_region: String,
    cloudfront: RawCloudFront,
    regions: BTreeMap<String, RawRegion>,
}

/// One region's prices, USD.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionPrices {
    pub lambda_requests_per_million: f64,
    pub lambda_gb_second_x86_64: f64,
    pub lambda_gb_second_arm64: f64,
    pub lambda_provisioned_gb_second_x86_64: f64,
    pub lambda_provisioned_gb_second_arm64: f64,
    pub apigw_rest_requests_per_million: f64,
    pub s3_standard_gb_month: f64,
    pub s3_put_per_1000: f64,
    pub s3_get_per_1000: f64,
    pub cloudwatch_alarm_month: f64,
    pub cloudwatch_metric_month: f64,
    pub cloudwatch_dashboard_month: f64,
    pub logs_ingestion_gb: f64,
    pub logs_storage_gb_month: f64,
    pub ecr_storage_gb_month: f64,
    pub nat_gateway_data_gb: f64,
    pub scheduler_invocations_per_million: f64,
    pub elasticache_node_hour: BTreeMap<String, f64>,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    pub as_of: String,
    pub fallback_region: String,
    pub cloudfront_https_requests_per_10k: f64,
    pub cloudfront_data_out_gb: f64,
    pub regions: BTreeMap<String, RegionPrices>,
    /// Every distinct source URL of the table (shown with the estimate).
    pub sources: Vec<String>,
}

/// The prices an estimate uses, and why (when the region is not the one asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup<'a> {
    pub prices: &'a RegionPrices,
    pub priced_as: &'a str,
    pub assumption: Option<String>,
}

impl PriceTable {
    /// The table compiled in from `console/data/prices.toml`.
    pub fn builtin() -> Result<PriceTable, PriceError> {
        PriceTable::parse(BUILTIN)
    }

    pub fn parse(text: &str) -> Result<PriceTable, PriceError> {
        let raw: RawTable = toml::from_str(text).map_err(|e| PriceError::Parse(e.to_string()))?;
        if !raw.regions.contains_key(&raw.fallback_region) {
            return Err(PriceError::NoFallback(raw.fallback_region));
        }
        let mut sources: Vec<String> = Vec::new();
        let mut note = |p: &RawPrice| -> f64 {
            if !sources.contains(&p.source) {
                sources.push(p.source.clone());
            }
            p.usd
        };
        let cf_req = note(&raw.cloudfront.https_requests_per_10k);
        let cf_out = note(&raw.cloudfront.data_out_gb);
        let mut regions = BTreeMap::new();
        for (name, r) in &raw.regions {
            let prices = RegionPrices {
                lambda_requests_per_million: note(&r.lambda_requests_per_million),
                lambda_gb_second_x86_64: note(&r.lambda_gb_second_x86_64),
                lambda_gb_second_arm64: note(&r.lambda_gb_second_arm64),
                lambda_provisioned_gb_second_x86_64: note(&r.lambda_provisioned_gb_second_x86_64),
                lambda_provisioned_gb_second_arm64: note(&r.lambda_provisioned_gb_second_arm64),
                apigw_rest_requests_per_million: note(&r.apigw_rest_requests_per_million),
                s3_standard_gb_month: note(&r.s3_standard_gb_month),
                s3_put_per_1000: note(&r.s3_put_per_1000),
                s3_get_per_1000: note(&r.s3_get_per_1000),
                cloudwatch_alarm_month: note(&r.cloudwatch_alarm_month),
                cloudwatch_metric_month: note(&r.cloudwatch_metric_month),
                cloudwatch_dashboard_month: note(&r.cloudwatch_dashboard_month),
                logs_ingestion_gb: note(&r.logs_ingestion_gb),
                logs_storage_gb_month: note(&r.logs_storage_gb_month),
                ecr_storage_gb_month: note(&r.ecr_storage_gb_month),
                nat_gateway_data_gb: note(&r.nat_gateway_data_gb),
                scheduler_invocations_per_million: note(&r.scheduler_invocations_per_million),
                elasticache_node_hour: r
                    .elasticache_node_hour
                    .iter()
                    .map(|(k, p)| (k.clone(), note(p)))
                    .collect(),
            };
            regions.insert(name.clone(), prices);
        }
        Ok(PriceTable {
            as_of: raw.as_of,
            fallback_region: raw.fallback_region,
            cloudfront_https_requests_per_10k: cf_req,
            cloudfront_data_out_gb: cf_out,
            regions,
            sources,
        })
    }

    /// The prices of `region`, or the fallback region's with the assumption stated.
    pub fn lookup(&self, region: &str) -> Option<Lookup<'_>> {
        if let Some((name, prices)) = self.regions.get_key_value(region) {
            return Some(Lookup {
                prices,
                priced_as: name,
                assumption: None,
            });
        }
        let (name, prices) = self.regions.get_key_value(&self.fallback_region)?;
        Some(Lookup {
            prices,
            priced_as: name,
            assumption: Some(format!(
                "region `{region}` is not in the price table (as of {}): priced with {name}'s \
                 list prices; most regions cost the same or more",
                self.as_of
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_with_both_regions_and_a_date() {
        let t = PriceTable::builtin().unwrap();
        assert_eq!(t.as_of, "2026-12-07");
        assert!(t.regions.contains_key("us-east-1"));
        assert!(t.regions.contains_key("eu-west-1"));
        let eu = &t.regions["eu-west-1"];
        assert_eq!(eu.logs_ingestion_gb, 0.57);
        assert_eq!(eu.elasticache_node_hour["cache.t4g.micro"], 0.0176);
        assert!(
            t.sources
                .iter()
                .all(|s| s.starts_with("https://aws.amazon.com/"))
        );
        assert!(t.sources.len() >= 8, "{:?}", t.sources);
    }

    #[test]
    fn the_header_says_list_prices_to_refresh() {
        assert!(BUILTIN.contains("LIST prices"));
        assert!(BUILTIN.contains("MUST BE REFRESHED"));
    }

    #[test]
    fn unknown_region_falls_back_with_a_stated_assumption() {
        let t = PriceTable::builtin().unwrap();
        let l = t.lookup("ap-south-2").unwrap();
        assert_eq!(l.priced_as, "us-east-1");
        let a = l.assumption.unwrap();
        assert!(a.contains("ap-south-2") && a.contains("us-east-1"), "{a}");
        let l = t.lookup("eu-west-1").unwrap();
        assert_eq!(l.priced_as, "eu-west-1");
        assert!(l.assumption.is_none());
    }

    #[test]
    fn a_price_without_its_source_is_refused() {
        let text = BUILTIN.replacen(
            ", source = \"https://aws.amazon.com/cloudfront/pricing/\" }",
            " }",
            1,
        );
        assert!(matches!(
            PriceTable::parse(&text),
            Err(PriceError::Parse(_))
        ));
    }

    #[test]
    fn a_missing_fallback_region_is_refused() {
        let text = BUILTIN.replacen(
            "fallback_region = \"us-east-1\"",
            "fallback_region = \"mars-1\"",
            1,
        );
        assert!(matches!(
            PriceTable::parse(&text),
            Err(PriceError::NoFallback(_))
        ));
    }
}
