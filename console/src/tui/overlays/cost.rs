//! `$` (or `:cost`): the month's cost part by part, the estimate at the stated load beside the
//! window's usage projected to a month, each part's basis, then the what-ifs with their saving
//! or extra a month, and what could not be read. j/k scroll, r reads again, Esc closes. The
//! figures are `opsconsole cost ENV`'s document (the cost source, `crate::cost`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::domain::cost::{Basis, Line as CostLine};
use crate::domain::cost_document::{CostDocument, actual_label};
use crate::model::PanelState;
use crate::tui::app::App;
use crate::tui::render::age;
use crate::tui::theme::Theme;

/// The width of the part's column (service and item).
const PART: usize = 42;

fn basis_style(b: Basis, theme: Theme) -> Style {
    match b {
        Basis::Measured => theme.ok(),
        Basis::Configured => Style::default(),
        Basis::Assumed => theme.warn(),
    }
}

fn usd(v: Option<f64>) -> String {
    v.map_or_else(|| "unpriced".to_string(), |u| format!("{u:.2}"))
}

fn part(l: &CostLine) -> String {
    let s = format!("{} {}", l.service, l.item);
    if s.chars().count() > PART {
        let cut: String = s.chars().take(PART - 1).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// The view's lines (what `render` draws and j/k scroll over).
pub(crate) fn lines(app: &App, theme: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let (doc, at) = match &app.cost {
        PanelState::Loading => {
            out.push(Line::styled(
                "loading the cost (the configuration and the last 24h of usage)…",
                theme.dim(),
            ));
            return out;
        }
        s => match (s.data(), s.error()) {
            (data, Some(e)) => {
                out.push(Line::from(vec![
                    Span::styled("✖ cost: ", theme.bad()),
                    Span::raw(e.message.clone()),
                ]));
                if let Some(fix) = &e.fix {
                    out.push(Line::styled(format!("fix: {fix}"), theme.warn()));
                }
                match data {
                    Some((d, at)) => {
                        out.push(Line::styled(
                            format!("the figures below are {} old", age(app.now, at)),
                            theme.warn(),
                        ));
                        (d, at)
                    }
                    None => return out,
                }
            }
            (Some((d, at)), None) => (d, at),
            (None, None) => return out,
        },
    };
    out.extend(document_lines(doc, theme));
    out.insert(
        0,
        Line::styled(
            format!(
                "{} in {} · AWS list prices as of {} · read {} ago",
                doc.env,
                doc.estimate.region,
                doc.prices_as_of,
                age(app.now, at)
            ),
            theme.dim(),
        ),
    );
    out
}

/// How many lines the view has now (for the scroll's bound).
pub(crate) fn line_count(app: &App) -> usize {
    lines(app, Theme { color: false }).len()
}

fn document_lines(d: &CostDocument, theme: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let h = d.headline();
    out.push(Line::from(vec![
        Span::raw(format!("estimated {:>8.2} USD/mo  ", h.estimate_usd)),
        Span::styled(
            h.estimate_basis.label(),
            basis_style(h.estimate_basis, theme),
        ),
        Span::raw(format!(
            ": stated load, {:.0} req/day, {:.0} ms",
            d.stated_load.api_requests_per_day.value, d.stated_load.api_duration_ms.value
        )),
    ]));
    if let Some(a) = &d.actual {
        let b = a.load.api_requests_per_day.basis;
        out.push(Line::from(vec![
            Span::raw(format!("actual    {:>8.2} USD/mo  ", a.estimate.total_usd)),
            Span::styled(actual_label(b), basis_style(b, theme)),
            Span::raw(format!(
                ": last {}, {:.0} req/day, {:.0} ms",
                a.window, a.load.api_requests_per_day.value, a.load.api_duration_ms.value
            )),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        format!(
            "{:<PART$} {:>9} {:>9}  basis",
            "part (USD/month)", "estimate", "actual"
        ),
        theme.accent(),
    ));
    let actual = d.actual.as_ref().map(|a| &a.estimate.lines);
    for (i, l) in d.estimate.lines.iter().enumerate() {
        // The two estimates price the same deployment: the same parts in the same order.
        let a = actual
            .and_then(|v| v.get(i))
            .filter(|a| a.service == l.service && a.item == l.item);
        let basis = a.map_or(l.basis, |a| a.basis);
        out.push(Line::from(vec![
            Span::raw(format!(
                "{:<PART$} {:>9} {:>9}  ",
                part(l),
                usd(l.monthly_usd),
                a.map_or_else(|| "-".to_string(), |a| usd(a.monthly_usd))
            )),
            Span::styled(basis.label(), basis_style(basis, theme)),
        ]));
    }
    out.push(Line::raw(format!(
        "{:<PART$} {:>9.2} {:>9}",
        "TOTAL",
        d.estimate.total_usd,
        d.actual.as_ref().map_or_else(
            || "-".to_string(),
            |a| format!("{:.2}", a.estimate.total_usd)
        )
    )));
    if !d.estimate.unpriced.is_empty() {
        out.push(Line::styled(
            format!(
                "not in the totals (no price): {}",
                d.estimate.unpriced.join("; ")
            ),
            theme.warn(),
        ));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        format!(
            "{:<PART$} {:>9}",
            "what if (against the estimate)", "USD/month"
        ),
        theme.accent(),
    ));
    for w in &d.what_ifs {
        let (word, style) = if w.delta_usd < 0.0 {
            ("saving", theme.ok())
        } else {
            ("extra", theme.warn())
        };
        out.push(Line::from(vec![
            Span::raw(format!("{:<PART$} {:>+9.2}  ", w.change, w.delta_usd)),
            Span::styled(word, style),
        ]));
        if let Some(n) = &w.note {
            out.push(Line::styled(format!("  ({n})"), theme.dim()));
        }
    }
    if !d.errors.is_empty() {
        out.push(Line::raw(""));
        out.push(Line::styled(
            "not read (those figures are assumed):",
            theme.warn(),
        ));
        for e in &d.errors {
            out.push(Line::styled(format!("  {e}"), theme.warn()));
        }
    }
    let notes = d.actual.iter().flat_map(|a| a.notes.iter());
    let assumptions = d.estimate.assumptions.iter();
    let mut first = true;
    for n in notes.chain(assumptions) {
        if first {
            out.push(Line::raw(""));
            first = false;
        }
        out.push(Line::styled(format!("· {n}"), theme.dim()));
    }
    out
}

pub(crate) fn render(f: &mut Frame, area: Rect, app: &App, scroll: u16, theme: Theme) {
    let r = Rect {
        x: area.x + 1,
        y: area.y,
        width: area.width.saturating_sub(2),
        height: area.height,
    };
    let lines = lines(app, theme);
    let visible = r.height.saturating_sub(2);
    let max = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(visible);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(Text::from(lines))
            .scroll((scroll.min(max), 0))
            .block(
                Block::bordered()
                    .title(" Cost a month ")
                    .title_bottom(
                        Line::from(" j/k scroll · r read again · Esc back ").right_aligned(),
                    )
                    .border_style(theme.accent()),
            ),
        r,
    );
}
