//! Keys ([`Action::Key`](super::Action::Key)): to the open overlay, the logs or charts
//! view, else the key map's command.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::actions::ActionRequest;
use crate::model::Source;
use crate::tui::command;
use crate::tui::keys::Command;

use super::actions::{quit, start};
use super::command_line::run_command_line;
use super::{App, Effect, FOLLOW, Overlay, Panel, Pending, item_count, selected};

fn move_selection(app: &mut App, delta: isize) {
    let focus = app.focus;
    let n = item_count(app, focus);
    let view = app.view_state_mut(focus);
    if n == 0 {
        view.reset_selection(focus);
        return;
    }
    let cur = view.selected.min(n - 1) as isize;
    let new = (cur + delta).clamp(0, n as isize - 1) as usize;
    // Back at the end of a growing list: follow it again.
    view.selected = if focus.view().follows_newest() && new == n - 1 {
        FOLLOW
    } else {
        new
    };
}

pub(super) fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == crossterm::event::KeyEventKind::Release {
        return Vec::new();
    }
    match app.overlay.take() {
        Some(Overlay::Help) => {
            // Any key closes the help; quit still quits.
            if app.keymap.get(&key) == Some(Command::Quit) && key.code != KeyCode::Esc {
                return quit(app);
            }
            Vec::new()
        }
        Some(Overlay::Confirm(c)) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => match c.pending {
                Pending::Run(req) => start(app, req),
                Pending::Quit => {
                    app.should_quit = true;
                    vec![Effect::CancelRunning]
                }
            },
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                if let Pending::Run(req) = &c.pending {
                    app.set_status(format!("{} not confirmed", req.describe()));
                    let mut effects = vec![app.audit(req, "declined")];
                    if let ActionRequest::Apply { plan_file } = req {
                        effects.push(Effect::Discard(plan_file.clone()));
                    }
                    return effects;
                }
                Vec::new()
            }
            _ => {
                app.overlay = Some(Overlay::Confirm(c));
                Vec::new()
            }
        },
        Some(Overlay::CommandLine { mut input, .. }) => {
            match key.code {
                KeyCode::Esc => return Vec::new(),
                KeyCode::Enter => return run_command_line(app, &input),
                KeyCode::Tab => input = command::complete(&input, &app.envs),
                // Backspace on an empty line closes it (as in vim).
                KeyCode::Backspace if input.pop().is_none() => return Vec::new(),
                KeyCode::Backspace => {}
                KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    input.clear()
                }
                KeyCode::Char(c) => input.push(c),
                _ => {}
            }
            app.overlay = Some(Overlay::CommandLine { input, error: None });
            Vec::new()
        }
        Some(Overlay::Filter) => {
            let focus = app.focus;
            let view = app.view_state_mut(focus);
            match key.code {
                KeyCode::Esc => {
                    view.filter.clear();
                    return Vec::new();
                }
                KeyCode::Enter => return Vec::new(),
                KeyCode::Backspace => {
                    view.filter.pop();
                }
                KeyCode::Char(c) => view.filter.push(c),
                _ => {}
            }
            view.reset_selection(focus);
            app.overlay = Some(Overlay::Filter);
            Vec::new()
        }
        Some(Overlay::Cost { scroll }) => {
            let last = u16::try_from(crate::tui::overlays::cost::line_count(app))
                .unwrap_or(u16::MAX)
                .saturating_sub(1);
            let scroll = match app.keymap.get(&key) {
                Some(Command::Back) | Some(Command::Open) | Some(Command::Cost) => {
                    return Vec::new();
                }
                Some(Command::Quit) => return quit(app),
                Some(Command::Down) => scroll.saturating_add(1).min(last),
                Some(Command::Up) => scroll.saturating_sub(1),
                Some(Command::Refresh) => {
                    app.overlay = Some(Overlay::Cost { scroll });
                    app.set_status("reading the cost again");
                    return vec![Effect::Refresh(Some(Source::Cost))];
                }
                _ => scroll,
            };
            app.overlay = Some(Overlay::Cost { scroll });
            Vec::new()
        }
        Some(Overlay::Detail) => {
            match app.keymap.get(&key) {
                Some(Command::Back) | Some(Command::Open) => return Vec::new(),
                Some(Command::Quit) => return quit(app),
                Some(Command::Down) => move_selection(app, 1),
                Some(Command::Up) => move_selection(app, -1),
                _ => {}
            }
            app.overlay = Some(Overlay::Detail);
            Vec::new()
        }
        None => {
            if app.logs.open && app.logs.on_key(&key) {
                return Vec::new();
            }
            if app.charts.open && !app.logs.open && key.code == KeyCode::Esc {
                app.charts.open = false;
                return Vec::new();
            }
            on_command(app, key)
        }
    }
}

fn on_command(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(cmd) = app.keymap.get(&key) else {
        return Vec::new();
    };
    match cmd {
        Command::Quit => return quit(app),
        Command::Help => app.overlay = Some(Overlay::Help),
        Command::NextPanel => {
            app.focus = Panel::ALL[(app.focus.index() + 1) % Panel::ALL.len()];
        }
        Command::PrevPanel => {
            app.focus = Panel::ALL[(app.focus.index() + Panel::ALL.len() - 1) % Panel::ALL.len()];
        }
        Command::Focus(n) => {
            if let Some(p) = Panel::ALL.get(usize::from(n).saturating_sub(1)) {
                app.focus = *p;
            }
        }
        Command::Down => move_selection(app, 1),
        Command::Up => move_selection(app, -1),
        Command::Open if app.focus == Panel::Lambda && item_count(app, app.focus) > 0 => {
            // A REPORT line: its request's lines in the logs view.
            let sel = selected(app, Panel::Lambda);
            let rid = crate::tui::panels::lambda::visible(app)
                .get(sel)
                .map(|r| r.request_id.clone());
            if let Some(rid) = rid {
                app.logs.open_request(&rid);
                app.set_status(format!("the lines of request {rid} (Esc: all lines)"));
            }
        }
        Command::Logs => {
            app.logs.open = !app.logs.open;
            app.charts.open = false;
        }
        Command::Charts => {
            app.charts.open = !app.charts.open;
            app.logs.open = false;
        }
        Command::Open => {
            if item_count(app, app.focus) > 0 {
                app.overlay = Some(Overlay::Detail);
            } else {
                app.set_status(format!("nothing to open in {}", app.focus.title()));
            }
        }
        Command::Back => {
            let focus = app.focus;
            let view = app.view_state_mut(focus);
            if !view.filter.is_empty() {
                view.filter.clear();
            } else {
                app.status = None;
            }
        }
        Command::Filter => app.overlay = Some(Overlay::Filter),
        Command::Cost => app.overlay = Some(Overlay::Cost { scroll: 0 }),
        Command::CommandLine => {
            app.overlay = Some(Overlay::CommandLine {
                input: String::new(),
                error: None,
            })
        }
        Command::Refresh => {
            app.set_status("refreshing every panel");
            return vec![Effect::Refresh(None)];
        }
        Command::Probe => {
            app.set_status("SSE probe started");
            return vec![Effect::RerunProbe];
        }
        Command::Wider | Command::Narrower => {
            let w = if cmd == Command::Wider {
                app.window.wider()
            } else {
                app.window.narrower()
            };
            if w == app.window {
                app.set_status(format!("the time window is already {w}"));
                return vec![];
            }
            app.window = w;
            app.set_status(format!("time window {w}: collecting again"));
            return vec![Effect::SetWindow(w)];
        }
        Command::Invalidate => {
            app.overlay = Some(Overlay::CommandLine {
                input: "invalidate /*".into(),
                error: None,
            })
        }
        Command::Cancel => match app.running.as_mut() {
            Some(run) if !run.cancel_requested => {
                run.cancel_requested = true;
                let msg = format!("cancelling {}", run.request.describe());
                app.push_activity(msg.clone());
                app.set_status(msg);
                return vec![Effect::CancelRunning];
            }
            Some(_) => app.set_status("cancel already requested"),
            None => app.set_status("no action is running"),
        },
    }
    Vec::new()
}
