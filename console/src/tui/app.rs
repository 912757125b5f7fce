//! The one state of the console ([`App`]), everything that can happen to it ([`Action`]) and
//! the pure transition [`update`], which returns the [`Effect`]s the event loop carries out
//! (refresh a source, start or cancel an action, append an audit record). Nothing here does
//! I/O or reads the clock: the loop sets [`App::now`] before each update.
//!
//! This file holds the state, the messages and the dispatch; the handlers live in one file per
//! message family: `keys` (keys, overlays, the key map's commands), `command_line` (`:`
//! commands), `actions` (asking for, confirming and running actions), `data` (collector
//! data, post-deploy verification) and `history` (the alarm detail view's history).

use std::collections::VecDeque;

use crossterm::event::KeyEvent;
use time::OffsetDateTime;

use crate::actions::audit::AuditRecord;
use crate::actions::{ActionEvent, ActionRequest};
use crate::domain::window::Window;
use crate::model::{AlarmHistory, CollectorError};
use crate::model::{
    AlarmsData, CanaryData, CloudFrontData, DataEvent, HealthData, Identity, LambdaData,
    PanelState, RedisData, Source, SseEventObs, SseProbeData,
};

use super::keys::KeyMap;

mod actions;
mod command_line;
mod data;
mod history;
mod keys;

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
    /// The cost view (`$`, `:cost`): the breakdown and the what-ifs, scrolled `scroll` lines.
    Cost {
        scroll: u16,
    },
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
    /// The site's index.html and its assets (shown in the Deployment panel).
    pub frontend: PanelState<crate::domain::frontend::FrontendData>,
    /// The monthly cost (a line in the Deployment panel, the cost view).
    pub cost: PanelState<crate::domain::cost_document::CostDocument>,
    /// User files: the config's judgement, the files bucket's usage (Deployment panel).
    pub files: PanelState<crate::domain::files::FilesData>,
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
            frontend: PanelState::Loading,
            cost: PanelState::Loading,
            files: PanelState::Loading,
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

/// A selection that follows the last item as the list grows (SSE timeline, activity).
pub(crate) const FOLLOW: usize = usize::MAX;

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
    /// A note from whoever opened the console (the sandbox: a child of it died), for the
    /// Activity panel and the status line.
    Note(String),
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
    effects.extend(history::follow_alarm_history(app));
    effects
}

fn update_inner(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(k) => keys::on_key(app, k),
        Action::Data(d) => data::on_data(app, d),
        Action::Job(j) => actions::on_job(app, j),
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
        } => history::on_alarm_history(app, alarm, region, result),
        Action::Note(line) => {
            app.push_activity(line.clone());
            app.set_status(line);
            Vec::new()
        }
    }
}
