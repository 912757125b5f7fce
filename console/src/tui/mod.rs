//! The terminal UI. Entry point: [`run`].
//!
//! Structure (after gitui and the ratatui component template): one [`app::App`] state, an
//! [`app::Action`] enum, the pure [`app::update`] returning [`app::Effect`]s, and pure
//! rendering: [`render`] draws the header, the grid of panels built from
//! [`app::Panel::ALL`] (one file per panel under `panels/`: its render, rows and detail view),
//! the footer and the overlays (one file each under `overlays/`); `theme` holds the colours.
//! This module owns the terminal (raw mode, alternate screen, a panic hook that restores it)
//! and the event loop: it redraws on events and on a 1 s tick (ages), never awaits the network
//! while drawing, and carries out the effects.

pub mod app;
pub mod charts;
mod command;
pub mod keys;
pub mod logs;
pub(crate) mod overlays;
mod panels;
pub mod render;
mod theme;

/// The `:` commands the command line completes (and the help lists), in their order; `env `
/// takes an environment name.
pub fn command_names() -> &'static [&'static str] {
    &command::COMMANDS
}

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::actions::{self, ActionEnv, ActionEvent};
use crate::collectors::{self, CollectorHandle};
use crate::context::Context;
use crate::domain::window::Window;
use crate::model::DataEvent;

use app::{Action, App, Effect, OutputRow};

/// Env var: when set, the time (Unix nanoseconds) right after the first frame is drawn is
/// written to this file (used by the start-up benchmark).
pub(crate) const FIRST_FRAME_ENV: &str = "OPSCONSOLE_FIRST_FRAME_FILE";

/// The original stderr while the TUI runs (-1 when not redirected).
static SAVED_STDERR: AtomicI32 = AtomicI32::new(-1);

/// Env var for the end-to-end test of panic handling: `main` panics on the UI thread after
/// the first frame, `task` in a background task.
pub(crate) const TEST_PANIC_ENV: &str = "OPSCONSOLE_TEST_PANIC";

/// Puts stderr back where it was (idempotent).
fn restore_stderr() {
    let saved = SAVED_STDERR.swap(-1, Ordering::SeqCst);
    if saved >= 0 {
        // SAFETY: `saved` is a descriptor we dup'ed and own; 2 is stderr.
        unsafe {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
    }
}

/// While the TUI runs, anything written to stderr (SDK warnings, a background task's panic)
/// would be drawn over the screen: when stderr is a terminal, it goes to
/// `STATE_DIR/tui.log` instead, and is put back on exit.
fn redirect_stderr() -> Option<PathBuf> {
    // SAFETY: isatty only inspects the descriptor.
    if unsafe { libc::isatty(2) } != 1 {
        return None;
    }
    let dir = actions::audit::state_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("tui.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    use std::os::fd::AsRawFd;
    // SAFETY: plain descriptor duplication; `file` stays open until dup2 has copied it.
    unsafe {
        let saved = libc::dup(2);
        if saved < 0 {
            return None;
        }
        if libc::dup2(file.as_raw_fd(), 2) < 0 {
            libc::close(saved);
            return None;
        }
        SAVED_STDERR.store(saved, Ordering::SeqCst);
    }
    Some(path)
}

/// A panic on the UI thread ends the program: restore the terminal and stderr first, then
/// report it as usual. A panic on another thread is a background task's (tokio turns it into
/// an error for that task): the screen stays, and the message goes to the log (stderr, which
/// is redirected while the TUI runs).
fn install_panic_hook() {
    let ui_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            ratatui::restore();
            restore_stderr();
        }
        previous(info);
    }));
}

/// Restores the terminal and stderr when dropped (normal return, error or unwinding).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
        restore_stderr();
    }
}

/// The environments under `infrastructure/terraform/environments` (for `:env` completion).
pub(crate) fn list_envs(root: &Path) -> Vec<String> {
    let mut envs: Vec<String> =
        std::fs::read_dir(root.join("infrastructure/terraform/environments"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_dir())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
    envs.sort();
    envs
}

/// The key map: the `[keys]` table of the config file, and `keys.toml` beside it (same format,
/// `[keys]` table; it wins). Default location: `$XDG_CONFIG_HOME/opsconsole/`.
fn load_keymap(ctx: &Context) -> Result<keys::KeyMap, String> {
    let config = ctx
        .settings
        .config_path
        .clone()
        .or_else(|| ctx.global.config.clone())
        .or_else(|| {
            std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().join(".config")))
                .map(|d| d.join("opsconsole/config.toml"))
        });
    let Some(config) = config else {
        return Ok(keys::KeyMap::default());
    };
    let keys_file = config.with_file_name("keys.toml");
    let mut km = keys::KeyMap::default();
    for p in [config, keys_file] {
        if !p.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let doc: toml::Table = text.parse().map_err(|e| format!("{}: {e}", p.display()))?;
        if let Some(t) = doc.get("keys").and_then(|v| v.as_table()) {
            km.apply_config(t)
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    Ok(km)
}

/// The app's initial state from the context (no network).
pub(crate) fn initial_app(ctx: &Context) -> App {
    let mut app = App::new(&ctx.env, ctx.read_only, OffsetDateTime::now_utc());
    app.window = Window::covering(ctx.settings.lambda_window_minutes);
    app.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    app.outputs = Ok(ctx
        .outputs
        .display_rows()
        .into_iter()
        .map(|(name, value)| OutputRow { name, value })
        .collect());
    app.region = ctx
        .global
        .region
        .clone()
        .or_else(|| Some(ctx.outputs.region.clone()));
    if let Ok(root) = &ctx.repo {
        app.envs = list_envs(root);
    }
    match load_keymap(ctx) {
        Ok(km) => app.keymap = km,
        Err(e) => app.set_status(format!("keys: {e} (defaults used)")),
    }
    app
}

/// The actions' view of the context: clients, names from the outputs, paths in the repo (the
/// actions that need the checkout fail with the reason when there is none).
pub(crate) fn action_env(ctx: &Context) -> ActionEnv {
    let mut env = match &ctx.repo {
        Ok(root) => ActionEnv::new(&ctx.env, root),
        Err(e) => {
            let mut env = ActionEnv::new(&ctx.env, Path::new("."));
            env.repo_error = Some(e.clone());
            env
        }
    };
    env.cloudfront = Some(ctx.aws.cloudfront.clone());
    env.lambda = Some(ctx.aws.lambda.clone());
    env.distribution_id = Some(ctx.outputs.cloudfront_distribution_id.clone());
    env.function_name = Some(ctx.outputs.lambda_function_name.clone());
    env.ecr_repository_url = ctx.outputs.ecr_repository_url.clone();
    if let Some(ms) = std::env::var("OPSCONSOLE_POLL_MS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        env.poll_interval = Duration::from_millis(ms.max(10));
    }
    env
}

/// Opens the full-screen console on `ctx` and returns when the user quits.
pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()> {
    run_with_notes(ctx, None).await
}

/// [`run`], with `notes` from the caller shown in the Activity panel as they come (the
/// sandbox's: a child of it that died).
pub async fn run_with_notes(
    ctx: Arc<Context>,
    notes: Option<mpsc::UnboundedReceiver<String>>,
) -> anyhow::Result<()> {
    let mut app = initial_app(&ctx);

    // Raw mode and the alternate screen by hand (not ratatui::init, whose panic hook would
    // restore the terminal on a background task's panic too, under a running UI).
    install_panic_hook();
    crossterm::terminal::enable_raw_mode()?;
    let _guard = TerminalGuard;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    let mut terminal = Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
    let log = redirect_stderr();
    terminal.draw(|f| render::render(f, &app))?;
    if let Some(p) = std::env::var_os(FIRST_FRAME_ENV) {
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos();
        let _ = std::fs::write(p, now.to_string());
    }
    if let Some(log) = &log {
        app.push_activity(format!("diagnostics go to {}", log.display()));
    }
    match std::env::var(TEST_PANIC_ENV).as_deref() {
        Ok("main") => panic!("test panic on the UI thread ({TEST_PANIC_ENV}=main)"),
        Ok("task") => {
            tokio::spawn(async {
                panic!("test panic in a background task ({TEST_PANIC_ENV}=task)")
            });
        }
        _ => {}
    }
    event_loop(&mut terminal, &mut app, ctx, notes).await
}

/// The next note, or never when there are none.
async fn next_note(notes: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match notes {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Fetches one alarm's history off the event loop (the fetch is bounded by the context's
/// timeout) and sends the answer back as an [`Action::AlarmHistory`]; a panic in the fetch
/// comes back as an error too, so the view never stays on "loading".
fn spawn_alarm_history(
    ctx: Arc<Context>,
    alarm: String,
    region: String,
    tx: mpsc::UnboundedSender<Action>,
) {
    tokio::spawn(async move {
        let (a, r) = (alarm.clone(), region.clone());
        let fetch = tokio::spawn(async move { collectors::aws::alarm_history(&ctx, &a, &r).await });
        let result = fetch.await.unwrap_or_else(|e| {
            Err(crate::model::CollectorError {
                kind: crate::model::ErrorKind::Other,
                message: format!("the alarm history fetch crashed: {e}"),
                fix: None,
            })
        });
        let _ = tx.send(Action::AlarmHistory {
            alarm,
            region,
            result,
        });
    });
}

/// Writes the support bundle off the event loop and sends the outcome back as an
/// [`Action::Bundle`] (a panic in it comes back as a failure too).
fn spawn_bundle(
    ctx: Arc<Context>,
    window: Window,
    out: std::path::PathBuf,
    tx: mpsc::UnboundedSender<Action>,
) {
    tokio::spawn(async move {
        let job = tokio::spawn(crate::bundle::build(
            ctx,
            window,
            crate::bundle::DEFAULT_LOG_LINES,
            out,
        ));
        let r = match job.await {
            Ok(Ok((path, status))) => Ok(format!("{} (probe: {status})", path.display())),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the bundle task crashed: {e}")),
        };
        let _ = tx.send(Action::Bundle(r));
    });
}

/// The collectors of one environment and the channel they send on.
fn start_collectors(
    ctx: &Arc<Context>,
    window: Window,
) -> (CollectorHandle, mpsc::Receiver<DataEvent>) {
    let (tx, rx) = mpsc::channel::<DataEvent>(256);
    (collectors::spawn_windowed(ctx.clone(), tx, window), rx)
}

/// The log group's follower (the logs view), looking back over the collectors' window.
fn start_logs(
    ctx: &Arc<Context>,
    collectors: &CollectorHandle,
    tx: mpsc::Sender<collectors::logs::LogsEvent>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(collectors::logs::run(
        ctx.clone(),
        tx,
        collectors.subscribe_window(),
    ))
}

async fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut ctx: Arc<Context>,
    mut notes: Option<mpsc::UnboundedReceiver<String>>,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let (mut collectors, mut data_rx) = start_collectors(&ctx, app.window);
    let (logs_tx, mut logs_rx) = mpsc::channel::<collectors::logs::LogsEvent>(64);
    let mut logs_task = start_logs(&ctx, &collectors, logs_tx.clone());
    let (charts_tx, mut charts_rx) = mpsc::channel(4);
    let charts_refresh = Arc::new(tokio::sync::Notify::new());
    let mut charts_task = tokio::spawn(collectors::series::run(
        ctx.clone(),
        charts_tx.clone(),
        collectors.subscribe_window(),
        charts_refresh.clone(),
    ));
    let mut action_env = Arc::new(action_env(&ctx));
    let (env_tx, mut env_rx) = mpsc::unbounded_channel::<Result<Context, String>>();
    let mut events = EventStream::new();
    let (job_tx, mut job_rx) = mpsc::unbounded_channel::<ActionEvent>();
    let (hist_tx, mut hist_rx) = mpsc::unbounded_channel::<Action>();
    let mut running: Option<(CancellationToken, tokio::task::JoinHandle<()>)> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|f| render::render(f, app))?;
            dirty = false;
        }
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Action::Key(k),
                Some(Ok(Event::Resize(w, h))) => Action::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            Some(d) = data_rx.recv() => Action::Data(d),
            Some(j) = job_rx.recv() => Action::Job(j),
            Some(h) = hist_rx.recv() => h,
            Some(n) = next_note(&mut notes) => Action::Note(n),
            Some(l) = logs_rx.recv() => Action::Logs(l),
            Some(c) = charts_rx.recv() => Action::Charts(c),
            Some(new_ctx) = env_rx.recv() => {
                match new_ctx {
                    Ok(new_ctx) => {
                        // A fresh state for the new environment; keys and NO_COLOR carry over.
                        let new_ctx = Arc::new(new_ctx);
                        let keymap = app.keymap.clone();
                        let window = app.window;
                        *app = initial_app(&new_ctx);
                        app.keymap = keymap;
                        app.window = window;
                        app.set_status(format!("switched to {}", new_ctx.env));
                        // Dropping the old handle stops the old environment's collectors.
                        let (c, rx) = start_collectors(&new_ctx, window);
                        collectors = c;
                        data_rx = rx;
                        logs_task.abort();
                        logs_task = start_logs(&new_ctx, &collectors, logs_tx.clone());
                        charts_task.abort();
                        charts_task = tokio::spawn(collectors::series::run(
                            new_ctx.clone(),
                            charts_tx.clone(),
                            collectors.subscribe_window(),
                            charts_refresh.clone(),
                        ));
                        action_env = Arc::new(self::action_env(&new_ctx));
                        ctx = new_ctx;
                    }
                    Err(e) => app.set_status(format!("cannot switch environment: {e}")),
                }
                dirty = true;
                continue;
            }
            _ = tick.tick() => Action::Tick,
        };
        app.now = OffsetDateTime::now_utc();
        let effects = app::update(app, action);
        dirty = true;
        for effect in effects {
            match effect {
                Effect::Refresh(None) => {
                    collectors.refresh_all();
                    charts_refresh.notify_one();
                }
                Effect::Refresh(Some(source)) => collectors.refresh(source),
                Effect::RerunProbe => collectors.rerun_sse(),
                Effect::SetWindow(w) => collectors.set_window(w),
                Effect::Start(req) => {
                    let token = CancellationToken::new();
                    let handle =
                        actions::spawn(action_env.clone(), req, job_tx.clone(), token.clone());
                    running = Some((token, handle));
                }
                Effect::CancelRunning => {
                    if let Some((token, _)) = &running {
                        token.cancel();
                    }
                }
                Effect::Audit(rec) => {
                    if let Err(e) = actions::audit::append(&rec) {
                        app.push_activity(format!("audit log: {e}"));
                    }
                }
                Effect::Discard(path) => {
                    let _ = std::fs::remove_file(path);
                }
                Effect::Bundle(out) => {
                    let out = out.unwrap_or_else(|| {
                        std::path::PathBuf::from(crate::domain::bundle::default_file_name(
                            &ctx.env,
                            OffsetDateTime::now_utc(),
                        ))
                    });
                    spawn_bundle(ctx.clone(), app.window, out, hist_tx.clone());
                }
                Effect::FetchAlarmHistory { alarm, region } => {
                    spawn_alarm_history(ctx.clone(), alarm, region, hist_tx.clone());
                }
                Effect::SwitchEnv(name) => {
                    // Built off the loop (it may run terraform or read S3); the screen stays live.
                    app.set_status(format!("loading environment {name}…"));
                    // `--outputs` named the first environment's file: not reused for another.
                    let mut global = ctx.global.clone();
                    global.outputs = None;
                    let tx = env_tx.clone();
                    tokio::spawn(async move {
                        let r = Context::build(&global, &name)
                            .await
                            .map_err(|e| e.to_string());
                        let _ = tx.send(r);
                    });
                }
            }
        }
        if app.should_quit {
            break;
        }
    }
    logs_task.abort();
    charts_task.abort();
    // Quitting with an action running (confirmed): cancel it and give it a moment to stop.
    if let Some((token, handle)) = running {
        token.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(3), handle).await;
    }
    Ok(())
}
