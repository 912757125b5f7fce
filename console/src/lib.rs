//! opsconsole: the data layer, the TUI and the sandbox of the LibreChat serverless console.
//!
//! Layout (one owner each; see docs/contracts.md for the interfaces between the parts):
//! - `cli`, `context`, `model`: command line, the per-run context, the data every panel shows.
//! - data layer: outputs loading, the AWS loader, collectors, pure domain logic, `probe`.
//! - `tui`: the terminal UI (App state, Action, update, render per panel).
//! - `sandbox`: the local stand-in of the deployment.

pub mod actions;
pub mod aws;
pub mod cli;
pub mod collectors;
pub mod config;
pub mod context;
pub mod domain;
pub mod model;
pub mod outputs;
pub mod probe;
pub mod sandbox;
pub mod testsupport;
pub mod tui;
