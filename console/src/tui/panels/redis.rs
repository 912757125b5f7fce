//! Panel 4: the replication group, its metrics (connections, evictions, hit rate, CPU and
//! memory gauges), the shim's in-VPC PING, its MongoDB ping (a line of its own), and its nodes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, ListItem, Paragraph};

use crate::model::RedisNode;
use crate::tui::app::{App, Panel, selected};
use crate::tui::render::{age_title, framed, kv, list, ms, num, panel_block, state_area};
use crate::tui::theme::Theme;

use super::{Detail, PanelView};

pub(crate) struct Redis;

/// The nodes after the filter (by id).
pub fn visible(app: &App) -> Vec<&RedisNode> {
    let f = app.filter(Panel::Redis);
    app.redis
        .data()
        .map(|(d, _)| {
            d.nodes
                .iter()
                .filter(|n| super::matches(f, &n.id))
                .collect()
        })
        .unwrap_or_default()
}

impl PanelView for Redis {
    fn title(&self) -> &'static str {
        "Redis"
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
                Panel::Redis,
                age_title(&app.redis, app.now, theme),
                theme,
            ),
        );
        let Some((data_area, d)) = state_area(f, inner, &app.redis, app.now, theme, "Redis") else {
            return;
        };
        let status = d.status.clone().unwrap_or_else(|| "?".into());
        let ping = match (&d.ping, &d.shim_status_error) {
            (None, Some(_)) => Span::styled("PING ? (shim status did not answer)", theme.warn()),
            (None, None) => Span::styled("PING n/a (no token)", theme.dim()),
            (Some(p), _) if p.ok => Span::styled(format!("PING ok {}", ms(p.rtt_ms)), theme.ok()),
            (Some(p), _) => Span::styled(
                format!("PING ✖ {}", p.error.clone().unwrap_or_default()),
                theme.bad(),
            ),
        };
        let db = match (&d.database, &d.shim_status_error, &d.ping) {
            (Some(db), _, _) if db.ok => Span::styled(
                format!(
                    "DB ok {} {}",
                    ms(db.rtt_ms),
                    db.address.clone().unwrap_or_default()
                ),
                if db.rtt_ms.unwrap_or(0.0) > crate::domain::findings::DATABASE_SLOW_MS {
                    theme.warn()
                } else {
                    theme.ok()
                },
            ),
            (Some(db), _, _) if db.not_checked.is_some() => Span::styled(
                format!(
                    "DB not checked: {}",
                    db.not_checked.clone().unwrap_or_default()
                ),
                theme.dim(),
            ),
            (Some(db), _, _) => {
                let addr = db.address.clone().unwrap_or_default();
                let err = db.error.clone().unwrap_or_default();
                // The error names each host; with one host its name is already shown.
                let err = err.strip_prefix(&format!("{addr}: ")).unwrap_or(&err);
                Span::styled(format!("DB ✖ {addr} {err}"), theme.bad())
            }
            (None, Some(_), _) => Span::styled("DB ? (shim status did not answer)", theme.warn()),
            (None, None, Some(_)) => Span::styled("DB n/a (shim without the check)", theme.dim()),
            (None, None, None) => Span::styled("DB n/a (no token)", theme.dim()),
        };
        let lines = vec![
            Line::from(vec![
                Span::raw(format!("{} ", d.replication_group_id)),
                Span::styled(
                    status.clone(),
                    if status.eq_ignore_ascii_case("available") {
                        theme.ok()
                    } else {
                        theme.warn()
                    },
                ),
                Span::raw(format!(
                    " {} {} · {} nodes",
                    d.engine.clone().unwrap_or_default(),
                    d.engine_version.clone().unwrap_or_default(),
                    d.nodes.len()
                )),
            ]),
            Line::from(vec![
                Span::raw(format!(
                    "conn {} evict {} hit {} ",
                    num(d.connections),
                    num(d.evictions),
                    d.hit_rate
                        .map(|h| format!("{:.0}%", h * 100.0))
                        .unwrap_or_else(|| "-".into())
                )),
                ping,
            ]),
            Line::from(db),
        ];
        let [top, cpu_r, mem_r, rest] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(data_area);
        f.render_widget(Paragraph::new(lines), top);
        let gauge = |label: &'static str, v: Option<f64>| {
            let ratio = v.map(|v| (v / 100.0).clamp(0.0, 1.0)).unwrap_or(0.0);
            let style = if ratio > 0.8 {
                theme.bad()
            } else if ratio > 0.6 {
                theme.warn()
            } else {
                theme.ok()
            };
            LineGauge::default()
                .label(format!(
                    "{label} {}",
                    v.map(|v| format!("{v:>3.0}%"))
                        .unwrap_or_else(|| "  -%".into())
                ))
                .ratio(ratio)
                .filled_symbol("█")
                .unfilled_symbol("░")
                .filled_style(style)
        };
        f.render_widget(gauge("cpu", d.cpu_percent), cpu_r);
        f.render_widget(gauge("mem", d.memory_percent), mem_r);
        let items = visible(app)
            .iter()
            .map(|n| {
                ListItem::new(Line::raw(format!(
                    "{} {} {} {}",
                    n.id,
                    n.role.clone().unwrap_or_default(),
                    n.status.clone().unwrap_or_default(),
                    n.az.clone().unwrap_or_default()
                )))
            })
            .collect::<Vec<_>>();
        list(
            f,
            rest,
            items,
            selected(app, Panel::Redis),
            app.focus == Panel::Redis,
            theme,
        );
    }

    fn detail(&self, app: &App, selected: usize, theme: Theme) -> Detail {
        let mut d = Detail::default();
        if let Some(n) = visible(app).get(selected) {
            d.title = Some(format!(" node {} ", n.id));
            let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            d.lines.push(kv("role", dash(&n.role), theme));
            d.lines.push(kv("status", dash(&n.status), theme));
            d.lines.push(kv("zone", dash(&n.az), theme));
        }
        if let Some((data, _)) = app.redis.data() {
            d.lines.push(kv(
                "endpoint",
                data.endpoint.clone().unwrap_or_else(|| "-".into()),
                theme,
            ));
            if let Some(db) = &data.database {
                let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                d.lines.push(kv("database", dash(&db.address), theme));
                if let Some(e) = db.error.as_ref().or(db.not_checked.as_ref()) {
                    d.lines.push(kv("db error", e.clone(), theme));
                }
                if let Some(ev) = &db.evidence {
                    d.lines.push(kv("db evidence", ev.clone(), theme));
                }
            }
        }
        d
    }
}
