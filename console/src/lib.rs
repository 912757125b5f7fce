//! opsconsole: the data layer and the TUI of the LibreChat serverless console (the sandbox and
//! the test support are crates of their own that depend on this one).
//!
//! Layout (one owner each; see docs/contracts.md for the interfaces between the parts):
//! - `cli`, `context`, `model`: command line, the per-run context, the data every panel shows.
//! - data layer: outputs loading, the AWS loader, collectors, pure domain logic, `probe`.
//! - `tui`: the terminal UI (App state, Action, update, one file per panel and per overlay).

pub mod actions;
pub mod aws;
pub mod bundle;
pub mod cli;
pub mod collectors;
pub mod config;
pub mod context;
pub mod cost;
pub mod cost_billed;
pub mod cost_refresh;
pub mod domain;
pub mod init;
pub mod leftovers;
pub mod model;
pub mod outputs;
pub mod probe;
pub mod probe_multi;
pub mod tui;
