//! The AWS collectors: thin adapters from SDK calls to the model, one file per service:
//! [`cloudwatch`] (alarms, their history, the canary), [`metric_data`] (GetMetricData, shared by
//! the panels and the charts), [`lambda`], [`elasticache`], [`cloudfront`]; STS here.

mod cloudfront;
mod cloudwatch;
mod elasticache;
mod lambda;
pub(crate) mod metric_data;

use aws_smithy_types::DateTime;
use time::OffsetDateTime;

use crate::aws::classify;
use crate::context::Context;
use crate::model::{CollectorError, ErrorKind, Identity};

pub use cloudfront::cloudfront;
pub use cloudwatch::{alarm_history, alarms, canary};
pub use elasticache::redis;
pub use lambda::lambda;
pub(crate) use metric_data::{dim, get_metric_series_each, metric_query};

pub(crate) fn to_odt(dt: &DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(dt.as_nanos()).ok()
}

pub(super) fn err<E, R>(
    ctx: &Context,
    what: &str,
    e: &aws_sdk_sts::error::SdkError<E, R>,
) -> CollectorError
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + crate::aws::HasStatus + 'static,
{
    let mut ce = classify(e, what, &ctx.env, ctx.aws.profile.as_deref());
    if matches!(
        ce.kind,
        ErrorKind::NoCredentials | ErrorKind::ExpiredCredentials
    ) {
        ce.fix = Some(format!("run `{}`", ctx.settings.login_hint));
    }
    ce
}

pub async fn identity(ctx: &Context) -> Result<Identity, CollectorError> {
    let out = ctx
        .aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| err(ctx, "sts:GetCallerIdentity", &e))?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().unwrap_or_default().to_string(),
        region: ctx.aws.region().unwrap_or_default(),
        profile: ctx.aws.profile.clone(),
    })
}
