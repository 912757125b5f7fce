//! update() is pure: key handling, data events, the confirm flow, read-only refusal, the
//! action life cycle and the audit records it asks for.

use crate::tui_support::*;
use crossterm::event::KeyCode;
use opsconsole::actions::{ActionEvent, ActionRequest, ActionResult};
use opsconsole::model::{DataEvent, ErrorKind, PanelState, Source, SseEventObs, Verdict};
use opsconsole::tui::app::{self, Action, App, Effect, Overlay, Panel, Pending};

fn command(app: &mut App, line: &str) -> Vec<Effect> {
    key(app, KeyCode::Char(':'));
    typed(app, line);
    key(app, KeyCode::Enter)
}

fn audits(effects: &[Effect]) -> Vec<(String, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Audit(r) => Some((r.action.clone(), r.result.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn tab_digits_and_shift_tab_move_focus() {
    let mut app = ready_app();
    assert_eq!(app.focus, Panel::Deployment);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Panel::Alarms);
    key(&mut app, KeyCode::BackTab);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Panel::Activity);
    key(&mut app, KeyCode::Char('4'));
    assert_eq!(app.focus, Panel::Redis);
}

#[test]
fn j_k_move_within_bounds() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    for _ in 0..20 {
        key(&mut app, KeyCode::Char('j'));
    }
    assert_eq!(app::selected(&app, Panel::Alarms), 9);
    key(&mut app, KeyCode::Up);
    assert_eq!(app::selected(&app, Panel::Alarms), 8);
    for _ in 0..20 {
        key(&mut app, KeyCode::Char('k'));
    }
    assert_eq!(app::selected(&app, Panel::Alarms), 0);
}

/// The cost source's data lands in `app.cost` (a failure keeps the last figures); `$` and
/// `:cost` open the cost view, j/k scroll it within its lines, r reads the cost again, Esc
/// closes it.
#[test]
fn cost_data_and_the_cost_view() {
    let mut app = loading_app();
    let doc = cost_document();
    let fx = app::update(
        &mut app,
        Action::Data(DataEvent::Cost(Ok(Box::new(doc.clone())))),
    );
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(app.cost.data().map(|(d, _)| d), Some(&doc));
    app::update(
        &mut app,
        Action::Data(DataEvent::Cost(Err(error(
            ErrorKind::Timeout,
            "cost did not finish",
            None,
        )))),
    );
    assert_eq!(app.cost.data().map(|(d, _)| d), Some(&doc), "stale kept");
    assert!(app.cost.error().is_some());

    assert!(key(&mut app, KeyCode::Char('$')).is_empty());
    assert_eq!(app.overlay, Some(Overlay::Cost { scroll: 0 }));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Down);
    assert_eq!(app.overlay, Some(Overlay::Cost { scroll: 2 }));
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(app.overlay, Some(Overlay::Cost { scroll: 1 }));
    for _ in 0..500 {
        key(&mut app, KeyCode::Char('j'));
    }
    let Some(Overlay::Cost { scroll }) = app.overlay else {
        panic!("closed: {:?}", app.overlay)
    };
    assert!(
        (20..500).contains(&scroll),
        "scroll bounded by the lines: {scroll}"
    );
    assert_eq!(
        key(&mut app, KeyCode::Char('r')),
        vec![Effect::Refresh(Some(Source::Cost))]
    );
    assert!(matches!(app.overlay, Some(Overlay::Cost { .. })));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, None);

    assert!(command(&mut app, "cost").is_empty());
    assert_eq!(app.overlay, Some(Overlay::Cost { scroll: 0 }));
    key(&mut app, KeyCode::Char('$'));
    assert_eq!(app.overlay, None, "$ closes it too");
}

#[test]
fn enter_opens_detail_and_esc_closes() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, Some(Overlay::Detail));
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(
        app::selected(&app, Panel::Alarms),
        1,
        "j moves inside the detail view"
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, None);
    // Nothing to open while loading.
    let mut loading = loading_app();
    key(&mut loading, KeyCode::Char('2'));
    key(&mut loading, KeyCode::Enter);
    assert_eq!(loading.overlay, None);
}

#[test]
fn filter_narrows_and_esc_clears() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "LAMBDA");
    assert_eq!(app::visible_alarms(&app).len(), 5, "filter ignores case");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, None);
    assert_eq!(app.filter(Panel::Alarms), "LAMBDA");
    // Keys typed into the filter are not commands: 'q' did not quit.
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "q");
    assert!(!app.should_quit);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.filter(Panel::Alarms), "");
    assert_eq!(app::visible_alarms(&app).len(), 10);
}

#[test]
fn help_opens_and_any_key_closes() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(app.overlay, None);
}

#[test]
fn r_and_p_ask_for_refresh_and_probe() {
    let mut app = ready_app();
    assert_eq!(
        key(&mut app, KeyCode::Char('r')),
        vec![Effect::Refresh(None)]
    );
    assert_eq!(key(&mut app, KeyCode::Char('p')), vec![Effect::RerunProbe]);
    assert_eq!(
        command(&mut app, "refresh alarms"),
        vec![Effect::Refresh(Some(Source::Alarms))]
    );
    assert_eq!(command(&mut app, "probe"), vec![Effect::RerunProbe]);
    assert_eq!(
        command(&mut app, "env prod"),
        vec![Effect::SwitchEnv("prod".into())]
    );
}

#[test]
fn q_quits_when_idle() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('q'));
    assert!(app.should_quit);
}

#[test]
fn invalidate_asks_confirmation_naming_env_and_account_then_starts() {
    let mut app = ready_app();
    let fx = command(&mut app, "invalidate /*");
    assert!(
        fx.is_empty(),
        "nothing starts before the confirmation: {fx:?}"
    );
    let Some(Overlay::Confirm(c)) = &app.overlay else {
        panic!("expected a confirm popup, got {:?}", app.overlay);
    };
    let text = c.lines.join("\n");
    assert!(text.contains("environment: dev"), "{text}");
    assert!(text.contains("123456789012"), "{text}");
    assert!(text.contains("/*"), "{text}");
    let fx = key(&mut app, KeyCode::Char('y'));
    assert!(fx.contains(&Effect::Start(ActionRequest::Invalidate {
        paths: vec!["/*".into()]
    })));
    assert_eq!(audits(&fx), vec![("invalidate".into(), "started".into())]);
    assert!(app.running.is_some());
    assert_eq!(app.focus, Panel::Activity);
}

#[test]
fn declining_starts_nothing() {
    let mut app = ready_app();
    command(&mut app, "invalidate");
    let fx = key(&mut app, KeyCode::Char('n'));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Start(_))));
    assert_eq!(audits(&fx), vec![("invalidate".into(), "declined".into())]);
    assert!(app.running.is_none());
    assert_eq!(app.overlay, None);
}

#[test]
fn read_only_refuses_every_action_with_a_message() {
    let mut app = ready_app();
    app.read_only = true;
    for line in ["invalidate /*", "deploy image", "apply"] {
        let fx = command(&mut app, line);
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::Start(_))),
            "{line}: {fx:?}"
        );
        assert_eq!(audits(&fx).len(), 1, "{line}: the refusal is audited");
        assert_eq!(audits(&fx)[0].1, "refused: read-only");
        assert!(
            app.overlay.is_none(),
            "{line}: no confirm popup in read-only"
        );
        assert!(app.status.as_deref().unwrap_or("").contains("read-only"));
    }
}

#[test]
fn invalid_paths_are_refused_before_confirmation() {
    let mut app = ready_app();
    command(&mut app, "invalidate index.html");
    assert!(app.overlay.is_none());
    assert!(
        app.status
            .as_deref()
            .unwrap_or("")
            .contains("must start with /")
    );
}

#[test]
fn unknown_command_keeps_the_line_with_an_error() {
    let mut app = ready_app();
    command(&mut app, "explode");
    match &app.overlay {
        Some(Overlay::CommandLine { input, error }) => {
            assert_eq!(input, "explode");
            assert!(error.as_deref().unwrap_or("").contains("explode"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn action_progress_cancel_and_finish() {
    let mut app = ready_app();
    command(&mut app, "invalidate /*");
    key(&mut app, KeyCode::Char('y'));
    app::update(
        &mut app,
        Action::Job(ActionEvent::Progress("InProgress (poll 1)".into())),
    );
    assert_eq!(
        app.running
            .as_ref()
            .and_then(|r| r.progress.clone())
            .as_deref(),
        Some("InProgress (poll 1)")
    );
    // A second action is refused while one runs.
    command(&mut app, "deploy image");
    assert!(app.overlay.is_none());
    assert!(app.status.as_deref().unwrap_or("").contains("is running"));
    // x cancels.
    assert_eq!(
        key(&mut app, KeyCode::Char('x')),
        vec![Effect::CancelRunning]
    );
    app.now = NOW + time::Duration::seconds(7);
    let fx = app::update(
        &mut app,
        Action::Job(ActionEvent::Finished(ActionResult::Cancelled(
            "stopped following".into(),
        ))),
    );
    assert!(app.running.is_none());
    assert_eq!(
        audits(&fx),
        vec![("invalidate".into(), "cancelled: stopped following".into())]
    );
    assert!(
        app.activity
            .back()
            .is_some_and(|l| l.contains("cancelled after 7s"))
    );
}

#[test]
fn quitting_during_an_action_asks_first() {
    let mut app = ready_app();
    command(&mut app, "invalidate /*");
    key(&mut app, KeyCode::Char('y'));
    key(&mut app, KeyCode::Char('q'));
    assert!(!app.should_quit);
    assert!(matches!(&app.overlay, Some(Overlay::Confirm(c)) if c.pending == Pending::Quit));
    key(&mut app, KeyCode::Esc);
    assert!(!app.should_quit);
    key(&mut app, KeyCode::Char('q'));
    let fx = key(&mut app, KeyCode::Char('y'));
    assert!(app.should_quit);
    assert_eq!(fx, vec![Effect::CancelRunning]);
}

#[test]
fn apply_plans_first_then_confirms_the_summary() {
    let mut app = ready_app();
    let fx = command(&mut app, "apply");
    assert!(fx.contains(&Effect::Start(ActionRequest::Plan)), "{fx:?}");
    let plan_file = std::path::PathBuf::from("/tmp/x.tfplan");
    app::update(
        &mut app,
        Action::Job(ActionEvent::PlanReady {
            summary: "Plan: 1 to add, 0 to change, 0 to destroy.".into(),
            plan_file: plan_file.clone(),
            changes: true,
        }),
    );
    app::update(
        &mut app,
        Action::Job(ActionEvent::Finished(ActionResult::Ok("planned".into()))),
    );
    let Some(Overlay::Confirm(c)) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    assert!(c.lines.join("\n").contains("Plan: 1 to add"));
    let fx = key(&mut app, KeyCode::Char('y'));
    assert!(fx.contains(&Effect::Start(ActionRequest::Apply { plan_file })));
}

#[test]
fn deploy_success_triggers_verification_and_reports_it() {
    let mut app = ready_app();
    command(&mut app, "deploy image 1.dkr.ecr/x:1");
    key(&mut app, KeyCode::Enter);
    let fx = app::update(
        &mut app,
        Action::Job(ActionEvent::Finished(ActionResult::Ok("runs x:1".into()))),
    );
    assert!(fx.contains(&Effect::Refresh(Some(Source::Health))));
    assert!(fx.contains(&Effect::RerunProbe));
    // An SSE result from a probe started before the deploy does not count.
    app::update(&mut app, Action::Data(DataEvent::Sse(Ok(sse()))));
    assert!(app.verify.is_some());
    app::update(&mut app, Action::Data(DataEvent::Health(Ok(health()))));
    app::update(
        &mut app,
        Action::Data(DataEvent::SseStarted { url: "u".into() }),
    );
    let mut buffered = sse();
    buffered.verdict = Verdict::Buffered;
    buffered.reason = "5 events in one burst".into();
    let fx = app::update(&mut app, Action::Data(DataEvent::Sse(Ok(buffered))));
    assert!(app.verify.is_none());
    let a = audits(&fx);
    assert_eq!(a.len(), 1);
    assert!(
        a[0].1.contains("FAILED") && a[0].1.contains("BUFFERED"),
        "{a:?}"
    );
}

#[test]
fn data_events_fill_panels_and_errors_keep_stale_data() {
    let mut app = loading_app();
    app::update(&mut app, Action::Data(DataEvent::Alarms(Ok(alarms()))));
    assert!(matches!(app.alarms, PanelState::Ready { .. }));
    app.now = NOW + time::Duration::seconds(30);
    app::update(
        &mut app,
        Action::Data(DataEvent::Alarms(Err(error(
            ErrorKind::Throttled,
            "slow",
            None,
        )))),
    );
    assert!(app.alarms.error().is_some());
    assert_eq!(app.alarms.data().map(|(d, _)| d.alarms.len()), Some(10));
    app::update(&mut app, Action::Data(DataEvent::Identity(Ok(identity()))));
    assert_eq!(app.account(), Some("123456789012"));
    assert_eq!(app.last_refresh, Some(app.now));
}

#[test]
fn sse_timeline_fills_live_then_settles() {
    let mut app = ready_app();
    app::update(
        &mut app,
        Action::Data(DataEvent::SseStarted {
            url: "http://x/sse".into(),
        }),
    );
    assert!(
        app::sse_events(&app).is_empty(),
        "a new probe clears the timeline"
    );
    for i in 1..=3 {
        app::update(
            &mut app,
            Action::Data(DataEvent::SseEvent(SseEventObs {
                seq: i,
                arrived_ms: 100.0 * i as f64,
                sent_at_ms: None,
                gap_ms: None,
                sent_gap_ms: None,
            })),
        );
    }
    assert_eq!(app::sse_events(&app).len(), 3);
    app::update(&mut app, Action::Data(DataEvent::Sse(Ok(sse()))));
    assert!(app.sse_live.is_none());
    assert_eq!(app::sse_events(&app).len(), 5);
}

#[test]
fn activity_is_bounded() {
    let mut app = ready_app();
    for i in 0..(app::ACTIVITY_CAP + 50) {
        app::update(
            &mut app,
            Action::Job(ActionEvent::Line(format!("line {i}"))),
        );
    }
    assert_eq!(app.activity.len(), app::ACTIVITY_CAP);
    assert!(
        app.activity
            .back()
            .is_some_and(|l| l.ends_with(&format!("line {}", app::ACTIVITY_CAP + 49)))
    );
}

#[test]
fn configured_keys_drive_update() {
    let mut app = ready_app();
    app.keymap = opsconsole::tui::keys::KeyMap::from_config_text("[keys]\nquit = \"Q\"\n").unwrap();
    key(&mut app, KeyCode::Char('q'));
    assert!(!app.should_quit);
    key(&mut app, KeyCode::Char('Q'));
    assert!(app.should_quit);
}

#[test]
fn alarms_needing_attention_come_first() {
    let app = ready_app();
    let states: Vec<_> = app::visible_alarms(&app).iter().map(|a| a.state).collect();
    use opsconsole::model::AlarmState::*;
    assert_eq!(&states[..3], &[Alarm, Missing, InsufficientData]);
    assert!(states[3..].iter().all(|s| *s == Ok));
}

#[test]
fn activity_follows_new_lines_until_moved_up() {
    let mut app = ready_app();
    for i in 0..20 {
        app::update(
            &mut app,
            Action::Job(ActionEvent::Line(format!("line {i}"))),
        );
    }
    key(&mut app, KeyCode::Char('6'));
    let last = app.activity.len() - 1;
    assert_eq!(
        app::selected(&app, Panel::Activity),
        last,
        "follows the tail"
    );
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(app::selected(&app, Panel::Activity), last - 1);
    app::update(&mut app, Action::Job(ActionEvent::Line("new".into())));
    assert_eq!(
        app::selected(&app, Panel::Activity),
        last - 1,
        "stays where moved"
    );
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('j'));
    app::update(&mut app, Action::Job(ActionEvent::Line("newer".into())));
    assert_eq!(
        app::selected(&app, Panel::Activity),
        app.activity.len() - 1,
        "back at the end: follows again"
    );
}

#[test]
fn footer_messages_fade_after_a_while() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('r'));
    assert!(app.status.is_some());
    app.now = NOW + time::Duration::seconds(app::STATUS_SECS - 1);
    app::update(&mut app, Action::Tick);
    assert!(app.status.is_some());
    app.now = NOW + time::Duration::seconds(app::STATUS_SECS);
    app::update(&mut app, Action::Tick);
    assert!(app.status.is_none());
}

#[test]
fn declining_an_apply_discards_its_plan() {
    let mut app = ready_app();
    command(&mut app, "apply");
    let plan_file = std::path::PathBuf::from("/tmp/declined.tfplan");
    app::update(
        &mut app,
        Action::Job(ActionEvent::PlanReady {
            summary: "Plan: 0 to add, 1 to change, 0 to destroy.".into(),
            plan_file: plan_file.clone(),
            changes: true,
        }),
    );
    app::update(
        &mut app,
        Action::Job(ActionEvent::Finished(ActionResult::Ok("planned".into()))),
    );
    let fx = key(&mut app, KeyCode::Char('n'));
    assert!(fx.contains(&Effect::Discard(plan_file)), "{fx:?}");
    assert_eq!(audits(&fx), vec![("apply".into(), "declined".into())]);
}

fn history_of(alarm: &str) -> Effect {
    Effect::FetchAlarmHistory {
        alarm: alarm.into(),
        region: "eu-west-1".into(),
    }
}

fn history_state(app: &App) -> Option<(String, app::HistoryState)> {
    app.alarm_history
        .as_ref()
        .map(|v| (v.alarm.clone(), v.state.clone()))
}

#[test]
fn opening_an_alarm_fetches_its_history_and_shows_the_answer() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    let effects = key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, Some(Overlay::Detail));
    assert_eq!(effects, vec![history_of("librechat-dev-lambda-errors")]);
    assert_eq!(
        history_state(&app),
        Some((
            "librechat-dev-lambda-errors".into(),
            app::HistoryState::Loading
        ))
    );
    // A tick or a key that does not move asks nothing again.
    assert!(app::update(&mut app, Action::Tick).is_empty());
    // The answer comes back as an action and fills the view.
    let effects = app::update(
        &mut app,
        Action::AlarmHistory {
            alarm: "librechat-dev-lambda-errors".into(),
            region: "eu-west-1".into(),
            result: Ok(alarm_history()),
        },
    );
    assert!(effects.is_empty());
    assert_eq!(
        history_state(&app),
        Some((
            "librechat-dev-lambda-errors".into(),
            app::HistoryState::Ready(alarm_history())
        ))
    );
}

#[test]
fn alarm_history_errors_are_kept_for_the_view() {
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
    assert_eq!(
        history_state(&app).map(|(_, s)| s),
        Some(app::HistoryState::Error(alarm_history_error()))
    );
}

#[test]
fn moving_in_the_alarm_detail_fetches_the_next_history_and_drops_late_answers() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    let next = app::visible_alarms(&app)[1].clone();
    assert_eq!(
        next.region, "us-east-1",
        "fixture: the next alarm lives elsewhere"
    );
    let effects = key(&mut app, KeyCode::Char('j'));
    assert_eq!(
        effects,
        vec![Effect::FetchAlarmHistory {
            alarm: next.name.clone(),
            region: "us-east-1".into(),
        }],
        "asked in the alarm's own region"
    );
    let next = next.name;
    // The first alarm's answer arrives late: ignored, the view waits for the shown alarm.
    app::update(
        &mut app,
        Action::AlarmHistory {
            alarm: "librechat-dev-lambda-errors".into(),
            region: "eu-west-1".into(),
            result: Ok(alarm_history()),
        },
    );
    assert_eq!(
        history_state(&app),
        Some((next, app::HistoryState::Loading))
    );
    // Closing forgets it; an answer after that changes nothing.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.alarm_history, None);
    app::update(
        &mut app,
        Action::AlarmHistory {
            alarm: "librechat-dev-lambda-errors".into(),
            region: "eu-west-1".into(),
            result: Ok(alarm_history()),
        },
    );
    assert_eq!(app.alarm_history, None);
}

#[test]
fn other_detail_views_fetch_no_alarm_history() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('4'));
    let effects = key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, Some(Overlay::Detail));
    assert!(effects.is_empty());
    assert_eq!(app.alarm_history, None);
}

#[test]
fn minus_and_plus_step_the_time_window_and_ask_to_collect_again() {
    use opsconsole::domain::window::Window;
    let mut app = ready_app();
    assert_eq!(app.window, Window::H1);
    let e = key(&mut app, KeyCode::Char('-'));
    assert_eq!(app.window, Window::H3);
    assert_eq!(e, [Effect::SetWindow(Window::H3)]);
    for _ in 0..10 {
        key(&mut app, KeyCode::Char('-'));
    }
    assert_eq!(app.window, Window::D7);
    assert!(
        key(&mut app, KeyCode::Char('-')).is_empty(),
        "already widest"
    );
    for _ in 0..10 {
        key(&mut app, KeyCode::Char('+'));
    }
    assert_eq!(app.window, Window::M15);
}

#[test]
fn l_opens_the_logs_view_and_enter_on_a_report_opens_its_request() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('l'));
    assert!(app.logs.open);
    key(&mut app, KeyCode::Esc);
    assert!(!app.logs.open);
    // The Lambda panel's first row is the newest REPORT line.
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.focus, Panel::Lambda);
    key(&mut app, KeyCode::Enter);
    assert!(app.logs.open);
    let newest = app
        .lambda
        .data()
        .and_then(|(d, _)| d.reports.last().map(|r| r.request_id.clone()));
    assert_eq!(app.logs.filter.request_id, newest);
    assert_eq!(app.overlay, None);
}

#[test]
fn bundle_command_asks_for_the_bundle_and_reports_where_it_went() {
    let mut app = ready_app();
    // It only reads: allowed in read-only mode too.
    app.read_only = true;
    let fx = command(&mut app, "bundle /tmp/incident.tar.gz");
    assert_eq!(
        fx,
        vec![Effect::Bundle(Some(std::path::PathBuf::from(
            "/tmp/incident.tar.gz"
        )))]
    );
    assert!(app.overlay.is_none());
    assert!(
        app.activity
            .iter()
            .any(|l| l.contains(" bundle: collecting")),
        "{:?}",
        app.activity
    );
    assert_eq!(command(&mut app, "bundle"), vec![Effect::Bundle(None)]);
    app::update(
        &mut app,
        Action::Bundle(Ok("/tmp/incident.tar.gz (probe: healthy)".into())),
    );
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("bundle written: /tmp/incident.tar.gz")),
        "{:?}",
        app.status
    );
    app::update(
        &mut app,
        Action::Bundle(Err("bundle: x already exists".into())),
    );
    assert!(
        app.activity
            .iter()
            .any(|l| l.ends_with(" bundle FAILED: bundle: x already exists")),
        "{:?}",
        app.activity
    );
}
