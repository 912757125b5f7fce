//! Panel 1: the health check, the frontend check (index.html and its assets), the month's cost
//! (estimated and actual; `$` opens its view), user files (the files bucket's object count and
//! size, the config's file findings), the CloudFront
//! distribution and its last invalidation, and the Terraform outputs (sensitive ones masked).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{ListItem, Paragraph, Wrap};

use crate::domain::cost::Basis;
use crate::model::PanelState;

use super::{Detail, PanelView};
use crate::tui::app::{App, OutputRow, Panel, selected};
use crate::tui::render::{age, age_title, framed, list, panel_block, state_area};
use crate::tui::theme::Theme;

pub(crate) struct Deployment;

/// The outputs after the panel's filter (by name or value).
pub fn visible(app: &App) -> Vec<&OutputRow> {
    let f = app.filter(Panel::Deployment);
    match &app.outputs {
        Ok(rows) => rows
            .iter()
            .filter(|r| super::matches(f, &r.name) || super::matches(f, &r.value))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `frontend: ✔ index.html 200 (no-cache), 28 assets ok`, or what is broken.
fn frontend_line(app: &App, theme: Theme) -> Line<'static> {
    match &app.frontend {
        PanelState::Loading => Line::styled("frontend: loading…", theme.dim()),
        s => match (s.data(), s.error()) {
            (_, Some(e)) => Line::from(vec![
                Span::styled("frontend: ✖ ", theme.bad()),
                Span::raw(e.message.clone()),
            ]),
            (Some((d, at)), None) => Line::from(vec![
                Span::raw("frontend: "),
                Span::styled(
                    if d.ok() { "✔ " } else { "✖ " },
                    if d.ok() { theme.ok() } else { theme.bad() },
                ),
                Span::raw(d.headline()),
                Span::styled(format!(" {} ago", age(app.now, at)), theme.dim()),
            ]),
            (None, None) => Line::raw("frontend: -"),
        },
    }
}

/// `cost/mo: est $57.90 assumed · actual $41.10 measured 3m ago` (`$`: the cost view), or
/// why there is no figure.
fn cost_line(app: &App, theme: Theme) -> Line<'static> {
    match &app.cost {
        PanelState::Loading => Line::styled("cost: loading…", theme.dim()),
        s => match (s.data(), s.error()) {
            (_, Some(e)) => Line::from(vec![
                Span::styled("cost: ✖ ", theme.bad()),
                Span::raw(e.message.clone()),
            ]),
            (Some((d, at)), None) => {
                let h = d.headline();
                let basis = |b: Basis| match b {
                    Basis::Measured => theme.ok(),
                    _ => theme.warn(),
                };
                let mut spans = vec![
                    Span::raw(format!("cost/mo: est ${:.2} ", h.estimate_usd)),
                    Span::styled(h.estimate_basis.label(), basis(h.estimate_basis)),
                ];
                if let Some((usd, _, b)) = h.actual {
                    spans.push(Span::raw(format!(" · actual ${usd:.2} ")));
                    spans.push(Span::styled(
                        if b == Basis::Measured {
                            "measured"
                        } else {
                            "assumed"
                        },
                        basis(b),
                    ));
                }
                if h.not_read > 0 {
                    spans.push(Span::styled(
                        format!(" · {} not read", h.not_read),
                        theme.warn(),
                    ));
                }
                spans.push(Span::styled(
                    format!(" {} ago", age(app.now, at)),
                    theme.dim(),
                ));
                Line::from(spans)
            }
            (None, None) => Line::raw("cost: -"),
        },
    }
}

/// `files: ✔ s3, ≤ 4 MB; 12 objects, 3.1 MB in BUCKET`, or the files findings by code first.
pub(crate) fn files_line(app: &App, theme: Theme) -> Line<'static> {
    let (d, at) = match (&app.files, app.files.data(), app.files.error()) {
        (PanelState::Loading, _, _) => return Line::styled("files: loading…", theme.dim()),
        (_, _, Some(e)) => {
            return Line::from(vec![
                Span::styled("files: ✖ ", theme.bad()),
                Span::raw(e.message.clone()),
            ]);
        }
        (_, Some((d, at)), None) => (d, at),
        (_, None, None) => return Line::raw("files: -"),
    };
    let bucket = match &d.bucket {
        Some(Ok(u)) => format!("{} in {}", u.line(), u.bucket),
        Some(Err(e)) => format!("bucket not listed: {e}"),
        None => "no files bucket in the outputs".into(),
    };
    let mut codes: Vec<&str> = d.config.findings.iter().map(|f| f.code).collect();
    if d.rejections.api_gateway + d.rejections.lambda > 0 {
        codes.push("upload_too_large");
    }
    let (mark, style, judged) = match (&d.config.summary, codes.is_empty()) {
        (Some(s), true) => {
            let limit = s
                .largest_limit
                .as_ref()
                .map(|l| format!(", ≤ {} MB", l.mb))
                .unwrap_or_default();
            ("✔ ", theme.ok(), format!("{}{limit}", s.file_strategy))
        }
        _ => ("✖ ", theme.warn(), codes.join(", ")),
    };
    Line::from(vec![
        Span::raw("files: "),
        Span::styled(mark, style),
        Span::raw(format!("{judged}; {bucket}")),
        Span::styled(format!(" {} ago", age(app.now, at)), theme.dim()),
    ])
}

impl PanelView for Deployment {
    fn title(&self) -> &'static str {
        "Deployment"
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
                Panel::Deployment,
                age_title(&app.cloudfront, app.now, theme),
                theme,
            ),
        );
        let [health_r, frontend_r, cost_r, files_r, cf_r, outputs_r] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(2),
            Constraint::Fill(1),
        ])
        .areas(inner);
        // Health
        let health = match &app.health {
            PanelState::Loading => Line::styled("health: loading…", theme.dim()),
            s => match (s.data(), s.error()) {
                (_, Some(e)) => Line::from(vec![
                    Span::styled("health: ✖ ", theme.bad()),
                    Span::raw(e.message.clone()),
                    Span::styled(
                        e.fix
                            .as_ref()
                            .map(|f| format!(" fix: {f}"))
                            .unwrap_or_default(),
                        theme.warn(),
                    ),
                ]),
                (Some((h, at)), None) => Line::from(vec![
                    Span::raw("health: "),
                    Span::styled(
                        format!("{} {}", if h.ok { "✔" } else { "✖" }, h.status),
                        if h.ok { theme.ok() } else { theme.bad() },
                    ),
                    Span::raw(format!(" {:.0}ms", h.latency_ms)),
                    Span::styled(format!(" {} ago", age(app.now, at)), theme.dim()),
                ]),
                (None, None) => Line::raw("health: -"),
            },
        };
        f.render_widget(Paragraph::new(health), health_r);
        f.render_widget(Paragraph::new(frontend_line(app, theme)), frontend_r);
        f.render_widget(Paragraph::new(cost_line(app, theme)), cost_r);
        f.render_widget(Paragraph::new(files_line(app, theme)), files_r);
        // CloudFront
        if let Some((cf_area, cf)) =
            state_area(f, cf_r, &app.cloudfront, app.now, theme, "CloudFront")
        {
            let status = cf.status.clone().unwrap_or_else(|| "?".into());
            let st_style = if status.eq_ignore_ascii_case("deployed") {
                theme.ok()
            } else {
                theme.warn()
            };
            let mut lines = vec![Line::from(vec![
                Span::raw(format!("CF {} ", cf.distribution_id)),
                Span::styled(status, st_style),
                Span::raw(format!(" {}", cf.domain_name.clone().unwrap_or_default())),
            ])];
            let inv = match cf.invalidations.first() {
                Some(i) => {
                    let done = crate::actions::invalidate::is_completed(&i.status);
                    Line::from(vec![
                        Span::raw(format!("last inval {} ", i.id)),
                        Span::styled(
                            i.status.clone(),
                            if done { theme.ok() } else { theme.warn() },
                        ),
                        Span::raw(format!(" {}", i.paths.join(" "))),
                    ])
                }
                None => Line::styled("no invalidations", theme.dim()),
            };
            lines.push(inv);
            f.render_widget(Paragraph::new(lines), cf_area);
        }
        // Outputs
        match &app.outputs {
            Err(e) => f.render_widget(
                Paragraph::new(vec![
                    Line::styled(format!("✖ outputs: {e}"), theme.bad()),
                    Line::styled(
                        "fix: run `terraform apply` for the environment or pass --outputs FILE",
                        theme.warn(),
                    ),
                ])
                .wrap(Wrap { trim: true }),
                outputs_r,
            ),
            Ok(rows) if rows.is_empty() => f.render_widget(
                Paragraph::new(Line::styled("no Terraform outputs", theme.dim())),
                outputs_r,
            ),
            Ok(_) => {
                let rows = visible(app);
                let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).min(26);
                let items = rows
                    .iter()
                    .map(|r| {
                        ListItem::new(Line::from(vec![
                            Span::styled(format!("{:<w$} ", r.name), theme.dim()),
                            Span::raw(r.value.clone()),
                        ]))
                    })
                    .collect();
                list(
                    f,
                    outputs_r,
                    items,
                    selected(app, Panel::Deployment),
                    app.focus == Panel::Deployment,
                    theme,
                );
            }
        }
    }

    fn detail(&self, app: &App, selected: usize, _theme: Theme) -> Detail {
        let mut d = Detail::default();
        if let Some(r) = visible(app).get(selected) {
            d.title = Some(format!(" output {} ", r.name));
            d.lines.push(Line::raw(r.value.clone()));
        }
        d
    }
}
