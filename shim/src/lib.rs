//! shim: the Lambda container entry point for LibreChat.
//!
//! Library parts: event -> HTTP translation ([`event`]), HTTP -> streaming response ([`response`]),
//! readiness ([`readiness`]), cold start ([`coldstart`], run by `shim-init` through [`init_step`]), EMF metrics ([`emf`]), diagnostics
//! ([`diag`]), the child process ([`child`]) and the runtime glue ([`app`]).

pub mod app;
pub mod child;
pub mod coldstart;
pub mod credentials;
pub mod diag;
pub(crate) mod emf;
pub mod event;
pub mod init_step;
pub mod memory;
pub mod mongo;
pub mod pending;
pub mod quickack;
pub mod readiness;
pub mod response;
pub mod runtime_loop;
pub mod settings;

/// JSON log lines on stdout (level from `RUST_LOG`, default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}
