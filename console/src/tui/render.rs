//! Pure rendering: [`render`] draws the whole screen from `&App`; one function per panel and
//! per overlay. Nothing here awaits, reads the clock or touches the network: ages are computed
//! from `App::now`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, BorderType, Clear, LineGauge, List, ListItem, ListState, Paragraph, Sparkline, Wrap,
};
use time::OffsetDateTime;

use crate::model::{AlarmState, CollectorError, PanelState, Verdict};

use super::app::{
    self, App, HistoryState, Overlay, Panel, selected, sse_events, visible_activity,
    visible_alarms, visible_nodes, visible_outputs, visible_reports,
};
use super::keys::Command;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Colours, or none at all under NO_COLOR (emphasis by bold/reverse only).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

/// `5s`, `3m`, `2h`, `4d`.
pub fn age(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let s = (now - then).whole_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// A text sparkline of the last `width` points (`▁▂▃▄▅▆▇█`), scaled to the max.
pub fn spark(series: &[f64], width: usize) -> String {
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

fn ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.0}ms")).unwrap_or_else(|| "-".into())
}

fn num(v: Option<f64>) -> String {
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
    let rows = Layout::vertical([
        Constraint::Percentage(40),
        Constraint::Percentage(30),
        Constraint::Percentage(30),
    ])
    .split(body);
    let mut cells = Vec::new();
    for row in rows.iter() {
        let [l, r] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(*row);
        cells.push(l);
        cells.push(r);
    }
    for (panel, cell) in Panel::ALL.iter().zip(cells) {
        render_panel(f, cell, app, *panel, theme);
    }
    render_footer(f, footer, app, theme);
    match &app.overlay {
        Some(Overlay::Help) => render_help(f, area, app, theme),
        Some(Overlay::Confirm(c)) => render_confirm(f, body, c, theme),
        Some(Overlay::CommandLine { input, error }) => {
            render_command_line(f, body, app, input, error.as_deref(), theme)
        }
        Some(Overlay::Detail) => render_detail(f, body, app, theme),
        Some(Overlay::Filter) | None => {}
    }
}

pub fn render_too_small(f: &mut Frame, area: Rect) {
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

pub fn render_header(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
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
    spans.push(Span::styled(
        match app.last_refresh {
            Some(t) => format!("  refreshed {} ago", age(app.now, t)),
            None => "  loading…".into(),
        },
        theme.dim(),
    ));
    let mut line = Line::from(spans);
    if app.read_only {
        let badge = Span::styled(
            " READ-ONLY ",
            if theme.color {
                Style::default()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
            },
        );
        let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(11)]).areas(area);
        f.render_widget(Paragraph::new(line), l);
        f.render_widget(Paragraph::new(Line::from(badge)), r);
        return;
    }
    line = line.style(Style::default());
    f.render_widget(Paragraph::new(line), area);
}

fn panel_block<'a>(app: &App, panel: Panel, right: Option<Line<'a>>, theme: Theme) -> Block<'a> {
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

/// The right-hand title of a panel: the data's age, or `stale 3m` on error.
/// Draws a panel's block over `area` and hands back the area inside it.
fn framed(f: &mut Frame, area: Rect, block: Block<'_>) -> Rect {
    let inner = block.inner(area);
    f.render_widget(block, area);
    inner
}

fn age_title<T>(state: &PanelState<T>, now: OffsetDateTime, theme: Theme) -> Option<Line<'static>> {
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
fn state_area<'s, T>(
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

fn list<'a>(
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

pub fn render_panel(f: &mut Frame, area: Rect, app: &App, panel: Panel, theme: Theme) {
    match panel {
        Panel::Deployment => render_deployment(f, area, app, theme),
        Panel::Alarms => render_alarms(f, area, app, theme),
        Panel::Lambda => render_lambda(f, area, app, theme),
        Panel::Redis => render_redis(f, area, app, theme),
        Panel::Sse => render_sse(f, area, app, theme),
        Panel::Activity => render_activity(f, area, app, theme),
    }
}

pub fn render_deployment(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
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
    let [health_r, cf_r, outputs_r] = Layout::vertical([
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
    // CloudFront
    if let Some((cf_area, cf)) = state_area(f, cf_r, &app.cloudfront, app.now, theme, "CloudFront")
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
            let rows = visible_outputs(app);
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

use crate::model::ALARM_SUFFIXES;

/// The alarm's short name: its contract suffix when it has one (whatever the prefix), else the
/// name without the default `librechat-ENV-` prefix.
fn short_alarm(name: &str, env: &str) -> String {
    if let Some(s) = ALARM_SUFFIXES
        .iter()
        .find(|s| name.ends_with(&format!("-{s}")) || name == **s)
    {
        return s.to_string();
    }
    let prefix = format!("librechat-{env}-");
    name.strip_prefix(&prefix).unwrap_or(name).to_string()
}

pub fn render_alarms(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
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
    let Some((data_area, _)) = state_area(f, inner, &app.alarms, app.now, theme, "alarms") else {
        return;
    };
    let alarms = visible_alarms(app);
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

pub fn render_lambda(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
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
    let Some((data_area, d)) = state_area(f, inner, &app.lambda, app.now, theme, "Lambda") else {
        return;
    };
    let state = d.state.clone().unwrap_or_else(|| "?".into());
    let upd = d.last_update_status.clone().unwrap_or_else(|| "?".into());
    let healthy = state.eq_ignore_ascii_case("active") && upd.eq_ignore_ascii_case("successful");
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
    let reports = visible_reports(app);
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

pub fn render_redis(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
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
    let ping = match &d.ping {
        None => Span::styled("PING n/a (no token)", theme.dim()),
        Some(p) if p.ok => Span::styled(format!("PING ok {}", ms(p.rtt_ms)), theme.ok()),
        Some(p) => Span::styled(
            format!("PING ✖ {}", p.error.clone().unwrap_or_default()),
            theme.bad(),
        ),
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
    ];
    let [top, cpu_r, mem_r, rest] = Layout::vertical([
        Constraint::Length(2),
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
    let items = visible_nodes(app)
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

fn verdict_style(v: Verdict, theme: Theme) -> Style {
    match v {
        Verdict::Streaming => theme.ok().add_modifier(Modifier::BOLD),
        Verdict::Buffered => theme.warn().add_modifier(Modifier::BOLD),
        Verdict::Failed => theme.bad(),
    }
}

pub fn render_sse(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let right = if app.sse_live.is_some() {
        Some(Line::styled(" running ", theme.accent()))
    } else {
        age_title(&app.sse, app.now, theme)
    };
    let inner = framed(f, area, panel_block(app, Panel::Sse, right, theme));
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
        let Some((data_area, d)) = state_area(f, inner, &app.sse, app.now, theme, "the SSE probe")
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
            Line::raw(format!(
                "connect {} ttfb {} first {} · {}/{} events",
                ms(d.connect_ms),
                ms(d.ttfb_ms),
                ms(d.first_event_ms),
                d.events.len(),
                d.expected_events
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "?".into())
            )),
        ];
        let h = lines.len() as u16;
        let [top, rest] =
            Layout::vertical([Constraint::Length(h), Constraint::Fill(1)]).areas(data_area);
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), top);
        render_sse_timeline(f, rest, app, theme);
        return;
    };
    let [top, rest] = Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(inner);
    f.render_widget(Paragraph::new(head), top);
    render_sse_timeline(f, rest, app, theme);
}

/// One line per event: arrival time, arrival gap against the server's send gap, and a bar.
fn render_sse_timeline(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let events = sse_events(app);
    let items = events
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
    // Follow the newest event while the probe runs, unless the panel is focused.
    // Follows the newest event unless the operator moved up (see app::FOLLOW).
    let sel = selected(app, Panel::Sse);
    let mut state = ListState::default();
    state.select(Some(sel));
    let hl = if app.focus == Panel::Sse {
        theme.selected()
    } else {
        Style::default()
    };
    f.render_stateful_widget(List::new(items).highlight_style(hl), area, &mut state);
}

pub fn render_activity(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
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
    let lines = visible_activity(app);
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
    // Follows the newest line unless the operator moved up (see app::FOLLOW).
    let sel = selected(app, Panel::Activity);
    let mut state = ListState::default();
    state.select(Some(sel));
    let hl = if app.focus == Panel::Activity {
        theme.selected()
    } else {
        Style::default()
    };
    f.render_stateful_widget(List::new(items).highlight_style(hl), rest, &mut state);
}

pub fn render_footer(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
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

fn popup(area: Rect, w: u16, h: u16) -> Rect {
    area.centered(
        Constraint::Length(w.min(area.width)),
        Constraint::Length(h.min(area.height)),
    )
}

pub fn render_help(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut lines = Vec::new();
    for (_, cmd, what) in Command::NAMED {
        let keys: Vec<String> = app.keymap.keys_for(cmd).iter().map(|k| k.label()).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14}", keys.join(" ")), theme.accent()),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Commands (: then Tab completes)",
        Style::default().add_modifier(Modifier::BOLD),
    ));
    for (c, what) in [
        (":deploy image [URI]", "build, push, update Lambda, verify"),
        (":apply", "terraform plan, confirm, apply"),
        (":invalidate /*", "CloudFront invalidation, followed"),
        (":probe  :refresh", "rerun the SSE probe / refresh all"),
        (":env NAME  :quit", "switch environment / quit"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("{c:<21}"), theme.accent()),
            Span::raw(what),
        ]));
    }
    let h = lines.len() as u16 + 2;
    let r = popup(area, 62, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(if app.read_only {
                    " Help · READ-ONLY: actions are refused "
                } else {
                    " Help "
                })
                .title_bottom(Line::from(" any key closes ").right_aligned())
                .border_style(theme.accent()),
        ),
        r,
    );
}

pub fn render_confirm(f: &mut Frame, area: Rect, c: &app::Confirm, theme: Theme) {
    let mut lines: Vec<Line> = c.lines.iter().map(|l| Line::raw(l.clone())).collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("[y]", theme.bad()),
        Span::raw(" yes   "),
        Span::styled("[n]", theme.ok()),
        Span::raw(" no (Esc)"),
    ]));
    let w = lines
        .iter()
        .map(|l| l.width() as u16)
        .max()
        .unwrap_or(20)
        .clamp(40, 76)
        + 4;
    let h = lines.len() as u16 + 2;
    let r = popup(area, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_type(BorderType::Double)
                .title(format!(" {} ", c.title))
                .border_style(theme.warn()),
        ),
        r,
    );
}

pub fn render_command_line(
    f: &mut Frame,
    area: Rect,
    app: &App,
    input: &str,
    error: Option<&str>,
    theme: Theme,
) {
    let cands = super::command::candidates(input, &app.envs);
    let shown = cands.len().min(8) as u16;
    let h = 3 + shown + u16::from(error.is_some());
    let r = Rect {
        x: area.x + 2,
        y: area.y + area.height.saturating_sub(h),
        width: area.width.saturating_sub(4).min(60),
        height: h.min(area.height),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(":", theme.accent()),
        Span::raw(input.to_string()),
        Span::styled("█", theme.accent()),
    ])];
    if let Some(e) = error {
        lines.push(Line::styled(e.to_string(), theme.bad()));
    }
    lines.push(Line::styled(
        "─".repeat(r.width.saturating_sub(2) as usize),
        theme.dim(),
    ));
    for c in cands.iter().take(8) {
        lines.push(Line::styled(c.clone(), theme.dim()));
    }
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" command ")
                .title_bottom(Line::from(" Tab completes · Enter runs · Esc ").right_aligned())
                .border_style(theme.accent()),
        ),
        r,
    );
}

/// The "alarm history" section of an alarm's detail view: loading, the items (newest first),
/// or why there are none. Never blank.
fn alarm_history_lines(
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

/// The detail view of the focused panel's selected item.
pub fn render_detail(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let panel = app.focus;
    let sel = selected(app, panel);
    let mut lines: Vec<Line> = Vec::new();
    let mut title = format!(" {} ", panel.title());
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<16}"), theme.dim()),
            Span::raw(v),
        ])
    };
    match panel {
        Panel::Deployment => {
            if let Some(r) = visible_outputs(app).get(sel) {
                title = format!(" output {} ", r.name);
                lines.push(Line::raw(r.value.clone()));
            }
        }
        Panel::Alarms => {
            if let Some(a) = visible_alarms(app).get(sel) {
                title = format!(" alarm {} ", a.name);
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<16}", "state"), theme.dim()),
                    Span::styled(alarm_label(a.state), alarm_style(a.state, theme)),
                ]));
                lines.push(kv("region", a.region.clone()));
                lines.push(kv("reason", a.reason.clone().unwrap_or_else(|| "-".into())));
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
                ));
                lines.push(kv(
                    "condition",
                    format!(
                        "{} {}",
                        a.comparison.clone().unwrap_or_default(),
                        a.threshold.map(|t| t.to_string()).unwrap_or_default()
                    ),
                ));
                lines.push(kv(
                    "state since",
                    a.state_updated
                        .map(|t| format!("{} ago ({t})", age(app.now, t)))
                        .unwrap_or_else(|| "-".into()),
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
                ));
                lines.push(Line::raw(""));
                alarm_history_lines(&mut lines, app, &a.name, &a.region, theme);
            }
        }
        Panel::Lambda => {
            if let Some(r) = visible_reports(app).get(sel) {
                title = format!(" REPORT {} ", r.request_id);
                lines.push(kv(
                    "time",
                    r.timestamp
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "-".into()),
                ));
                lines.push(kv("duration", format!("{:.2} ms", r.duration_ms)));
                lines.push(kv("billed", format!("{:.0} ms", r.billed_duration_ms)));
                lines.push(kv(
                    "memory",
                    format!("{} / {} MB", r.max_memory_used_mb, r.memory_size_mb),
                ));
                lines.push(kv("init duration", ms(r.init_duration_ms)));
                if let Some((d, _)) = app.lambda.data() {
                    if let Some(p) = &d.shim_phases {
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
                        ));
                    }
                    if let Some(t) = &d.truncated {
                        lines.push(Line::styled(t.clone(), theme.warn()));
                    }
                }
            }
        }
        Panel::Redis => {
            if let Some(n) = visible_nodes(app).get(sel) {
                title = format!(" node {} ", n.id);
                lines.push(kv("role", n.role.clone().unwrap_or_else(|| "-".into())));
                lines.push(kv("status", n.status.clone().unwrap_or_else(|| "-".into())));
                lines.push(kv("zone", n.az.clone().unwrap_or_else(|| "-".into())));
            }
            if let Some((d, _)) = app.redis.data() {
                lines.push(kv(
                    "endpoint",
                    d.endpoint.clone().unwrap_or_else(|| "-".into()),
                ));
            }
        }
        Panel::Sse => {
            if let Some(e) = sse_events(app).get(sel) {
                title = format!(" SSE event #{} ", e.seq);
                lines.push(kv(
                    "arrived",
                    format!("{:.1} ms after the request", e.arrived_ms),
                ));
                lines.push(kv(
                    "sent at",
                    e.sent_at_ms
                        .map(|s| format!("{s:.1}"))
                        .unwrap_or_else(|| "-".into()),
                ));
                lines.push(kv("arrival gap", ms(e.gap_ms)));
                lines.push(kv("send gap", ms(e.sent_gap_ms)));
            }
            if let Some((d, _)) = app.sse.data() {
                lines.push(kv("url", d.url.clone()));
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<16}", "verdict"), theme.dim()),
                    Span::styled(
                        format!("{:?}", d.verdict).to_uppercase(),
                        verdict_style(d.verdict, theme),
                    ),
                    Span::raw(format!(" {}", d.reason)),
                ]));
            }
        }
        Panel::Activity => {
            if let Some(l) = visible_activity(app).get(sel) {
                title = " activity line ".into();
                lines.push(Line::raw((*l).clone()));
            }
        }
    }
    let r = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(2),
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(Text::from(lines))
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
}
