//! Fixtures shared by the TUI tests: an App at a fixed time, filled with realistic data.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsconsole::model::*;
use opsconsole::tui::app::{self, Action, App, Effect, OutputRow};
use time::OffsetDateTime;
use time::macros::datetime;

pub const NOW: OffsetDateTime = datetime!(2026-11-21 03:00:00 UTC);

/// Presses one key (no modifiers) and returns the effects update() asked for.
pub fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app::update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// Types `s` key by key.
pub fn typed(app: &mut App, s: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in s.chars() {
        out.extend(key(app, KeyCode::Char(c)));
    }
    out
}

pub fn at(secs_ago: i64) -> OffsetDateTime {
    NOW - time::Duration::seconds(secs_ago)
}

pub fn identity() -> Identity {
    Identity {
        account: "123456789012".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/oncall/alice".into(),
        user_id: "AROAEXAMPLE:alice".into(),
        region: "eu-west-1".into(),
        profile: Some("dev".into()),
    }
}

pub use opsconsole::model::ALARM_SUFFIXES as SUFFIXES;

pub fn alarms() -> AlarmsData {
    let alarms = SUFFIXES
        .iter()
        .enumerate()
        .map(|(i, s)| AlarmInfo {
            name: format!("librechat-dev-{s}"),
            region: if s.starts_with("cloudfront") {
                "us-east-1"
            } else {
                "eu-west-1"
            }
            .into(),
            state: match i {
                0 => AlarmState::Alarm,
                7 => AlarmState::Missing,
                9 => AlarmState::InsufficientData,
                _ => AlarmState::Ok,
            },
            reason: match i {
                0 => Some("Threshold Crossed: 1 datapoint [7.0] >= 5.0".into()),
                7 => None,
                _ => Some("Threshold not crossed".into()),
            },
            namespace: Some("AWS/Lambda".into()),
            metric_name: Some("Errors".into()),
            statistic: Some("Sum".into()),
            comparison: Some("GreaterThanOrEqualToThreshold".into()),
            threshold: Some(5.0),
            state_updated: Some(at(600)),
            series: (0..12).map(|k| ((k * (i + 1)) % 7) as f64).collect(),
        })
        .collect();
    AlarmsData {
        alarms,
        window_minutes: 60,
        period_seconds: 300,
    }
}

pub fn report(id: &str, dur: f64, init: Option<f64>) -> ReportLine {
    ReportLine {
        request_id: id.into(),
        timestamp: Some(at(120)),
        duration_ms: dur,
        billed_duration_ms: dur.ceil(),
        memory_size_mb: 2048,
        max_memory_used_mb: 612,
        init_duration_ms: init,
    }
}

pub fn lambda() -> LambdaData {
    LambdaData {
        function_name: "librechat-dev-api".into(),
        state: Some("Active".into()),
        last_update_status: Some("Successful".into()),
        image_uri: Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat:v1".into()),
        memory_mb: Some(2048),
        timeout_s: Some(900),
        invocations: Some(420.0),
        errors: Some(3.0),
        throttles: Some(0.0),
        max_concurrency: Some(4.0),
        window_minutes: 60,
        cold_starts: ColdStartStats {
            invocations: 6,
            cold: 2,
            cold_ratio: 2.0 / 6.0,
            init_p50_ms: Some(2100.0),
            init_p95_ms: Some(3400.0),
            init_max_ms: Some(3400.0),
        },
        shim_phases: Some(ShimPhases {
            samples: 2,
            config_ms: Some(12.5),
            secrets_ms: Some(40.0),
            ready_ms: Some(2050.0),
            total_ms: Some(2110.0),
        }),
        reports: vec![
            report("req-1", 3120.5, Some(2100.0)),
            report("req-2", 85.2, None),
            report("req-3", 40.0, None),
            report("req-4", 2999.0, Some(3400.0)),
            report("req-5", 61.0, None),
            report("req-6", 55.0, None),
        ],
        truncated: None,
    }
}

pub fn redis() -> RedisData {
    RedisData {
        replication_group_id: "librechat-dev".into(),
        status: Some("available".into()),
        engine: Some("redis".into()),
        engine_version: Some("7.1".into()),
        endpoint: Some("master.librechat-dev.abc.euw1.cache.amazonaws.com".into()),
        nodes: vec![
            RedisNode {
                id: "librechat-dev-001".into(),
                role: Some("primary".into()),
                status: Some("available".into()),
                az: Some("eu-west-1a".into()),
            },
            RedisNode {
                id: "librechat-dev-002".into(),
                role: Some("replica".into()),
                status: Some("available".into()),
                az: Some("eu-west-1b".into()),
            },
        ],
        cpu_percent: Some(12.0),
        memory_percent: Some(71.0),
        connections: Some(18.0),
        evictions: Some(0.0),
        hit_rate: Some(0.93),
        ping: Some(RedisPing {
            ok: true,
            rtt_ms: Some(0.8),
            error: None,
        }),
        shim_status_error: None,
        database: Some(opsconsole_wire::status::DatabaseCheck {
            ok: true,
            address: Some("db.internal:27017".into()),
            rtt_ms: Some(1.4),
            ..Default::default()
        }),
    }
}

pub fn cloudfront() -> CloudFrontData {
    CloudFrontData {
        distribution_id: "E2EXAMPLE".into(),
        domain_name: Some("d111.cloudfront.net".into()),
        status: Some("Deployed".into()),
        enabled: Some(true),
        aliases: vec!["chat.example.org".into()],
        invalidations: vec![Invalidation {
            id: "I3EXAMPLE".into(),
            status: "Completed".into(),
            created: Some(at(3600)),
            paths: vec!["/*".into()],
        }],
        truncated: None,
    }
}

pub fn health() -> HealthData {
    HealthData {
        url: "https://chat.example.org/api/health".into(),
        status: 200,
        latency_ms: 42.0,
        ok: true,
        shim: None,
    }
}

pub fn sse() -> SseProbeData {
    let events = (1..=5)
        .map(|i| SseEventObs {
            seq: i,
            arrived_ms: 300.0 + 200.0 * i as f64,
            sent_at_ms: Some(1_763_769_600_000.0 + 200.0 * i as f64),
            gap_ms: if i == 1 { None } else { Some(199.0 + i as f64) },
            sent_gap_ms: if i == 1 { None } else { Some(200.0) },
        })
        .collect();
    SseProbeData {
        url: "https://chat.example.org/api/__shim/sse?events=5&interval_ms=200".into(),
        connect_ms: Some(35.0),
        ttfb_ms: Some(310.0),
        first_event_ms: Some(500.0),
        events,
        expected_events: Some(5),
        verdict: Verdict::Streaming,
        reason: "5 events spaced as sent".into(),
        mode: Some("shim".into()),
        stall: None,
    }
}

/// The scheduled canary over the last 24 h: 288 runs, three of them buffered.
pub fn canary() -> CanaryData {
    CanaryData {
        deployed: true,
        environment: Some("dev".into()),
        region: Some("eu-west-1".into()),
        window_minutes: 1440,
        period_seconds: 60,
        history: CanaryHistory {
            runs: 288,
            unhealthy: 3,
            streaming: 285,
            buffered: 3,
            failed: 0,
            last_run: Some(at(300)),
            last_unhealthy: Some(at(3000)),
            last_buffered: Some(at(3000)),
            last_failed: None,
        },
        summary: "SSE buffered in 3 of the last 288 runs, last at 02:10 UTC; unhealthy in 3 of the last 288 runs, last at 02:10 UTC".into(),
    }
}

pub fn outputs() -> Vec<OutputRow> {
    [
        ("cloudfront_distribution_id", "E2EXAMPLE"),
        ("lambda_function_name", "librechat-dev-api"),
        (
            "redis_endpoint",
            "master.librechat-dev.abc.euw1.cache.amazonaws.com",
        ),
        ("region", "eu-west-1"),
        ("site_url", "https://chat.example.org"),
        ("token", "(sensitive)"),
    ]
    .iter()
    .map(|(n, v)| OutputRow {
        name: n.to_string(),
        value: v.to_string(),
    })
    .collect()
}

pub fn error(kind: ErrorKind, msg: &str, fix: Option<&str>) -> CollectorError {
    CollectorError {
        kind,
        message: msg.into(),
        fix: fix.map(str::to_string),
    }
}

/// The site's index.html and its assets; `missing`: these answered 404.
pub fn frontend(missing: &[&str]) -> opsconsole::domain::frontend::FrontendData {
    use opsconsole::domain::frontend::{AssetObs, PageObs, judge};
    let mut assets: Vec<AssetObs> = (0..27)
        .map(|i| AssetObs {
            path: format!("/assets/chunk{i}.js"),
            status: Some(200),
            content_type: Some("application/javascript".into()),
            error: None,
        })
        .collect();
    for m in missing {
        assets.push(AssetObs {
            path: (*m).into(),
            status: Some(404),
            content_type: Some("application/xml".into()),
            error: None,
        });
    }
    judge(
        &PageObs {
            url: "https://chat.example.org/".into(),
            status: 200,
            content_type: Some("text/html".into()),
            cache_control: Some("no-cache".into()),
            body: String::new(),
            latency_ms: 35.0,
        },
        assets,
    )
}

/// The month's cost of the module defaults in eu-west-1 at the default load, and a day's usage
/// (2,400 requests of 350 ms) projected, priced from the built-in table: pure, no AWS.
pub fn cost_document() -> opsconsole::domain::cost_document::CostDocument {
    use opsconsole::domain::cost::estimate;
    use opsconsole::domain::cost_document::{Actual, CostDocument};
    use opsconsole::domain::cost_inputs::{self as inputs, Usage};
    use opsconsole::domain::prices::PriceTable;
    let table = PriceTable::builtin().expect("price table");
    let dep = inputs::module_defaults("eu-west-1");
    let stated = inputs::default_load();
    let usage = Usage {
        window_minutes: 1440,
        invocations: Some(2400.0),
        duration_avg_ms: Some(350.0),
        apigw_count: Some(2400.0),
        cloudfront_requests: Some(3000.0),
        cloudfront_bytes: Some(3000.0 * 20_000.0),
        log_bytes: Some(2400.0 * 1500.0),
    };
    let (load, notes) = inputs::measured_load(&stated, &usage);
    CostDocument {
        env: "dev".into(),
        generated_at: "2026-11-21T02:59:00Z".into(),
        prices_as_of: table.as_of.clone(),
        price_sources: table.sources.clone(),
        estimate: estimate(&dep, &stated, &table).expect("estimate"),
        actual: Some(Actual {
            window: "24h".into(),
            usage,
            estimate: estimate(&dep, &load, &table).expect("actual"),
            load,
            notes,
        }),
        what_ifs: inputs::what_ifs(&dep, &stated, &table),
        deployment: dep,
        stated_load: stated,
        errors: vec![],
        price_refresh: None,
        billed: None,
    }
}

pub fn loading_app() -> App {
    let mut app = App::new("dev", false, NOW);
    app.outputs = Ok(outputs());
    app.region = Some("eu-west-1".into());
    app.envs = vec!["dev".into(), "prod".into()];
    app
}

/// The files check's data: `yaml` judged, the files bucket with 2 objects.
pub fn files(yaml: &str) -> opsconsole::domain::files::FilesData {
    use opsconsole::domain::files::{BucketUsage, FilesData, SizeRejections, judge};
    FilesData {
        config_at: Some("s3://cfg/librechat.yaml".into()),
        config: judge(yaml),
        bucket: Some(Ok(BucketUsage {
            bucket: "librechat-lambda-files-dev".into(),
            objects: 2,
            bytes: 3548,
            complete: true,
        })),
        rejections: SizeRejections::not_recorded("no access log"),
    }
}

pub fn ready_app() -> App {
    let mut app = loading_app();
    app.identity.apply(Ok(identity()), at(5));
    app.alarms.apply(Ok(alarms()), at(12));
    app.lambda.apply(Ok(lambda()), at(20));
    app.redis.apply(Ok(redis()), at(8));
    app.cloudfront.apply(Ok(cloudfront()), at(30));
    app.health.apply(Ok(health()), at(3));
    app.frontend.apply(Ok(frontend(&[])), at(40));
    app.files.apply(
        Ok(files(
            opsconsole_testsupport::seed::LIBRECHAT_YAML_FITS_LAMBDA,
        )),
        at(50),
    );
    app.sse.apply(Ok(sse()), at(45));
    app.cost.apply(Ok(cost_document()), at(60));
    app.last_refresh = Some(at(3));
    app.push_activity(
        "invalidate CloudFront /* done after 12s: invalidation I3EXAMPLE of /* completed",
    );
    app
}

/// Every source failed after having had data once (stale data kept), except where noted.
pub fn error_app(with_stale: bool) -> App {
    let mut app = if with_stale {
        ready_app()
    } else {
        loading_app()
    };
    app.identity.apply(
        err(
            ErrorKind::ExpiredCredentials,
            "the SSO session has expired",
            Some("run `task login:dev`"),
        ),
        at(2),
    );
    app.alarms.apply(
        err(
            ErrorKind::Throttled,
            "DescribeAlarms: Rate exceeded",
            Some("wait; the next refresh backs off"),
        ),
        at(2),
    );
    app.lambda.apply(
        err(
            ErrorKind::NotFound,
            "function librechat-dev-api not found",
            Some("check lambda_function_name in the outputs"),
        ),
        at(2),
    );
    app.redis.apply(
        err(
            ErrorKind::AccessDenied,
            "not authorized to DescribeReplicationGroups",
            Some("use a role with elasticache:Describe*"),
        ),
        at(2),
    );
    app.cloudfront.apply(
        err(
            ErrorKind::Unreachable,
            "connection refused",
            Some("check --endpoint-url / network"),
        ),
        at(2),
    );
    app.health
        .apply(err(ErrorKind::Unreachable, "502 Bad Gateway", None), at(2));
    app.frontend.apply(
        err(
            ErrorKind::Unreachable,
            "GET https://chat.example.org/: connection refused",
            None,
        ),
        at(2),
    );
    app.files.apply(
        err(ErrorKind::Timeout, "files did not finish within 10 s", None),
        at(2),
    );
    app.sse.apply(
        err(
            ErrorKind::Timeout,
            "no event within 10s",
            Some("check the shim diagnostics token"),
        ),
        at(2),
    );
    app.cost.apply(
        err(
            ErrorKind::Timeout,
            "cost did not finish within 10 s",
            Some("raise --timeout, or check the network / endpoint"),
        ),
        at(2),
    );
    app
}

fn err<T>(kind: ErrorKind, msg: &str, fix: Option<&str>) -> Result<T, CollectorError> {
    Err(error(kind, msg, fix))
}

/// The history of `librechat-dev-lambda-errors` as DescribeAlarmHistory would give it.
pub fn alarm_history() -> AlarmHistory {
    let item = |secs_ago: i64, item_type: &str, summary: &str| AlarmHistoryItem {
        timestamp: Some(at(secs_ago)),
        item_type: item_type.into(),
        summary: summary.into(),
    };
    AlarmHistory {
        alarm: "librechat-dev-lambda-errors".into(),
        region: "eu-west-1".into(),
        items: vec![
            item(600, "StateUpdate", "Alarm updated from OK to ALARM"),
            item(4000, "StateUpdate", "Alarm updated from ALARM to OK"),
            item(4300, "StateUpdate", "Alarm updated from OK to ALARM"),
            item(
                90000,
                "ConfigurationUpdate",
                "Alarm \"librechat-dev-lambda-errors\" updated",
            ),
        ],
        truncated: true,
    }
}

/// The error moto gives for DescribeAlarmHistory (classified by the adapter).
pub fn alarm_history_error() -> CollectorError {
    CollectorError {
        kind: ErrorKind::ServiceUnavailable,
        message: "cloudwatch:DescribeAlarmHistory (eu-west-1): HTTP 500 with an HTML error page, \
                  not a CloudWatch answer (an endpoint without this call, such as moto)"
            .into(),
        fix: Some(
            "none here: alarm history needs real CloudWatch (local stand-ins such as moto lack it)"
                .into(),
        ),
    }
}
