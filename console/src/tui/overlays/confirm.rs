//! The confirm popup of a destructive action (or of quitting while one runs): what, where, as
//! whom; `y` or `n`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use crate::tui::app::Confirm;
use crate::tui::theme::Theme;

pub(super) fn render(f: &mut Frame, area: Rect, c: &Confirm, theme: Theme) {
    let mut lines: Vec<Line> = c.lines.iter().map(|l| Line::raw(l.clone())).collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("[y]", theme.bad()),
        Span::raw(" yes   "),
        Span::styled("[n]", theme.ok()),
        Span::raw(" no (Esc)"),
    ]));
    let w = lines
        .iter()
        .map(|l| l.width() as u16)
        .max()
        .unwrap_or(20)
        .clamp(40, 76)
        + 4;
    let h = lines.len() as u16 + 2;
    let r = super::popup(area, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_type(BorderType::Double)
                .title(format!(" {} ", c.title))
                .border_style(theme.warn()),
        ),
        r,
    );
}
