//! Panel 2: the alarms of the outputs with their state, a sparkline of the metric and the
//! reason; the ones needing attention first. The detail view adds the alarm's history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{ListItem, Paragraph};

use crate::model::{ALARM_SUFFIXES, AlarmInfo, AlarmState};
use crate::tui::app::{App, HistoryState, Panel, selected};
use crate::tui::render::{age, age_title, framed, kv, list, panel_block, spark, state_area};
use crate::tui::theme::Theme;

use super::{Detail, PanelView};

pub(crate) struct Alarms;

/// The alarms after the filter, the ones that need attention first (ALARM, MISSING, no data,
/// OK), in the outputs' order within each state: on a small screen the firing ones stay visible.
pub fn visible(app: &App) -> Vec<&AlarmInfo> {
    let f = app.filter(Panel::Alarms);
    let rank = |s: AlarmState| match s {
        AlarmState::Alarm => 0,
        AlarmState::Missing => 1,
        AlarmState::InsufficientData => 2,
        AlarmState::Ok => 3,
    };
    let mut v: Vec<&AlarmInfo> = app
        .alarms
        .data()
        .map(|(d, _)| {
            d.alarms
                .iter()
                .filter(|a| super::matches(f, &a.name))
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|a| rank(a.state));
    v
}

fn alarm_style(s: AlarmState, theme: Theme) -> Style {
    match s {
        AlarmState::Ok => theme.ok(),
        AlarmState::Alarm => theme.bad(),
        AlarmState::InsufficientData => theme.dim(),
        AlarmState::Missing => theme.warn(),
    }
}

fn alarm_label(s: AlarmState) -> &'static str {
    match s {
        AlarmState::Ok => "OK",
        AlarmState::Alarm => "ALARM",
        AlarmState::InsufficientData => "NODATA",
        AlarmState::Missing => "MISSING",
    }
}

/// The alarm's short name: its contract suffix when it has one (whatever the prefix), else the
/// name without the default `librechat-ENV-` prefix.
fn short_alarm(name: &str, env: &str) -> String {
    if let Some(s) = ALARM_SUFFIXES
        .iter()
        .chain(&opsconsole_wire::canary::ALARM_SUFFIXES)
        .find(|s| name.ends_with(&format!("-{s}")) || name == **s)
    {
        return s.to_string();
    }
    let prefix = format!("librechat-{env}-");
    name.strip_prefix(&prefix).unwrap_or(name).to_string()
}

impl PanelView for Alarms {
    fn title(&self) -> &'static str {
        "Alarms"
    }

    fn item_count(&self, app: &App) -> usize {
        visible(app).len()
    }

    fn render(&self, f: &mut Frame, area: Rect, app: &App, theme: Theme) {
        let mut right = age_title(&app.alarms, app.now, theme);
        if let Some((d, _)) = app.alarms.data() {
            let firing = d
                .alarms
                .iter()
                .filter(|a| a.state == AlarmState::Alarm)
                .count();
            let missing = d
                .alarms
                .iter()
                .filter(|a| a.state == AlarmState::Missing)
                .count();
            let age = right.map(|l| l.to_string()).unwrap_or_default();
            right = Some(Line::from(vec![
                Span::styled(
                    format!(" {firing} firing"),
                    if firing > 0 { theme.bad() } else { theme.ok() },
                ),
                Span::styled(
                    if missing > 0 {
                        format!(", {missing} missing")
                    } else {
                        String::new()
                    },
                    theme.warn(),
                ),
                Span::styled(format!(" ·{age}"), theme.dim()),
            ]));
        }
        let inner = framed(f, area, panel_block(app, Panel::Alarms, right, theme));
        let Some((data_area, _)) = state_area(f, inner, &app.alarms, app.now, theme, "alarms")
        else {
            return;
        };
        let alarms = visible(app);
        if alarms.is_empty() {
            f.render_widget(
                Paragraph::new(Line::styled("no alarms match", theme.dim())),
                data_area,
            );
            return;
        }
        let items = alarms
            .iter()
            .map(|a| {
                ListItem::new(Line::from(vec![
                    Span::styled(
                        format!("{:<7} ", alarm_label(a.state)),
                        alarm_style(a.state, theme),
                    ),
                    Span::raw(format!("{:<21.21} ", short_alarm(&a.name, &app.env))),
                    Span::styled(spark(&a.series, 8), theme.accent()),
                    Span::styled(
                        format!(" {}", a.reason.clone().unwrap_or_default()),
                        theme.dim(),
                    ),
                ]))
            })
            .collect();
        list(
            f,
            data_area,
            items,
            selected(app, Panel::Alarms),
            app.focus == Panel::Alarms,
            theme,
        );
    }

    fn detail(&self, app: &App, selected: usize, theme: Theme) -> Detail {
        let mut d = Detail::default();
        let Some(a) = visible(app).get(selected).copied() else {
            return d;
        };
        d.title = Some(format!(" alarm {} ", a.name));
        let lines = &mut d.lines;
        lines.push(Line::from(vec![
            Span::styled(format!("{:<16}", "state"), theme.dim()),
            Span::styled(alarm_label(a.state), alarm_style(a.state, theme)),
        ]));
        lines.push(kv("region", a.region.clone(), theme));
        lines.push(kv(
            "reason",
            a.reason.clone().unwrap_or_else(|| "-".into()),
            theme,
        ));
        lines.push(kv(
            "metric",
            format!(
                "{} {} ({})",
                a.namespace.clone().unwrap_or_default(),
                a.metric_name
                    .clone()
                    .unwrap_or_else(|| "math expression".into()),
                a.statistic.clone().unwrap_or_default()
            ),
            theme,
        ));
        lines.push(kv(
            "condition",
            format!(
                "{} {}",
                a.comparison.clone().unwrap_or_default(),
                a.threshold.map(|t| t.to_string()).unwrap_or_default()
            ),
            theme,
        ));
        lines.push(kv(
            "state since",
            a.state_updated
                .map(|t| format!("{} ago ({t})", age(app.now, t)))
                .unwrap_or_else(|| "-".into()),
            theme,
        ));
        let window = app
            .alarms
            .data()
            .map(|(d, _)| d.window_minutes)
            .unwrap_or(0);
        lines.push(kv(
            "metric trend",
            format!(
                "{} ({} points, {window} min)",
                spark(&a.series, 60),
                a.series.len()
            ),
            theme,
        ));
        lines.push(Line::raw(""));
        history_lines(lines, app, &a.name, &a.region, theme);
        d
    }
}

/// The "alarm history" section of an alarm's detail view: loading, the items (newest first),
/// or why there are none. Never blank.
fn history_lines(
    lines: &mut Vec<Line<'static>>,
    app: &App,
    alarm: &str,
    region: &str,
    theme: Theme,
) {
    let label = |v: String| {
        Line::from(vec![
            Span::styled(format!("{:<16}", "alarm history"), theme.dim()),
            Span::raw(v),
        ])
    };
    let state = app
        .alarm_history
        .as_ref()
        .filter(|v| v.alarm == alarm && v.region == region)
        .map(|v| &v.state);
    match state {
        None | Some(HistoryState::Loading) => lines.push(label("loading…".into())),
        Some(HistoryState::Error(e)) => {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<16}", "alarm history"), theme.dim()),
                Span::styled(format!("history unavailable: {}", e.message), theme.bad()),
            ]));
            if let Some(fix) = &e.fix {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<16}", ""), theme.dim()),
                    Span::raw(format!("fix: {fix}")),
                ]));
            }
        }
        Some(HistoryState::Ready(h)) if h.items.is_empty() => {
            lines.push(label("no history items".into()))
        }
        Some(HistoryState::Ready(h)) => {
            lines.push(label(if h.truncated {
                format!("newest {} items (more in CloudWatch)", h.items.len())
            } else {
                format!("{} items, newest first", h.items.len())
            }));
            for i in &h.items {
                let when = i
                    .timestamp
                    .map(|t| format!("{} ago", age(app.now, t)))
                    .unwrap_or_else(|| "-".into());
                lines.push(Line::from(vec![
                    Span::styled(format!("  {when:>8}  {:<20} ", i.item_type), theme.dim()),
                    Span::raw(i.summary.clone()),
                ]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_short_names() {
        assert_eq!(short_alarm("librechat-dev-redis-cpu", "dev"), "redis-cpu");
        assert_eq!(
            short_alarm("acme-prod-7-lambda-errors", "prod"),
            "lambda-errors"
        );
        assert_eq!(short_alarm("librechat-dev-custom", "dev"), "custom");
        assert_eq!(short_alarm("other", "dev"), "other");
    }
}
