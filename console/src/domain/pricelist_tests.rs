use super::*;

/// Product documents in the shape AWS documents for `GetProducts`' `PriceList` (and the offer
/// files): WRITTEN BY HAND from that documentation, NOT captured from the API (no internet
/// here); SKUs are made up. Shared with motoext's pricing tests and the console's integration
/// test.
const FIXTURE: &str = include_str!("../../../tools/motoext/fixtures/pricing-products.json");

fn fixture(sku: &str) -> String {
    let v: Value = serde_json::from_str(FIXTURE).unwrap();
    let p = v["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product"]["sku"] == sku)
        .unwrap();
    p.to_string()
}

const LAMBDA_DURATION: &str = "TG3M4CAGBA3NYQBH";
const REDIS_MICRO: &str = "8C2ZJ3QXW5M6A9YB";
const VALKEY_MICRO: &str = "V7K2PX4NRE8TQ3ZA";
const LAMBDA_REQUESTS: &str = "3FWQW4S2XJWQ9A6R";

fn node(t: &str) -> PriceId {
    PriceId::Node("eu-west-1".into(), t.into())
}

#[test]
fn a_tiered_product_document_parses_into_its_on_demand_prices() {
    let p = parse_product(&fixture(LAMBDA_DURATION)).unwrap();
    assert_eq!(p.sku, LAMBDA_DURATION);
    assert_eq!(p.service_code, "AWSLambda");
    assert_eq!(p.usagetype, "EUW1-Lambda-GB-Second");
    assert_eq!(p.attributes["regionCode"], "eu-west-1");
    assert_eq!(p.on_demand.len(), 3);
    let first = p
        .on_demand
        .iter()
        .find(|d| d.begin_range == Some(0.0))
        .unwrap();
    assert_eq!(first.usd, 0.0000166667);
    assert_eq!(first.unit, "Lambda-GB-Second");
    assert_eq!(first.rate_code, "TG3M4CAGBA3NYQBH.JRTCKXETXF.6YS6EN2CT7");
}

#[test]
fn unexpected_documents_are_errors_not_zeros() {
    assert!(matches!(
        parse_product("not json"),
        Err(ProductError::NotJson(_))
    ));
    assert_eq!(
        parse_product(r#"{"serviceCode": "AWSLambda", "terms": {}}"#),
        Err(ProductError::Missing("product"))
    );
    let no_terms = r#"{"product": {"sku": "A", "attributes": {}}, "terms": {}}"#;
    assert_eq!(
        parse_product(no_terms),
        Err(ProductError::Missing("terms.OnDemand"))
    );
    let bad_price = fixture(REDIS_MICRO).replace("0.0180000000", "n/a");
    assert!(matches!(
        parse_product(&bad_price),
        Err(ProductError::BadPrice { .. })
    ));
    let q = query_for(&node("cache.t4g.micro")).unwrap();
    let e = pick(&["{}".into()], &q).unwrap_err();
    assert!(e.starts_with("unexpected product document"), "{e}");
}

#[test]
fn the_filters_name_the_service_region_and_product() {
    let q = query_for(&node("cache.t4g.micro")).unwrap();
    assert_eq!(q.service_code, "AmazonElastiCache");
    assert_eq!(
        q.filters,
        vec![
            f("regionCode", "eu-west-1"),
            f("productFamily", "Cache Instance"),
            f("instanceType", "cache.t4g.micro"),
            f("cacheEngine", "Redis"),
        ]
    );
    assert_eq!(q.usagetype.as_deref(), Some("NodeUsage:cache.t4g.micro"));

    let q = query_for(&PriceId::Region(
        "ap-south-2".into(),
        "lambda_requests_per_million",
    ))
    .unwrap();
    assert_eq!(q.service_code, "AWSLambda");
    assert_eq!(q.filters[0], f("regionCode", "ap-south-2"));
    assert!(q.filters.contains(&f("group", "AWS-Lambda-Requests")));
    assert_eq!(q.per, 1e6);
    // CloudFront is not regional: the US edge's usage type, no region filter.
    let q = query_for(&PriceId::CloudFront("https_requests_per_10k")).unwrap();
    assert!(q.filters.iter().all(|(k, _)| k != "regionCode"));
    assert_eq!(q.per, 10_000.0);
    // Every key of the table has a query, and nothing else has.
    for k in REGION_KEYS {
        assert!(
            query_for(&PriceId::Region("eu-west-1".into(), k)).is_some(),
            "{k}"
        );
    }
    assert!(query_for(&PriceId::Region("eu-west-1".into(), "nope")).is_none());
    assert!(query_for(&PriceId::CloudFront("nope")).is_none());
}

#[test]
fn the_wanted_prices_are_the_regions_and_cloudfronts() {
    let t = PriceTable::builtin().unwrap();
    let w = wanted(&t, "eu-west-1");
    assert_eq!(w.len(), 2 + 17 + 7);
    assert!(w.contains(&node("cache.t4g.micro")));
    // A region the table lacks: the fallback's node types, in that region.
    let w = wanted(&t, "ap-south-2");
    assert!(w.contains(&PriceId::Node(
        "ap-south-2".into(),
        "cache.t4g.micro".into()
    )));
}

#[test]
fn pick_converts_to_the_tables_unit_and_takes_the_first_tier() {
    let q = query_for(&PriceId::Region(
        "eu-west-1".into(),
        "lambda_requests_per_million",
    ))
    .unwrap();
    let p = pick(&[fixture(LAMBDA_REQUESTS)], &q).unwrap();
    assert_eq!(p.usd, 0.20, "{p:?}");
    assert_eq!(p.sku, LAMBDA_REQUESTS);
    let q = query_for(&PriceId::Region(
        "eu-west-1".into(),
        "lambda_gb_second_x86_64",
    ))
    .unwrap();
    // The tiers in another order: still the one from 0.
    let p = pick(&[fixture(LAMBDA_DURATION)], &q).unwrap();
    assert_eq!(p.usd, 0.0000166667);
    assert_eq!(p.unit, "Lambda-GB-Second");
}

#[test]
fn pick_refuses_nothing_several_another_unit_and_zero() {
    let q = query_for(&node("cache.t4g.micro")).unwrap();
    let e = pick(&[], &q).unwrap_err();
    assert!(
        e.starts_with("no product matched (AmazonElastiCache with regionCode=eu-west-1"),
        "{e}"
    );
    // Both engines answered (a filter the API ignored): ambiguous, nothing chosen.
    let both = [fixture(REDIS_MICRO), fixture(VALKEY_MICRO)];
    let e = pick(&both, &q).unwrap_err();
    assert!(
        e.contains("2 products matched") && e.contains(VALKEY_MICRO),
        "{e}"
    );
    // Another usage type (the ARM duration asked, the x86 one answered): no match.
    let arm = query_for(&PriceId::Region(
        "eu-west-1".into(),
        "lambda_gb_second_arm64",
    ))
    .unwrap();
    assert!(pick(&[fixture(LAMBDA_DURATION)], &arm).is_err());
    let per_gb = fixture(REDIS_MICRO).replace("\"Hrs\"", "\"GB\"");
    let e = pick(&[per_gb], &q).unwrap_err();
    assert!(e.contains("priced per `GB`, expected Hrs"), "{e}");
    let zero = fixture(REDIS_MICRO).replace("0.0180000000", "0.0000000000");
    let e = pick(&[zero], &q).unwrap_err();
    assert!(e.contains("lists 0 USD"), "{e}");
    assert_eq!(pick(&[fixture(REDIS_MICRO)], &q).unwrap().usd, 0.018);
}

#[test]
fn apply_takes_the_fetched_prices_and_keeps_the_rest_with_a_reason() {
    let t = PriceTable::builtin().unwrap();
    let q = query_for(&node("cache.t4g.micro")).unwrap();
    let picked = pick(&[fixture(REDIS_MICRO)], &q).unwrap();
    let logs = PriceId::Region("eu-west-1".into(), "logs_ingestion_gb");
    let (new, r) = apply(
        &t,
        "eu-west-1",
        "2026-12-07",
        vec![
            (node("cache.t4g.micro"), Ok(picked)),
            (logs.clone(), Err("AccessDeniedException".into())),
        ],
    );
    assert_eq!(new.get(&node("cache.t4g.micro")), Some(0.018));
    assert_eq!(t.get(&node("cache.t4g.micro")), Some(0.0176));
    assert_eq!(new.get(&logs), Some(0.57));
    assert_eq!(r.refreshed.len(), 1);
    assert_eq!(r.refreshed[0].previous_usd, Some(0.0176));
    assert_eq!(
        r.refreshed[0].source,
        "AWS Price List API, fetched 2026-12-07: AmazonElastiCache SKU 8C2ZJ3QXW5M6A9YB, \
         rate 8C2ZJ3QXW5M6A9YB.JRTCKXETXF.6YS6EN2CT7 (Hrs)"
    );
    assert_eq!(
        new.source_of["regions.eu-west-1.elasticache_node_hour.cache.t4g.micro"],
        r.refreshed[0].source
    );
    assert_eq!(r.not_refreshed.len(), 1);
    assert_eq!(
        r.not_refreshed[0].price,
        "regions.eu-west-1.logs_ingestion_gb"
    );
    assert_eq!(r.not_refreshed[0].kept_usd, Some(0.57));
    assert_eq!(r.not_refreshed[0].reason, "AccessDeniedException");
    assert!(r.notes.is_empty());
}

#[test]
fn apply_for_a_region_the_table_lacks_adds_it_and_says_so() {
    let t = PriceTable::builtin().unwrap();
    let id = PriceId::Region("ap-south-2".into(), "logs_ingestion_gb");
    let (new, r) = apply(
        &t,
        "ap-south-2",
        "2026-12-07",
        vec![(id.clone(), Err("no product matched".into()))],
    );
    assert_eq!(new.get(&id), Some(0.50));
    assert_eq!(r.not_refreshed[0].kept_usd, Some(0.50));
    assert!(
        r.notes[0].contains("`ap-south-2` is not in the price table"),
        "{:?}",
        r.notes
    );
    assert!(
        new.lookup("ap-south-2")
            .is_some_and(|l| l.assumption.is_none())
    );
}
