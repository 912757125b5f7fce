//! The shim's integration tests: one test binary (linking the AWS SDKs once), one module per
//! area. Run one area with a filter, e.g. `cargo test -p shim --test it proxy::`.
//!
//! Real peers on loopback: the real `bootstrap` under cargo-lambda's Runtime API, moto, the Node
//! LibreChat stand-in, httpbin, redis-server, and (the real-LibreChat tier) LibreChat itself.

// Test code: a failed step is a failing test with its message (clippy.toml allows this in
// #[test] functions; the helpers here are test code too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod coldstart;
mod dockerfile;
mod event_props;
mod failures;
mod files;
mod init_step;
mod proxy;
mod real_database;
mod real_librechat;
mod web_chat;
