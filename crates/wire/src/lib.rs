//! The contract between the shim and the console (docs/contracts.md sections 2 and 3), written
//! once and used by both sides and by the test stand-ins:
//! - [`TOKEN_HEADER`], [`STATUS_PATH`], [`SSE_PATH`], [`HEALTH_PATH`];
//! - [`status`]: the `GET /api/__shim/status` document as serde types;
//! - [`sse`]: the diagnostics stream's query, its `probe` and `done` frames (writer and parser);
//! - [`emf`]: the namespace, dimension, metric and event names of the shim's EMF lines.
//!
//! Dependencies: serde and serde_json only.

pub mod canary;
pub mod emf;
pub mod sse;
pub mod status;

/// The header that carries the diagnostics token. Without it (or with a wrong value) a request
/// to a diagnostics path is proxied to LibreChat like any other.
pub const TOKEN_HEADER: &str = "x-opsconsole-token";
/// The shim's status document (JSON, [`status::ShimStatus`]).
pub const STATUS_PATH: &str = "/api/__shim/status";
/// The shim's diagnostics SSE stream ([`sse`]).
pub const SSE_PATH: &str = "/api/__shim/sse";
/// LibreChat's health endpoint, proxied by the shim (the console's health check).
pub const HEALTH_PATH: &str = "/api/health";
