//! The billed cost of `opsconsole cost` (issue 29): Cost Explorer's `GetCostAndUsage` for the
//! deployment's tags, per service, over the whole UTC days of the window. Thin: the period and
//! the sums are [`crate::domain::billed`]. Cost Explorer not enabled, no permission, no
//! credentials or no cost: one stated reason, never an error of the whole command.

use aws_sdk_costexplorer::types::{
    DateInterval, Expression, Granularity, GroupDefinition, GroupDefinitionType, TagValues,
};

use crate::context::Context;
use crate::domain::billed::{self, Billed, BilledStatus, CeDay, CeGroup, METRIC};
use crate::domain::leftovers::DEFAULT_PROJECT_TAG;
use crate::domain::window::Window;
use crate::model::ErrorKind;

/// Pages read at most (a DAILY answer for 7 days by service fits in one).
const MAX_PAGES: u32 = 5;

/// The tags the Terraform applies to every resource (environments/dev `default_tags`).
pub fn default_tags(env: &str) -> Vec<(String, String)> {
    vec![
        (
            DEFAULT_PROJECT_TAG.0.to_string(),
            DEFAULT_PROJECT_TAG.1.to_string(),
        ),
        ("Environment".to_string(), env.to_string()),
    ]
}

/// The billed cost of the window's whole days before today (UTC).
pub async fn billed(ctx: &Context, window: Window) -> Billed {
    let today = time::OffsetDateTime::now_utc().date();
    let (start, end) = billed::period(today, window.minutes());
    let tags = default_tags(&ctx.env);
    let filter = Expression::builder()
        .set_and(Some(
            tags.iter()
                .map(|(k, v)| {
                    Expression::builder()
                        .tags(TagValues::builder().key(k).values(v).build())
                        .build()
                })
                .collect(),
        ))
        .build();
    let period = match DateInterval::builder()
        .start(start.to_string())
        .end(end.to_string())
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            return billed::unavailable(
                BilledStatus::Unavailable,
                &tags,
                start,
                end,
                format!("period: {e}"),
                0,
            );
        }
    };
    let client = ctx.aws.cost_explorer();
    let endpoint = if ctx.aws.sdk.endpoint_url().is_some() {
        crate::aws::endpoint_label(&ctx.aws.sdk, "ce")
    } else {
        "ce in us-east-1".to_string()
    };
    let mut days = Vec::new();
    let mut token: Option<String> = None;
    let mut requests = 0;
    while requests < MAX_PAGES {
        requests += 1;
        let out = client
            .get_cost_and_usage()
            .time_period(period.clone())
            .granularity(Granularity::Daily)
            .metrics(METRIC)
            .filter(filter.clone())
            .group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key("SERVICE")
                    .build(),
            )
            .set_next_page_token(token.take())
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                let profile = ctx.aws.profile.as_deref();
                let c = crate::aws::classify(&e, "ce:GetCostAndUsage", &ctx.env, profile);
                let cause = crate::aws::failure_cause(&e, &endpoint);
                let reason = match c.kind {
                    ErrorKind::AccessDenied => format!(
                        "Cost Explorer refused: {cause} (not enabled for the account, or the \
                         role lacks ce:GetCostAndUsage)"
                    ),
                    ErrorKind::NoCredentials | ErrorKind::ExpiredCredentials => format!(
                        "no usable AWS credentials for Cost Explorer ({}){}",
                        crate::cost_refresh::last_cause(&e),
                        c.fix.map(|f| format!(": {f}")).unwrap_or_default()
                    ),
                    _ => format!("Cost Explorer did not answer: {cause}"),
                };
                return billed::unavailable(
                    BilledStatus::Unavailable,
                    &tags,
                    start,
                    end,
                    reason,
                    requests,
                );
            }
        };
        for r in out.results_by_time() {
            let groups = r
                .groups()
                .iter()
                .filter_map(|g| {
                    let m = g.metrics()?.get(METRIC)?;
                    Some(CeGroup {
                        service: g.keys().first().cloned().unwrap_or_default(),
                        amount: m.amount().unwrap_or_default().to_string(),
                        unit: m.unit().unwrap_or_default().to_string(),
                    })
                })
                .collect();
            let total = r.total().and_then(|t| t.get(METRIC)).map(|m| {
                (
                    m.amount().unwrap_or_default().to_string(),
                    m.unit().unwrap_or_default().to_string(),
                )
            });
            days.push(CeDay {
                start: r
                    .time_period()
                    .map(|p| p.start().to_string())
                    .unwrap_or_default(),
                estimated: r.estimated(),
                groups,
                total,
            });
        }
        match out.next_page_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    billed::summarize(&days, &tags, start, end, requests)
}
