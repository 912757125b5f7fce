//! `opsconsole cost --refresh-prices` (issue 29): asks the AWS Price List Query API
//! (`pricing:GetProducts`, us-east-1) for each price of the table in the deployment's region.
//! Thin: the filters, the reading of the product documents and the refreshed table are
//! [`crate::domain::pricelist`]. A price that cannot be fetched keeps the table's, with why.

use futures::StreamExt as _;

use aws_sdk_pricing::types::{Filter, FilterType};

use crate::aws::AwsClients;
use crate::domain::pricelist::{self, PriceRefresh, Query};
use crate::domain::prices::{PriceId, PriceTable};
use crate::model::ErrorKind;

/// Requests at once (the Price List API allows a few per second).
const CONCURRENCY: usize = 4;
/// Pages of 100 products read at most per price (a filter matching more is too loose anyway).
const MAX_PAGES: usize = 3;

/// The table with what the Price List answered for `region` (fetched on `today`, UTC), and the
/// account of each price.
pub async fn refresh(
    aws: &AwsClients,
    env: &str,
    table: &PriceTable,
    region: &str,
    today: &str,
) -> (PriceTable, PriceRefresh) {
    let client = aws.pricing();
    let endpoint = crate::aws::endpoint_label(&aws.sdk, "pricing");
    let endpoint = if aws.sdk.endpoint_url().is_some() {
        endpoint
    } else {
        format!("pricing in {}", pricelist::PRICING_REGION)
    };
    let profile = aws.profile.as_deref();
    let results: Vec<(PriceId, Result<pricelist::Picked, String>)> =
        futures::stream::iter(pricelist::wanted(table, region))
            .map(|id| {
                let client = client.clone();
                let endpoint = endpoint.clone();
                async move {
                    let r = match pricelist::query_for(&id) {
                        Some(q) => fetch(&client, &q, &endpoint, env, profile).await,
                        None => Err("no Price List query for this price".to_string()),
                    };
                    (id, r)
                }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
    pricelist::apply(table, region, today, results)
}

async fn fetch(
    client: &aws_sdk_pricing::Client,
    q: &Query,
    endpoint: &str,
    env: &str,
    profile: Option<&str>,
) -> Result<pricelist::Picked, String> {
    let mut filters = Vec::new();
    for (field, value) in &q.filters {
        let f = Filter::builder()
            .r#type(FilterType::TermMatch)
            .field(field)
            .value(value)
            .build()
            .map_err(|e| format!("filter {field}={value}: {e}"))?;
        filters.push(f);
    }
    let mut docs = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = client
            .get_products()
            .service_code(q.service_code)
            .format_version("aws_v1")
            .set_filters(Some(filters.clone()))
            .max_results(100)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                let c = crate::aws::classify(&e, "pricing:GetProducts", env, profile);
                let cause = crate::aws::failure_cause(&e, endpoint);
                match (c.kind, c.fix) {
                    (ErrorKind::NoCredentials | ErrorKind::ExpiredCredentials, Some(fix)) => {
                        format!("no usable AWS credentials ({}): {fix}", last_cause(&e))
                    }
                    (ErrorKind::AccessDenied, _) => {
                        format!("access denied: {cause} (the role needs pricing:GetProducts)")
                    }
                    _ => cause,
                }
            })?;
        docs.extend(out.price_list().iter().cloned());
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    pricelist::pick(&docs, q)
}

/// The innermost cause of an error chain (e.g. why no credentials were found).
pub(crate) fn last_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let chain = opsconsole_proc::error_chain(e);
    chain
        .rsplit(": ")
        .next()
        .unwrap_or(chain.as_str())
        .to_string()
}
