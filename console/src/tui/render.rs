//! Pure rendering: [`render`] draws the whole screen from `&App`: the header, the grid of
//! panels built from [`Panel::ALL`] (each panel draws itself, `panels/`), the footer, and the
//! open overlay (`overlays/`). Nothing here awaits, reads the clock or touches the network: ages
//! are computed from `App::now`. Also the pieces the panels share (their frame, the
//! loading/error states, lists, formatting).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, List, ListItem, ListState, Paragraph, Wrap};
use time::OffsetDateTime;

use crate::model::{CollectorError, PanelState};

use super::app::{App, Overlay, Panel};
use super::keys::Command;
pub use super::theme::Theme;

pub(crate) const MIN_WIDTH: u16 = 80;
pub(crate) const MIN_HEIGHT: u16 = 24;

/// `5s`, `3m`, `2h`, `4d`.
pub(crate) fn age(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let s = (now - then).whole_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// A text sparkline of the last `width` points (`▁▂▃▄▅▆▇█`), scaled to the max.
pub(crate) fn spark(series: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &series[series.len().saturating_sub(width)..];
    let max = tail.iter().cloned().fold(0.0_f64, f64::max);
    tail.iter()
        .map(|v| {
            if max <= 0.0 || !v.is_finite() {
                BARS[0]
            } else {
                let i = ((v / max) * 7.0).round().clamp(0.0, 7.0) as usize;
                BARS[i]
            }
        })
        .collect()
}

pub(crate) fn ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.0}ms")).unwrap_or_else(|| "-".into())
}

pub(crate) fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into())
}

pub fn render(f: &mut Frame, app: &App) {
    let area = f.area();
    let theme = Theme {
        color: !app.no_color,
    };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(f, area);
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(f, header, app, theme);
    if app.logs.open {
        super::logs::render(f, body, &app.logs, theme);
    } else if app.charts.open {
        super::charts::render(f, body, &app.charts, theme);
    } else {
        for (panel, cell) in Panel::ALL.iter().zip(grid(body, Panel::ALL.len())) {
            render_panel(f, cell, app, *panel, theme);
        }
    }
    render_footer(f, footer, app, theme);
    super::overlays::render(f, area, body, app, theme);
}

/// The cells of `n` panels in `body`: two per row, left to right; the first row (deployment and
/// alarms) gets 40% of the height and the other rows share the rest; an odd last panel spans
/// its row.
fn grid(body: Rect, n: usize) -> Vec<Rect> {
    let rows = n.div_ceil(2).max(1);
    let constraints: Vec<Constraint> = if rows == 1 {
        vec![Constraint::Percentage(100)]
    } else {
        let rest = u16::try_from(60 / (rows - 1)).unwrap_or(1);
        std::iter::once(Constraint::Percentage(40))
            .chain(std::iter::repeat_n(Constraint::Percentage(rest), rows - 1))
            .collect()
    };
    let mut cells = Vec::with_capacity(n);
    for (i, row) in Layout::vertical(constraints).split(body).iter().enumerate() {
        if n.saturating_sub(2 * i) == 1 {
            cells.push(*row);
        } else {
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(*row);
            cells.push(l);
            cells.push(r);
        }
    }
    cells
}

pub(crate) fn render_too_small(f: &mut Frame, area: Rect) {
    let text = vec![
        Line::from(format!("Terminal is {}x{}.", area.width, area.height)),
        Line::from(format!(
            "Make me bigger: opsconsole needs at least {MIN_WIDTH}x{MIN_HEIGHT}."
        )),
        Line::from("q quits."),
    ];
    let h = (text.len() as u16).min(area.height);
    let r = area.centered(Constraint::Percentage(100), Constraint::Length(h));
    f.render_widget(Paragraph::new(text).centered().wrap(Wrap { trim: true }), r);
}

pub(crate) fn render_header(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut spans = vec![
        Span::styled(" opsconsole ", theme.accent().add_modifier(Modifier::BOLD)),
        Span::raw(" env "),
        Span::styled(
            app.env.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ];
    let acct = match &app.identity {
        PanelState::Loading => "…".to_string(),
        s => match s.data() {
            Some((i, _)) => i.account.clone(),
            None => "?".to_string(),
        },
    };
    spans.push(Span::raw(format!("  acct {acct}")));
    if let Some(r) = &app.region {
        spans.push(Span::raw(format!("  {r}")));
    }
    if let Some((i, _)) = app.identity.data() {
        let who = i.arn.rsplit(':').next().unwrap_or(&i.arn).to_string();
        spans.push(Span::raw(format!("  {who}")));
    } else if let Some(e) = app.identity.error() {
        spans.push(Span::styled(
            format!("  identity: {:?}", e.kind),
            theme.bad(),
        ));
    }
    spans.push(Span::raw("  window "));
    spans.push(Span::styled(app.window.label(), theme.accent()));
    spans.push(Span::styled(
        match app.last_refresh {
            Some(t) => format!("  refreshed {} ago", age(app.now, t)),
            None => "  loading…".into(),
        },
        theme.dim(),
    ));
    let mut line = Line::from(spans);
    if app.read_only {
        let badge = Span::styled(" READ-ONLY ", theme.badge());
        let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(11)]).areas(area);
        f.render_widget(Paragraph::new(line), l);
        f.render_widget(Paragraph::new(Line::from(badge)), r);
        return;
    }
    line = line.style(Style::default());
    f.render_widget(Paragraph::new(line), area);
}

/// Draws `panel` (its border included) into `area`.
pub fn render_panel(f: &mut Frame, area: Rect, app: &App, panel: Panel, theme: Theme) {
    panel.view().render(f, area, app, theme);
}

pub(crate) fn render_footer(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let km = &app.keymap;
    let line = if app.overlay == Some(Overlay::Filter) {
        Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::raw(app.filter(app.focus).to_string()),
            Span::styled("█", theme.accent()),
            Span::styled("  Enter keeps · Esc clears", theme.dim()),
        ])
    } else if let Some(s) = &app.status {
        Line::styled(s.clone(), theme.warn())
    } else {
        let hint = |cmd: Command, what: &str| {
            vec![
                Span::styled(km.label(cmd), theme.accent()),
                Span::raw(format!(" {what}  ")),
            ]
        };
        let mut spans = Vec::new();
        for (c, w) in [
            (Command::Help, "help"),
            (Command::NextPanel, "panel"),
            (Command::Open, "detail"),
            (Command::Filter, "filter"),
            (Command::CommandLine, "cmd"),
            (Command::Refresh, "refresh"),
            (Command::Probe, "probe"),
            (Command::Quit, "quit"),
        ] {
            spans.extend(hint(c, w));
        }
        Line::from(spans)
    };
    f.render_widget(Paragraph::new(line), area);
}

/// A panel's block: its number and title (and filter), thick and accented when focused, `right`
/// in the top-right corner.
pub(crate) fn panel_block<'a>(
    app: &App,
    panel: Panel,
    right: Option<Line<'a>>,
    theme: Theme,
) -> Block<'a> {
    let focused = app.focus == panel;
    let n = panel.index() + 1;
    let mut title = format!(" {n} {} ", panel.title());
    let filter = app.filter(panel);
    if !filter.is_empty() || (focused && app.overlay == Some(Overlay::Filter)) {
        title.push_str(&format!("/{filter} "));
    }
    let mut b = Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .title(Line::from(title).style(if focused {
            theme.accent().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        }));
    if let Some(r) = right {
        b = b.title_top(r.right_aligned());
    }
    if focused {
        b = b.border_style(theme.accent());
    }
    b
}

/// Draws a panel's block over `area` and hands back the area inside it.
pub(crate) fn framed(f: &mut Frame, area: Rect, block: Block<'_>) -> Rect {
    let inner = block.inner(area);
    f.render_widget(block, area);
    inner
}

/// The right-hand title of a panel: the data's age, or `stale 3m` on error.
pub(crate) fn age_title<T>(
    state: &PanelState<T>,
    now: OffsetDateTime,
    theme: Theme,
) -> Option<Line<'static>> {
    match state {
        PanelState::Loading => Some(Line::styled(" loading ", theme.dim())),
        PanelState::Ready { fetched_at, .. } => Some(Line::styled(
            format!(" {} ago ", age(now, *fetched_at)),
            theme.dim(),
        )),
        PanelState::Error {
            stale: Some((_, at)),
            ..
        } => Some(Line::styled(
            format!(" stale {} ", age(now, *at)),
            theme.warn(),
        )),
        PanelState::Error { .. } => Some(Line::styled(" error ", theme.bad())),
    }
}

fn error_lines(
    e: &CollectorError,
    now: OffsetDateTime,
    failed_at: OffsetDateTime,
    theme: Theme,
) -> Vec<Line<'static>> {
    let mut v = vec![Line::from(vec![
        Span::styled(format!("✖ {:?}", e.kind), theme.bad()),
        Span::raw(format!(": {}", e.message)),
        Span::styled(format!(" ({} ago)", age(now, failed_at)), theme.dim()),
    ])];
    if let Some(fix) = &e.fix {
        v.push(Line::from(vec![
            Span::styled("fix: ", theme.warn().add_modifier(Modifier::BOLD)),
            Span::raw(fix.clone()),
        ]));
    }
    v
}

/// Splits `inner` for a panel's state: Loading / error (+ stale data below) / data.
/// Returns the area left for the data with the data to draw there (fresh or stale), or None
/// when there is none.
pub(crate) fn state_area<'s, T>(
    f: &mut Frame,
    inner: Rect,
    state: &'s PanelState<T>,
    now: OffsetDateTime,
    theme: Theme,
    what: &str,
) -> Option<(Rect, &'s T)> {
    match state {
        PanelState::Loading => {
            f.render_widget(
                Paragraph::new(Line::styled(format!("Loading {what}…"), theme.dim())),
                inner,
            );
            None
        }
        PanelState::Ready { data, .. } => Some((inner, data)),
        PanelState::Error {
            error,
            failed_at,
            stale,
        } => {
            let mut lines = error_lines(error, now, *failed_at, theme);
            if let Some((_, at)) = stale {
                lines.push(Line::styled(
                    format!("showing the data of {} ago:", age(now, *at)),
                    theme.warn(),
                ));
            }
            let h = (lines.len() as u16).min(inner.height);
            let [top, rest] =
                Layout::vertical([Constraint::Length(h), Constraint::Fill(1)]).areas(inner);
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), top);
            match stale {
                Some((data, _)) if rest.height > 0 => Some((rest, data)),
                _ => None,
            }
        }
    }
}

/// A list with row `sel` highlighted while the panel is focused.
pub(crate) fn list<'a>(
    f: &mut Frame,
    area: Rect,
    items: Vec<ListItem<'a>>,
    sel: usize,
    focused: bool,
    theme: Theme,
) {
    let mut state = ListState::default();
    if focused && !items.is_empty() {
        state.select(Some(sel));
    }
    f.render_stateful_widget(
        List::new(items).highlight_style(theme.selected()),
        area,
        &mut state,
    );
}

/// A timeline: always scrolled to row `sel` (the newest unless the operator moved up, see
/// `app::FOLLOW`), highlighted only while the panel is focused.
pub(crate) fn timeline<'a>(
    f: &mut Frame,
    area: Rect,
    items: Vec<ListItem<'a>>,
    sel: usize,
    focused: bool,
    theme: Theme,
) {
    let mut state = ListState::default();
    state.select(Some(sel));
    let hl = if focused {
        theme.selected()
    } else {
        Style::default()
    };
    f.render_stateful_widget(List::new(items).highlight_style(hl), area, &mut state);
}

/// A `key            value` line of a detail view.
pub(crate) fn kv(k: &str, v: String, theme: Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{k:<16}"), theme.dim()),
        Span::raw(v),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_max() {
        assert_eq!(spark(&[0.0, 1.0, 2.0], 8), "▁▅█");
        assert_eq!(spark(&[0.0, 0.0], 8), "▁▁");
        assert_eq!(spark(&[1.0, 2.0, 3.0, 4.0], 2), "▆█");
        assert_eq!(spark(&[], 8), "");
    }

    #[test]
    fn ages() {
        let t = time::macros::datetime!(2026-11-21 03:00:00 UTC);
        assert_eq!(age(t, t - time::Duration::seconds(5)), "5s");
        assert_eq!(age(t, t - time::Duration::seconds(180)), "3m");
        assert_eq!(age(t, t - time::Duration::hours(2)), "2h");
        assert_eq!(age(t, t + time::Duration::seconds(5)), "0s");
    }

    #[test]
    fn the_grid_has_a_cell_per_panel_and_six_are_the_old_three_rows() {
        let body = Rect::new(0, 1, 120, 38);
        let six = grid(body, 6);
        assert_eq!(six.len(), 6);
        let old_rows = Layout::vertical([
            Constraint::Percentage(40),
            Constraint::Percentage(30),
            Constraint::Percentage(30),
        ])
        .split(body);
        for (i, row) in old_rows.iter().enumerate() {
            assert_eq!(six[2 * i].y, row.y);
            assert_eq!(six[2 * i].height, row.height);
            assert_eq!(six[2 * i].width + six[2 * i + 1].width, row.width);
        }
        // A seventh panel gets a cell (the whole last row), not silently nothing.
        let seven = grid(body, 7);
        assert_eq!(seven.len(), 7);
        assert_eq!(seven[6].width, body.width);
        assert!(seven[6].y > seven[4].y);
        assert_eq!(grid(body, 1), vec![body]);
    }
}
