//! What is drawn over the grid, one file each: the help, the confirm popup, the `:` command
//! line and the detail view of the focused panel's row. (The `/` filter prompt lives in the
//! footer.)

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};

use super::app::{App, Overlay};
use super::theme::Theme;

mod command_line;
mod confirm;
pub(crate) mod cost;
mod detail;
mod help;

/// Draws the open overlay, if any: the help over the whole `screen`, the others over the grid
/// (`body`).
pub(crate) fn render(f: &mut Frame, screen: Rect, body: Rect, app: &App, theme: Theme) {
    match &app.overlay {
        Some(Overlay::Help) => help::render(f, screen, app, theme),
        Some(Overlay::Confirm(c)) => confirm::render(f, body, c, theme),
        Some(Overlay::CommandLine { input, error }) => {
            command_line::render(f, body, app, input, error.as_deref(), theme)
        }
        Some(Overlay::Detail) => detail::render(f, body, app, theme),
        Some(Overlay::Cost { scroll }) => cost::render(f, body, app, *scroll, theme),
        Some(Overlay::Filter) | None => {}
    }
}

/// A `w` x `h` box centred in `area` (shrunk to fit).
fn popup(area: Rect, w: u16, h: u16) -> Rect {
    area.centered(
        Constraint::Length(w.min(area.width)),
        Constraint::Length(h.min(area.height)),
    )
}
