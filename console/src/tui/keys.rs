//! The key map: which key runs which command. Defaults follow k9s/lazydocker habits; every
//! binding can be changed in the config file's `[keys]` table, e.g.
//!
//! ```toml
//! [keys]
//! quit = ["q", "ctrl-q"]
//! refresh = "R"
//! cancel = "x"
//! ```
//!
//! Key names: a single character, or `enter`, `esc`, `tab`, `backtab`, `up`, `down`, `left`,
//! `right`, `pageup`, `pagedown`, `home`, `end`, `f1`..`f12`, with optional `ctrl-`/`alt-`.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::panels::Panel;

/// What a key does in the normal view (overlays read keys themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Help,
    NextPanel,
    PrevPanel,
    /// Focus panel N (1 ..= the number of panels, at most 9).
    Focus(u8),
    Down,
    Up,
    Open,
    Back,
    Filter,
    CommandLine,
    Refresh,
    Probe,
    Cancel,
    Invalidate,
    /// The logs view (the function's log group, live).
    Logs,
    /// The charts view.
    Charts,
    /// Look further back (15m, 1h, 3h, 12h, 24h, 7d).
    Wider,
    /// Look less far back.
    Narrower,
    /// The cost view: the month's breakdown and the what-ifs.
    Cost,
}

impl Command {
    /// The config-file name of each command, in the order the help shows them.
    pub(crate) const NAMED: [(&'static str, Command, &'static str); 20] = [
        ("help", Command::Help, "show this help"),
        ("next_panel", Command::NextPanel, "next panel"),
        ("prev_panel", Command::PrevPanel, "previous panel"),
        ("down", Command::Down, "move down"),
        ("up", Command::Up, "move up"),
        ("open", Command::Open, "open the detail view"),
        (
            "back",
            Command::Back,
            "close the detail view / clear the filter",
        ),
        ("filter", Command::Filter, "filter the focused list"),
        (
            "command",
            Command::CommandLine,
            "command line (Tab completes)",
        ),
        ("refresh", Command::Refresh, "refresh every panel"),
        ("probe", Command::Probe, "rerun the SSE probe"),
        (
            "logs",
            Command::Logs,
            "the function's logs, live (/ L o Enter Esc inside)",
        ),
        (
            "charts",
            Command::Charts,
            "charts over the window (more on a larger terminal)",
        ),
        (
            "cost",
            Command::Cost,
            "the month's cost: breakdown and what-ifs",
        ),
        (
            "wider",
            Command::Wider,
            "widen the time window (15m 1h 3h 12h 24h 7d)",
        ),
        ("narrower", Command::Narrower, "narrow the time window"),
        ("invalidate", Command::Invalidate, "prefill :invalidate /*"),
        ("cancel", Command::Cancel, "cancel the running action"),
        ("quit", Command::Quit, "quit"),
        ("focus_1", Command::Focus(1), "focus panel 1 (2-6 likewise)"),
    ];
}

/// What the help overlay lists, in its order: each command's config name with the labels of
/// the keys bound to it in `km` (as the help shows them). `focus_1` carries the keys of every
/// panel (`1`..`6`). For tests that press every key the help lists, so the list cannot drift.
pub fn help_entries(km: &KeyMap) -> Vec<(&'static str, Vec<String>)> {
    Command::NAMED
        .iter()
        .map(|(name, cmd, _)| {
            let cmds: Vec<Command> = match cmd {
                Command::Focus(_) => (1..=panel_keys()).map(Command::Focus).collect(),
                c => vec![*c],
            };
            let keys = cmds
                .iter()
                .flat_map(|c| km.keys_for(*c))
                .map(|k| k.label())
                .collect();
            (*name, keys)
        })
        .collect()
}

/// A key with its modifiers (shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub(crate) fn from_event(ev: &KeyEvent) -> Key {
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        }
    }

    pub fn plain(code: KeyCode) -> Key {
        Key {
            code,
            ctrl: false,
            alt: false,
        }
    }

    /// Parses a key name from the config file.
    pub fn parse(name: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = name;
        loop {
            let lower = rest.to_ascii_lowercase();
            if lower.starts_with("ctrl-") && rest.len() > 5 {
                ctrl = true;
                rest = &rest[5..];
            } else if lower.starts_with("alt-") && rest.len() > 4 {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" | "shift-tab" => KeyCode::BackTab,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "space" => KeyCode::Char(' '),
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n) if (1..=12).contains(&n) => KeyCode::F(n),
                    _ => return Err(format!("unknown key {name:?}")),
                },
                _ => return Err(format!("unknown key {name:?}")),
            },
        };
        Ok(Key { code, ctrl, alt })
    }

    /// The name shown in the help and footer.
    pub(crate) fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        match (self.ctrl, self.alt) {
            (true, _) => format!("C-{base}"),
            (_, true) => format!("M-{base}"),
            _ => base,
        }
    }
}

/// How many panels have a number key (`1`..`9`).
fn panel_keys() -> u8 {
    u8::try_from(Panel::ALL.len()).unwrap_or(9).min(9)
}

/// The command a config-file name stands for (`quit`, `focus_3`, ...).
pub(crate) fn command_by_name(name: &str) -> Option<Command> {
    if let Some(n) = name.strip_prefix("focus_") {
        return match n.parse::<u8>() {
            Ok(n) if (1..=panel_keys()).contains(&n) => Some(Command::Focus(n)),
            _ => None,
        };
    }
    Command::NAMED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, c, _)| *c)
}

#[derive(Debug, Clone)]
pub struct KeyMap {
    map: HashMap<Key, Command>,
}

impl Default for KeyMap {
    fn default() -> Self {
        use KeyCode::*;
        let mut map = HashMap::new();
        let mut bind = |code: KeyCode, cmd: Command| {
            map.insert(Key::plain(code), cmd);
        };
        bind(Char('q'), Command::Quit);
        bind(Char('?'), Command::Help);
        bind(Tab, Command::NextPanel);
        bind(BackTab, Command::PrevPanel);
        for n in 1..=panel_keys() {
            bind(Char(char::from(b'0' + n)), Command::Focus(n));
        }
        bind(Char('j'), Command::Down);
        bind(Down, Command::Down);
        bind(Char('k'), Command::Up);
        bind(Up, Command::Up);
        bind(Enter, Command::Open);
        bind(Esc, Command::Back);
        bind(Char('/'), Command::Filter);
        bind(Char(':'), Command::CommandLine);
        bind(Char('r'), Command::Refresh);
        bind(Char('p'), Command::Probe);
        bind(Char('x'), Command::Cancel);
        bind(Char('i'), Command::Invalidate);
        // bottom's zoom habit: `-` shows more time, `+` (or `=`) less.
        bind(Char('l'), Command::Logs);
        bind(Char('c'), Command::Charts);
        bind(Char('$'), Command::Cost);
        bind(Char('-'), Command::Wider);
        bind(Char('+'), Command::Narrower);
        bind(Char('='), Command::Narrower);
        map.insert(
            Key {
                code: Char('c'),
                ctrl: true,
                alt: false,
            },
            Command::Quit,
        );
        KeyMap { map }
    }
}

impl KeyMap {
    pub fn get(&self, ev: &KeyEvent) -> Option<Command> {
        self.map.get(&Key::from_event(ev)).copied()
    }

    /// The keys bound to `cmd`, sorted for a stable help screen.
    pub(crate) fn keys_for(&self, cmd: Command) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .map
            .iter()
            .filter(|(_, c)| **c == cmd)
            .map(|(k, _)| *k)
            .collect();
        keys.sort_by_key(|k| (k.ctrl, k.alt, k.label()));
        keys
    }

    /// The first key's label of `cmd`, for the footer.
    pub(crate) fn label(&self, cmd: Command) -> String {
        self.keys_for(cmd)
            .first()
            .map(Key::label)
            .unwrap_or_else(|| "(unbound)".into())
    }

    /// Applies a `[keys]` table: each named command is rebound to the given key(s), replacing
    /// its default keys. Unknown names or keys are errors naming them.
    pub(crate) fn apply_config(&mut self, table: &toml::Table) -> Result<(), String> {
        for (name, value) in table {
            let cmd =
                command_by_name(name).ok_or_else(|| format!("[keys]: unknown command {name:?}"))?;
            let names: Vec<&str> = match value {
                toml::Value::String(s) => vec![s.as_str()],
                toml::Value::Array(a) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .ok_or_else(|| format!("[keys].{name}: keys must be strings"))
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(format!("[keys].{name}: a key or a list of keys")),
            };
            let keys = names
                .iter()
                .map(|k| Key::parse(k).map_err(|e| format!("[keys].{name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            self.map.retain(|_, c| *c != cmd);
            for k in keys {
                self.map.insert(k, cmd);
            }
        }
        Ok(())
    }

    /// Reads the `[keys]` table of a TOML config file's text (other tables are ignored here).
    pub fn from_config_text(text: &str) -> Result<KeyMap, String> {
        let doc: toml::Table = text.parse().map_err(|e| format!("config: {e}"))?;
        let mut km = KeyMap::default();
        if let Some(v) = doc.get("keys") {
            let t = v
                .as_table()
                .ok_or_else(|| "config: [keys] must be a table".to_string())?;
            km.apply_config(t)?;
        }
        Ok(km)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn defaults() {
        let km = KeyMap::default();
        assert_eq!(km.get(&ev(KeyCode::Char('q'))), Some(Command::Quit));
        assert_eq!(km.get(&ev(KeyCode::Char('3'))), Some(Command::Focus(3)));
        assert_eq!(km.get(&ev(KeyCode::Down)), Some(Command::Down));
        assert_eq!(
            km.get(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(km.get(&ev(KeyCode::Char('z'))), None);
    }

    #[test]
    fn config_rebinds_and_replaces() {
        let km = KeyMap::from_config_text(
            "[keys]\nquit = [\"Q\", \"ctrl-q\"]\nrefresh = \"F5\"\nfocus_6 = \"0\"\n",
        )
        .unwrap();
        assert_eq!(km.get(&ev(KeyCode::Char('q'))), None);
        assert_eq!(km.get(&ev(KeyCode::Char('Q'))), Some(Command::Quit));
        assert_eq!(
            km.get(&KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(km.get(&ev(KeyCode::F(5))), Some(Command::Refresh));
        assert_eq!(km.get(&ev(KeyCode::Char('r'))), None);
        assert_eq!(km.get(&ev(KeyCode::Char('0'))), Some(Command::Focus(6)));
    }

    #[test]
    fn config_errors_name_the_problem() {
        let e = KeyMap::from_config_text("[keys]\nfly = \"f\"\n").unwrap_err();
        assert!(e.contains("fly"), "{e}");
        let e = KeyMap::from_config_text("[keys]\nquit = \"hyper-q\"\n").unwrap_err();
        assert!(e.contains("hyper-q"), "{e}");
    }
}
