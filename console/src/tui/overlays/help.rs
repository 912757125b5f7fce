//! `?`: every key binding (as configured) and the `:` commands.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::app::{App, Panel};
use crate::tui::keys::Command;
use crate::tui::theme::Theme;

pub(super) fn render(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut lines = Vec::new();
    // Related commands share a line (the help fits 80x24): the others are shown with the
    // first.
    let partner = |cmd: Command| -> Option<(&[Command], &str)> {
        match cmd {
            Command::Down => Some((&[Command::Up], "move down / up")),
            Command::Wider => Some((&[Command::Narrower], "widen / narrow the time window")),
            Command::Logs => Some((
                &[Command::Charts, Command::Cost],
                "logs (live) / charts / cost and what-ifs",
            )),
            _ => None,
        }
    };
    for (_, cmd, what) in Command::NAMED {
        if matches!(
            cmd,
            Command::Up | Command::Narrower | Command::Charts | Command::Cost
        ) {
            continue;
        }
        let mut keys: Vec<String> = app.keymap.keys_for(cmd).iter().map(|k| k.label()).collect();
        let what = match (cmd, partner(cmd)) {
            (Command::Focus(_), _) => {
                format!("focus panel 1 (2-{} likewise)", Panel::ALL.len())
            }
            (_, Some((others, all))) => {
                for other in others {
                    keys.extend(app.keymap.keys_for(*other).iter().map(|k| k.label()));
                }
                all.to_string()
            }
            _ => what.to_string(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14}", keys.join(" ")), theme.accent()),
            Span::raw(what),
        ]));
    }
    lines.push(Line::styled(
        "Commands (: then Tab completes)",
        Style::default().add_modifier(Modifier::BOLD),
    ));
    for (c, what) in [
        (":deploy image [URI]", "build, push, update Lambda, verify"),
        (":apply", "terraform plan, confirm, apply"),
        (":invalidate /*", "CloudFront invalidation, followed"),
        (":probe :bundle :cost", "SSE probe / support bundle / cost"),
        (":env NAME  :quit", "switch environment / quit"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("{c:<21}"), theme.accent()),
            Span::raw(what),
        ]));
    }
    let h = lines.len() as u16 + 2;
    let r = super::popup(area, 62, h);
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
