//! The `opsconsole-sandbox` command: its arguments, [`run`] (start, open the TUI, stop on exit
//! or a signal) and the console context it opens on the sandbox.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use opsconsole::cli::GlobalOpts;

use crate::fault::fault_help;
use crate::tools::which;
use crate::{
    BROWSER_CONCURRENCY, ENV, Fault, LambdaSettings, PANIC_HOOK_ENV, REGION, SandboxInfo, frontend,
    librechat, start_lambda,
};

/// `opsconsole-sandbox [--fault NAME] [--no-tui]`, with the console's global options.
#[derive(Debug, Parser)]
#[command(
    name = "opsconsole-sandbox",
    version,
    about = "Start a local stand-in of the whole deployment and open the console on it"
)]
pub struct SandboxArgs {
    #[command(flatten)]
    pub global: GlobalOpts,

    /// Start the sandbox broken in one way (see `--fault help`).
    #[arg(long, value_name = "NAME")]
    pub fault: Option<String>,

    /// Keep the sandbox up without opening the TUI (prints its outputs file and endpoints).
    #[arg(long)]
    pub no_tui: bool,

    /// Run this LibreChat tree (its api/server/index.js, with node_modules) as the shim's child
    /// instead of the stand-in, with a MongoDB, the fake model, and a seeded user, agent and
    /// API key; the SSE probe then streams a real chat (docs/sandbox.md).
    #[arg(long, value_name = "DIR")]
    pub librechat: Option<PathBuf>,

    /// With --librechat: the nx-27017 to start (default: LIBRECHAT_NX, else
    /// <DIR>/../nx-venv/bin/nx-27017).
    #[arg(
        long,
        value_name = "PATH",
        requires = "librechat",
        conflicts_with = "mongo_uri"
    )]
    pub nx: Option<PathBuf>,

    /// With --librechat: a running MongoDB instead of nx-27017.
    #[arg(long, value_name = "URI", requires = "librechat")]
    pub mongo_uri: Option<String>,

    /// Execution environments the local Lambda may run at once (the function's concurrency;
    /// a web chat needs two: one generating, one streaming). Default 4; 10 with `--librechat`
    /// and its web client installed (a browser sends up to six API calls at once, and the next
    /// as soon as a response ends: past the limit a call is throttled, answered 500).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub lambda_envs: Option<u16>,

    /// Give each environment the CPU share and memory limit of the function's memory
    /// (1,769 MB = one vCPU), where cgroups are writable.
    #[arg(long)]
    pub lambda_limits: bool,
}

/// Starts the sandbox, opens the TUI on it (unless `--no-tui`), and stops everything on exit.
pub async fn run(args: &SandboxArgs) -> anyhow::Result<ExitCode> {
    let global = &args.global;
    let fault = match args.fault.as_deref() {
        None => None,
        Some("help") => {
            print!("{}", fault_help());
            return Ok(ExitCode::SUCCESS);
        }
        Some(name) => match Fault::parse(name) {
            Some(f) => Some(f),
            None => bail!("unknown fault `{name}`\n{}", fault_help()),
        },
    };
    let lc_spec = match &args.librechat {
        None => None,
        Some(d) => {
            if fault == Some(Fault::LibrechatDown) {
                bail!(
                    "--fault librechat-down makes the stand-in unhealthy; with --librechat there is no stand-in\n  fix: leave one of the two out"
                );
            }
            let env_nx = std::env::var_os("LIBRECHAT_NX").map(PathBuf::from);
            let mut spec = librechat::check(
                d,
                args.nx.as_deref(),
                env_nx.as_deref(),
                args.mongo_uri.as_deref(),
                which("node").is_some(),
            )?;
            spec.dir = spec.dir.canonicalize().unwrap_or(spec.dir);
            Some(spec)
        }
    };
    if args.no_tui {
        // The sandbox's own events (a shim restarted, an invocation that failed) on stderr;
        // with the TUI they would draw over the screen.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("error,opsconsole=info,opsconsole_sandbox=info")
        });
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
    }
    let mut signals = StopSignals::install()?;
    // A signal during start-up drops the half-started sandbox, which stops what already runs.
    let root = opsconsole_proc::repo::find(global.repo.as_deref())?;
    let mut sandbox = tokio::select! {
        s = start_lambda(&root, fault, lc_spec.as_ref(), LambdaSettings {
            envs: usize::from(args.lambda_envs.unwrap_or(
                if lc_spec.as_ref().is_some_and(|s| frontend::client_dist(&s.dir).is_some()) {
                    BROWSER_CONCURRENCY
                } else {
                    4
                },
            )),
            limits: args.lambda_limits,
            extra_env: vec![],
            // A person opens the web client: its sidebar shows generated titles.
            titles: lc_spec.as_ref().is_some_and(|s| frontend::client_dist(&s.dir).is_some()),
        }) => s?,
        r = signals.recv() => {
            r?;
            eprintln!("opsconsole-sandbox: interrupted during start-up; stopped");
            return Ok(ExitCode::from(130));
        }
    };
    let info = sandbox.info.clone();
    // A child that dies is reaped and said: on stderr, or in the console's Activity panel.
    let mut deaths = sandbox.take_deaths();
    let (note_tx, notes) = tokio::sync::mpsc::unbounded_channel::<String>();
    let no_tui = args.no_tui;
    let _reports = tokio::spawn(async move {
        while let Some(d) = match deaths.as_mut() {
            Some(rx) => rx.recv().await,
            None => None,
        } {
            if no_tui {
                eprintln!("opsconsole-sandbox: {}", d.line());
            } else {
                let _ = note_tx.send(d.line());
            }
        }
    });
    if args.no_tui {
        println!(
            "opsconsole-sandbox is up (fault: {}; LibreChat: {})",
            fault.map(Fault::name).unwrap_or("none"),
            if info.librechat.is_some() {
                "real"
            } else {
                "stand-in"
            }
        );
        print!("{}", info.describe());
        println!("  probe:     {}", info.probe_command());
        println!("Ctrl-C stops the sandbox.");
        if let Some(trigger) = std::env::var_os(PANIC_HOOK_ENV).map(PathBuf::from) {
            tokio::select! {
                _ = async {
                    while !trigger.exists() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                } => panic!("{PANIC_HOOK_ENV}: {} appeared; panicking with the sandbox up (test of the cleanup)", trigger.display()),
                r = signals.recv() => r?,
            }
        } else {
            signals.recv().await?;
        }
        eprintln!("opsconsole-sandbox: stopping");
        drop(sandbox);
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("opsconsole-sandbox is up:\n{}", info.describe());
    let result = tokio::select! {
        r = open_console(global, &info, notes) => r,
        r = signals.recv() => r,
    };
    drop(sandbox);
    result.map(|()| ExitCode::SUCCESS)
}

/// SIGINT (Ctrl-C), SIGTERM and SIGHUP, listened to from the start so that a signal arriving
/// at any point stops the sandbox cleanly.
pub(crate) struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            hup: signal(SignalKind::hangup()).context("installing the SIGHUP handler")?,
        })
    }

    async fn recv(&mut self) -> anyhow::Result<()> {
        tokio::select! {
            _ = self.int.recv() => {},
            _ = self.term.recv() => {},
            _ = self.hup.recv() => {},
        }
        Ok(())
    }
}

/// The console's context on the sandbox: its outputs, moto as the endpoint (moto's dummy
/// credentials), the diagnostics token, and the config file's settings (if any) otherwise.
pub(crate) async fn console_context(
    global: &GlobalOpts,
    info: &SandboxInfo,
) -> anyhow::Result<opsconsole::context::Context> {
    let mut g = global.clone();
    g.outputs = Some(info.outputs.clone());
    g.endpoint_url = Some(info.moto_url.clone());
    g.region = Some(REGION.into());
    let (file, path) = opsconsole::config::ConfigFile::load(g.config.as_deref())?;
    let mut settings = file.resolve(ENV, &g);
    settings.config_path = path;
    settings.token = Some(opsconsole::config::TokenSource::Literal(
        info.diagnostics_token.clone(),
    ));
    if let Some(l) = &info.librechat {
        // The SSE panel streams a real chat as the web UI does (the seeded user, its password
        // from SSM in moto); the chat mode (its API key from SSM) is configured beside it.
        settings.web_agent = Some(l.agent_id.clone());
        settings.web_email = Some(librechat::USER_EMAIL.to_string());
        settings.web_password = Some(opsconsole::config::TokenSource::Ssm(
            l.password_parameter.clone(),
        ));
        settings.web_prompt = librechat::CHAT_PROMPT.to_string();
        settings.chat_agent = Some(l.agent_id.clone());
        settings.chat_key = Some(opsconsole::config::TokenSource::Ssm(
            l.key_parameter.clone(),
        ));
        settings.chat_prompt = librechat::CHAT_PROMPT.to_string();
        settings.cold_start_p95_ms = librechat::COLD_START_P95_MS;
    }
    let outputs = opsconsole::outputs::Outputs::from_file(&info.outputs)?;
    let aws = opsconsole::aws::AwsClients::load(&opsconsole::aws::AwsOptions {
        profile: None,
        region: Some(REGION.into()),
        endpoint_url: Some(info.moto_url.clone()),
        max_attempts: Some(1),
        static_credentials: Some(("testing".into(), "testing".into())),
        operation_timeout: Some(settings.timeout),
    })
    .await;
    Ok(opsconsole::context::Context::from_parts(ENV, &g, settings, outputs, aws).await)
}

/// Opens the TUI on environment `sandbox`.
pub(crate) async fn open_console(
    global: &GlobalOpts,
    info: &SandboxInfo,
    notes: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> anyhow::Result<()> {
    let ctx = console_context(global, info).await?;
    opsconsole::tui::run_with_notes(std::sync::Arc::new(ctx), Some(notes)).await
}
