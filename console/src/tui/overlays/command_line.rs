//! The `:` command line at the bottom of the grid: the input, its error, and the completions
//! (parsing and completion: `tui::command`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::command::candidates;
use crate::tui::theme::Theme;

pub(super) fn render(
    f: &mut Frame,
    area: Rect,
    app: &App,
    input: &str,
    error: Option<&str>,
    theme: Theme,
) {
    let cands = candidates(input, &app.envs);
    let shown = cands.len().min(8) as u16;
    let h = 3 + shown + u16::from(error.is_some());
    let r = Rect {
        x: area.x + 2,
        y: area.y + area.height.saturating_sub(h),
        width: area.width.saturating_sub(4).min(60),
        height: h.min(area.height),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(":", theme.accent()),
        Span::raw(input.to_string()),
        Span::styled("█", theme.accent()),
    ])];
    if let Some(e) = error {
        lines.push(Line::styled(e.to_string(), theme.bad()));
    }
    lines.push(Line::styled(
        "─".repeat(r.width.saturating_sub(2) as usize),
        theme.dim(),
    ));
    for c in cands.iter().take(8) {
        lines.push(Line::styled(c.clone(), theme.dim()));
    }
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" command ")
                .title_bottom(Line::from(" Tab completes · Enter runs · Esc ").right_aligned())
                .border_style(theme.accent()),
        ),
        r,
    );
}
