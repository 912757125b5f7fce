//! `opsconsole init`'s wizard screen (on a terminal, without `--yes`, `--json`, `--check`): the
//! checks on the left, the selected one's summary, fix and candidates on the right; choosing a
//! candidate (VPC, subnets, certificate, zone) changes the request and the checks are judged
//! again (pure: the account is not read again). `w` writes when nothing fails, `q` quits
//! having written nothing. [`Wizard::key`] and [`Wizard::render`] are the testable parts;
//! [`run`] owns the terminal.

use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

use super::checks::{Check, Request, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Write,
    Quit,
}

pub struct Wizard {
    pub req: Request,
    pub checks: Vec<Check>,
    /// The selected check.
    pub sel: usize,
    /// The selected candidate, when the focus is on the candidates.
    pub cand: Option<usize>,
    pub title: String,
    pub cost: String,
    pub msg: String,
}

fn mark(s: Status) -> (&'static str, Style) {
    match s {
        Status::Pass => ("ok  ", Style::default()),
        Status::Warn => ("warn", Style::default().add_modifier(Modifier::BOLD)),
        Status::Fail => (
            "FAIL",
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Status::Skipped => ("skip", Style::default().add_modifier(Modifier::DIM)),
    }
}

impl Wizard {
    pub fn failing(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count()
    }

    fn selected(&self) -> Option<&Check> {
        self.checks.get(self.sel)
    }

    /// Makes candidate `i` of the selected check the choice; `false` when there is nothing to
    /// choose there.
    fn choose(&mut self, i: usize) -> bool {
        let Some(c) = self.selected() else {
            return false;
        };
        let Some(cand) = c.candidates.get(i) else {
            return false;
        };
        let id = cand.id.clone();
        match c.id {
            "vpc" => {
                self.req.vpc = Some(id);
                self.req.subnets.clear();
            }
            "subnets" => {
                if self.req.subnets.is_empty() {
                    self.req.subnets = c
                        .candidates
                        .iter()
                        .filter(|c| c.chosen)
                        .map(|c| c.id.clone())
                        .collect();
                }
                if let Some(pos) = self.req.subnets.iter().position(|s| s == &id) {
                    self.req.subnets.remove(pos);
                } else {
                    self.req.subnets.push(id);
                }
            }
            "certificate" => self.req.certificate = Some(id),
            "zone" => self.req.zone = Some(id),
            _ => return false,
        }
        true
    }

    /// One key; `judge` evaluates a request again. `Some` ends the wizard.
    pub fn key(
        &mut self,
        code: KeyCode,
        judge: &mut dyn FnMut(&Request) -> Vec<Check>,
    ) -> Option<Outcome> {
        let n = self.checks.len();
        let cands = self.selected().map_or(0, |c| c.candidates.len());
        self.msg.clear();
        match (code, self.cand) {
            (KeyCode::Char('q'), _) => return Some(Outcome::Quit),
            (KeyCode::Esc, None) => return Some(Outcome::Quit),
            (KeyCode::Char('w'), _) => {
                if self.failing() == 0 {
                    return Some(Outcome::Write);
                }
                self.msg = format!(
                    "{} check(s) fail: nothing can be written yet",
                    self.failing()
                );
            }
            (KeyCode::Down | KeyCode::Char('j'), None) if n > 0 => self.sel = (self.sel + 1) % n,
            (KeyCode::Up | KeyCode::Char('k'), None) if n > 0 => self.sel = (self.sel + n - 1) % n,
            (KeyCode::Tab | KeyCode::Right | KeyCode::Char('l'), None) => {
                if cands > 0 {
                    self.cand = Some(0);
                } else {
                    self.msg = "no candidates to choose from here".into();
                }
            }
            (KeyCode::Down | KeyCode::Char('j'), Some(i)) => {
                self.cand = Some((i + 1) % cands.max(1))
            }
            (KeyCode::Up | KeyCode::Char('k'), Some(i)) => {
                self.cand = Some((i + cands.max(1) - 1) % cands.max(1));
            }
            (KeyCode::Tab | KeyCode::Left | KeyCode::Esc | KeyCode::Char('h'), Some(_)) => {
                self.cand = None
            }
            (KeyCode::Enter, Some(i)) => {
                let id = self.selected().map(|c| c.id).unwrap_or("");
                if self.choose(i) {
                    self.checks = judge(&self.req);
                    // Stay on the same check (ids are stable; the list may change length).
                    self.sel = self.checks.iter().position(|c| c.id == id).unwrap_or(0);
                    let len = self.selected().map_or(0, |c| c.candidates.len());
                    self.cand = (len > 0).then_some(i.min(len.saturating_sub(1)));
                    self.msg = format!("{id}: chosen, checks judged again");
                } else {
                    self.msg = format!("{id}: chosen by init, or by flag (nothing to choose here)");
                }
            }
            _ => {}
        }
        None
    }

    pub fn render(&self, f: &mut Frame) {
        let [head, body, status, keys] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(f.area());
        f.render_widget(
            Paragraph::new(self.title.as_str())
                .style(Style::default().add_modifier(Modifier::BOLD)),
            head,
        );
        let [left, right] =
            Layout::horizontal([Constraint::Length(22), Constraint::Min(20)]).areas(body);
        let items: Vec<ListItem> = self
            .checks
            .iter()
            .map(|c| {
                let (m, st) = mark(c.status);
                ListItem::new(Line::from(vec![
                    Span::styled(m, st),
                    Span::raw(" "),
                    Span::raw(c.id),
                ]))
            })
            .collect();
        let mut state = ListState::default();
        state.select(Some(self.sel));
        let hl = if self.cand.is_none() {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED)
        };
        f.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::ALL).title(" checks "))
                .highlight_style(hl),
            left,
            &mut state,
        );
        let Some(c) = self.selected() else { return };
        let mut text = vec![Line::from(c.summary.as_str())];
        if c.status != Status::Pass
            && let Some(fix) = &c.fix
        {
            text.push(Line::from(format!("fix: {fix}")));
        }
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Min(3)]).areas(right);
        f.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: true }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} ", c.id)),
            ),
            top,
        );
        let cands: Vec<ListItem> = c
            .candidates
            .iter()
            .map(|x| {
                ListItem::new(format!(
                    "{} {} {}",
                    if x.chosen { "*" } else { " " },
                    x.id,
                    x.detail
                ))
            })
            .collect();
        let mut cstate = ListState::default();
        cstate.select(self.cand);
        f.render_stateful_widget(
            List::new(cands)
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(" candidates (* chosen) "),
                )
                .highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
            bottom,
            &mut cstate,
        );
        let line = if self.msg.is_empty() {
            match self.failing() {
                0 => format!("all checks pass: w writes the variables · {}", self.cost),
                n => format!("{n} check(s) fail · {}", self.cost),
            }
        } else {
            self.msg.clone()
        };
        f.render_widget(Paragraph::new(line), status);
        f.render_widget(
            Paragraph::new("↑↓ check  Tab candidates  Enter choose  w write  q quit")
                .style(Style::default().add_modifier(Modifier::DIM)),
            keys,
        );
    }
}

/// Restores the terminal however the wizard ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
        let _ = crossterm::execute!(std::io::stdout(), crossterm::terminal::LeaveAlternateScreen);
    }
}

/// Runs the wizard on the terminal until `w` or `q`.
pub fn run(
    mut w: Wizard,
    judge: &mut dyn FnMut(&Request) -> Vec<Check>,
) -> std::io::Result<(Outcome, Wizard)> {
    crossterm::terminal::enable_raw_mode()?;
    let _guard = TerminalGuard;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    let mut term =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
    loop {
        term.draw(|f| w.render(f))?;
        if let Event::Key(k) = event::read()?
            && k.kind == KeyEventKind::Press
            && let Some(o) = w.key(k.code, judge)
        {
            return Ok((o, w));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::checks::Candidate;

    fn check(id: &'static str, status: Status, cands: &[(&str, bool)]) -> Check {
        Check {
            id,
            status,
            summary: format!("{id} summary"),
            fix: (status == Status::Fail).then(|| format!("fix {id}")),
            candidates: cands
                .iter()
                .map(|(c, chosen)| Candidate {
                    id: c.to_string(),
                    detail: String::new(),
                    chosen: *chosen,
                })
                .collect(),
        }
    }

    fn wizard() -> Wizard {
        Wizard {
            req: Request::default(),
            checks: vec![
                check("credentials", Status::Pass, &[]),
                check("vpc", Status::Fail, &[("vpc-a", false), ("vpc-b", false)]),
            ],
            sel: 0,
            cand: None,
            title: "opsconsole init dev".into(),
            cost: "29.28 USD/month".into(),
            msg: String::new(),
        }
    }

    /// The judge of the tests: the vpc check passes once `vpc-b` is asked for.
    fn judge(r: &Request) -> Vec<Check> {
        let ok = r.vpc.as_deref() == Some("vpc-b");
        vec![
            check("credentials", Status::Pass, &[]),
            check(
                "vpc",
                if ok { Status::Pass } else { Status::Fail },
                &[("vpc-a", false), ("vpc-b", ok)],
            ),
        ]
    }

    #[test]
    fn choosing_a_candidate_judges_again_and_w_writes_only_when_nothing_fails() {
        let mut w = wizard();
        let mut j = judge;
        assert_eq!(w.key(KeyCode::Char('w'), &mut j), None, "a check fails");
        assert!(w.msg.contains("1 check(s) fail"));
        w.key(KeyCode::Down, &mut j);
        w.key(KeyCode::Tab, &mut j);
        assert_eq!(w.cand, Some(0));
        w.key(KeyCode::Down, &mut j);
        w.key(KeyCode::Enter, &mut j);
        assert_eq!(w.req.vpc.as_deref(), Some("vpc-b"));
        assert_eq!(w.failing(), 0);
        assert_eq!(w.sel, 1, "still on the vpc check");
        assert_eq!(w.key(KeyCode::Char('w'), &mut j), Some(Outcome::Write));
    }

    #[test]
    fn q_quits_and_a_check_without_candidates_says_so() {
        let mut w = wizard();
        let mut j = judge;
        w.key(KeyCode::Tab, &mut j);
        assert_eq!(w.cand, None);
        assert!(w.msg.contains("no candidates"));
        assert_eq!(w.key(KeyCode::Char('q'), &mut j), Some(Outcome::Quit));
    }

    #[test]
    fn it_renders_at_80x24() {
        let w = wizard();
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        t.draw(|f| w.render(f)).unwrap();
        let screen: String = t
            .backend()
            .buffer()
            .content()
            .chunks(80)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
            .collect();
        assert!(screen.contains("FAIL vpc"), "{screen}");
        assert!(
            screen.contains("1 check(s) fail · 29.28 USD/month"),
            "{screen}"
        );
        assert!(screen.contains("credentials summary"), "{screen}");
    }
}
