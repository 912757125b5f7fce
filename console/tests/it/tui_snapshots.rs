//! insta snapshots (TestBackend) of every panel in its loading, ready and error states, of the
//! whole screen, and of the help, confirm, command-line and detail overlays.
//! Update after an intended change: `INSTA_UPDATE=always cargo test -p opsconsole --test it tui_snapshots::`
//! and review the diff of `console/tests/it/snapshots/`.

use crate::tui_support::*;
use crossterm::event::KeyCode;
use insta::assert_snapshot;
use opsconsole::tui::app::{self, Action, App, Panel};
use opsconsole::tui::render::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| render::render(f, app)).expect("draw");
    t.backend().to_string()
}

fn panel(app: &App, p: Panel) -> String {
    let mut t = Terminal::new(TestBackend::new(60, 13)).expect("test backend");
    t.draw(|f| render::render_panel(f, f.area(), app, p, Theme { color: false }))
        .expect("draw");
    t.backend().to_string()
}

fn name(p: Panel) -> &'static str {
    match p {
        Panel::Deployment => "deployment",
        Panel::Alarms => "alarms",
        Panel::Lambda => "lambda",
        Panel::Redis => "redis",
        Panel::Sse => "sse",
        Panel::Activity => "activity",
    }
}

#[test]
fn every_panel_loading() {
    let app = loading_app();
    for p in Panel::ALL {
        assert_snapshot!(format!("panel_{}_loading", name(p)), panel(&app, p));
    }
}

#[test]
fn every_panel_ready() {
    let app = ready_app();
    for p in Panel::ALL {
        assert_snapshot!(format!("panel_{}_ready", name(p)), panel(&app, p));
    }
}

/// An asset index.html references answers 404 (a partial upload, a stale index.html): the
/// Deployment panel's frontend line names it.
#[test]
fn deployment_panel_names_a_missing_asset() {
    let mut app = ready_app();
    app.frontend
        .apply(Ok(frontend(&["/assets/index.C1VeOx9R.js"])), at(40));
    let text = panel(&app, Panel::Deployment);
    assert!(
        text.contains("frontend: ✖ /assets/index.C1VeOx9R.js 404; 1 of 28 assets"),
        "{text}"
    );
    assert_snapshot!("panel_deployment_frontend_missing_asset", text);
}

/// The config object leaves files local and limits at 512 MB: the Deployment panel's files
/// line shows the bucket's count and size and the finding codes.
#[test]
fn deployment_panel_files_line() {
    let mut app = ready_app();
    let text = panel(&app, Panel::Deployment);
    assert!(
        text.contains("files: ✔ s3, ≤ 4 MB; 2 objects, 3.5 KB in librechat-lambda"),
        "{text}"
    );
    app.files.apply(Ok(files("version: 1\n")), at(50));
    let text = panel(&app, Panel::Deployment);
    assert!(
        text.contains("files: ✖ files_strategy_not_s3, file_size_limit_too_large"),
        "{text}"
    );
    assert_snapshot!("panel_deployment_files_not_s3", text);
}

/// The shim's database ping failed: the Redis panel's DB line names host, port and error.
#[test]
fn redis_panel_database_unreachable() {
    let mut app = ready_app();
    let mut d = redis();
    d.database = Some(opsconsole_wire::status::DatabaseCheck {
        ok: false,
        address: Some("10.0.3.7:27017".into()),
        error: Some("10.0.3.7:27017: connect: Connection refused (os error 111)".into()),
        evidence: Some("connect ECONNREFUSED 10.0.3.7:27017".into()),
        evidence_age_s: Some(2),
        ..Default::default()
    });
    app.redis.apply(Ok(d), at(8));
    let text = panel(&app, Panel::Redis);
    assert!(text.contains("DB ✖ 10.0.3.7:27017"), "{text}");
    assert_snapshot!("panel_redis_database_unreachable", text);
}

#[test]
fn every_panel_error_without_data() {
    let mut app = error_app(false);
    app.outputs = Err("outputs.json: No such file or directory".into());
    for p in Panel::ALL {
        assert_snapshot!(format!("panel_{}_error", name(p)), panel(&app, p));
    }
}

#[test]
fn every_panel_error_with_stale_data() {
    let app = error_app(true);
    for p in Panel::ALL {
        assert_snapshot!(format!("panel_{}_error_stale", name(p)), panel(&app, p));
    }
}

#[test]
fn no_panel_is_ever_blank() {
    // Loading, ready and error: every panel says something besides its border.
    for app in [
        loading_app(),
        ready_app(),
        error_app(false),
        error_app(true),
    ] {
        for p in Panel::ALL {
            let text = panel(&app, p);
            let inner: String = text
                .lines()
                .skip(2)
                .map(|l| l.trim_matches(|c| c == '"' || c == '│' || c == ' ' || c == '┃'))
                .collect();
            assert!(!inner.trim().is_empty(), "{p:?} is blank:\n{text}");
        }
    }
}

#[test]
fn screen_loading_80x24() {
    assert_snapshot!(screen(&loading_app(), 80, 24));
}

#[test]
fn screen_ready_120x40() {
    assert_snapshot!(screen(&ready_app(), 120, 40));
}

#[test]
fn screen_ready_read_only_80x24() {
    let mut app = ready_app();
    app.read_only = true;
    assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn screen_too_small() {
    assert_snapshot!(screen(&ready_app(), 79, 20));
}

#[test]
fn overlay_help() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('?'));
    assert_snapshot!(screen(&app, 100, 36));
}

#[test]
fn overlay_confirm_invalidation() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "invalidate /* /index.html");
    key(&mut app, KeyCode::Enter);
    assert_snapshot!(screen(&app, 100, 30));
}

#[test]
fn overlay_command_line_with_completion() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char(':'));
    key(&mut app, KeyCode::Char('e'));
    key(&mut app, KeyCode::Tab);
    assert_snapshot!(screen(&app, 100, 30));
}

#[test]
fn overlay_command_line_error() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "explode");
    key(&mut app, KeyCode::Enter);
    assert_snapshot!(screen(&app, 100, 30));
}

#[test]
fn overlay_detail_alarm() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    assert_snapshot!(screen(&app, 100, 30));
}

/// Enter on a REPORT line (the second newest, req-5) opens the logs view on its request.
#[test]
fn lambda_enter_opens_the_logs_of_the_request() {
    use opsconsole::collectors::logs::{LogsEvent, TailMode};
    use opsconsole::domain::loglines::parse_line;
    use opsconsole::domain::window::Window;
    let mut app = ready_app();
    let t0 = 1_764_540_000_000_i64;
    let lines = vec![
        parse_line(t0, "START RequestId: req-5 Version: $LATEST"),
        parse_line(
            t0 + 10,
            r#"{"level":"INFO","message":"proxy","request_id":"req-5","status":200,"target":"shim::app"}"#,
        ),
        parse_line(t0 + 20, "START RequestId: req-6 Version: $LATEST"),
        parse_line(
            t0 + 30,
            r#"{"level":"ERROR","message":"proxy error","request_id":"req-5","reason":"upstream timed out","target":"shim::app"}"#,
        ),
        parse_line(
            t0 + 40,
            r#"{"level":"INFO","stream":"stdout","line":"2026-11-30 22:00:00 error: Mongo connection lost","target":"librechat"}"#,
        ),
        parse_line(t0 + 50, "END RequestId: req-5"),
        parse_line(
            t0 + 60,
            "REPORT RequestId: req-5\tDuration: 61.0 ms\tBilled Duration: 62 ms\tMemory Size: 2048 MB\tMax Memory Used: 90 MB",
        ),
    ];
    app::update(
        &mut app,
        Action::Logs(LogsEvent::Reset {
            group: "/aws/lambda/librechat-dev-api".into(),
            window: Window::H1,
            lines,
            truncated: false,
        }),
    );
    app::update(
        &mut app,
        Action::Logs(LogsEvent::Mode(TailMode::Polling {
            why: "live tail not offered: StartLiveTail: HTTP 500".into(),
        })),
    );
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.logs.filter.request_id.as_deref(), Some("req-5"));
    assert_snapshot!(screen(&app, 100, 30));
}

#[test]
fn filter_narrows_alarms() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "redis");
    assert_snapshot!(panel(&app, Panel::Alarms));
}

#[test]
fn overlay_help_fits_80x24() {
    let mut app = ready_app();
    app.read_only = true;
    key(&mut app, KeyCode::Char('?'));
    let s = screen(&app, 80, 24);
    assert!(s.contains("READ-ONLY"), "{s}");
    assert!(
        s.contains(":env NAME"),
        "the last line of the help is visible:\n{s}"
    );
    assert_snapshot!(s);
}

fn colours_used(app: &App) -> usize {
    use ratatui::style::Color;
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    t.draw(|f| render::render(f, app)).expect("draw");
    t.backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
        .count()
}

#[test]
fn no_color_draws_without_any_colour() {
    let mut app = error_app(true);
    app.read_only = true;
    assert!(colours_used(&app) > 0, "colours are used by default");
    app.no_color = true;
    assert_eq!(colours_used(&app), 0, "NO_COLOR: no cell has a colour");
}

#[test]
fn panel_activity_while_an_action_runs() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "invalidate /*");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('y'));
    app::update(
        &mut app,
        Action::Job(opsconsole::actions::ActionEvent::Line(
            "invalidation I2EXAMPLE created: InProgress".into(),
        )),
    );
    app::update(
        &mut app,
        Action::Job(opsconsole::actions::ActionEvent::Progress(
            "invalidation I2EXAMPLE: InProgress (poll 3)".into(),
        )),
    );
    app.now = NOW + time::Duration::seconds(17);
    let text = panel(&app, Panel::Activity);
    assert!(text.contains("17s"), "elapsed time shown:\n{text}");
    assert!(text.contains("poll 3"), "progress shown:\n{text}");
    assert_snapshot!(text);
}

/// The alarm detail view once its history arrived (newest first, cut at the bound).
#[test]
fn overlay_detail_alarm_with_history() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    app::update(
        &mut app,
        Action::AlarmHistory {
            alarm: "librechat-dev-lambda-errors".into(),
            region: "eu-west-1".into(),
            result: Ok(alarm_history()),
        },
    );
    let s = screen(&app, 100, 30);
    assert!(s.contains("Alarm updated from OK to ALARM"), "{s}");
    assert_snapshot!(s);
}

/// The alarm detail view when the API has no history (moto): says so, never blank.
#[test]
fn overlay_detail_alarm_history_unavailable() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    app::update(
        &mut app,
        Action::AlarmHistory {
            alarm: "librechat-dev-lambda-errors".into(),
            region: "eu-west-1".into(),
            result: Err(alarm_history_error()),
        },
    );
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("history unavailable: cloudwatch:DescribeAlarmHistory"),
        "{s}"
    );
    assert_snapshot!(s);
}

fn charts_app() -> App {
    use opsconsole::collectors::series::{ChartsData, Series};
    use opsconsole::domain::window::Window;
    let start = 1_764_540_000.0_f64;
    let pts = |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
        (0..60)
            .map(|i| (start + f64::from(i) * 60.0, f(f64::from(i))))
            .collect()
    };
    let s = |title: &'static str, unit: &'static str, points: Vec<(f64, f64)>| Series {
        title,
        unit,
        points,
        error: None,
    };
    let data = ChartsData {
        window: Window::H1,
        period_s: 60,
        start,
        end: start + 3600.0,
        series: vec![
            s("Lambda invocations", "count", pts(&|i| 10.0 + (i % 7.0))),
            s(
                "Lambda errors",
                "count",
                pts(&|i| if i > 40.0 { 3.0 } else { 0.0 }),
            ),
            s("Lambda throttles", "count", pts(&|_| 0.0)),
            s("Lambda duration p95", "ms", vec![]),
            s(
                "Cold starts",
                "count",
                pts(&|i| if i % 15.0 == 0.0 { 1.0 } else { 0.0 }),
            ),
            s(
                "Init duration (shim total, max)",
                "ms",
                pts(&|i| 800.0 + i * 10.0),
            ),
            s("Redis engine CPU", "%", pts(&|i| 5.0 + i / 10.0)),
            s("Redis memory", "%", pts(&|_| 41.5)),
            s("API Gateway 5XX", "count", pts(&|_| 0.0)),
            s("API Gateway latency p95", "ms", vec![]),
        ],
        notes: vec![],
    };
    let mut app = ready_app();
    app::update(&mut app, Action::Charts(Ok(data)));
    key(&mut app, KeyCode::Char('c'));
    assert!(app.charts.open);
    app
}

/// The charts view at 80x24: four charts with time axes and units.
#[test]
fn charts_80x24() {
    assert_snapshot!(screen(&charts_app(), 80, 24));
}

/// The charts view at 200x50: every chart (more than at 80x24), "no data" said honestly.
#[test]
fn charts_200x50() {
    let s = screen(&charts_app(), 200, 50);
    assert!(s.contains("no data"), "{s}");
    assert!(s.contains("Redis memory (%)"), "{s}");
    assert_snapshot!(s);
}

/// One series that could not be read says why in a sentence with the next step; the others
/// are still drawn (issue 27: one failing p95 query blanked every chart).
#[test]
fn charts_one_failing_series_keeps_the_others() {
    let mut app = charts_app();
    let mut data = match app.charts.data.clone() {
        Some(Ok(d)) => d,
        other => panic!("no charts data: {other:?}"),
    };
    data.series[0].points.clear();
    data.series[0].error = Some(opsconsole::collectors::series::series_failed(
        "Lambda invocations",
        "HTTP 500 with an empty body from http://127.0.0.1:5000",
    ));
    app::update(&mut app, Action::Charts(Ok(data)));
    let s = screen(&app, 200, 50);
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("GetMetricData failed for Lambda"), "{s}");
    assert!(flat.contains("press r to retry"), "{s}");
    assert!(s.contains("Lambda errors (count)"), "{s}");
    assert!(s.contains("Redis memory (%)"), "{s}");
    assert!(!s.contains('✖') && !s.contains("ServiceError("), "{s}");
}

/// The logs view at 200x50 and 80x24.
#[test]
fn logs_view_both_sizes() {
    use opsconsole::collectors::logs::{LogsEvent, TailMode};
    use opsconsole::domain::loglines::parse_line;
    use opsconsole::domain::window::Window;
    let mut app = ready_app();
    let t0 = 1_764_540_000_000_i64;
    let lines = (0..40)
        .map(|i| {
            if i % 5 == 0 {
                parse_line(
                    t0 + i * 1000,
                    &format!(
                        r#"{{"level":"ERROR","message":"proxy error","request_id":"r{i}","reason":"timeout","target":"shim::app"}}"#
                    ),
                )
            } else {
                parse_line(t0 + i * 1000, &format!("START RequestId: r{i} Version: $LATEST"))
            }
        })
        .collect();
    app::update(
        &mut app,
        Action::Logs(LogsEvent::Reset {
            group: "/aws/lambda/librechat-dev-api".into(),
            window: Window::H1,
            lines,
            truncated: false,
        }),
    );
    app::update(&mut app, Action::Logs(LogsEvent::Mode(TailMode::LiveTail)));
    key(&mut app, KeyCode::Char('l'));
    assert_snapshot!("logs_view_80x24", screen(&app, 80, 24));
    assert_snapshot!("logs_view_200x50", screen(&app, 200, 50));
}

/// The scheduled canary's history on the SSE panel's last lines (issue 14 item 3), at the
/// panel size and in the whole 80x24 screen.
#[test]
fn panel_sse_with_canary_history() {
    let mut app = ready_app();
    app.canary.apply(Ok(canary()), at(20));
    let p = panel(&app, Panel::Sse);
    assert!(
        p.contains("canary SSE buffered in 3 of the last 288 runs"),
        "{p}"
    );
    assert_snapshot!("panel_sse_canary", p);
    let s = screen(&app, 80, 24);
    assert!(s.contains("canary SSE buffered"), "{s}");
    // Not deployed: no line.
    let mut none = canary();
    none.deployed = false;
    app.canary.apply(Ok(none), at(20));
    assert!(!panel(&app, Panel::Sse).contains("canary"));
}

/// The web mode (issue 23 item 4) on the SSE panel: the mode, TTFT and deltas, and a STALLED
/// verdict with its reason.
#[test]
fn panel_sse_web_mode() {
    let mut app = ready_app();
    let mut d = sse();
    d.url = "https://chat.example.org/api/agents/chat/stream/c0ffee".into();
    d.mode = Some("web".into());
    d.expected_events = None;
    d.events.truncate(2);
    for e in &mut d.events {
        e.sent_at_ms = None;
        e.sent_gap_ms = None;
    }
    d.first_event_ms = Some(812.0);
    d.verdict = opsconsole::model::Verdict::Stalled;
    d.reason = "no event for 5004 ms (stall limit 5000 ms) after 4 frame(s), the last `on_message_delta`; 2 delta(s) before it".into();
    app.sse.apply(Ok(d), at(45));
    let p = panel(&app, Panel::Sse);
    assert!(p.contains("STALLED"), "{p}");
    assert!(p.contains("web chat"), "{p}");
    assert!(p.contains("ttft 812"), "{p}");
    assert_snapshot!("panel_sse_web_stalled", p);
}
