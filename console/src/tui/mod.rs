//! The terminal UI. Entry point: [`run`].

use std::sync::Arc;

use crate::context::Context;

/// Opens the full-screen console on `ctx` and returns when the user quits.
pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()> {
    anyhow::bail!("the TUI for {} is not built yet", ctx.env)
}
