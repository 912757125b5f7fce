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

#[test]
fn overlay_detail_report_line() {
    let mut app = ready_app();
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
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
