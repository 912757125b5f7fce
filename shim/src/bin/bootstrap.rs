//! `bootstrap`: the Lambda container entry point (see shim/README.md).

use shim::app::App;
use shim::settings::{RuntimeFlavor, Settings};
use std::time::Instant;
use tokio::signal::unix::{SignalKind, signal};

fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    shim::init_logging();
    // One thread by default (SHIM_WORKER_THREADS): see shim/README.md "Benchmark".
    let flavor = match RuntimeFlavor::from_env() {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "invalid settings");
            return Err(e.into());
        }
    };
    flavor.build()?.block_on(run(started, flavor))
}

async fn run(started: Instant, flavor: RuntimeFlavor) -> Result<(), lambda_runtime::Error> {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "invalid settings");
            return Err(e.into());
        }
    };
    // Large bodies (a base64 event of a few MiB, its decoded copy) are mmapped and handed back
    // to the kernel when freed. A fixed threshold turns off glibc's dynamic one, which after the
    // first large free serves such buffers from the heap and keeps them. Measured side by side
    // by the overhead bench (shim/README.md).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if let Ok(kb) = i32::try_from(settings.mmap_threshold_kb)
        && kb > 0
    {
        // SAFETY: mallopt only sets an allocator parameter (under glibc's own lock).
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, kb.saturating_mul(1024)) };
        if set != 1 {
            tracing::warn!(
                kb,
                "SHIM_MMAP_THRESHOLD_KB not accepted by glibc (at most 32768)"
            );
        }
    }
    // Lambda sends SIGTERM before it shuts an environment down (when extensions are
    // registered); SIGINT is Ctrl-C in a local run. Both stop LibreChat gracefully.
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let stop = async {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    };
    tokio::pin!(stop);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), runtime = ?flavor, "shim starting");
    let app = tokio::select! {
        app = App::cold_start(settings, started) => app,
        sig = &mut stop => {
            // LibreChat (if already spawned) gets SIGKILL from the kernel as the shim exits
            // (PR_SET_PDEATHSIG): there is no App to stop it more gently yet.
            tracing::info!(signal = sig, "shutting down during init");
            return Ok(());
        }
    };
    tracing::info!(
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        "init phase done"
    );
    if app.settings.release_init_memory {
        let r = shim::memory::release_after_init();
        tracing::info!(
            paged_out_kb = r.paged_out_bytes / 1024,
            rss_before_kb = r.rss_before_kb,
            rss_after_kb = r.rss_after_kb,
            skipped = r.skipped,
            "init memory released"
        );
    }
    let handler_app = app.clone();
    let serve = async {
        if std::env::var("SHIM_RUNTIME_LOOP").as_deref() == Ok("lambda_runtime") {
            // lambda_runtime's own loop (its Runtime API connection has Nagle on: ~40 ms per
            // response).
            lambda_runtime::run(lambda_runtime::service_fn(move |ev| {
                handler_app.clone().handle(ev)
            }))
            .await
        } else {
            let settle_app = app.clone();
            shim::runtime_loop::run_settling(
                move |ev| handler_app.clone().handle_stream(ev),
                move |deadline_ms| {
                    let app = settle_app.clone();
                    async move {
                        app.clone().settle_pending(deadline_ms).await;
                        app.exit_if_recycling();
                    }
                },
            )
            .await
        }
    };
    let result = tokio::select! {
        r = serve => r,
        sig = &mut stop => {
            app.terminate(sig).await;
            Ok(())
        }
    };
    if let Err(e) = &result {
        // The process exits 1 and Lambda starts a new environment: say why in the JSON log.
        tracing::error!(error = %e, "Runtime API loop failed; exiting");
    }
    app.shutdown();
    result
}
