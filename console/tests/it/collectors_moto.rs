//! The collectors against a real moto server, seeded through the SDK.

use std::time::Duration;

use crate::common::{TOKEN, moto, seeded_ctx};
use opsconsole::collectors::{self, aws as c, http};
use opsconsole::context::Context;
use opsconsole::domain::findings::{ProbeResults, Thresholds, findings};
use opsconsole::domain::window::Window;
use opsconsole::model::{AlarmState, DataEvent, ErrorKind, Source};
use opsconsole_testsupport::seed::SeedSpec;
use opsconsole_testsupport::sse::{ShimStandIn, SseMode};

const REGION: &str = "eu-west-1";
/// A site URL nothing listens on (health and SSE are not under test there).
const NO_SITE: &str = "http://127.0.0.1:9";

/// A healthy deployment named `prefix` in `REGION`, its site at `NO_SITE`.
fn spec(prefix: &str) -> SeedSpec {
    SeedSpec::healthy(prefix, REGION, NO_SITE)
}

/// A context on a freshly seeded healthy deployment `prefix`, default settings.
async fn healthy_ctx(prefix: &str) -> Context {
    seeded_ctx(&spec(prefix), |_| {}).await
}

fn thresholds() -> Thresholds {
    Thresholds {
        cold_start_p95_ms: 5000.0,
    }
}

/// Puts one datapoint per `(metric, value, minutes ago)` into `namespace`, each with the one
/// dimension `dimension` = `value`.
async fn put_metrics(
    ctx: &Context,
    namespace: &str,
    (dimension, value): (&str, &str),
    data: &[(&str, f64, u64)],
) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let now = std::time::SystemTime::now();
    let mut req = ctx.aws.cloudwatch.put_metric_data().namespace(namespace);
    for (name, v, mins_ago) in data {
        req = req.metric_data(
            MetricDatum::builder()
                .metric_name(*name)
                .dimensions(Dimension::builder().name(dimension).value(value).build())
                .value(*v)
                .timestamp(aws_smithy_types::DateTime::from(
                    now - Duration::from_secs(mins_ago * 60),
                ))
                .build(),
        );
    }
    req.send().await.expect("put metric data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_comes_from_sts() {
    let ctx = healthy_ctx("ident").await;
    let id = c::identity(&ctx).await.expect("identity");
    assert_eq!(id.account, opsconsole_testsupport::moto::MOTO_ACCOUNT);
    assert_eq!(id.region, REGION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_report_state_missing_and_live_in_their_region() {
    let mut spec = spec("alrm");
    spec.firing = vec!["lambda-errors".into()];
    spec.missing = vec!["redis-cpu".into()];
    let ctx = seeded_ctx(&spec, |_| {}).await;
    let a = c::alarms(&ctx, Window::H3).await.expect("alarms");
    assert_eq!(a.alarms.len(), 10);
    let by = |suffix: &str| {
        a.alarms
            .iter()
            .find(|x| x.name == format!("alrm-{suffix}"))
            .unwrap_or_else(|| panic!("{suffix} not listed"))
    };
    assert_eq!(by("lambda-errors").state, AlarmState::Alarm);
    assert_eq!(by("lambda-errors").reason.as_deref(), Some("seeded"));
    assert_eq!(by("redis-cpu").state, AlarmState::Missing);
    // Created in us-east-1 only: found there, so the per-region client was used.
    let cf = by("cloudfront-5xx-rate");
    assert_eq!(cf.region, "us-east-1");
    assert_eq!(cf.state, AlarmState::Ok);
    assert_eq!(cf.threshold, Some(5.0));
    assert_eq!(cf.metric_name.as_deref(), Some("Errors"));
    // Output order is the outputs' order.
    assert_eq!(a.alarms[0].name, "alrm-lambda-errors");
    let codes: Vec<String> = findings(
        &ProbeResults {
            alarms: Some(Ok(a)),
            ..Default::default()
        },
        &thresholds(),
    )
    .into_iter()
    .map(|f| f.code)
    .collect();
    assert_eq!(codes, ["alarm_firing", "alarm_missing"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_alarms_than_one_describe_call_takes() {
    let mut spec = spec("many");
    spec.extra_alarms = 140; // 150 names: two DescribeAlarms name chunks in eu-west-1
    let ctx = seeded_ctx(&spec, |_| {}).await;
    let a = c::alarms(&ctx, Window::H3).await.expect("alarms");
    assert_eq!(a.alarms.len(), 150);
    let missing: Vec<&str> = a
        .alarms
        .iter()
        .filter(|x| x.state == AlarmState::Missing)
        .map(|x| x.name.as_str())
        .collect();
    assert!(missing.is_empty(), "reported missing: {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_cold_starts_over_many_log_pages() {
    let mut spec = spec("lamb");
    spec.cold_inits_ms = (1..=40).map(|i| f64::from(i) * 100.0).collect(); // 100..4000
    spec.warm = 1200;
    spec.noise = 300;
    spec.emf_totals_ms = vec![1000.0, 2000.0];
    let ctx = seeded_ctx(&spec, |s| s.log_page_size = 250).await;
    let l = c::lambda(&ctx, Window::H1).await.expect("lambda");
    assert_eq!(l.function_name, "lamb-api");
    assert_eq!(l.state.as_deref(), Some("Active"));
    assert_eq!(l.memory_mb, Some(1024));
    assert_eq!(l.timeout_s, Some(30));
    // 1542 events over 7 pages of 250: every REPORT line counted.
    assert_eq!(l.cold_starts.invocations, 1240);
    assert_eq!(l.cold_starts.cold, 40);
    assert_eq!(l.cold_starts.init_p50_ms, Some(2000.0));
    assert_eq!(l.cold_starts.init_p95_ms, Some(3800.0));
    assert_eq!(l.cold_starts.init_max_ms, Some(4000.0));
    let phases = l.shim_phases.expect("shim phases");
    assert_eq!(phases.samples, 2);
    assert_eq!(phases.total_ms, Some(1500.0));
    // Only the newest 50 lines are kept, and that is said.
    assert_eq!(l.reports.len(), 50);
    assert!(
        l.truncated
            .unwrap_or_default()
            .contains("newest 50 of 1240")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_scan_limit_is_reported_not_silent() {
    let mut spec = spec("lcap");
    spec.warm = 600;
    let ctx = seeded_ctx(&spec, |s| {
        s.log_page_size = 100;
        s.max_log_events = 300;
    })
    .await;
    let l = c::lambda(&ctx, Window::H1).await.expect("lambda");
    assert_eq!(l.cold_starts.invocations, 300, "stops at the bound");
    assert!(
        l.truncated
            .unwrap_or_default()
            .contains("log scan stopped after 300 events")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_group_and_shim_ping() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("stand-in");
    let ctx = seeded_ctx(&SeedSpec::healthy("redi", REGION, &shim.url()), |_| {}).await;
    let r = c::redis(&ctx, Window::H1).await.expect("redis");
    assert_eq!(r.replication_group_id, "redi-redis");
    assert_eq!(r.status.as_deref(), Some("available"));
    let ping = r.ping.expect("ping with a token");
    assert!(ping.ok);
    assert_eq!(ping.rtt_ms, Some(0.4));
    shim.set_redis_ok(false);
    let r = c::redis(&ctx, Window::H1).await.expect("redis");
    let ping = r.ping.clone().expect("ping");
    assert!(!ping.ok);
    assert!(ping.error.unwrap_or_default().contains("ECONNREFUSED"));
    let f = findings(
        &ProbeResults {
            redis: Some(Ok(r)),
            ..Default::default()
        },
        &thresholds(),
    );
    assert_eq!(f[0].code, "redis_unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudfront_distribution_and_invalidations() {
    let ctx = healthy_ctx("clfr").await;
    let d = c::cloudfront(&ctx).await.expect("cloudfront");
    assert_eq!(d.status.as_deref(), Some("Deployed"));
    assert_eq!(d.enabled, Some(true));
    assert_eq!(d.invalidations.len(), 1);
    let inv = &d.invalidations[0];
    assert!(
        inv.status.eq_ignore_ascii_case("completed"),
        "{}",
        inv.status
    );
    assert_eq!(inv.paths, ["/*"]);
    assert!(d.truncated.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_resources_and_dead_endpoints_are_classified() {
    let mut ctx = healthy_ctx("gone").await;
    ctx.outputs.lambda_function_name = "no-such-function".into();
    ctx.outputs.redis_replication_group_id = "no-such-group".into();
    let e = c::lambda(&ctx, Window::H1).await.expect_err("no function");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("no-such-function"), "{e}");
    let e = c::redis(&ctx, Window::H1).await.expect_err("no group");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    // Health against a closed port: unreachable.
    let e = http::health(&ctx).await.expect_err("closed port");
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
    // Every AWS client pointed at a closed port: unreachable, no panic.
    let port = opsconsole_testsupport::free_port().expect("port");
    let mut opts = moto().aws_options(REGION);
    opts.endpoint_url = Some(format!("http://127.0.0.1:{port}"));
    ctx.aws = opsconsole::aws::AwsClients::load(&opts).await;
    let e = c::identity(&ctx).await.expect_err("endpoint down");
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_collectors_report_every_source_and_refresh_on_demand() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("stand-in");
    let ctx = seeded_ctx(&SeedSpec::healthy("spwn", REGION, &shim.url()), |_| {}).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let handle = collectors::spawn(std::sync::Arc::new(ctx), tx);
    let mut seen = std::collections::BTreeSet::new();
    let mut live_events = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < Source::ALL.len() {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("all sources in time")
            .expect("open");
        match &ev {
            DataEvent::SseEvent(_) => live_events += 1,
            DataEvent::SseStarted { .. } => {}
            other => {
                assert!(
                    !matches!(
                        other,
                        DataEvent::Identity(Err(_))
                            | DataEvent::Alarms(Err(_))
                            | DataEvent::Lambda(Err(_))
                            | DataEvent::Redis(Err(_))
                            | DataEvent::CloudFront(Err(_))
                            | DataEvent::Health(Err(_))
                            | DataEvent::Sse(Err(_))
                    ),
                    "{other:?}"
                );
                seen.insert(other.source());
            }
        }
    }
    assert_eq!(live_events, 6, "the SSE probe streams its events live");
    // A refresh brings a new Health result well before its 15 s interval.
    handle.refresh(Source::Health);
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(DataEvent::Health(Ok(h))) = rx.recv().await {
                return h;
            }
        }
    })
    .await
    .expect("refreshed health");
    assert!(got.ok);
    drop(handle);
    // Tasks are gone: the channel closes (all senders dropped).
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while rx.recv().await.is_some() {}
    })
    .await;
    assert!(closed.is_ok(), "collector tasks still running after drop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_feed_the_sparklines_and_the_lambda_sums() {
    let ctx = healthy_ctx("metr").await;
    put_metrics(
        &ctx,
        "AWS/Lambda",
        ("FunctionName", "metr-api"),
        &[
            ("Errors", 1.0, 50),
            ("Errors", 2.0, 30),
            ("Errors", 3.0, 10),
            ("Invocations", 10.0, 40),
            ("Invocations", 20.0, 20),
        ],
    )
    .await;
    let a = c::alarms(&ctx, Window::H3).await.expect("alarms");
    let errors = a
        .alarms
        .iter()
        .find(|x| x.name == "metr-lambda-errors")
        .expect("alarm");
    assert_eq!(
        errors.series.iter().sum::<f64>(),
        6.0,
        "{:?}",
        errors.series
    );
    // The us-east-1 alarm watches the same metric name, but the data is in eu-west-1.
    let cf = a
        .alarms
        .iter()
        .find(|x| x.name == "metr-cloudfront-5xx-rate")
        .expect("alarm");
    assert_eq!(cf.series.iter().sum::<f64>(), 0.0, "{:?}", cf.series);
    let l = c::lambda(&ctx, Window::H1).await.expect("lambda");
    assert_eq!(l.errors, Some(6.0));
    assert_eq!(l.invocations, Some(30.0));
    assert_eq!(l.throttles, None, "no data is not zero");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_metrics_come_from_the_primary_node() {
    let ctx = healthy_ctx("redm").await;
    let before = c::redis(&ctx, Window::H1).await.expect("redis");
    let primary = before
        .nodes
        .iter()
        .find(|n| n.role.as_deref() == Some("primary"))
        .expect("a primary node")
        .id
        .clone();
    assert!(before.endpoint.is_some());
    assert_eq!(before.cpu_percent, None, "no data yet");
    put_metrics(
        &ctx,
        "AWS/ElastiCache",
        ("CacheClusterId", &primary),
        &[
            ("EngineCPUUtilization", 20.0, 40),
            ("EngineCPUUtilization", 40.0, 20),
            ("CacheHits", 90.0, 30),
            ("CacheMisses", 10.0, 30),
            ("CurrConnections", 7.0, 10),
        ],
    )
    .await;
    let r = c::redis(&ctx, Window::H1).await.expect("redis");
    assert_eq!(r.cpu_percent, Some(30.0));
    assert_eq!(r.hit_rate, Some(0.9));
    assert_eq!(r.connections, Some(7.0));
    assert_eq!(r.evictions, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_without_a_log_group_has_no_cold_starts_and_says_why() {
    let ctx = healthy_ctx("nolog").await;
    ctx.aws
        .logs
        .delete_log_group()
        .log_group_name("/aws/lambda/nolog-api")
        .send()
        .await
        .expect("delete log group");
    let l = c::lambda(&ctx, Window::H1)
        .await
        .expect("the function itself is fine");
    assert_eq!(l.cold_starts.invocations, 0);
    assert!(l.reports.is_empty());
    assert!(l.truncated.unwrap_or_default().contains("does not exist"));
}

/// moto does not implement DescribeAlarmHistory: the adapter must come back (bounded by the
/// context's timeout) with a classified error naming the call, never panic, hang or pretend
/// the history is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarm_history_on_moto_is_a_classified_error() {
    let ctx = healthy_ctx("ahist").await;
    let alarm = ctx.outputs.alarms[0].clone();
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        c::alarm_history(&ctx, &alarm.name, &alarm.region),
    )
    .await
    .expect("alarm_history returns within its own timeout");
    let e = r.expect_err("moto has no DescribeAlarmHistory");
    assert!(e.message.contains("cloudwatch:DescribeAlarmHistory"), "{e}");
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(
        e.message.contains("not implemented") || e.message.contains("not a CloudWatch answer"),
        "the message says why: {e}"
    );
    assert!(!e.message.contains("parsing XML"), "{e}");
    assert!(e.fix.is_some(), "{e}");
    eprintln!("moto DescribeAlarmHistory -> {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_when_the_shim_status_does_not_answer_is_not_a_redis_finding() {
    // A token, but nothing listens at the site: the status endpoint is not reached.
    let ctx = healthy_ctx("rnst").await;
    let r = c::redis(&ctx, Window::H1).await.expect("redis");
    assert_eq!(r.ping, None, "no PING result without the shim's answer");
    let why = r.shim_status_error.clone().expect("the reason is kept");
    assert!(why.contains("could not be reached"), "{why}");
    let codes: Vec<String> = findings(
        &ProbeResults {
            redis: Some(Ok(r)),
            ..Default::default()
        },
        &thresholds(),
    )
    .into_iter()
    .map(|f| f.code)
    .collect();
    assert_eq!(codes, ["shim_status_unavailable"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follower_reads_the_window_then_polls_because_moto_has_no_live_tail() {
    use opsconsole::collectors::logs::{LogsEvent, TailMode};
    use opsconsole::domain::loglines::Origin;
    let ctx = std::sync::Arc::new(healthy_ctx("lgfw").await);
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let (_wtx, wrx) = tokio::sync::watch::channel(Window::H24);
    let task = tokio::spawn(collectors::logs::run(ctx.clone(), tx, wrx));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    macro_rules! next {
        () => {
            tokio::time::timeout_at(deadline, rx.recv())
                .await
                .expect("in time")
                .expect("open")
        };
    }
    let LogsEvent::Reset { lines, group, .. } = next!() else {
        panic!("the first event is the window's lines");
    };
    assert_eq!(group, "/aws/lambda/lgfw-api");
    assert!(
        lines
            .iter()
            .any(|l| l.is_report() && l.request_id.is_some()),
        "seeded REPORT lines are there"
    );
    let mode = next!();
    let LogsEvent::Mode(TailMode::Polling { why }) = mode else {
        panic!("moto offers no StartLiveTail: polling expected, got {mode:?}");
    };
    assert!(why.contains("live tail not offered"), "{why}");
    // A new shim line arrives through the poller, parsed.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    ctx.aws
        .logs
        .put_log_events()
        .log_group_name("/aws/lambda/lgfw-api")
        .log_stream_name("2026/01/01/[$LATEST]seed")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now_ms)
                .message(r#"{"level":"ERROR","message":"proxy error","request_id":"new-1","target":"shim::app"}"#)
                .build()
                .expect("event"),
        )
        .send()
        .await
        .expect("put");
    loop {
        match next!() {
            LogsEvent::Append(v) => {
                let l = v
                    .iter()
                    .find(|l| l.request_id.as_deref() == Some("new-1"))
                    .expect("the new line");
                assert_eq!(l.origin, Origin::Shim);
                assert!(l.text.starts_with("proxy error"));
                break;
            }
            LogsEvent::Error(e) => panic!("poll failed: {e}"),
            _ => {}
        }
    }
    task.abort();
}

/// The scheduled canary's history (issue 14 item 3): its two alarms (the `canary_alarms`
/// output) listed after the ten, and its `LibreChat/Probe` metrics read back per run for the
/// `Environment` its alarm names (not the console's environment name, and not another
/// environment's runs); without `canary_alarms` it is "not deployed", data, not an error, and
/// `probe --json` skips the check with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_history_and_alarms_come_from_its_metrics() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    use opsconsole::outputs::AlarmRef;
    use opsconsole_wire::canary as wire;

    let mut ctx = healthy_ctx("cnry").await;
    let none = c::canary(&ctx, Window::H1)
        .await
        .expect("not deployed is data");
    assert!(!none.deployed, "{none:?}");
    let doc = opsconsole::probe::probe_document(
        std::sync::Arc::new(healthy_ctx("cnry0").await),
        &[Source::Canary],
        Window::H1,
    )
    .await;
    assert_eq!(doc["checks"]["canary"]["status"], "skipped", "{doc:#}");

    for (suffix, metric) in [
        ("probe-unhealthy", wire::HEALTHY),
        ("sse-buffered", wire::SSE_VERDICT),
    ] {
        ctx.aws
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(format!("cnry-{suffix}"))
            .namespace(wire::NAMESPACE)
            .metric_name(metric)
            .dimensions(
                Dimension::builder()
                    .name(wire::DIMENSION)
                    .value("staging")
                    .build(),
            )
            .statistic(Statistic::Minimum)
            .period(300)
            .evaluation_periods(2)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::LessThanThreshold)
            .send()
            .await
            .expect("put canary alarm");
        ctx.outputs.canary_alarms.push(AlarmRef {
            name: format!("cnry-{suffix}"),
            region: REGION.into(),
        });
    }
    // Twelve runs 5 minutes apart, newest first: three buffered, one failed.
    let verdicts = [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let mut data = Vec::new();
    for (i, v) in verdicts.iter().enumerate() {
        let ago = 2 + 5 * i as u64;
        data.push((wire::HEALTHY, if *v == 0.0 { 1.0 } else { 0.0 }, ago));
        data.push((wire::SSE_VERDICT, *v, ago));
    }
    put_metrics(&ctx, wire::NAMESPACE, (wire::DIMENSION, "staging"), &data).await;
    // Another environment's canary in the same namespace does not count.
    put_metrics(
        &ctx,
        wire::NAMESPACE,
        (wire::DIMENSION, "prod"),
        &[(wire::HEALTHY, 0.0, 3), (wire::SSE_VERDICT, 1.0, 3)],
    )
    .await;

    let d = c::canary(&ctx, Window::H1).await.expect("history");
    assert!(d.deployed);
    assert_eq!(d.environment.as_deref(), Some("staging"));
    let h = &d.history;
    assert_eq!(
        (h.runs, h.streaming, h.buffered, h.failed, h.unhealthy),
        (12, 8, 3, 1, 4),
        "{d:?}"
    );
    assert!(
        d.summary
            .starts_with("SSE buffered in 3 of the last 12 runs, last at "),
        "{}",
        d.summary
    );

    let a = c::alarms(&ctx, Window::H1).await.expect("alarms");
    let names: Vec<&str> = a.alarms.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert_eq!(names[10..], ["cnry-probe-unhealthy", "cnry-sse-buffered"]);
    assert!(
        a.alarms[10..]
            .iter()
            .all(|x| x.state != AlarmState::Missing),
        "{:?}",
        a.alarms[10..].to_vec()
    );

    let doc =
        opsconsole::probe::probe_document(std::sync::Arc::new(ctx), &[Source::Canary], Window::H1)
            .await;
    let check = &doc["checks"]["canary"];
    assert_eq!(check["status"], "ok", "{doc:#}");
    assert_eq!(check["data"]["history"]["buffered"], 3, "{doc:#}");
    assert!(
        check["summary"]
            .as_str()
            .is_some_and(|s| s.contains("3 of the last 12 runs")),
        "{doc:#}"
    );
}
