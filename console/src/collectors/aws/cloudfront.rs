//! CloudFront: the distribution and its newest invalidations.

use crate::context::Context;
use crate::model::{CloudFrontData, CollectorError, Invalidation};

use super::{err, to_odt};

/// Most invalidations listed (newest first); more is reported as truncated.
pub(crate) const MAX_INVALIDATIONS: i32 = 10;

pub async fn cloudfront(ctx: &Context) -> Result<CloudFrontData, CollectorError> {
    let id = &ctx.outputs.cloudfront_distribution_id;
    let cf = &ctx.aws.cloudfront;
    let d = cf
        .get_distribution()
        .id(id)
        .send()
        .await
        .map_err(|e| err(ctx, &format!("cloudfront:GetDistribution {id}"), &e))?;
    let dist = d.distribution();
    let list = cf
        .list_invalidations()
        .distribution_id(id)
        .max_items(MAX_INVALIDATIONS)
        .send()
        .await
        .map_err(|e| err(ctx, &format!("cloudfront:ListInvalidations {id}"), &e))?;
    let mut invalidations = Vec::new();
    let mut truncated = None;
    if let Some(l) = list.invalidation_list() {
        let mut items: Vec<_> = l.items().to_vec();
        items.sort_by_key(|i| std::cmp::Reverse(i.create_time().secs()));
        for s in &items {
            let paths = match cf
                .get_invalidation()
                .distribution_id(id)
                .id(s.id())
                .send()
                .await
            {
                Ok(g) => g
                    .invalidation()
                    .and_then(|i| i.invalidation_batch())
                    .and_then(|b| b.paths())
                    .map(|p| p.items().to_vec())
                    .unwrap_or_default(),
                Err(_) => vec![],
            };
            invalidations.push(Invalidation {
                id: s.id().to_string(),
                status: s.status().to_string(),
                created: to_odt(s.create_time()),
                paths,
            });
        }
        if l.is_truncated() {
            truncated = Some(format!(
                "showing the newest {MAX_INVALIDATIONS} invalidations; there are more"
            ));
        }
    }
    Ok(CloudFrontData {
        distribution_id: id.clone(),
        domain_name: dist
            .map(|x| x.domain_name().to_string())
            .or_else(|| ctx.outputs.cloudfront_domain_name.clone()),
        status: dist.map(|x| x.status().to_string()),
        enabled: dist
            .and_then(|x| x.distribution_config())
            .map(|c| c.enabled()),
        aliases: dist
            .and_then(|x| x.distribution_config())
            .and_then(|c| c.aliases())
            .map(|a| a.items().to_vec())
            .unwrap_or_default(),
        invalidations,
        truncated,
    })
}
