//! The logs view (`l`): the function's log group, live, full screen. Newest first or
//! following (oldest at the top, the newest at the bottom); `/` filters by text, `L` by level
//! (all, WARN+, ERROR), `Enter` shows every line of the selected line's request, `Esc` steps
//! back (request, then filter, then the grid). The lines come from `collectors::logs`.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use time::OffsetDateTime;

use crate::collectors::logs::{LogsEvent, TailMode};
use crate::domain::loglines::{Level, LogFilter, LogLine};
use crate::domain::window::Window;

use super::theme::Theme;

/// Lines kept in memory (the oldest go first).
pub const LOG_CAP: usize = 5000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogsState {
    pub open: bool,
    pub group: Option<String>,
    pub window: Option<Window>,
    pub mode: Option<TailMode>,
    pub error: Option<String>,
    pub truncated: bool,
    /// Oldest first.
    pub lines: VecDeque<LogLine>,
    pub filter: LogFilter,
    /// Typing a text filter (`/`).
    pub editing: bool,
    /// true: newest at the top; false: oldest at the top, following the bottom.
    pub newest_first: bool,
    /// Selected row in the shown order; `None` follows the newest line.
    pub selected: Option<usize>,
    /// Lines received in total (the header's counter).
    pub received: u64,
}

impl LogsState {
    pub fn on_event(&mut self, ev: LogsEvent) {
        match ev {
            LogsEvent::Reset {
                group,
                window,
                lines,
                truncated,
            } => {
                self.group = Some(group);
                self.window = Some(window);
                self.truncated = truncated;
                self.error = None;
                self.received += lines.len() as u64;
                self.lines = lines.into_iter().collect();
                self.trim();
            }
            LogsEvent::Append(lines) => {
                self.error = None;
                self.received += lines.len() as u64;
                self.lines.extend(lines);
                self.trim();
            }
            LogsEvent::Mode(m) => self.mode = Some(m),
            LogsEvent::Error(e) => self.error = Some(e),
        }
    }

    fn trim(&mut self) {
        while self.lines.len() > LOG_CAP {
            self.lines.pop_front();
        }
    }

    /// The lines after the filter, in the shown order.
    pub fn visible(&self) -> Vec<&LogLine> {
        let it = self.lines.iter().filter(|l| self.filter.matches(l));
        if self.newest_first {
            let mut v: Vec<&LogLine> = it.collect();
            v.reverse();
            v
        } else {
            it.collect()
        }
    }

    /// The selected row (the followed newest one when following).
    pub fn selected_index(&self, n: usize) -> usize {
        match self.selected {
            Some(i) => i.min(n.saturating_sub(1)),
            None if self.newest_first => 0,
            None => n.saturating_sub(1),
        }
    }

    /// Opens the view on one request's lines.
    pub fn open_request(&mut self, request_id: &str) {
        self.open = true;
        self.filter.request_id = Some(request_id.to_string());
        self.selected = None;
    }

    /// Handles a key while the view is open. Returns false when the key is not the view's
    /// (quit, `:`, the window keys go on to the normal map).
    pub fn on_key(&mut self, key: &KeyEvent) -> bool {
        if self.editing {
            match key.code {
                KeyCode::Esc => {
                    self.filter.text.clear();
                    self.editing = false;
                }
                KeyCode::Enter => self.editing = false,
                KeyCode::Backspace => {
                    self.filter.text.pop();
                }
                KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.filter.text.clear()
                }
                KeyCode::Char(c) => self.filter.text.push(c),
                _ => {}
            }
            self.selected = None;
            return true;
        }
        let n = self.visible().len();
        match key.code {
            KeyCode::Esc => {
                if self.filter.request_id.take().is_some() || !self.filter.text.is_empty() {
                    self.filter.text.clear();
                } else {
                    self.open = false;
                }
                self.selected = None;
            }
            KeyCode::Char('l') => self.open = false,
            KeyCode::Char('/') => self.editing = true,
            KeyCode::Char('L') => {
                self.filter.cycle_level();
                self.selected = None;
            }
            KeyCode::Char('o') => {
                self.newest_first = !self.newest_first;
                self.selected = None;
            }
            KeyCode::Char('f') => self.selected = None,
            KeyCode::Char('j') | KeyCode::Down => {
                let i = self.selected_index(n);
                self.selected = Some((i + 1).min(n.saturating_sub(1)));
            }
            KeyCode::Char('k') | KeyCode::Up => {
                let i = self.selected_index(n);
                self.selected = Some(i.saturating_sub(1));
            }
            KeyCode::PageDown => {
                let i = self.selected_index(n);
                self.selected = Some((i + 20).min(n.saturating_sub(1)));
            }
            KeyCode::PageUp => {
                let i = self.selected_index(n);
                self.selected = Some(i.saturating_sub(20));
            }
            KeyCode::Char('g') | KeyCode::Home => self.selected = Some(0),
            KeyCode::Char('G') | KeyCode::End => self.selected = None,
            KeyCode::Enter => {
                let v = self.visible();
                let rid = v
                    .get(self.selected_index(v.len()))
                    .and_then(|l| l.request_id.clone());
                if let Some(r) = rid {
                    self.filter.request_id = Some(r);
                    self.selected = None;
                }
            }
            _ => return false,
        }
        true
    }
}

fn hhmmss(ts_ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts_ms) * 1_000_000)
        .map(|t| format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()))
        .unwrap_or_else(|_| "--:--:--".into())
}

fn level_style(l: Level, theme: Theme) -> Style {
    match l {
        Level::Error => theme.bad(),
        Level::Warn => theme.warn(),
        Level::Info => Style::default(),
        Level::Debug | Level::Trace => theme.dim(),
    }
}

/// Draws the view into `area` (the body between header and footer).
pub(crate) fn render(f: &mut Frame, area: Rect, s: &LogsState, theme: Theme) {
    let mode = match &s.mode {
        Some(m) => m.label(),
        None => "starting…".into(),
    };
    let mut title = format!(
        " Logs {} · {} · {} ",
        s.group.as_deref().unwrap_or("(log group)"),
        s.window.map(|w| w.label()).unwrap_or("?"),
        mode
    );
    if s.truncated {
        title.push_str("· newest lines only ");
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.accent()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [bar, list] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let mut bar_spans = vec![Span::styled(
        format!(
            "{} · level {} ",
            if s.newest_first {
                "newest first"
            } else if s.selected.is_none() {
                "following"
            } else {
                "paused"
            },
            s.filter.min_level.map(|l| l.label()).unwrap_or("all")
        ),
        theme.dim(),
    )];
    if let Some(r) = &s.filter.request_id {
        bar_spans.push(Span::styled(format!("request {r} "), theme.accent()));
    }
    if s.editing || !s.filter.text.is_empty() {
        bar_spans.push(Span::raw(format!(
            "/{}{} ",
            s.filter.text,
            if s.editing { "▏" } else { "" }
        )));
    }
    if let Some(e) = &s.error {
        bar_spans.push(Span::styled(format!("✖ {e}"), theme.bad()));
    } else {
        bar_spans.push(Span::styled(
            "/ filter  L level  o order  Enter request  Esc back",
            theme.dim(),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(bar_spans)), bar);
    let v = s.visible();
    let h = usize::from(list.height);
    if v.is_empty() {
        let msg = if s.lines.is_empty() {
            "no log lines in the window yet"
        } else {
            "no line matches the filter"
        };
        f.render_widget(Paragraph::new(Span::styled(msg, theme.dim())), list);
        return;
    }
    let sel = s.selected_index(v.len());
    // Keep the selection on screen.
    let first = if sel >= h { sel + 1 - h } else { 0 };
    let lines: Vec<Line> = v
        .iter()
        .enumerate()
        .skip(first)
        .take(h)
        .map(|(i, l)| {
            let mut st = level_style(l.level, theme);
            if i == sel {
                st = st.add_modifier(Modifier::REVERSED);
            }
            let rid = l
                .request_id
                .as_deref()
                .map(|r| r.chars().take(8).collect::<String>())
                .unwrap_or_else(|| "-".into());
            Line::from(vec![
                Span::styled(format!("{} ", hhmmss(l.ts_ms)), theme.dim()),
                Span::styled(format!("{:<5} ", l.level.label()), st),
                Span::styled(format!("{:<9} ", l.origin.label()), theme.dim()),
                Span::styled(format!("{rid:<8} "), theme.dim()),
                Span::styled(l.text.clone(), st),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::loglines::parse_line;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn state() -> LogsState {
        let mut s = LogsState {
            open: true,
            ..Default::default()
        };
        s.on_event(LogsEvent::Reset {
            group: "/aws/lambda/f".into(),
            window: Window::H1,
            lines: vec![
                parse_line(1, "START RequestId: r1 Version: $LATEST"),
                parse_line(
                    2,
                    r#"{"level":"ERROR","message":"proxy error","request_id":"r1","target":"shim::app"}"#,
                ),
                parse_line(3, "START RequestId: r2 Version: $LATEST"),
            ],
            truncated: false,
        });
        s
    }

    #[test]
    fn enter_narrows_to_the_request_and_esc_steps_back() {
        let mut s = state();
        assert_eq!(s.visible().len(), 3);
        // Following: the newest (r2) is selected; up once is the error line of r1.
        s.on_key(&key(KeyCode::Up));
        s.on_key(&key(KeyCode::Enter));
        assert_eq!(s.filter.request_id.as_deref(), Some("r1"));
        assert_eq!(s.visible().len(), 2);
        s.on_key(&key(KeyCode::Esc));
        assert_eq!(s.visible().len(), 3);
        assert!(s.open);
        s.on_key(&key(KeyCode::Esc));
        assert!(!s.open);
    }

    #[test]
    fn text_and_level_filters_and_order() {
        let mut s = state();
        s.on_key(&key(KeyCode::Char('/')));
        for c in "proxy".chars() {
            s.on_key(&key(KeyCode::Char(c)));
        }
        s.on_key(&key(KeyCode::Enter));
        assert_eq!(s.visible().len(), 1);
        s.on_key(&key(KeyCode::Esc));
        s.on_key(&key(KeyCode::Char('L')));
        s.on_key(&key(KeyCode::Char('L')));
        assert_eq!(s.visible().len(), 1, "ERROR only");
        s.on_key(&key(KeyCode::Char('L')));
        s.on_key(&key(KeyCode::Char('o')));
        assert_eq!(s.visible()[0].ts_ms, 3, "newest first");
        assert!(!s.on_key(&key(KeyCode::Char('q'))), "q is not the view's");
    }

    #[test]
    fn appends_are_capped() {
        let mut s = state();
        let many: Vec<LogLine> = (0..(LOG_CAP as i64 + 10))
            .map(|i| parse_line(10 + i, "x"))
            .collect();
        s.on_event(LogsEvent::Append(many));
        assert_eq!(s.lines.len(), LOG_CAP);
        assert_eq!(s.received, 3 + LOG_CAP as u64 + 10);
    }
}
