//! What a started sandbox tells its users: endpoints, outputs, the real LibreChat's seeded
//! user and agent, and the logs to read.

use std::path::PathBuf;

use crate::{ENV, Fault, librechat};

/// Where things are, once the sandbox is up.
#[derive(Debug, Clone)]
pub struct SandboxInfo {
    pub dir: PathBuf,
    pub outputs: PathBuf,
    pub site_url: String,
    pub moto_url: String,
    pub invoke_url: String,
    pub redis_uri: String,
    pub diagnostics_token: String,
    pub fault: Option<Fault>,
    /// `--librechat`: the real LibreChat and what it runs with.
    pub librechat: Option<LibreChatInfo>,
    /// The web client uploaded to the frontend bucket (`--librechat` with the client
    /// installed), which the CloudFront stand-in serves at `site_url`.
    pub web_client: Option<PathBuf>,
    /// The frontend bucket (in moto) the stand-in serves.
    pub frontend_bucket: String,
}

/// Where the parts of `--librechat` run.
#[derive(Debug, Clone)]
pub struct LibreChatInfo {
    pub dir: PathBuf,
    /// `nx-27017 pid P on 127.0.0.1:PORT (data D, log L)` or the `--mongo-uri`.
    pub mongo: String,
    pub mongo_uri: String,
    pub fake_model: String,
    pub agent_id: String,
    /// The SSM parameter (in moto) holding the seeded API key.
    pub key_parameter: String,
    /// The SSM parameter (in moto) holding the seeded user's password (the web mode's).
    pub password_parameter: String,
    /// The console config the probe command uses (the web mode on the seeded agent as the
    /// seeded user; the chat mode's lines beside it).
    pub console_config: PathBuf,
}

impl SandboxInfo {
    /// The environment the console (TUI or probe) needs to reach the sandbox: moto's dummy
    /// credentials and the shim's diagnostics token.
    pub fn console_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            (
                "OPSCONSOLE_DIAGNOSTICS_TOKEN",
                self.diagnostics_token.clone(),
            ),
        ]
    }

    pub(crate) fn probe_command(&self) -> String {
        let env: Vec<String> = self
            .console_env()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let config = match &self.librechat {
            Some(l) => format!(" --config {}", l.console_config.display()),
            None => String::new(),
        };
        format!(
            "{} opsconsole probe {ENV} --json --outputs {} --endpoint-url {}{config}",
            env.join(" "),
            self.outputs.display(),
            self.moto_url
        )
    }

    /// What runs where (ports, pids, logs, URLs), for the operator.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<11}{v}\n"));
        line("outputs:", self.outputs.display().to_string());
        line(
            "site_url:",
            format!("{} (CloudFront/API Gateway stand-in)", self.site_url),
        );
        line(
            "browser:",
            match &self.web_client {
                Some(d) => format!(
                    "open {}/ (LibreChat's web client from {}, uploaded to the frontend bucket as upload.sh does)",
                    self.site_url,
                    d.display()
                ),
                None => "the frontend bucket holds a placeholder index.html (the web client: ../shared/librechat/install-client.sh, then --librechat)".into(),
            },
        );
        line("moto:", format!("{} (AWS APIs)", self.moto_url));
        line(
            "lambda:",
            format!(
                "{} (local Lambda: an environment per concurrent request, frozen while idle)",
                self.invoke_url
            ),
        );
        line("redis:", self.redis_uri.clone());
        line(
            "logs:",
            format!(
                "{} (lambda/env-N/output.log: each environment's shim and LibreChat)",
                self.dir.display()
            ),
        );
        match &self.librechat {
            None => line(
                "librechat:",
                "the stand-in (node tools/librechat-standin/server.mjs), the shim's child".into(),
            ),
            Some(l) => {
                line(
                    "librechat:",
                    format!(
                        "{} (node api/server/index.js), the shim's child",
                        l.dir.display()
                    ),
                );
                line("mongo:", l.mongo.clone());
                line("model:", l.fake_model.clone());
                line(
                    "user:",
                    format!(
                        "{} / {} (seeded through LibreChat's API)",
                        librechat::USER_EMAIL,
                        librechat::USER_PASSWORD
                    ),
                );
                line("agent:", l.agent_id.clone());
                line(
                    "api key:",
                    format!("SSM parameter {} in moto (not printed)", l.key_parameter),
                );
                line(
                    "password:",
                    format!(
                        "SSM parameter {} in moto (the web probe's)",
                        l.password_parameter
                    ),
                );
                line(
                    "probe:",
                    format!(
                        "web mode (the web UI's chat: login, POST, GET the stream), config {}",
                        l.console_config.display()
                    ),
                );
            }
        }
        s
    }
}

/// The last `n` lines of a log file (for saying why a process exited).
pub(crate) fn last_lines(path: &std::path::Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}
