//! User files (issue 30): the config object judged by [`crate::domain::files::judge`], the files
//! bucket's object count and size (a bounded listing), and the uploads API Gateway's access log
//! shows refused for size (when the deployment writes one).
//!
//! Why a listing and not S3's storage metrics (`AWS/S3` `NumberOfObjects` / `BucketSizeBytes`):
//! those are daily, arrive up to two days late and are absent for a new bucket, so they cannot
//! say whether the upload just made landed; a listing is current, and bounded to
//! [`MAX_LIST_PAGES`] pages (10 000 objects, 10 requests) it costs a fraction of a cent per
//! refresh. Past the bound the panel says `≥`.

use std::time::{Duration, SystemTime};

use crate::context::Context;
use crate::domain::files::{
    BucketUsage, ConfigJudgement, FilesData, SizeRejections, judge, unreadable,
};
use crate::domain::window::Window;
use crate::init::facts::ConfigObject;
use crate::model::{CollectorError, ErrorKind};

use super::aws::err;

/// Most ListObjectsV2 pages (1000 objects each) per refresh.
pub(crate) const MAX_LIST_PAGES: u32 = 10;
/// Most access log pages read per refresh.
const MAX_LOG_PAGES: u32 = 20;

fn one(f: crate::domain::files::ConfigFinding) -> ConfigJudgement {
    ConfigJudgement {
        summary: None,
        findings: vec![f],
    }
}

/// The files check: never an error itself; what could not be read is in the data (the config
/// object's as a finding).
pub async fn files(ctx: &Context, w: Window) -> Result<FilesData, CollectorError> {
    let o = &ctx.outputs;
    let mut d = FilesData::default();
    let location = match (&o.config_s3_bucket, &o.config_s3_key) {
        (Some(b), Some(k)) => Ok((b.clone(), k.clone())),
        _ => config_from_function(ctx).await,
    };
    d.config = match location {
        Ok((b, k)) => {
            let at = format!("s3://{b}/{k}");
            let j = match crate::init::aws::config_object(&ctx.aws.s3, &b, &k).await {
                ConfigObject::Text(t) => judge(&t),
                ConfigObject::Missing(why) => {
                    one(unreadable(&at, &format!("it does not exist ({why})")))
                }
                ConfigObject::Unreadable(why) => one(unreadable(&at, &why)),
                ConfigObject::NotAsked => one(unreadable(&at, "not read")),
            };
            d.config_at = Some(at);
            j
        }
        Err(why) => one(unreadable("(location unknown)", &why)),
    };
    if let Some(b) = &o.files_bucket_name {
        d.bucket = Some(bucket_usage(ctx, b).await.map_err(|e| e.message));
    }
    d.rejections = match &o.api_gateway_access_log_group {
        Some(g) => rejections(ctx, g, w).await?,
        None => SizeRejections::not_recorded(
            "the outputs name no API Gateway access log group (api_gateway_access_log_group): \
             the deployment records uploads refused for size nowhere the console can read \
             (console/README.md, \"Files\")",
        ),
    };
    Ok(d)
}

/// The config object's location from the function's environment (CONFIG_S3_BUCKET /
/// CONFIG_S3_KEY, as the backend module sets them).
async fn config_from_function(ctx: &Context) -> Result<(String, String), String> {
    let name = &ctx.outputs.lambda_function_name;
    let conf = ctx
        .aws
        .lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .map_err(|e| {
            format!(
                "the outputs name no config_s3_bucket / config_s3_key and {}",
                err(ctx, &format!("lambda:GetFunctionConfiguration {name}"), &e).message
            )
        })?;
    let vars = conf.environment().and_then(|e| e.variables());
    let var = |k: &str| vars.and_then(|v| v.get(k)).cloned();
    match (var("CONFIG_S3_BUCKET"), var("CONFIG_S3_KEY")) {
        (Some(b), Some(k)) if !b.is_empty() && !k.is_empty() => Ok((b, k)),
        _ => Err(format!(
            "the outputs name no config_s3_bucket / config_s3_key and the function {name} has no \
             CONFIG_S3_BUCKET / CONFIG_S3_KEY in its environment"
        )),
    }
}

async fn bucket_usage(ctx: &Context, bucket: &str) -> Result<BucketUsage, CollectorError> {
    let mut u = BucketUsage {
        bucket: bucket.to_string(),
        objects: 0,
        bytes: 0,
        complete: false,
    };
    let mut token: Option<String> = None;
    for _ in 0..MAX_LIST_PAGES {
        let out = ctx
            .aws
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| err(ctx, &format!("s3:ListObjectsV2 {bucket}"), &e))?;
        for obj in out.contents() {
            u.objects += 1;
            u.bytes += obj.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0);
        }
        token = out.next_continuation_token().map(str::to_string);
        if token.is_none() || out.is_truncated() != Some(true) {
            u.complete = true;
            break;
        }
    }
    Ok(u)
}

async fn rejections(
    ctx: &Context,
    group: &str,
    w: Window,
) -> Result<SizeRejections, CollectorError> {
    let end = SystemTime::now();
    let start = end - Duration::from_secs(u64::from(w.minutes()) * 60);
    let ms = crate::collectors::logs::ms;
    let mut lines: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    for page in 0..MAX_LOG_PAGES {
        let out = ctx
            .aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(ms(start))
            .end_time(ms(end))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| err(ctx, &format!("logs:FilterLogEvents {group}"), &e));
        let out = match out {
            Ok(o) => o,
            Err(e) if e.kind == ErrorKind::NotFound && page == 0 => {
                return Ok(SizeRejections::not_recorded(&format!(
                    "the access log group {group} does not exist"
                )));
            }
            Err(e) => return Err(e),
        };
        lines.extend(
            out.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(SizeRejections::from_lines(
        group,
        w.label(),
        lines.iter().map(String::as_str),
    ))
}
