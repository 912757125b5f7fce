//! Panel 5: the SSE probe: its verdict and timings, and a timeline of the events (arrival gap
//! against the server's send gap), live while a probe runs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{ListItem, Paragraph, Wrap};

use crate::model::{SseEventObs, Verdict};
use crate::tui::app::{App, Panel, selected};
use crate::tui::render::{age, age_title, framed, kv, ms, panel_block, state_area, timeline};
use crate::tui::theme::Theme;

use super::{Detail, PanelView};

pub(crate) struct Sse;

/// The SSE events to show: the live timeline while a probe runs, else the last result's.
pub fn events(app: &App) -> &[SseEventObs] {
    if let Some(live) = &app.sse_live {
        return &live.events;
    }
    app.sse
        .data()
        .map(|(d, _)| d.events.as_slice())
        .unwrap_or(&[])
}

fn verdict_style(v: Verdict, theme: Theme) -> Style {
    match v {
        Verdict::Streaming => theme.ok().add_modifier(Modifier::BOLD),
        Verdict::Buffered => theme.warn().add_modifier(Modifier::BOLD),
        Verdict::Failed | Verdict::Stalled => theme.bad(),
    }
}

/// One line per event: arrival time, arrival gap against the server's send gap, and a bar.
fn render_timeline(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let items = events(app)
        .iter()
        .map(|e| {
            let gap = e.gap_ms.unwrap_or(0.0);
            let sent = e.sent_gap_ms.unwrap_or(0.0);
            // A gap far below the send gap means the events were held back and arrived together.
            let bunched = e.sent_gap_ms.is_some() && sent > 20.0 && gap < sent * 0.25;
            let bar_len = ((gap / 50.0).round() as usize).min(12);
            ListItem::new(Line::from(vec![
                Span::raw(format!("#{:<3} +{:>6.0}ms ", e.seq, e.arrived_ms)),
                Span::styled(
                    format!("gap {:>5.0}/{:<5.0}", gap, sent),
                    if bunched {
                        theme.warn()
                    } else {
                        Style::default()
                    },
                ),
                Span::styled(format!(" {}", "▮".repeat(bar_len.max(1))), theme.accent()),
            ]))
        })
        .collect::<Vec<_>>();
    if items.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("no events yet", theme.dim())),
            area,
        );
        return;
    }
    timeline(
        f,
        area,
        items,
        selected(app, Panel::Sse),
        app.focus == Panel::Sse,
        theme,
    );
}

/// "canary: SSE buffered in 3 of the last 288 runs, last at 03:10 UTC" (warned when a run was
/// unhealthy, buffered or failed, or none ran); nothing when no canary is deployed or its
/// history has not been read yet.
pub(crate) fn canary_line(app: &App, theme: Theme) -> Option<Line<'static>> {
    if let Some(e) = app.canary.error()
        && app.canary.data().is_none()
    {
        return Some(Line::from(vec![
            Span::styled("canary ", theme.dim()),
            Span::styled(format!("history unavailable: {}", e.message), theme.warn()),
        ]));
    }
    let (d, _) = app.canary.data()?;
    if !d.deployed {
        return None;
    }
    let style = if crate::domain::canary::needs_attention(&d.history) {
        theme.warn()
    } else {
        theme.ok()
    };
    Some(Line::from(vec![
        Span::styled("canary ", theme.dim()),
        Span::styled(d.summary.clone(), style),
    ]))
}

impl PanelView for Sse {
    fn title(&self) -> &'static str {
        "SSE probe"
    }

    fn follows_newest(&self) -> bool {
        true
    }

    fn item_count(&self, app: &App) -> usize {
        events(app).len()
    }

    fn render(&self, f: &mut Frame, area: Rect, app: &App, theme: Theme) {
        let right = if app.sse_live.is_some() {
            Some(Line::styled(" running ", theme.accent()))
        } else {
            age_title(&app.sse, app.now, theme)
        };
        let inner = framed(f, area, panel_block(app, Panel::Sse, right, theme));
        // The scheduled canary's history, on the panel's last line when it is deployed.
        // Two lines when it does not fit on one.
        let inner = match canary_line(app, theme) {
            Some(line) if inner.height > 3 => {
                let h = if line.width() > usize::from(inner.width) {
                    2
                } else {
                    1
                };
                let [main, bottom] =
                    Layout::vertical([Constraint::Fill(1), Constraint::Length(h)]).areas(inner);
                f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), bottom);
                main
            }
            _ => inner,
        };
        let head: Vec<Line> = if let Some(live) = &app.sse_live {
            vec![
                Line::styled(format!("probing {}", live.url), theme.accent()),
                Line::raw(format!(
                    "{} events so far ({} elapsed)",
                    live.events.len(),
                    age(app.now, live.started_at)
                )),
            ]
        } else {
            let Some((data_area, d)) =
                state_area(f, inner, &app.sse, app.now, theme, "the SSE probe")
            else {
                return;
            };
            let lines = vec![
                Line::from(vec![
                    Span::styled(
                        format!("{:?}", d.verdict).to_uppercase(),
                        verdict_style(d.verdict, theme),
                    ),
                    Span::raw(format!(" {}", d.reason)),
                ]),
                Line::raw(if d.mode.as_deref() == Some("web") {
                    // The web UI's chat: the first event is the first delta (time to first token).
                    format!(
                        "web chat · connect {} ttfb {} ttft {} · {} deltas",
                        ms(d.connect_ms),
                        ms(d.ttfb_ms),
                        ms(d.first_event_ms),
                        d.events.len()
                    )
                } else {
                    format!(
                        "connect {} ttfb {} first {} · {}/{} events",
                        ms(d.connect_ms),
                        ms(d.ttfb_ms),
                        ms(d.first_event_ms),
                        d.events.len(),
                        d.expected_events
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| "?".into())
                    )
                }),
            ];
            // Wrapped lines (a long reason takes two or three), at most half the panel.
            let w = usize::from(data_area.width.max(1));
            let h = lines
                .iter()
                .map(|l| l.width().div_ceil(w).max(1))
                .sum::<usize>()
                .min(usize::from(data_area.height / 2).max(lines.len())) as u16;
            let [top, rest] =
                Layout::vertical([Constraint::Length(h), Constraint::Fill(1)]).areas(data_area);
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), top);
            render_timeline(f, rest, app, theme);
            return;
        };
        let [top, rest] =
            Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(inner);
        f.render_widget(Paragraph::new(head), top);
        render_timeline(f, rest, app, theme);
    }

    fn detail(&self, app: &App, selected: usize, theme: Theme) -> Detail {
        let mut d = Detail::default();
        if let Some(e) = events(app).get(selected) {
            d.title = Some(format!(" SSE event #{} ", e.seq));
            d.lines.push(kv(
                "arrived",
                format!("{:.1} ms after the request", e.arrived_ms),
                theme,
            ));
            d.lines.push(kv(
                "sent at",
                e.sent_at_ms
                    .map(|s| format!("{s:.1}"))
                    .unwrap_or_else(|| "-".into()),
                theme,
            ));
            d.lines.push(kv("arrival gap", ms(e.gap_ms), theme));
            d.lines.push(kv("send gap", ms(e.sent_gap_ms), theme));
        }
        if let Some((c, _)) = app.canary.data().filter(|(c, _)| c.deployed) {
            let h = &c.history;
            d.lines.push(kv(
                "canary",
                format!(
                    "{} runs in {} min: {} streaming, {} buffered, {} failed, {} unhealthy ({})",
                    h.runs,
                    c.window_minutes,
                    h.streaming,
                    h.buffered,
                    h.failed,
                    h.unhealthy,
                    c.environment.as_deref().unwrap_or("?")
                ),
                theme,
            ));
        }
        if let Some((data, _)) = app.sse.data() {
            d.lines.push(kv("url", data.url.clone(), theme));
            d.lines.push(Line::from(vec![
                Span::styled(format!("{:<16}", "verdict"), theme.dim()),
                Span::styled(
                    format!("{:?}", data.verdict).to_uppercase(),
                    verdict_style(data.verdict, theme),
                ),
                Span::raw(format!(" {}", data.reason)),
            ]));
        }
        d
    }
}
