//! The config file: `$XDG_CONFIG_HOME/opsconsole/config.toml` (or `--config FILE`), with
//! defaults and per-environment sections. Command-line flags win over it. Format:
//!
//! ```toml
//! [defaults]                 # applies to every environment
//! profile = "librechat"
//! timeout_secs = 30
//!
//! [defaults.thresholds]
//! cold_start_p95_ms = 5000   # cold_start_p95_high above this
//!
//! [env.dev]
//! profile = "librechat-dev"
//! region = "eu-west-1"
//! outputs = "/path/to/outputs.json"        # instead of terraform / the S3 state
//! login_hint = "task login:dev"
//!
//! [env.dev.probe]
//! token = "literal"            # or token_env = "VAR", or token_ssm = "/librechat/dev/diag-token"
//! sse_events = 10
//! sse_interval_ms = 200
//! chat_url = "https://.../api/ask"          # optional: probe a chat endpoint (GET) instead
//! chat_token_env = "LIBRECHAT_TOKEN"        # bearer token for chat_url
//! chat_agent = "agent_..."                  # optional: stream a real chat instead (POST
//!                                           # /api/agents/v1/chat/completions, browser headers)
//! chat_key_env = "LIBRECHAT_API_KEY"        # its API key (or chat_key_ssm = "/param")
//! chat_prompt = "Say hello"                 # optional
//! web_agent = "agent_..."                   # optional: the web UI's chat instead (login, POST
//!                                           # /api/agents/chat/agents, GET the stream; wins)
//! web_email = "probe@example.org"           # the probe user
//! web_password_ssm = "/librechat/dev/probe-password"   # or web_password_env = "VAR"
//! web_prompt = "Say hello"                  # optional
//! stall_limit_ms = 8000                     # optional: a pause between two events over this
//!                                           # is sse_stalled (default: max(5 s, 5 x the
//!                                           # largest gap before it)); --stall-limit-ms wins
//! sse_path = "/api/__shim/sse"              # paths on site_url (these are the defaults)
//! status_path = "/api/__shim/status"
//! health_path = "/api/health"
//!
//! [env.dev.thresholds]
//! cold_start_p95_ms = 4000
//! ```
//!
//! Without a token source in the file, `OPSCONSOLE_DIAGNOSTICS_TOKEN` is used when set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opsconsole_wire::sse::SseParams;
use serde::{Deserialize, Serialize};

use crate::cli::GlobalOpts;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub defaults: EnvSection,
    #[serde(default)]
    pub env: BTreeMap<String, EnvSection>,
    /// The TUI's key bindings (`[keys]`, read and validated by `tui::keys`).
    #[serde(default)]
    pub keys: Option<toml::Table>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSection {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub outputs: Option<PathBuf>,
    pub timeout_secs: Option<u64>,
    pub login_hint: Option<String>,
    #[serde(default)]
    pub probe: ProbeSection,
    #[serde(default)]
    pub thresholds: ThresholdSection,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSection {
    pub token: Option<String>,
    pub token_env: Option<String>,
    pub token_ssm: Option<String>,
    pub sse_events: Option<u32>,
    pub sse_interval_ms: Option<u64>,
    pub chat_url: Option<String>,
    pub chat_token_env: Option<String>,
    /// The chat mode: a LibreChat agent id streamed through the agents API with an API key.
    pub chat_agent: Option<String>,
    pub chat_key_env: Option<String>,
    pub chat_key_ssm: Option<String>,
    pub chat_prompt: Option<String>,
    /// The web mode: the web UI's chat as a browser makes it, as a probe user.
    pub web_agent: Option<String>,
    pub web_email: Option<String>,
    pub web_password_env: Option<String>,
    pub web_password_ssm: Option<String>,
    pub web_prompt: Option<String>,
    /// The SSE probe's stall limit between events, in ms (every mode).
    pub stall_limit_ms: Option<u64>,
    /// Paths on `site_url` (defaults: the shim's, docs/contracts.md section 2).
    pub health_path: Option<String>,
    pub status_path: Option<String>,
    pub sse_path: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSection {
    pub cold_start_p95_ms: Option<f64>,
    /// Minutes of Lambda metrics and logs to look at.
    pub lambda_window_minutes: Option<u32>,
    /// Upper bound of log events scanned for REPORT lines.
    pub max_log_events: Option<u32>,
}

/// Where the diagnostics token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Literal(String),
    Env(String),
    Ssm(String),
}

/// Everything resolved for one run (flags > env section > defaults > built-in).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub outputs: Option<PathBuf>,
    pub timeout: Duration,
    pub login_hint: String,
    pub token: Option<TokenSource>,
    pub sse_events: u32,
    pub sse_interval_ms: u64,
    pub chat_url: Option<String>,
    pub chat_token_env: Option<String>,
    /// The chat mode (wins over `chat_url`): the agent id, where its API key comes from, the
    /// prompt.
    pub chat_agent: Option<String>,
    pub chat_key: Option<TokenSource>,
    pub chat_prompt: String,
    /// The web mode (wins over the others): the agent, the probe user's email, where its
    /// password comes from, the prompt.
    pub web_agent: Option<String>,
    pub web_email: Option<String>,
    pub web_password: Option<TokenSource>,
    pub web_prompt: String,
    /// The stall limit between events (`--stall-limit-ms` > env > defaults; `None`: the
    /// stream's rhythm).
    pub stall_limit_ms: Option<u64>,
    /// `/api/health`, `/api/__shim/status`, `/api/__shim/sse` unless configured.
    pub health_path: String,
    pub status_path: String,
    pub sse_path: String,
    pub cold_start_p95_ms: f64,
    pub lambda_window_minutes: u32,
    pub max_log_events: u32,
    /// Events per FilterLogEvents page (the API's maximum is 10000).
    pub log_page_size: u32,
    /// The config file that was read, if any.
    pub config_path: Option<PathBuf>,
}

/// The chat mode's prompt unless configured.
pub const DEFAULT_CHAT_PROMPT: &str = "Count from one to ten, one number per line.";
/// LibreChat's OpenAI-compatible agents API (API-key auth), on `site_url`.
pub const CHAT_PATH: &str = "/api/agents/v1/chat/completions";
/// The web UI's login, chat start and chat stream (`<path>/<conversationId>`) on `site_url`.
pub const WEB_LOGIN_PATH: &str = "/api/auth/login";
pub const WEB_CHAT_PATH: &str = "/api/agents/chat/agents";
pub const WEB_STREAM_PATH: &str = "/api/agents/chat/stream";
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 30;
pub(crate) const DEFAULT_COLD_START_P95_MS: f64 = 5000.0;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: {err}")]
    Read { path: String, err: String },
    #[error("config {path}: {err}")]
    Parse { path: String, err: String },
}

/// The default config path: `$XDG_CONFIG_HOME/opsconsole/config.toml`.
pub(crate) fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "opsconsole").map(|d| d.config_dir().join("config.toml"))
}

impl ConfigFile {
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            err: e.to_string(),
        })
    }

    /// Reads `explicit` (must exist) or the default path (may be absent).
    pub fn load(explicit: Option<&Path>) -> Result<(ConfigFile, Option<PathBuf>), ConfigError> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => match default_path() {
                Some(p) => (p, false),
                None => return Ok((ConfigFile::default(), None)),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((ConfigFile::parse(&text, &path)?, Some(path))),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                Ok((ConfigFile::default(), None))
            }
            Err(e) => Err(ConfigError::Read {
                path: path.display().to_string(),
                err: e.to_string(),
            }),
        }
    }

    /// Resolves the settings for `env`; `flags` win.
    pub fn resolve(&self, env: &str, flags: &GlobalOpts) -> Settings {
        let d = &self.defaults;
        let e = self.env.get(env).cloned().unwrap_or_default();
        let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        let token = [&e.probe, &d.probe]
            .iter()
            .find_map(|p| {
                p.token
                    .clone()
                    .map(TokenSource::Literal)
                    .or_else(|| p.token_env.clone().map(TokenSource::Env))
                    .or_else(|| p.token_ssm.clone().map(TokenSource::Ssm))
            })
            .or_else(|| {
                std::env::var("OPSCONSOLE_DIAGNOSTICS_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty())
                    .map(|_| TokenSource::Env("OPSCONSOLE_DIAGNOSTICS_TOKEN".into()))
            });
        Settings {
            profile: flags
                .profile
                .clone()
                .or_else(|| pick(&e.profile, &d.profile)),
            region: flags.region.clone().or_else(|| pick(&e.region, &d.region)),
            endpoint_url: flags
                .endpoint_url
                .clone()
                .or_else(|| pick(&e.endpoint_url, &d.endpoint_url)),
            outputs: flags
                .outputs
                .clone()
                .or_else(|| e.outputs.clone())
                .or_else(|| d.outputs.clone()),
            timeout: Duration::from_secs(
                flags
                    .timeout
                    .or(e.timeout_secs)
                    .or(d.timeout_secs)
                    .unwrap_or(DEFAULT_TIMEOUT_SECS)
                    .max(1),
            ),
            login_hint: pick(&e.login_hint, &d.login_hint)
                .unwrap_or_else(|| format!("task login:{env}")),
            token,
            sse_events: e
                .probe
                .sse_events
                .or(d.probe.sse_events)
                .unwrap_or(SseParams::DEFAULT_EVENTS)
                .clamp(2, SseParams::MAX_EVENTS),
            sse_interval_ms: e
                .probe
                .sse_interval_ms
                .or(d.probe.sse_interval_ms)
                .unwrap_or(SseParams::DEFAULT_INTERVAL_MS)
                .clamp(10, SseParams::MAX_INTERVAL_MS),
            chat_url: pick(&e.probe.chat_url, &d.probe.chat_url),
            chat_token_env: pick(&e.probe.chat_token_env, &d.probe.chat_token_env),
            chat_agent: pick(&e.probe.chat_agent, &d.probe.chat_agent),
            chat_key: [&e.probe, &d.probe].iter().find_map(|p| {
                p.chat_key_env
                    .clone()
                    .map(TokenSource::Env)
                    .or_else(|| p.chat_key_ssm.clone().map(TokenSource::Ssm))
            }),
            chat_prompt: pick(&e.probe.chat_prompt, &d.probe.chat_prompt)
                .unwrap_or_else(|| DEFAULT_CHAT_PROMPT.to_string()),
            web_agent: pick(&e.probe.web_agent, &d.probe.web_agent),
            web_email: pick(&e.probe.web_email, &d.probe.web_email),
            web_password: [&e.probe, &d.probe].iter().find_map(|p| {
                p.web_password_env
                    .clone()
                    .map(TokenSource::Env)
                    .or_else(|| p.web_password_ssm.clone().map(TokenSource::Ssm))
            }),
            web_prompt: pick(&e.probe.web_prompt, &d.probe.web_prompt)
                .unwrap_or_else(|| DEFAULT_CHAT_PROMPT.to_string()),
            stall_limit_ms: flags
                .stall_limit_ms
                .or(e.probe.stall_limit_ms)
                .or(d.probe.stall_limit_ms)
                .map(|m| m.max(1)),
            health_path: path(
                pick(&e.probe.health_path, &d.probe.health_path),
                opsconsole_wire::HEALTH_PATH,
            ),
            status_path: path(
                pick(&e.probe.status_path, &d.probe.status_path),
                opsconsole_wire::STATUS_PATH,
            ),
            sse_path: path(
                pick(&e.probe.sse_path, &d.probe.sse_path),
                opsconsole_wire::SSE_PATH,
            ),
            cold_start_p95_ms: e
                .thresholds
                .cold_start_p95_ms
                .or(d.thresholds.cold_start_p95_ms)
                .unwrap_or(DEFAULT_COLD_START_P95_MS),
            lambda_window_minutes: e
                .thresholds
                .lambda_window_minutes
                .or(d.thresholds.lambda_window_minutes)
                .unwrap_or(60)
                .clamp(5, 24 * 60),
            max_log_events: e
                .thresholds
                .max_log_events
                .or(d.thresholds.max_log_events)
                .unwrap_or(10_000)
                .max(1),
            log_page_size: 10_000,
            config_path: None,
        }
    }
}

/// A configured path, with a leading slash, or the default.
fn path(p: Option<String>, default: &str) -> String {
    match p {
        Some(p) if p.starts_with('/') => p,
        Some(p) if !p.is_empty() => format!("/{p}"),
        _ => default.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
[defaults]
profile = "base"
timeout_secs = 20
[defaults.thresholds]
cold_start_p95_ms = 6000
[env.dev]
profile = "dev-profile"
region = "eu-west-1"
[env.dev.probe]
token_ssm = "/x/token"
sse_events = 5
stall_limit_ms = 8000
[env.dev.thresholds]
cold_start_p95_ms = 4000
"#;

    #[test]
    fn env_section_over_defaults_and_flags_over_both() {
        let c = ConfigFile::parse(TEXT, Path::new("c.toml")).expect("parses");
        let s = c.resolve("dev", &GlobalOpts::default());
        assert_eq!(s.profile.as_deref(), Some("dev-profile"));
        assert_eq!(s.cold_start_p95_ms, 4000.0);
        assert_eq!(s.timeout, Duration::from_secs(20));
        assert_eq!(s.token, Some(TokenSource::Ssm("/x/token".into())));
        assert_eq!(s.sse_events, 5);
        assert_eq!(s.sse_path, "/api/__shim/sse");
        assert_eq!(s.stall_limit_ms, Some(8000));
        let prod = c.resolve("prod", &GlobalOpts::default());
        assert_eq!(prod.profile.as_deref(), Some("base"));
        assert_eq!(prod.stall_limit_ms, None);
        assert_eq!(prod.cold_start_p95_ms, 6000.0);
        assert_eq!(prod.login_hint, "task login:prod");
        let flags = GlobalOpts {
            profile: Some("flag".into()),
            timeout: Some(3),
            stall_limit_ms: Some(2500),
            ..GlobalOpts::default()
        };
        let s = c.resolve("dev", &flags);
        assert_eq!(s.profile.as_deref(), Some("flag"));
        assert_eq!(s.stall_limit_ms, Some(2500));
        assert_eq!(s.timeout, Duration::from_secs(3));
    }

    #[test]
    fn a_keys_table_is_accepted_and_bindings_reach_the_tui() {
        let text = format!("{TEXT}\n[keys]\nquit = \"x\"\n");
        let c = ConfigFile::parse(&text, Path::new("c.toml")).expect("a [keys] table parses");
        assert!(c.keys.is_some_and(|k| k.contains_key("quit")));
        use crate::tui::keys::{Command, KeyMap};
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let km = KeyMap::from_config_text(&text).expect("valid bindings");
        let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(km.get(&x), Some(Command::Quit));
    }

    #[test]
    fn the_chat_mode_settings_resolve_env_over_defaults() {
        let text = "[defaults.probe]\nchat_key_ssm = \"/d/key\"\n[env.dev.probe]\nchat_agent = \"agent_1\"\nchat_key_env = \"K\"\n[env.prod.probe]\nchat_agent = \"agent_2\"\nchat_prompt = \"hi\"\n";
        let c = ConfigFile::parse(text, Path::new("c.toml")).expect("parses");
        let dev = c.resolve("dev", &GlobalOpts::default());
        assert_eq!(dev.chat_agent.as_deref(), Some("agent_1"));
        assert_eq!(dev.chat_key, Some(TokenSource::Env("K".into())));
        assert_eq!(dev.chat_prompt, DEFAULT_CHAT_PROMPT);
        let prod = c.resolve("prod", &GlobalOpts::default());
        assert_eq!(prod.chat_key, Some(TokenSource::Ssm("/d/key".into())));
        assert_eq!(prod.chat_prompt, "hi");
        assert_eq!(c.resolve("x", &GlobalOpts::default()).chat_agent, None);
    }

    #[test]
    fn the_web_mode_settings_resolve_env_over_defaults() {
        let text = "[defaults.probe]\nweb_password_ssm = \"/d/pw\"\nweb_email = \"d@x\"\n[env.dev.probe]\nweb_agent = \"agent_1\"\nweb_password_env = \"PW\"\n[env.prod.probe]\nweb_agent = \"agent_2\"\nweb_email = \"p@x\"\nweb_prompt = \"hi\"\n";
        let c = ConfigFile::parse(text, Path::new("c.toml")).expect("parses");
        let dev = c.resolve("dev", &GlobalOpts::default());
        assert_eq!(dev.web_agent.as_deref(), Some("agent_1"));
        assert_eq!(dev.web_email.as_deref(), Some("d@x"));
        assert_eq!(dev.web_password, Some(TokenSource::Env("PW".into())));
        assert_eq!(dev.web_prompt, DEFAULT_CHAT_PROMPT);
        let prod = c.resolve("prod", &GlobalOpts::default());
        assert_eq!(prod.web_password, Some(TokenSource::Ssm("/d/pw".into())));
        assert_eq!(prod.web_email.as_deref(), Some("p@x"));
        assert_eq!(prod.web_prompt, "hi");
        assert_eq!(c.resolve("x", &GlobalOpts::default()).web_agent, None);
    }

    #[test]
    fn unknown_keys_are_errors_with_the_path() {
        let err = ConfigFile::parse("[defaults]\nprofil = 1\n", Path::new("/x/c.toml"))
            .expect_err("must fail");
        assert!(err.to_string().contains("/x/c.toml"), "{err}");
    }
}
