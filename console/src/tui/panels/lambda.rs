//! Panel 3: the function's state, its metrics over the window, cold starts (ratio, Init
//! Duration percentiles and a chart) and its REPORT lines, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{ListItem, Paragraph, Sparkline};

use crate::model::ReportLine;
use crate::tui::app::{App, Panel, selected};
use crate::tui::render::{age_title, framed, kv, list, ms, num, panel_block, state_area};
use crate::tui::theme::Theme;

use super::{Detail, PanelView};

pub(crate) struct Lambda;

/// The REPORT lines, newest first, after the filter (by request id).
pub fn visible(app: &App) -> Vec<&ReportLine> {
    let f = app.filter(Panel::Lambda);
    app.lambda
        .data()
        .map(|(d, _)| {
            d.reports
                .iter()
                .rev()
                .filter(|r| super::matches(f, &r.request_id))
                .collect()
        })
        .unwrap_or_default()
}

impl PanelView for Lambda {
    fn title(&self) -> &'static str {
        "Lambda & cold starts"
    }

    fn item_count(&self, app: &App) -> usize {
        visible(app).len()
    }

    fn render(&self, f: &mut Frame, area: Rect, app: &App, theme: Theme) {
        let inner = framed(
            f,
            area,
            panel_block(
                app,
                Panel::Lambda,
                age_title(&app.lambda, app.now, theme),
                theme,
            ),
        );
        let Some((data_area, d)) = state_area(f, inner, &app.lambda, app.now, theme, "Lambda")
        else {
            return;
        };
        let state = d.state.clone().unwrap_or_else(|| "?".into());
        let upd = d.last_update_status.clone().unwrap_or_else(|| "?".into());
        let healthy =
            state.eq_ignore_ascii_case("active") && upd.eq_ignore_ascii_case("successful");
        let cs = &d.cold_starts;
        let summary = vec![
            Line::from(vec![
                Span::raw(format!("{} ", d.function_name)),
                Span::styled(
                    format!("{state}/{upd}"),
                    if healthy { theme.ok() } else { theme.warn() },
                ),
            ]),
            Line::raw(format!(
                "inv {} err {} thr {} conc {} ({}m)",
                num(d.invocations),
                num(d.errors),
                num(d.throttles),
                num(d.max_concurrency),
                d.window_minutes
            )),
            Line::raw(format!(
                "cold {}/{} ({:.0}%) init p50 {} p95 {}",
                cs.cold,
                cs.invocations,
                cs.cold_ratio * 100.0,
                ms(cs.init_p50_ms),
                ms(cs.init_p95_ms)
            )),
        ];
        let [top, chart_r, rest] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(if data_area.height >= 7 { 2 } else { 0 }),
            Constraint::Fill(1),
        ])
        .areas(data_area);
        f.render_widget(Paragraph::new(summary), top);
        // Init Duration over the window (cold starts only), oldest first.
        let inits: Vec<u64> = d
            .reports
            .iter()
            .filter_map(|r| r.init_duration_ms)
            .map(|v| v.max(0.0) as u64)
            .collect();
        if chart_r.height > 0 {
            let [label, spark_r] =
                Layout::horizontal([Constraint::Length(6), Constraint::Fill(1)]).areas(chart_r);
            f.render_widget(
                Paragraph::new(vec![Line::raw("init"), Line::raw(ms(cs.init_max_ms))]),
                label,
            );
            f.render_widget(
                Sparkline::default().data(&inits).style(theme.accent()),
                spark_r,
            );
        }
        let reports = visible(app);
        let items = reports
            .iter()
            .map(|r| {
                ListItem::new(Line::from(vec![
                    Span::styled(
                        r.init_duration_ms.map(|_| "COLD ").unwrap_or("warm "),
                        if r.init_duration_ms.is_some() {
                            theme.warn()
                        } else {
                            theme.dim()
                        },
                    ),
                    Span::raw(format!(
                        "{:>7.0}ms {:>4}/{}MB {}",
                        r.duration_ms,
                        r.max_memory_used_mb,
                        r.memory_size_mb,
                        r.init_duration_ms
                            .map(|i| format!("init {i:.0}ms"))
                            .unwrap_or_default()
                    )),
                ]))
            })
            .collect::<Vec<_>>();
        if items.is_empty() {
            f.render_widget(
                Paragraph::new(Line::styled("no REPORT lines in the window", theme.dim())),
                rest,
            );
        } else {
            list(
                f,
                rest,
                items,
                selected(app, Panel::Lambda),
                app.focus == Panel::Lambda,
                theme,
            );
        }
    }

    fn detail(&self, app: &App, selected: usize, theme: Theme) -> Detail {
        let mut d = Detail::default();
        let Some(r) = visible(app).get(selected).copied() else {
            return d;
        };
        d.title = Some(format!(" REPORT {} ", r.request_id));
        let lines = &mut d.lines;
        lines.push(kv(
            "time",
            r.timestamp
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            theme,
        ));
        lines.push(kv("duration", format!("{:.2} ms", r.duration_ms), theme));
        lines.push(kv(
            "billed",
            format!("{:.0} ms", r.billed_duration_ms),
            theme,
        ));
        lines.push(kv(
            "memory",
            format!("{} / {} MB", r.max_memory_used_mb, r.memory_size_mb),
            theme,
        ));
        lines.push(kv("init duration", ms(r.init_duration_ms), theme));
        if let Some((data, _)) = app.lambda.data() {
            if let Some(p) = &data.shim_phases {
                lines.push(kv(
                    "shim phases",
                    format!(
                        "config {} secrets {} ready {} total {} ({} samples)",
                        ms(p.config_ms),
                        ms(p.secrets_ms),
                        ms(p.ready_ms),
                        ms(p.total_ms),
                        p.samples
                    ),
                    theme,
                ));
            }
            if let Some(t) = &data.truncated {
                lines.push(Line::styled(t.clone(), theme.warn()));
            }
        }
        d
    }
}
