//! The one state of the console ([`App`]), everything that can happen to it ([`Action`]) and
//! the pure transition [`update`], which returns the [`Effect`]s the event loop carries out
//! (refresh a source, start or cancel an action, append an audit record). Nothing here does
//! I/O or reads the clock: the loop sets [`App::now`] before each update.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::OffsetDateTime;

use crate::actions::audit::AuditRecord;
use crate::actions::{ActionEvent, ActionRequest, ActionResult};
use crate::domain::window::Window;
use crate::model::{AlarmHistory, CollectorError};
use crate::model::{
    AlarmsData, CanaryData, CloudFrontData, DataEvent, HealthData, Identity, LambdaData,
    PanelState, RedisData, Source, SseEventObs, SseProbeData,
};

use super::command::{self, CmdLine};
use super::keys::{Command, KeyMap};

/// Seconds a footer message stays.
pub const STATUS_SECS: i64 = 10;

/// Lines kept in the activity pane.
pub const ACTIVITY_CAP: usize = 1000;

pub use super::panels::Panel;
/// The rows of the alarms panel and the SSE timeline (what the detail views and tests see).
pub use super::panels::{alarms::visible as visible_alarms, sse::events as sse_events};

/// What the operator did to one panel's list: the selected row and the filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewState {
    /// The selected row; [`FOLLOW`] in a timeline that follows its newest row.
    pub selected: usize,
    pub filter: String,
}

impl ViewState {
    /// The state of a fresh (or re-filtered) list of `panel`: the first row, or the newest of a
    /// timeline.
    fn reset_selection(&mut self, panel: Panel) {
        self.selected = if panel.view().follows_newest() {
            FOLLOW
        } else {
            0
        };
    }
}

/// One Terraform output as shown (sensitive values already masked).
#[derive(Debug, Clone, PartialEq)]
pub struct OutputRow {
    pub name: String,
    pub value: String,
}

/// A running SSE probe's timeline, filled as events arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct SseLive {
    pub url: String,
    pub started_at: OffsetDateTime,
    pub events: Vec<SseEventObs>,
}

/// What "yes" in the confirm popup does.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Run(ActionRequest),
    /// Quit although an action is running (it is cancelled).
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub pending: Pending,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    CommandLine {
        input: String,
        error: Option<String>,
    },
    Filter,
    Detail,
}

/// The history of the alarm whose detail view is open.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryState {
    /// Asked for ([`Effect::FetchAlarmHistory`]); no answer yet.
    Loading,
    Ready(AlarmHistory),
    Error(CollectorError),
}

/// Which alarm's history the detail view shows, and how far its fetch got.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmHistoryView {
    pub alarm: String,
    pub region: String,
    pub state: HistoryState,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub request: ActionRequest,
    pub started: OffsetDateTime,
    pub progress: Option<String>,
    pub cancel_requested: bool,
}

/// The post-deploy verification after `:deploy image`: health check and SSE probe.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verify {
    pub sse_started: bool,
    pub health: Option<Result<String, String>>,
    pub sse: Option<Result<String, String>>,
}

#[derive(Debug, Clone)]
pub struct App {
    pub env: String,
    pub read_only: bool,
    /// Region from the outputs or flags, shown until the identity says otherwise.
    pub region: Option<String>,
    /// Environments known for `:env` completion.
    pub envs: Vec<String>,
    pub outputs: Result<Vec<OutputRow>, String>,
    pub identity: PanelState<Identity>,
    pub alarms: PanelState<AlarmsData>,
    pub lambda: PanelState<LambdaData>,
    pub redis: PanelState<RedisData>,
    pub cloudfront: PanelState<CloudFrontData>,
    pub health: PanelState<HealthData>,
    pub sse: PanelState<SseProbeData>,
    /// The scheduled canary's history (shown in the SSE panel).
    pub canary: PanelState<CanaryData>,
    pub sse_live: Option<SseLive>,
    pub focus: Panel,
    /// One per panel, in [`Panel::ALL`]'s order.
    views: Vec<ViewState>,
    pub overlay: Option<Overlay>,
    pub activity: VecDeque<String>,
    pub running: Option<Running>,
    pub verify: Option<Verify>,
    /// The alarm history shown in the open alarm detail view (None when it is closed).
    pub alarm_history: Option<AlarmHistoryView>,
    pub last_refresh: Option<OffsetDateTime>,
    pub now: OffsetDateTime,
    /// A one-line message for the footer (refusals, results), cleared after
    /// [`STATUS_SECS`] or by Esc.
    pub status: Option<String>,
    pub status_at: Option<OffsetDateTime>,
    pub keymap: KeyMap,
    pub no_color: bool,
    pub should_quit: bool,
    /// How far back the collectors look (shown in the header).
    pub window: Window,
    /// The logs view (`l`).
    pub logs: super::logs::LogsState,
    /// The charts view (`c`).
    pub charts: super::charts::ChartsState,
}

impl App {
    pub fn new(env: &str, read_only: bool, now: OffsetDateTime) -> App {
        App {
            env: env.to_string(),
            read_only,
            region: None,
            envs: Vec::new(),
            outputs: Ok(Vec::new()),
            identity: PanelState::Loading,
            alarms: PanelState::Loading,
            lambda: PanelState::Loading,
            redis: PanelState::Loading,
            cloudfront: PanelState::Loading,
            health: PanelState::Loading,
            sse: PanelState::Loading,
            canary: PanelState::Loading,
            sse_live: None,
            focus: Panel::Deployment,
            // Timelines (SSE, activity) follow their newest line (FOLLOW) until the operator
            // moves up.
            views: Panel::ALL
                .iter()
                .map(|p| {
                    let mut v = ViewState::default();
                    v.reset_selection(*p);
                    v
                })
                .collect(),
            overlay: None,
            activity: VecDeque::new(),
            running: None,
            verify: None,
            alarm_history: None,
            last_refresh: None,
            now,
            status: None,
            status_at: None,
            keymap: KeyMap::default(),
            no_color: false,
            should_quit: false,
            window: Window::default(),
            logs: super::logs::LogsState::default(),
            charts: super::charts::ChartsState::default(),
        }
    }

    pub(crate) fn set_status(&mut self, msg: impl Into<String>) {
        self.status = Some(msg.into());
        self.status_at = Some(self.now);
    }

    pub fn account(&self) -> Option<&str> {
        self.identity.data().map(|(i, _)| i.account.as_str())
    }

    pub(crate) fn identity_arn(&self) -> Option<&str> {
        self.identity.data().map(|(i, _)| i.arn.as_str())
    }

    pub fn filter(&self, panel: Panel) -> &str {
        &self.view_state(panel).filter
    }

    /// The selection and filter of `panel`.
    pub(crate) fn view_state(&self, panel: Panel) -> &ViewState {
        &self.views[panel.index()]
    }

    fn view_state_mut(&mut self, panel: Panel) -> &mut ViewState {
        &mut self.views[panel.index()]
    }

    pub fn push_activity(&mut self, line: impl Into<String>) {
        let line = line.into();
        let stamp = format!(
            "{:02}:{:02}:{:02} ",
            self.now.hour(),
            self.now.minute(),
            self.now.second()
        );
        self.activity.push_back(format!("{stamp}{line}"));
        while self.activity.len() > ACTIVITY_CAP {
            self.activity.pop_front();
        }
    }

    fn audit(&self, req: &ActionRequest, result: impl Into<String>) -> Effect {
        Effect::Audit(AuditRecord {
            time: self.now,
            identity: self.identity_arn().unwrap_or("unknown").to_string(),
            account: self.account().map(str::to_string),
            environment: self.env.clone(),
            action: req.name().to_string(),
            arguments: req.arguments(),
            result: result.into(),
        })
    }
}

/// How many rows `panel` lists now (after its filter).
pub(crate) fn item_count(app: &App, panel: Panel) -> usize {
    panel.view().item_count(app)
}

/// The selected index of `panel`, clamped to its items.
pub fn selected(app: &App, panel: Panel) -> usize {
    let n = item_count(app, panel);
    app.view_state(panel).selected.min(n.saturating_sub(1))
}

/// Everything that can happen to the console. (Data events are large; an Action is moved
/// once per event, so boxing would buy nothing.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Key(KeyEvent),
    Data(DataEvent),
    Job(ActionEvent),
    /// The clock moved (ages in the panels change).
    Tick,
    Resize(u16, u16),
    /// The charts' series (or why they could not be read).
    Charts(Result<crate::collectors::series::ChartsData, String>),
    /// Lines (or the mode, or an error) from the log group's follower.
    Logs(crate::collectors::logs::LogsEvent),
    /// The support bundle (`:bundle`) was written (its path) or not (why).
    Bundle(Result<String, String>),
    /// The answer to [`Effect::FetchAlarmHistory`].
    AlarmHistory {
        alarm: String,
        region: String,
        result: Result<AlarmHistory, CollectorError>,
    },
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Refresh one source, or all of them.
    Refresh(Option<Source>),
    RerunProbe,
    Start(ActionRequest),
    CancelRunning,
    Audit(AuditRecord),
    SwitchEnv(String),
    /// Delete a file nobody needs any more (the plan of a declined `:apply`).
    Discard(std::path::PathBuf),
    /// Fetch one alarm's history in the background; the answer comes back as
    /// [`Action::AlarmHistory`].
    FetchAlarmHistory {
        alarm: String,
        region: String,
    },
    /// Look back over this window from now on (the windowed sources collect again).
    SetWindow(Window),
    /// Write the support bundle (`:bundle [FILE]`) over the current window in the background;
    /// the outcome comes back as [`Action::Bundle`].
    Bundle(Option<std::path::PathBuf>),
}

/// Carries out `action` on `app`. Whenever the alarm detail view ends up showing an alarm
/// (Enter, j/k inside it, a refresh that reorders the list), its history is asked for once.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    let mut effects = update_inner(app, action);
    effects.extend(follow_alarm_history(app));
    effects
}

fn update_inner(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(k) => on_key(app, k),
        Action::Data(d) => on_data(app, d),
        Action::Job(j) => on_job(app, j),
        Action::Logs(ev) => {
            app.logs.on_event(ev);
            Vec::new()
        }
        Action::Charts(r) => {
            app.charts.data = Some(r);
            Vec::new()
        }
        Action::Tick => {
            if app
                .status_at
                .is_some_and(|t| (app.now - t).whole_seconds() >= STATUS_SECS)
            {
                app.status = None;
                app.status_at = None;
            }
            Vec::new()
        }
        Action::Resize(..) => Vec::new(),
        Action::Bundle(r) => {
            let line = match r {
                Ok(path) => format!("bundle written: {path} (secrets redacted)"),
                Err(e) => format!("bundle FAILED: {e}"),
            };
            app.push_activity(line.clone());
            app.set_status(line);
            Vec::new()
        }
        Action::AlarmHistory {
            alarm,
            region,
            result,
        } => {
            // A late answer for an alarm no longer shown is dropped.
            if let Some(view) = app
                .alarm_history
                .as_mut()
                .filter(|v| v.alarm == alarm && v.region == region)
            {
                view.state = match result {
                    Ok(h) => HistoryState::Ready(h),
                    Err(e) => HistoryState::Error(e),
                };
            }
            Vec::new()
        }
    }
}

/// When the alarm detail view shows an alarm whose history is not loaded (or loading) yet:
/// marks it loading and asks for it. Anything else: forgets the history.
fn follow_alarm_history(app: &mut App) -> Vec<Effect> {
    let shown = if app.overlay == Some(Overlay::Detail) && app.focus == Panel::Alarms {
        let sel = selected(app, Panel::Alarms);
        visible_alarms(app)
            .get(sel)
            .map(|a| (a.name.clone(), a.region.clone()))
    } else {
        None
    };
    let Some((alarm, region)) = shown else {
        app.alarm_history = None;
        return Vec::new();
    };
    if app
        .alarm_history
        .as_ref()
        .is_some_and(|v| v.alarm == alarm && v.region == region)
    {
        return Vec::new();
    }
    app.alarm_history = Some(AlarmHistoryView {
        alarm: alarm.clone(),
        region: region.clone(),
        state: HistoryState::Loading,
    });
    vec![Effect::FetchAlarmHistory { alarm, region }]
}

fn on_data(app: &mut App, ev: DataEvent) -> Vec<Effect> {
    let now = app.now;
    let mut effects = Vec::new();
    match ev {
        DataEvent::Identity(r) => {
            if let Ok(i) = &r {
                app.region = Some(i.region.clone());
            }
            app.identity.apply(r, now)
        }
        DataEvent::Alarms(r) => app.alarms.apply(r, now),
        DataEvent::Lambda(r) => app.lambda.apply(r, now),
        DataEvent::Redis(r) => app.redis.apply(r, now),
        DataEvent::CloudFront(r) => app.cloudfront.apply(r, now),
        DataEvent::Health(r) => {
            if let Some(v) = app.verify.as_mut().filter(|v| v.health.is_none()) {
                v.health = Some(match &r {
                    Ok(h) if h.ok => Ok(format!("health {} in {:.0} ms", h.status, h.latency_ms)),
                    Ok(h) => Err(format!("health answered {}", h.status)),
                    Err(e) => Err(format!("health check failed: {}", e.message)),
                });
            }
            app.health.apply(r, now)
        }
        DataEvent::SseStarted { url } => {
            if let Some(v) = app.verify.as_mut() {
                v.sse_started = true;
            }
            app.sse_live = Some(SseLive {
                url,
                started_at: now,
                events: Vec::new(),
            });
        }
        DataEvent::SseEvent(e) => {
            if let Some(live) = app.sse_live.as_mut() {
                live.events.push(e);
            }
        }
        DataEvent::Sse(r) => {
            if let Some(v) = app
                .verify
                .as_mut()
                .filter(|v| v.sse_started && v.sse.is_none())
            {
                v.sse = Some(match &r {
                    Ok(d) if d.verdict == crate::model::Verdict::Streaming => {
                        Ok(format!("SSE {:?}", d.verdict).to_uppercase())
                    }
                    Ok(d) => Err(format!("SSE {:?}: {}", d.verdict, d.reason).to_uppercase()),
                    Err(e) => Err(format!("SSE probe failed: {}", e.message)),
                });
            }
            app.sse_live = None;
            app.sse.apply(r, now)
        }
        DataEvent::Canary(r) => app.canary.apply(r, now),
    }
    app.last_refresh = Some(now);
    if let Some(v) = &app.verify
        && let (Some(h), Some(s)) = (&v.health, &v.sse)
    {
        let passed = h.is_ok() && s.is_ok();
        let text = |r: &Result<String, String>| match r {
            Ok(s) | Err(s) => s.clone(),
        };
        let line = format!(
            "post-deploy verification {}: {}; {}",
            if passed { "PASSED" } else { "FAILED" },
            text(h),
            text(s)
        );
        app.verify = None;
        app.push_activity(line.clone());
        app.set_status(line.clone());
        effects.push(app.audit(
            &ActionRequest::DeployImage { image: None },
            format!("verification: {line}"),
        ));
    }
    effects
}

fn on_job(app: &mut App, ev: ActionEvent) -> Vec<Effect> {
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
fn request(app: &mut App, req: ActionRequest) -> Vec<Effect> {
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

fn start(app: &mut App, req: ActionRequest) -> Vec<Effect> {
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

fn quit(app: &mut App) -> Vec<Effect> {
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

fn run_command_line(app: &mut App, line: &str) -> Vec<Effect> {
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
                CmdLine::Help => {
                    app.overlay = Some(Overlay::Help);
                    Vec::new()
                }
                CmdLine::Quit => quit(app),
            }
        }
    }
}

/// A selection that follows the last item as the list grows (SSE timeline, activity).
pub(crate) const FOLLOW: usize = usize::MAX;

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

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
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
            let rid = super::panels::lambda::visible(app)
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
