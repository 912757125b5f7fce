//! The terminal UI. Entry point: [`run`].
//!
//! Structure (after gitui and the ratatui component template): one [`app::App`] state, an
//! [`app::Action`] enum, the pure [`app::update`] returning [`app::Effect`]s, and pure render
//! functions per panel in [`render`]. This module owns the terminal (raw mode, alternate
//! screen, a panic hook that restores it) and the event loop: it redraws on events and on a
//! 1 s tick (ages), never awaits the network while drawing, and carries out the effects.

pub mod app;
pub mod command;
pub mod keys;
pub mod render;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::actions::{self, ActionEnv, ActionEvent};
use crate::context::Context;
use crate::model::DataEvent;

use app::{Action, App, Effect, OutputRow};

/// Env var: when set, the time (Unix nanoseconds) right after the first frame is drawn is
/// written to this file (used by the start-up benchmark).
pub const FIRST_FRAME_ENV: &str = "OPSCONSOLE_FIRST_FRAME_FILE";

/// Restores the terminal when dropped (normal return, error or unwinding).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// The repository root (the directory with `scripts/bootstrap.sh`), from `OPSCONSOLE_REPO`,
/// else the current directory and its parents, else the executable's ancestors.
pub fn repo_root() -> Option<PathBuf> {
    if let Some(r) = std::env::var_os("OPSCONSOLE_REPO") {
        return Some(PathBuf::from(r));
    }
    let is_root = |p: &Path| p.join("scripts/bootstrap.sh").is_file();
    let from_cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.ancestors().find(|p| is_root(p)).map(Path::to_path_buf));
    from_cwd.or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|e| e.ancestors().find(|p| is_root(p)).map(Path::to_path_buf))
    })
}

/// The environments under `infrastructure/terraform/environments` (for `:env` completion).
pub fn list_envs(root: &Path) -> Vec<String> {
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

/// Rows of a `terraform output -json` document, sensitive values masked, in name order.
pub fn output_rows(doc: &serde_json::Value) -> Result<Vec<OutputRow>, String> {
    let obj = doc
        .as_object()
        .ok_or_else(|| "outputs: expected a JSON object of outputs".to_string())?;
    let mut rows: Vec<OutputRow> = obj
        .iter()
        .map(|(name, o)| {
            let sensitive = o
                .get("sensitive")
                .and_then(|s| s.as_bool())
                .unwrap_or(false);
            let value = if sensitive {
                "(sensitive)".to_string()
            } else {
                match o.get("value") {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Array(a)) => format!("[{} items]", a.len()),
                    Some(v) => v.to_string(),
                    None => "(no value)".into(),
                }
            };
            OutputRow {
                name: name.clone(),
                value,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

fn output_str(doc: &serde_json::Value, name: &str) -> Option<String> {
    doc.get(name)?.get("value")?.as_str().map(str::to_string)
}

/// The `[keys]` of the config file (`--config`, else `$XDG_CONFIG_HOME/opsconsole/config.toml`).
fn load_keymap(ctx: &Context) -> Result<keys::KeyMap, String> {
    let path = ctx.global.config.clone().or_else(|| {
        std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().join(".config")))
            .map(|d| d.join("opsconsole/config.toml"))
    });
    match path {
        Some(p) if p.is_file() => {
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            keys::KeyMap::from_config_text(&text).map_err(|e| format!("{}: {e}", p.display()))
        }
        _ => Ok(keys::KeyMap::default()),
    }
}

/// The app's initial state from the context (no network).
fn initial_app(
    ctx: &Context,
    outputs: &Result<serde_json::Value, String>,
    root: Option<&Path>,
) -> App {
    let mut app = App::new(&ctx.env, ctx.read_only, OffsetDateTime::now_utc());
    app.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    app.outputs = outputs.as_ref().map_err(Clone::clone).and_then(output_rows);
    app.region = ctx
        .global
        .region
        .clone()
        .or_else(|| outputs.as_ref().ok().and_then(|d| output_str(d, "region")));
    if let Some(root) = root {
        app.envs = list_envs(root);
    }
    match load_keymap(ctx) {
        Ok(km) => app.keymap = km,
        Err(e) => app.status = Some(format!("keys: {e} (defaults used)")),
    }
    app
}

fn read_outputs(ctx: &Context, root: Option<&Path>) -> Result<serde_json::Value, String> {
    let path = match &ctx.global.outputs {
        Some(p) => p.clone(),
        None => {
            let Some(root) = root else {
                return Err("no --outputs FILE and no repository to run terraform in".into());
            };
            let cached = root
                .join("infrastructure/terraform/environments")
                .join(&ctx.env)
                .join("outputs.json");
            if !cached.is_file() {
                return Err(format!(
                    "no outputs for {}: pass --outputs FILE (terraform output -json)",
                    ctx.env
                ));
            }
            cached
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The AWS side of the actions (clients pointed at the endpoint override, if any).
async fn action_env(
    ctx: &Context,
    outputs: &Result<serde_json::Value, String>,
    root: Option<&Path>,
) -> ActionEnv {
    let root_path = root
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut env = ActionEnv::new(&ctx.env, &root_path);
    let doc = outputs.as_ref().ok();
    let region = ctx
        .global
        .region
        .clone()
        .or_else(|| doc.and_then(|d| output_str(d, "region")));
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &ctx.global.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r));
    }
    if let Some(u) = &ctx.global.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let sdk = loader.load().await;
    // CloudFront is global (us-east-1).
    let cf_conf = aws_sdk_cloudfront::config::Builder::from(&sdk)
        .region(aws_config::Region::new("us-east-1"))
        .build();
    env.cloudfront = Some(aws_sdk_cloudfront::Client::from_conf(cf_conf));
    env.lambda = Some(aws_sdk_lambda::Client::new(&sdk));
    if let Some(d) = doc {
        env.distribution_id = output_str(d, "cloudfront_distribution_id");
        env.function_name = output_str(d, "lambda_function_name");
        env.ecr_repository_url = output_str(d, "ecr_repository_url");
    }
    if let Some(s) = std::env::var_os("OPSCONSOLE_POLL_MS").and_then(|v| v.into_string().ok()) {
        if let Ok(ms) = s.parse::<u64>() {
            env.poll_interval = Duration::from_millis(ms.max(10));
        }
    }
    env
}

/// Opens the full-screen console on `ctx` and returns when the user quits.
pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()> {
    let root = repo_root();
    let outputs = read_outputs(&ctx, root.as_deref());
    let mut app = initial_app(&ctx, &outputs, root.as_deref());

    let mut terminal = ratatui::try_init()?;
    let _guard = TerminalGuard;
    terminal.draw(|f| render::render(f, &app))?;
    if let Some(p) = std::env::var_os(FIRST_FRAME_ENV) {
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos();
        let _ = std::fs::write(p, now.to_string());
    }

    let action_env = Arc::new(action_env(&ctx, &outputs, root.as_deref()).await);
    let (_data_tx, data_rx) = mpsc::channel::<DataEvent>(256);
    event_loop(&mut terminal, &mut app, action_env, data_rx).await
}

async fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    action_env: Arc<ActionEnv>,
    mut data_rx: mpsc::Receiver<DataEvent>,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut events = EventStream::new();
    let (job_tx, mut job_rx) = mpsc::unbounded_channel::<ActionEvent>();
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
            _ = tick.tick() => Action::Tick,
        };
        app.now = OffsetDateTime::now_utc();
        let effects = app::update(app, action);
        dirty = true;
        for effect in effects {
            match effect {
                Effect::Refresh(_) | Effect::RerunProbe => {
                    // Wired to the collectors' handle once they exist.
                }
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
                Effect::SwitchEnv(name) => {
                    app.status = Some(format!(
                        "switching environment in place is not supported yet: restart with `opsconsole {name}`"
                    ));
                }
            }
        }
        if app.should_quit {
            break;
        }
    }
    // Quitting with an action running (confirmed): cancel it and give it a moment to stop.
    if let Some((token, handle)) = running {
        token.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(3), handle).await;
    }
    Ok(())
}
