//! Panel 6: the running action (what, for how long, its progress, how to cancel) and the
//! activity log, newest last.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{ListItem, Paragraph};

use crate::tui::app::{App, Panel, selected};
use crate::tui::keys::Command;
use crate::tui::render::{framed, panel_block, timeline};
use crate::tui::theme::Theme;

use super::{Detail, PanelView};

pub(crate) struct Activity;

/// The activity lines after the filter.
pub fn visible(app: &App) -> Vec<&String> {
    let f = app.filter(Panel::Activity);
    app.activity
        .iter()
        .filter(|l| super::matches(f, l))
        .collect()
}

impl PanelView for Activity {
    fn title(&self) -> &'static str {
        "Activity"
    }

    fn follows_newest(&self) -> bool {
        true
    }

    fn item_count(&self, app: &App) -> usize {
        visible(app).len()
    }

    fn render(&self, f: &mut Frame, area: Rect, app: &App, theme: Theme) {
        let right = app.running.as_ref().map(|r| {
            Line::styled(
                format!(" ▶ {}s ", (app.now - r.started).whole_seconds().max(0)),
                theme.accent(),
            )
        });
        let inner = framed(f, area, panel_block(app, Panel::Activity, right, theme));
        let mut top_h = 0;
        if let Some(run) = &app.running {
            // Line 1: what runs, for how long, how to cancel; line 2: its progress.
            let mut lines = vec![Line::from(vec![
                Span::styled(format!("▶ {}", run.request.describe()), theme.accent()),
                Span::raw(format!(
                    " {}s",
                    (app.now - run.started).whole_seconds().max(0)
                )),
                Span::styled(
                    if run.cancel_requested {
                        " (cancelling)".to_string()
                    } else {
                        format!(" ({} cancels)", app.keymap.label(Command::Cancel))
                    },
                    theme.dim(),
                ),
            ])];
            if let Some(p) = &run.progress {
                lines.push(Line::raw(format!("  {p}")));
            }
            top_h = (lines.len() as u16).min(inner.height);
            f.render_widget(
                Paragraph::new(lines),
                Rect {
                    height: top_h,
                    ..inner
                },
            );
        }
        let rest = Rect {
            y: inner.y + top_h,
            height: inner.height.saturating_sub(top_h),
            ..inner
        };
        let lines = visible(app);
        if lines.is_empty() {
            f.render_widget(
                Paragraph::new(vec![
                    Line::styled("no actions yet", theme.dim()),
                    Line::styled(": deploy image · apply · invalidate /*", theme.dim()),
                ]),
                rest,
            );
            return;
        }
        let items: Vec<ListItem> = lines
            .iter()
            .map(|l| ListItem::new(Line::raw((*l).clone())))
            .collect();
        timeline(
            f,
            rest,
            items,
            selected(app, Panel::Activity),
            app.focus == Panel::Activity,
            theme,
        );
    }

    fn detail(&self, app: &App, selected: usize, _theme: Theme) -> Detail {
        let mut d = Detail::default();
        if let Some(l) = visible(app).get(selected) {
            d.title = Some(" activity line ".into());
            d.lines.push(Line::raw((*l).clone()));
        }
        d
    }
}
