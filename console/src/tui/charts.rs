//! The charts view (`c`): ratatui `Chart`s with a time axis (UTC) and units over the window,
//! as many as the terminal holds (2x2 at 80x24, 3x3 at 200x50), most important first. Data
//! from `collectors::series`; a series without data says "no data", one that could not be read
//! says why in a sentence (the others are drawn as usual).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph};
use time::OffsetDateTime;

use crate::collectors::series::{ChartsData, Series};

use super::theme::Theme;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartsState {
    pub open: bool,
    pub data: Option<Result<ChartsData, String>>,
}

/// Columns and rows of charts that fit `area` (each chart at least ~38x9).
pub fn grid_shape(area: Rect, n: usize) -> (usize, usize) {
    let cols = usize::from(area.width / 60)
        .clamp(1, 3)
        .max(if area.width >= 76 { 2 } else { 1 });
    let rows = usize::from(area.height / 11)
        .clamp(1, 4)
        .max(if area.height >= 20 { 2 } else { 1 });
    let cols = cols.min(n.max(1));
    let rows = rows.min(n.div_ceil(cols).max(1));
    (cols, rows)
}

fn time_label(secs: f64, span_s: f64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(secs as i64) else {
        return "?".into();
    };
    if span_s > 86_400.0 {
        format!("{:02}-{:02} {:02}h", u8::from(t.month()), t.day(), t.hour())
    } else {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}

fn value_label(v: f64, unit: &str) -> String {
    let n = if v >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    match unit {
        "count" => n,
        u => format!("{n} {u}"),
    }
}

fn render_one(f: &mut Frame, area: Rect, d: &ChartsData, s: &Series, theme: Theme) {
    let title = format!(" {} ({}) ", s.title, s.unit);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.accent()));
    if let Some(e) = &s.error {
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(
            Paragraph::new(Span::styled(e.clone(), theme.bad()))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    if s.points.is_empty() {
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(
            Paragraph::new(Span::styled(
                "no data in the window (the endpoint has none for this statistic)",
                theme.dim(),
            ))
            .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    let max = s.points.iter().map(|p| p.1).fold(0.0_f64, f64::max);
    let top = if max <= 0.0 { 1.0 } else { max * 1.1 };
    let span = (d.end - d.start).max(1.0);
    let x_labels = vec![
        Span::raw(time_label(d.start, span)),
        Span::raw(time_label(d.start + span / 2.0, span)),
        Span::raw(time_label(d.end, span)),
    ];
    let y_labels = vec![
        Span::raw(value_label(0.0, s.unit)),
        Span::raw(value_label(top, s.unit)),
    ];
    let style =
        if s.title.contains("error") || s.title.contains("5XX") || s.title.contains("throttle") {
            theme.bad()
        } else {
            theme.ok()
        };
    let ds = Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(style)
        .data(&s.points);
    let chart = Chart::new(vec![ds])
        .block(block)
        .x_axis(
            Axis::default()
                .style(theme.dim())
                .bounds([d.start, d.end])
                .labels(x_labels),
        )
        .y_axis(
            Axis::default()
                .style(theme.dim())
                .bounds([0.0, top])
                .labels(y_labels),
        );
    f.render_widget(chart, area);
}

/// Draws the view into `area` (the body between header and footer).
pub(crate) fn render(f: &mut Frame, area: Rect, s: &ChartsState, theme: Theme) {
    let d = match &s.data {
        None => {
            f.render_widget(
                Paragraph::new(Span::styled("loading the charts…", theme.dim()))
                    .block(Block::default().borders(Borders::ALL).title(" Charts ")),
                area,
            );
            return;
        }
        Some(Err(e)) => {
            f.render_widget(
                Paragraph::new(Span::styled(e.clone(), theme.bad()))
                    .wrap(ratatui::widgets::Wrap { trim: true })
                    .block(Block::default().borders(Borders::ALL).title(" Charts ")),
                area,
            );
            return;
        }
        Some(Ok(d)) => d,
    };
    let [bar, grid] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let (cols, rows) = grid_shape(grid, d.series.len());
    let shown = (cols * rows).min(d.series.len());
    let mut text = format!(
        " Charts · window {} · {} s per point · {} of {} charts (a larger terminal shows more)",
        d.window.label(),
        d.period_s,
        shown,
        d.series.len()
    );
    for n in &d.notes {
        text.push_str(&format!(" · {n}"));
    }
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(text, Style::default()))),
        bar,
    );
    let row_areas = Layout::vertical(vec![Constraint::Fill(1); rows]).split(grid);
    let mut i = 0;
    for r in row_areas.iter() {
        let cells = Layout::horizontal(vec![Constraint::Fill(1); cols]).split(*r);
        for c in cells.iter() {
            if let Some(s) = d.series.get(i).filter(|_| i < shown) {
                render_one(f, *c, d, s, theme);
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_charts_on_a_larger_terminal() {
        let small = grid_shape(Rect::new(0, 0, 80, 21), 10);
        let large = grid_shape(Rect::new(0, 0, 200, 47), 10);
        assert_eq!(small, (2, 2));
        assert_eq!(large, (3, 4));
        assert!(large.0 * large.1 > small.0 * small.1);
        assert_eq!(grid_shape(Rect::new(0, 0, 200, 47), 1), (1, 1));
    }

    #[test]
    fn labels_have_units_and_times() {
        assert_eq!(value_label(12.0, "ms"), "12 ms");
        assert_eq!(value_label(3.24, "%"), "3.2 %");
        assert_eq!(value_label(7.0, "count"), "7");
        assert_eq!(time_label(3600.0 * 25.0, 3600.0), "01:00");
        assert_eq!(time_label(0.0, 7.0 * 86_400.0), "01-01 00h");
    }
}
