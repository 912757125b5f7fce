//! The command line (`:`): what each parsed command does.

use crate::actions::ActionRequest;
use crate::model::Source;
use crate::tui::command::{self, CmdLine};

use super::actions::{quit, request};
use super::{App, Effect, Overlay};

pub(super) fn run_command_line(app: &mut App, line: &str) -> Vec<Effect> {
    match command::parse(line) {
        Err(e) => {
            app.overlay = Some(Overlay::CommandLine {
                input: line.to_string(),
                error: Some(e),
            });
            Vec::new()
        }
        Ok(cmd) => {
            app.overlay = None;
            match cmd {
                CmdLine::DeployImage { image } => {
                    request(app, ActionRequest::DeployImage { image })
                }
                CmdLine::Apply => request(app, ActionRequest::Plan),
                CmdLine::Invalidate { paths } => {
                    match crate::actions::invalidate::normalise_paths(&paths) {
                        Ok(paths) => request(app, ActionRequest::Invalidate { paths }),
                        Err(e) => {
                            app.set_status(e);
                            Vec::new()
                        }
                    }
                }
                CmdLine::Probe => vec![Effect::RerunProbe],
                CmdLine::Bundle { out } => {
                    // Reads only: allowed in read-only mode, and while an action runs.
                    app.push_activity(format!(
                        "bundle: collecting (probe, logs, alarms, configuration; window {})",
                        app.window.label()
                    ));
                    vec![Effect::Bundle(out.map(std::path::PathBuf::from))]
                }
                CmdLine::Refresh { source: None } => vec![Effect::Refresh(None)],
                CmdLine::Refresh { source: Some(s) } => {
                    match Source::ALL.iter().find(|src| src.name() == s) {
                        Some(src) => vec![Effect::Refresh(Some(*src))],
                        None => {
                            app.set_status(format!("unknown source {s:?}"));
                            Vec::new()
                        }
                    }
                }
                CmdLine::Env(name) => {
                    if let Some(run) = &app.running {
                        app.set_status(format!(
                            "{} is running; switch environments after it ends",
                            run.request.describe()
                        ));
                        Vec::new()
                    } else if name == app.env {
                        app.set_status(format!("already on {name}"));
                        Vec::new()
                    } else {
                        vec![Effect::SwitchEnv(name)]
                    }
                }
                CmdLine::Cost => {
                    app.overlay = Some(Overlay::Cost { scroll: 0 });
                    Vec::new()
                }
                CmdLine::Help => {
                    app.overlay = Some(Overlay::Help);
                    Vec::new()
                }
                CmdLine::Quit => quit(app),
            }
        }
    }
}
