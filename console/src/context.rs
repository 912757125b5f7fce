//! Everything a run needs about one environment: its name, outputs, AWS clients and settings.
//! Built once at start-up by the data layer; shared read-only (Arc) by collectors, TUI and probe.

/// Owned by the data layer; the fields here are the start, extend as needed.
#[derive(Debug, Clone)]
pub struct Context {
    pub env: String,
    pub read_only: bool,
    pub global: crate::cli::GlobalOpts,
}
