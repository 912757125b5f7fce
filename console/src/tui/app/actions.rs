//! Asking for, confirming and starting actions, and their events
//! ([`Action::Job`](super::Action::Job)); quitting (confirmed while one runs).

use crate::actions::{ActionEvent, ActionRequest, ActionResult};
use crate::model::Source;
use crate::tui::keys::Command;

use super::{App, Confirm, Effect, FOLLOW, Overlay, Panel, Pending, Running, Verify};

pub(super) fn on_job(app: &mut App, ev: ActionEvent) -> Vec<Effect> {
    match ev {
        ActionEvent::Line(l) => {
            app.push_activity(l);
            Vec::new()
        }
        ActionEvent::Progress(p) => {
            if let Some(r) = app.running.as_mut() {
                r.progress = Some(p);
            }
            Vec::new()
        }
        ActionEvent::PlanReady {
            summary,
            plan_file,
            changes,
        } => {
            app.push_activity(format!("plan: {summary}"));
            if changes {
                let req = ActionRequest::Apply { plan_file };
                app.overlay = Some(Overlay::Confirm(confirm_for(app, req, Some(summary))));
            } else {
                app.set_status(format!("plan: {summary} Nothing to apply."));
            }
            Vec::new()
        }
        ActionEvent::Finished(result) => {
            let Some(run) = app.running.take() else {
                return Vec::new();
            };
            let elapsed = (app.now - run.started).whole_seconds().max(0);
            let (mark, text) = match &result {
                ActionResult::Ok(s) => ("done", s.clone()),
                ActionResult::Failed(s) => ("FAILED", s.clone()),
                ActionResult::Cancelled(s) => ("cancelled", s.clone()),
            };
            let line = format!("{} {mark} after {elapsed}s: {text}", run.request.describe());
            app.push_activity(line.clone());
            app.set_status(line);
            let mut effects = vec![app.audit(&run.request, result.audit_text())];
            if matches!(run.request, ActionRequest::DeployImage { .. })
                && matches!(result, ActionResult::Ok(_))
            {
                app.verify = Some(Verify::default());
                app.push_activity("post-deploy verification: health check and SSE probe");
                effects.push(Effect::Refresh(Some(Source::Health)));
                effects.push(Effect::RerunProbe);
            }
            effects
        }
    }
}

/// The confirm popup for `req`, naming the environment and the account.
fn confirm_for(app: &App, req: ActionRequest, summary: Option<String>) -> Confirm {
    let mut lines = vec![
        req.describe(),
        String::new(),
        format!("environment: {}", app.env),
        format!(
            "account:     {}",
            app.account().unwrap_or("unknown (identity not loaded)")
        ),
        format!("identity:    {}", app.identity_arn().unwrap_or("unknown")),
    ];
    if let Some(s) = summary {
        lines.push(String::new());
        lines.push(s);
    }
    Confirm {
        title: format!("Confirm {}", req.name()),
        lines,
        pending: Pending::Run(req),
    }
}

/// Asks for `req`: refused in read-only or while another action runs, else the confirm popup
/// (`:apply` starts with `terraform plan`, which changes nothing; the apply is confirmed after).
pub(super) fn request(app: &mut App, req: ActionRequest) -> Vec<Effect> {
    if app.read_only {
        let msg = format!(
            "read-only: {} refused (started with --read-only)",
            req.describe()
        );
        app.push_activity(msg.clone());
        app.set_status(msg);
        return vec![app.audit(&req, "refused: read-only")];
    }
    if let Some(run) = &app.running {
        app.set_status(format!(
            "{} is running; wait or cancel it ({})",
            run.request.describe(),
            app.keymap.label(Command::Cancel)
        ));
        return Vec::new();
    }
    if req == ActionRequest::Plan {
        return start(app, req);
    }
    app.overlay = Some(Overlay::Confirm(confirm_for(app, req, None)));
    Vec::new()
}

pub(super) fn start(app: &mut App, req: ActionRequest) -> Vec<Effect> {
    app.push_activity(format!("started: {}", req.describe()));
    app.running = Some(Running {
        request: req.clone(),
        started: app.now,
        progress: None,
        cancel_requested: false,
    });
    app.focus = Panel::Activity;
    app.view_state_mut(Panel::Activity).selected = FOLLOW;
    vec![app.audit(&req, "started"), Effect::Start(req)]
}

pub(super) fn quit(app: &mut App) -> Vec<Effect> {
    if let Some(run) = &app.running {
        app.overlay = Some(Overlay::Confirm(Confirm {
            title: "Quit?".into(),
            lines: vec![
                format!("{} is still running.", run.request.describe()),
                "Quit and cancel it?".into(),
            ],
            pending: Pending::Quit,
        }));
        return Vec::new();
    }
    app.should_quit = true;
    Vec::new()
}
