//! The frontend collector (issue 24 item 4): `GET /` on the site URL, then every same-site
//! asset `index.html` references, as a browser would load them (up to six at a time, a
//! browser's connections to one host). Only the status and the headers of each asset are
//! read: its body is dropped unread. The judgement is `domain::frontend`.

use std::time::Instant;

use futures::StreamExt as _;

use crate::collectors::http::http_err;
use crate::context::Context;
use crate::domain::frontend::{AssetObs, FrontendData, PageObs, judge, referenced_assets};
use crate::model::CollectorError;

/// A browser's connections to one host.
const AT_ONCE: usize = 6;

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub async fn frontend(ctx: &Context) -> Result<FrontendData, CollectorError> {
    let site = ctx.outputs.site_url.trim_end_matches('/').to_string();
    let url = format!("{site}/");
    let t0 = Instant::now();
    let resp = ctx
        .http
        .get(&url)
        .header(reqwest::header::ACCEPT, "text/html")
        .send()
        .await
        .map_err(|e| http_err(&format!("GET {url}"), &e))?;
    let status = resp.status().as_u16();
    let content_type = header(&resp, reqwest::header::CONTENT_TYPE);
    let cache_control = header(&resp, reqwest::header::CACHE_CONTROL);
    let body = resp
        .text()
        .await
        .map_err(|e| http_err(&format!("reading {url}"), &e))?;
    let page = PageObs {
        url,
        status,
        content_type,
        cache_control,
        body,
        latency_ms: t0.elapsed().as_secs_f64() * 1000.0,
    };
    let paths = if status == 200 {
        referenced_assets(&page.body)
    } else {
        vec![]
    };
    let assets: Vec<AssetObs> = futures::stream::iter(paths)
        .map(|path| {
            let u = format!("{site}{path}");
            let http = ctx.http.clone();
            async move {
                match http.get(&u).send().await {
                    Ok(r) => AssetObs {
                        path,
                        status: Some(r.status().as_u16()),
                        content_type: header(&r, reqwest::header::CONTENT_TYPE),
                        error: None,
                    },
                    Err(e) => AssetObs {
                        path,
                        status: None,
                        content_type: None,
                        error: Some(http_err("GET", &e).message),
                    },
                }
            }
        })
        .buffered(AT_ONCE)
        .collect()
        .await;
    Ok(judge(&page, assets))
}
