//! Everything a run needs about one environment: its name, outputs, AWS clients and settings.
//! Built once at start-up ([`Context::build`]); shared read-only (Arc) by collectors, TUI and
//! probe.

use std::path::PathBuf;
use std::time::Duration;

use crate::aws::{AwsClients, AwsOptions};
use crate::cli::GlobalOpts;
use crate::config::{ConfigFile, Settings, TokenSource};
use crate::outputs::{self, Outputs, OutputsError};

/// A value never printed (Debug shows `(sensitive)`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(sensitive)")
    }
}

#[derive(Debug, Clone)]
pub struct Context {
    pub env: String,
    pub read_only: bool,
    pub global: GlobalOpts,
    /// Resolved settings: flags > config file > defaults.
    pub settings: Settings,
    pub outputs: Outputs,
    /// Clients for the deployment's region (per-region CloudWatch on demand).
    pub aws: AwsClients,
    /// HTTP client for the health check and the shim's status endpoint.
    pub http: reqwest::Client,
    /// The shim diagnostics token, when one is configured and could be read.
    pub token: Option<Secret>,
    /// Why the configured token could not be read (reported by the collectors that need it).
    pub token_error: Option<String>,
    /// The chat mode's API key (`chat_key_env` / `chat_key_ssm`), or why it could not be read.
    pub chat_key: Option<Secret>,
    pub chat_key_error: Option<String>,
    /// The web mode's probe-user password (`web_password_env` / `web_password_ssm`), or why it
    /// could not be read.
    pub web_password: Option<Secret>,
    pub web_password_error: Option<String>,
    /// The opsconsole checkout (`--repo`, `OPSCONSOLE_REPO`, the current directory or the
    /// executable's), or why there is none: needed only for what lives in it (the Terraform
    /// environments, the image's Dockerfile).
    pub repo: Result<PathBuf, String>,
}

/// Why a context could not be built: all usage / configuration errors (probe exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Outputs(#[from] OutputsError),
    #[error("{0}")]
    Usage(String),
}

impl Context {
    /// Reads the config file, the outputs, and builds the AWS and HTTP clients.
    pub async fn build(global: &GlobalOpts, env: &str) -> Result<Context, ContextError> {
        if env.is_empty() || env.contains('/') || env.contains("..") {
            return Err(ContextError::Usage(format!(
                "invalid environment name `{env}`"
            )));
        }
        let (file, path) = ConfigFile::load(global.config.as_deref())?;
        let mut settings = file.resolve(env, global);
        settings.config_path = path;
        let repo = find_repo(global);
        let outputs = load_outputs(env, &settings, &repo).await?;
        let region = global
            .region
            .clone()
            .or_else(|| Some(outputs.region.clone()))
            .or_else(|| settings.region.clone());
        let opts = AwsOptions {
            profile: settings.profile.clone(),
            region,
            endpoint_url: settings.endpoint_url.clone(),
            max_attempts: None,
            static_credentials: None,
            operation_timeout: Some(settings.timeout),
        };
        let aws = AwsClients::load(&opts).await;
        Ok(Context::assemble(env, global, settings, outputs, aws, repo).await)
    }

    /// Assembles a context from already-resolved parts (tests, the sandbox) and resolves the
    /// diagnostics token.
    pub async fn from_parts(
        env: &str,
        global: &GlobalOpts,
        settings: Settings,
        outputs: Outputs,
        aws: AwsClients,
    ) -> Context {
        let repo = find_repo(global);
        Context::assemble(env, global, settings, outputs, aws, repo).await
    }

    async fn assemble(
        env: &str,
        global: &GlobalOpts,
        settings: Settings,
        outputs: Outputs,
        aws: AwsClients,
        repo: Result<PathBuf, String>,
    ) -> Context {
        opsconsole_proc::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(settings.timeout))
            .timeout(Duration::from_secs(15).min(settings.timeout))
            .build()
            .unwrap_or_else(|e| {
                tracing::warn!("HTTP client with timeouts unavailable ({e}); using defaults");
                reqwest::Client::new()
            });
        let (token, token_error) =
            match resolve_token("diagnostics token", settings.token.as_ref(), &aws).await {
                Ok(t) => (t.map(Secret), None),
                Err(e) => (None, Some(e)),
            };
        let (chat_key, chat_key_error) =
            match resolve_token("chat API key", settings.chat_key.as_ref(), &aws).await {
                Ok(t) => (t.map(Secret), None),
                Err(e) => (None, Some(e)),
            };
        let (web_password, web_password_error) =
            match resolve_token("web probe password", settings.web_password.as_ref(), &aws).await {
                Ok(t) => (t.map(Secret), None),
                Err(e) => (None, Some(e)),
            };
        Context {
            env: env.to_string(),
            read_only: global.read_only,
            global: global.clone(),
            settings,
            outputs,
            aws,
            http,
            token,
            token_error,
            chat_key,
            chat_key_error,
            web_password,
            web_password_error,
            repo,
        }
    }
}

async fn resolve_token(
    what: &str,
    src: Option<&TokenSource>,
    aws: &AwsClients,
) -> Result<Option<String>, String> {
    match src {
        None => Ok(None),
        Some(TokenSource::Literal(t)) => Ok(Some(t.clone())),
        Some(TokenSource::Env(var)) => std::env::var(var)
            .map(Some)
            .map_err(|_| format!("{what}: environment variable {var} is not set")),
        Some(TokenSource::Ssm(name)) => {
            let out = aws
                .ssm
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "{what}: SSM parameter {name}: {}",
                        opsconsole_proc::error_chain(&e)
                    )
                })?;
            Ok(out.parameter().and_then(|p| p.value()).map(str::to_string))
        }
    }
}

/// The checkout, found at run time (see [`opsconsole_proc::repo::find`]).
fn find_repo(global: &GlobalOpts) -> Result<PathBuf, String> {
    opsconsole_proc::repo::find(global.repo.as_deref()).map_err(|e| e.to_string())
}

/// The outputs: `--outputs`/config file, else `terraform output -json`, else the S3 state.
async fn load_outputs(
    env: &str,
    settings: &Settings,
    repo: &Result<PathBuf, String>,
) -> Result<Outputs, OutputsError> {
    if let Some(p) = &settings.outputs {
        return Outputs::from_file(p);
    }
    let repo = match repo {
        Ok(r) => r,
        Err(e) => {
            return Err(OutputsError::Unavailable(format!(
                "no outputs for `{env}`: pass --outputs FILE (no Terraform directory to read: {e})"
            )));
        }
    };
    let dir = outputs::env_dir(repo, env);
    if !dir.is_dir() {
        return Err(OutputsError::Unavailable(format!(
            "unknown environment `{env}`: {} does not exist (or pass --outputs FILE)",
            dir.display()
        )));
    }
    if let Some(o) = outputs::from_terraform(&dir).await? {
        return Ok(o);
    }
    if let Some(backend) = outputs::find_s3_backend(&dir) {
        let opts = AwsOptions {
            profile: settings.profile.clone(),
            region: backend.region.clone().or_else(|| settings.region.clone()),
            endpoint_url: settings.endpoint_url.clone(),
            max_attempts: Some(2),
            static_credentials: None,
            operation_timeout: Some(settings.timeout),
        };
        let clients = AwsClients::load(&opts).await;
        return outputs::from_s3_state(&clients.s3, &backend).await.map_err(|e| {
            let e = e.to_string();
            OutputsError::Unavailable(format!(
                "{} ({} is not initialised; run `terraform init` there, log in with `{}`, or pass --outputs FILE)",
                e.strip_prefix("outputs: ").unwrap_or(&e),
                dir.display(),
                settings.login_hint
            ))
        });
    }
    Err(OutputsError::Unavailable(format!(
        "no outputs for `{env}`: {} is not initialised and has no S3 backend; pass --outputs FILE",
        dir.display()
    )))
}
