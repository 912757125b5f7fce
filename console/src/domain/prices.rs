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
    /// The source of each price, by its path in the file ([`PriceId::path`]).
    pub source_of: BTreeMap<String, String>,
}

/// The keys of a region's prices (besides `elasticache_node_hour`), in the file's order.
pub const REGION_KEYS: [&str; 17] = [
    "lambda_requests_per_million",
    "lambda_gb_second_x86_64",
    "lambda_gb_second_arm64",
    "lambda_provisioned_gb_second_x86_64",
    "lambda_provisioned_gb_second_arm64",
    "apigw_rest_requests_per_million",
    "s3_standard_gb_month",
    "s3_put_per_1000",
    "s3_get_per_1000",
    "cloudwatch_alarm_month",
    "cloudwatch_metric_month",
    "cloudwatch_dashboard_month",
    "logs_ingestion_gb",
    "logs_storage_gb_month",
    "ecr_storage_gb_month",
    "nat_gateway_data_gb",
    "scheduler_invocations_per_million",
];

/// The keys of `[cloudfront]`.
pub const CLOUDFRONT_KEYS: [&str; 2] = ["https_requests_per_10k", "data_out_gb"];

/// Which price: a key of `[cloudfront]`, a key of a region ([`REGION_KEYS`]) or a node type's
/// hourly price in a region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PriceId {
    CloudFront(&'static str),
    Region(String, &'static str),
    Node(String, String),
}

impl PriceId {
    /// The price's path in the file: `cloudfront.data_out_gb`,
    /// `regions.eu-west-1.logs_ingestion_gb`, `regions.eu-west-1.elasticache_node_hour.cache.t4g.micro`.
    pub fn path(&self) -> String {
        match self {
            PriceId::CloudFront(k) => format!("cloudfront.{k}"),
            PriceId::Region(r, k) => format!("regions.{r}.{k}"),
            PriceId::Node(r, t) => format!("regions.{r}.elasticache_node_hour.{t}"),
        }
    }
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
        let mut source_of = BTreeMap::new();
        for (id, p) in raw.prices() {
            if !sources.contains(&p.source) {
                sources.push(p.source.clone());
            }
            source_of.insert(id.path(), p.source.clone());
        }
        let note = |p: &RawPrice| -> f64 { p.usd };
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
            source_of,
        })
    }

    /// A price of the table.
    pub fn get(&self, id: &PriceId) -> Option<f64> {
        match id {
            PriceId::CloudFront("https_requests_per_10k") => {
                Some(self.cloudfront_https_requests_per_10k)
            }
            PriceId::CloudFront("data_out_gb") => Some(self.cloudfront_data_out_gb),
            PriceId::CloudFront(_) => None,
            PriceId::Region(r, k) => self.regions.get(r).and_then(|p| p.get(k)),
            PriceId::Node(r, t) => self
                .regions
                .get(r)
                .and_then(|p| p.elasticache_node_hour.get(t).copied()),
        }
    }

    /// Sets a price and its source; false when the table has no such price (a region must be
    /// in the table first).
    pub fn set(&mut self, id: &PriceId, usd: f64, source: &str) -> bool {
        let slot = match id {
            PriceId::CloudFront("https_requests_per_10k") => {
                Some(&mut self.cloudfront_https_requests_per_10k)
            }
            PriceId::CloudFront("data_out_gb") => Some(&mut self.cloudfront_data_out_gb),
            PriceId::CloudFront(_) => None,
            PriceId::Region(r, k) => self.regions.get_mut(r).and_then(|p| p.get_mut(k)),
            PriceId::Node(r, t) => self
                .regions
                .get_mut(r)
                .and_then(|p| p.elasticache_node_hour.get_mut(t)),
        };
        let Some(slot) = slot else { return false };
        *slot = usd;
        self.source_of.insert(id.path(), source.to_string());
        self.recount_sources();
        true
    }

    /// Every price of the table, in the file's order.
    pub fn ids(&self) -> Vec<PriceId> {
        let mut out: Vec<PriceId> = CLOUDFRONT_KEYS
            .iter()
            .map(|k| PriceId::CloudFront(k))
            .collect();
        for (name, r) in &self.regions {
            out.extend(REGION_KEYS.iter().map(|k| PriceId::Region(name.clone(), k)));
            out.extend(
                r.elasticache_node_hour
                    .keys()
                    .map(|t| PriceId::Node(name.clone(), t.clone())),
            );
        }
        out
    }

    /// `sources` again from each price's: distinct, in the file's order (as [`parse`] makes it).
    ///
    /// [`parse`]: PriceTable::parse
    fn recount_sources(&mut self) {
        let mut sources: Vec<String> = Vec::new();
        for id in self.ids() {
            if let Some(s) = self.source_of.get(&id.path())
                && !sources.contains(s)
            {
                sources.push(s.clone());
            }
        }
        self.sources = sources;
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

impl PriceTable {
    /// Adds `region` as a copy of the fallback region's prices, each source saying so; false
    /// when the region is there already.
    pub fn add_region_from_fallback(&mut self, region: &str) -> bool {
        if self.regions.contains_key(region) {
            return false;
        }
        let Some(prices) = self.regions.get(&self.fallback_region).cloned() else {
            return false;
        };
        let from = format!("regions.{}.", self.fallback_region);
        let copied: Vec<(String, String)> = self
            .source_of
            .iter()
            .filter_map(|(path, src)| {
                let rest = path.strip_prefix(&from)?;
                Some((
                    format!("regions.{region}.{rest}"),
                    format!("{} (the {} price)", src, self.fallback_region),
                ))
            })
            .collect();
        self.source_of.extend(copied);
        self.regions.insert(region.to_string(), prices);
        self.recount_sources();
        true
    }

    /// The table as a file in `console/data/prices.toml`'s format (read back by [`parse`]);
    /// `header` becomes its leading comment.
    ///
    /// [`parse`]: PriceTable::parse
    pub fn to_toml(&self, header: &str) -> String {
        let mut s = String::new();
        for l in header.lines() {
            s.push_str(&format!("# {l}\n").replace("# \n", "#\n"));
        }
        s.push_str(&format!(
            "\nas_of = {}\nfallback_region = {}\n\n[cloudfront]\n",
            quoted(&self.as_of),
            quoted(&self.fallback_region)
        ));
        let line = |s: &mut String, key: &str, id: &PriceId| {
            let usd = self.get(id).unwrap_or(f64::NAN);
            let src = self.source_of.get(&id.path()).cloned().unwrap_or_default();
            s.push_str(&format!(
                "{key} = {{ usd = {}, source = {} }}\n",
                number(usd),
                quoted(&src)
            ));
        };
        for k in CLOUDFRONT_KEYS {
            line(&mut s, k, &PriceId::CloudFront(k));
        }
        for (name, r) in &self.regions {
            s.push_str(&format!("\n[regions.{}]\n", quoted(name)));
            for k in REGION_KEYS {
                line(&mut s, k, &PriceId::Region(name.clone(), k));
            }
            s.push_str(&format!(
                "\n[regions.{}.elasticache_node_hour]\n",
                quoted(name)
            ));
            for t in r.elasticache_node_hour.keys() {
                line(&mut s, &quoted(t), &PriceId::Node(name.clone(), t.clone()));
            }
        }
        s
    }
}

/// A TOML basic string (JSON's escapes are TOML's).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A TOML float: Rust's `Display` of an f64 never uses an exponent; a whole number gets `.0`.
fn number(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('.') || !v.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

impl RawTable {
    /// Every price of the file with its id.
    fn prices(&self) -> Vec<(PriceId, &RawPrice)> {
        let cf = &self.cloudfront;
        let mut out = vec![
            (
                PriceId::CloudFront("https_requests_per_10k"),
                &cf.https_requests_per_10k,
            ),
            (PriceId::CloudFront("data_out_gb"), &cf.data_out_gb),
        ];
        for (name, r) in &self.regions {
            for k in REGION_KEYS {
                if let Some(p) = r.get(k) {
                    out.push((PriceId::Region(name.clone(), k), p));
                }
            }
            for (t, p) in &r.elasticache_node_hour {
                out.push((PriceId::Node(name.clone(), t.clone()), p));
            }
        }
        out
    }
}

/// One accessor per key of [`REGION_KEYS`], for the raw and the parsed region.
macro_rules! region_keys {
    ($ty:ty, $out:ty) => {
        impl $ty {
            fn get_ref(&self, key: &str) -> Option<&$out> {
                region_keys!(@match self, key, &)
            }
            #[allow(dead_code)]
            fn get_mut(&mut self, key: &str) -> Option<&mut $out> {
                region_keys!(@match self, key, &mut)
            }
        }
    };
    (@match $s:ident, $key:ident, $($r:tt)+) => {
        Some(match $key {
            "lambda_requests_per_million" => $($r)+ $s.lambda_requests_per_million,
            "lambda_gb_second_x86_64" => $($r)+ $s.lambda_gb_second_x86_64,
            "lambda_gb_second_arm64" => $($r)+ $s.lambda_gb_second_arm64,
            "lambda_provisioned_gb_second_x86_64" => $($r)+ $s.lambda_provisioned_gb_second_x86_64,
            "lambda_provisioned_gb_second_arm64" => $($r)+ $s.lambda_provisioned_gb_second_arm64,
            "apigw_rest_requests_per_million" => $($r)+ $s.apigw_rest_requests_per_million,
            "s3_standard_gb_month" => $($r)+ $s.s3_standard_gb_month,
            "s3_put_per_1000" => $($r)+ $s.s3_put_per_1000,
            "s3_get_per_1000" => $($r)+ $s.s3_get_per_1000,
            "cloudwatch_alarm_month" => $($r)+ $s.cloudwatch_alarm_month,
            "cloudwatch_metric_month" => $($r)+ $s.cloudwatch_metric_month,
            "cloudwatch_dashboard_month" => $($r)+ $s.cloudwatch_dashboard_month,
            "logs_ingestion_gb" => $($r)+ $s.logs_ingestion_gb,
            "logs_storage_gb_month" => $($r)+ $s.logs_storage_gb_month,
            "ecr_storage_gb_month" => $($r)+ $s.ecr_storage_gb_month,
            "nat_gateway_data_gb" => $($r)+ $s.nat_gateway_data_gb,
            "scheduler_invocations_per_million" => $($r)+ $s.scheduler_invocations_per_million,
            _ => return None,
        })
    };
}
region_keys!(RawRegion, RawPrice);
region_keys!(RegionPrices, f64);

impl RawRegion {
    fn get(&self, key: &str) -> Option<&RawPrice> {
        self.get_ref(key)
    }
}

impl RegionPrices {
    /// The price of a key of [`REGION_KEYS`].
    pub fn get(&self, key: &str) -> Option<f64> {
        self.get_ref(key).copied()
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
    fn the_table_written_out_reads_back_equal_with_each_source() {
        let mut t = PriceTable::builtin().unwrap();
        let id = PriceId::Node("eu-west-1".into(), "cache.t4g.micro".into());
        assert!(t.set(&id, 0.018, "AWS Price List API, fetched 2026-12-07: SKU X"));
        assert!(t.set(
            &PriceId::CloudFront("data_out_gb"),
            1.0,
            "a \"quoted\" source"
        ));
        assert!(!t.set(
            &PriceId::Region("mars-1".into(), "s3_get_per_1000"),
            1.0,
            "x"
        ));
        let text = t.to_toml("refreshed\n\nsecond line");
        assert!(
            text.starts_with("# refreshed\n#\n# second line\n"),
            "{text}"
        );
        assert!(
            text.contains("\"cache.t4g.micro\" = { usd = 0.018, source = \"AWS Price List API")
        );
        let back = PriceTable::parse(&text).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.get(&id), Some(0.018));
        assert_eq!(back.get(&PriceId::CloudFront("data_out_gb")), Some(1.0));
        assert_eq!(
            back.source_of["regions.eu-west-1.elasticache_node_hour.cache.t4g.micro"],
            "AWS Price List API, fetched 2026-12-07: SKU X"
        );
        // The built-in table itself round-trips.
        let b = PriceTable::builtin().unwrap();
        assert_eq!(PriceTable::parse(&b.to_toml("x")).unwrap(), b);
    }

    #[test]
    fn every_price_has_its_own_source_and_a_getter() {
        let t = PriceTable::builtin().unwrap();
        // 2 CloudFront + 2 regions x (17 + 7 node types)
        assert_eq!(t.source_of.len(), 2 + 2 * (17 + 7));
        for k in REGION_KEYS {
            let id = PriceId::Region("eu-west-1".into(), k);
            assert!(t.get(&id).is_some_and(|v| v > 0.0), "{k}");
        }
        assert_eq!(
            t.get(&PriceId::Region("eu-west-1".into(), "nat_gateway_data_gb")),
            Some(0.048)
        );
        assert_eq!(t.get(&PriceId::Region("eu-west-1".into(), "nope")), None);
    }

    #[test]
    fn a_region_added_from_the_fallback_says_so_in_each_source() {
        let mut t = PriceTable::builtin().unwrap();
        assert!(t.add_region_from_fallback("ap-south-2"));
        assert!(!t.add_region_from_fallback("ap-south-2"));
        assert_eq!(t.regions["ap-south-2"], t.regions["us-east-1"]);
        let src = &t.source_of["regions.ap-south-2.logs_ingestion_gb"];
        assert!(src.ends_with("(the us-east-1 price)"), "{src}");
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
