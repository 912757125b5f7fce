//! Enter: the detail view of the focused panel's selected row (its content comes from the
//! panel, `PanelView::detail`); j/k move to the next row without closing it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::app::{App, selected};
use crate::tui::theme::Theme;

pub(super) fn render(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let panel = app.focus;
    let detail = panel.view().detail(app, selected(app, panel), theme);
    let title = detail
        .title
        .unwrap_or_else(|| format!(" {} ", panel.title()));
    let r = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(2),
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(Text::from(detail.lines))
            .wrap(Wrap { trim: false })
            .block(
                Block::bordered()
                    .title(title)
                    .title_bottom(Line::from(" j/k next · Esc back ").right_aligned())
                    .border_style(theme.accent()),
            ),
        r,
    );
}
