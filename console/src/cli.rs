//! Command line (clap). `opsconsole [ENV]` opens the TUI; `probe` runs the checks headless.
//! The local sandbox is a binary of its own (`cargo run -p opsconsole-sandbox`); `sandbox` here
//! only says so.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "opsconsole",
    version,
    about = "Operate LibreChat on AWS serverless: alarms, cold starts, Redis, a live SSE probe, deploys"
)]
// No `args_conflicts_with_subcommands`: it made every option given before a subcommand an
// error (`opsconsole --read-only probe dev`: "the subcommand 'dev' cannot be used with
// --read-only [ENV]"). The options are `global`, so they parse on either side of the
// subcommand; a word that is no subcommand's name is the TUI's ENV.
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Environment to open in the TUI (a directory under infrastructure/terraform/environments).
    #[arg(value_name = "ENV")]
    pub env: Option<String>,
}

impl Cli {
    /// What clap cannot say without making global options before a subcommand an error: the
    /// TUI's ENV and a subcommand do not go together (`opsconsole dev probe dev`).
    pub fn check(&self) -> Result<(), String> {
        match (&self.env, &self.command) {
            (Some(env), Some(_)) => Err(format!(
                "`{env}` before the subcommand: the environment goes after it (e.g. `opsconsole probe {env}`)"
            )),
            _ => Ok(()),
        }
    }
}

/// Options every command takes. Flags win over the config file.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalOpts {
    /// AWS profile (else the config file's, else the default chain).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,

    /// AWS region (else the outputs' `region`, else the config file's, else the profile's).
    #[arg(long, global = true)]
    pub region: Option<String>,

    /// One endpoint for every AWS client (the sandbox and tests point this at moto).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Read the Terraform outputs from this file (`terraform output -json` shape).
    #[arg(long, global = true, value_name = "FILE")]
    pub outputs: Option<PathBuf>,

    /// Overall time budget for one round of checks, in seconds.
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<u64>,

    /// The SSE probe's stall limit: a pause between two events longer than this (ms) is
    /// `sse_stalled`, in every mode. Default: max(5 s, 5 x the largest gap before it).
    #[arg(long, global = true, value_name = "MS")]
    pub stall_limit_ms: Option<u64>,

    /// Refuse every action that changes the deployment.
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Config file (default: $XDG_CONFIG_HOME/opsconsole/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The opsconsole checkout (Terraform environments, the image's Dockerfile). Default:
    /// $OPSCONSOLE_REPO, else the current directory or the executable's, or one above them.
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checks once, headless, and print one JSON document (for CI, cron and on-call).
    Probe(ProbeArgs),
    /// After `terraform destroy`: list what the deployment owned and still exists (by tag and
    /// by name from the outputs saved before the destroy). Exit 0 none, 1 some, 2 a check could
    /// not run, 3 usage error.
    Leftovers(LeftoversArgs),
    /// One .tar.gz for a ticket: the probe document, SUMMARY.md, outputs, the function's
    /// newest log lines, alarm states and history, Lambda and CloudFront configuration,
    /// versions; secrets redacted (console/README.md, "Support bundle"). Prints its path.
    Bundle(BundleArgs),
    /// The deployment's monthly cost: an estimate from its configuration at a stated load, and
    /// the window's measured usage projected to a month; each part marked measured, configured
    /// or assumed (console/README.md, "Cost"). Exit 0, 2 when the configuration or usage could
    /// not be read (the estimate then rests on stated assumptions), 3 usage error.
    Cost(CostArgs),
    /// From an account with the prerequisites to a first verdict: checks them (VPC and NAT
    /// subnets, us-east-1 certificate, hosted zone, SSM parameters, the config object, the
    /// caller's permissions), writes terraform.tfvars.json (and backend.hcl), shows the monthly
    /// cost, then plan, apply with progress, probe (console/README.md, "opsconsole init").
    /// Exit 0 done, 1 a check failed (nothing written), 2 plan/apply failed or the verdict is not
    /// healthy, 3 usage error.
    Init(Box<InitArgs>),
    /// Moved: the sandbox is `cargo run -p opsconsole-sandbox` (this prints where it went).
    Sandbox(MovedArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// Environment to probe.
    #[arg(value_name = "ENV")]
    pub env: Option<String>,

    /// More environments: probed concurrently, one document with a result per environment
    /// (see console/README.md, "Many environments").
    #[arg(value_name = "MORE_ENVS")]
    pub more_envs: Vec<String>,

    /// Probe every `[env.NAME]` of the config file (concurrently, one document).
    #[arg(long, conflicts_with_all = ["env", "more_envs"])]
    pub all: bool,

    /// With several environments: how many are probed at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,

    /// Print the JSON document on stdout (diagnostics go to stderr).
    #[arg(long)]
    pub json: bool,

    /// Run only these checks (comma-separated: identity,alarms,lambda,redis,cloudfront,health,sse,
    /// canary,frontend; `cost` is the `cost` section, not a check).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,

    /// How far back metrics, the REPORT scan and the alarms' series look: 15m, 1h, 3h, 12h,
    /// 24h or 7d (default: the config's `lambda_window_minutes`, else 1h).
    #[arg(long, value_name = "WINDOW")]
    pub window: Option<crate::domain::window::Window>,
}

#[derive(Debug, Clone, Args)]
pub struct LeftoversArgs {
    /// Environment whose leftovers to look for (its outputs: --outputs FILE, saved before the
    /// destroy, or the config file's).
    #[arg(value_name = "ENV")]
    pub env: Option<String>,

    /// Print one JSON document on stdout (diagnostics go to stderr).
    #[arg(long)]
    pub json: bool,

    /// Tag filter KEY=VALUE for the tagging API (repeatable; all must match). Default:
    /// Project=librechat and Environment=ENV (environments/dev's default_tags).
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct BundleArgs {
    /// Environment to bundle.
    #[arg(value_name = "ENV")]
    pub env: Option<String>,

    /// The archive to write (never overwritten). Default:
    /// ./opsconsole-bundle-ENV-YYYYMMDDTHHMMSSZ.tar.gz (UTC).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// How many of the function's newest log lines go in (1..=10000).
    #[arg(long, value_name = "N", default_value_t = crate::bundle::DEFAULT_LOG_LINES)]
    pub lines: usize,

    /// How far back the probe, the metrics and the log lines look: 15m, 1h, 3h, 12h, 24h or 7d
    /// (default: the config's `lambda_window_minutes`, else 1h).
    #[arg(long, value_name = "WINDOW")]
    pub window: Option<crate::domain::window::Window>,
}

/// `opsconsole init ENV`: flags choose among the candidates; what is not given is taken from
/// the starting variables (`--from`, else the environment's terraform.tfvars.json) or, when the
/// account holds exactly one candidate, chosen.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Environment to set up (a directory under infrastructure/terraform/environments).
    #[arg(value_name = "ENV")]
    pub env: String,

    /// The environment's Terraform directory (default: the checkout's
    /// infrastructure/terraform/environments/ENV). It must exist.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Starting variables (a terraform.tfvars.json; default: DIR/terraform.tfvars.json if any).
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// The site's domain (custom_domain).
    #[arg(long, value_name = "NAME")]
    pub domain: Option<String>,

    /// The VPC (default: the only one with private subnets that route to a NAT gateway).
    #[arg(long, value_name = "ID")]
    pub vpc: Option<String>,

    /// Private subnets, comma-separated (default: all of the VPC's that route to a NAT).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub subnets: Vec<String>,

    /// The us-east-1 certificate (default: the only ISSUED one covering the domain).
    #[arg(long, value_name = "ARN")]
    pub certificate: Option<String>,

    /// The hosted zone (default: the closest public zone holding the domain).
    #[arg(long, value_name = "ID")]
    pub zone: Option<String>,

    /// Extra security group ROLE=sg-... (repeatable; default: the starting variables' roles,
    /// each the group of that name in the VPC).
    #[arg(long = "security-group", value_name = "ROLE=ID")]
    pub security_groups: Vec<String>,

    /// Bucket of librechat.yaml.
    #[arg(long, value_name = "BUCKET")]
    pub config_bucket: Option<String>,

    /// Key of librechat.yaml.
    #[arg(long, value_name = "KEY")]
    pub config_key: Option<String>,

    /// A secret NAME=SSM parameter name or ARN (repeatable; added to the starting variables').
    #[arg(long = "secret", value_name = "NAME=PARAM")]
    pub secrets: Vec<String>,

    /// Any other variable KEY=VALUE (VALUE as JSON when it parses; repeatable; wins).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,

    /// S3 bucket of the Terraform state: writes DIR/backend.hcl (key librechat-lambda/ENV/...).
    #[arg(long, value_name = "BUCKET")]
    pub state_bucket: Option<String>,

    /// DynamoDB lock table for the state (default: S3 lock file).
    #[arg(long, value_name = "TABLE", requires = "state_bucket")]
    pub lock_table: Option<String>,

    /// Only check and show what would be written; write nothing.
    #[arg(long)]
    pub check: bool,

    /// Write the files, then stop (no plan, no apply).
    #[arg(long)]
    pub no_apply: bool,

    /// Overwrite a DIR/terraform.tfvars.json that differs (the old one is kept as .bak).
    #[arg(long)]
    pub force: bool,

    /// The probe after the apply: only these checks (as `probe --only`; default: all).
    #[arg(long, value_delimiter = ',', value_name = "CHECKS")]
    pub probe_only: Vec<String>,

    /// Answer yes to every question (write, apply): for scripts.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Print one JSON document on stdout (progress and diagnostics go to stderr).
    #[arg(long)]
    pub json: bool,
}

/// Whatever followed a command that moved (ignored: the hint names the new command).
#[derive(Debug, Clone, Args)]
pub struct MovedArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

/// What `opsconsole sandbox` prints: the sandbox is its own binary, outside the operator's.
pub const SANDBOX_MOVED: &str = "the sandbox is not part of opsconsole: run `cargo run -p opsconsole-sandbox` in the checkout (options after `--`, e.g. `cargo run -p opsconsole-sandbox -- --fault alarm`)";

/// `opsconsole cost`: the stated load's flags default to a small team's deployment
/// (console/src/domain/cost_inputs.rs).
#[derive(Debug, Clone, Args)]
pub struct CostArgs {
    /// Environment to price.
    #[arg(value_name = "ENV")]
    pub env: Option<String>,

    /// The window whose usage metrics are projected to a month: 15m, 1h, 3h, 12h, 24h or 7d
    /// (default: 24h).
    #[arg(long, value_name = "WINDOW")]
    pub window: Option<crate::domain::window::Window>,

    /// Print one JSON document on stdout (diagnostics go to stderr).
    #[arg(long)]
    pub json: bool,

    /// Only the estimate from the configuration at the stated load: no usage metrics read.
    #[arg(long)]
    pub no_usage: bool,

    /// Price with this table (console/data/prices.toml's format, e.g. one written by
    /// --write-prices) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<std::path::PathBuf>,

    /// Ask the AWS Price List API (pricing:GetProducts, us-east-1) for each price of the table
    /// in the deployment's region and price this run with what it answers; a price it cannot
    /// give keeps the table's, and the report says which and why.
    #[arg(long)]
    pub refresh_prices: bool,

    /// With --refresh-prices: also write the refreshed table to FILE (read it with --prices).
    #[arg(long, value_name = "FILE", requires = "refresh_prices")]
    pub write_prices: Option<std::path::PathBuf>,

    /// Do not ask Cost Explorer for the billed cost by the deployment's tags (each request
    /// costs 0.01 USD).
    #[arg(long)]
    pub no_billed: bool,

    /// Stated load: API requests a day (through CloudFront and API Gateway to the function).
    #[arg(long, value_name = "N", default_value_t = crate::domain::cost_inputs::DEFAULT_REQUESTS_PER_DAY)]
    pub requests_per_day: f64,

    /// Stated load: average billed duration of an API request in ms (a streamed chat is billed
    /// for its whole stream).
    #[arg(long, value_name = "MS", default_value_t = crate::domain::cost_inputs::DEFAULT_DURATION_MS)]
    pub duration_ms: f64,

    /// Stated load: average API response in KB.
    #[arg(long, value_name = "KB", default_value_t = crate::domain::cost_inputs::DEFAULT_RESPONSE_KB)]
    pub response_kb: f64,

    /// Stated load: requests a day for the frontend's files.
    #[arg(long, value_name = "N", default_value_t = crate::domain::cost_inputs::DEFAULT_STATIC_REQUESTS_PER_DAY)]
    pub static_requests_per_day: f64,

    /// Stated load: average frontend file in KB.
    #[arg(long, value_name = "KB", default_value_t = crate::domain::cost_inputs::DEFAULT_STATIC_KB)]
    pub static_kb: f64,

    /// Stated load: CloudWatch log KB written per API request.
    #[arg(long, value_name = "KB", default_value_t = crate::domain::cost_inputs::DEFAULT_LOG_KB_PER_REQUEST)]
    pub log_kb_per_request: f64,

    /// Stated load: KB per API request through the VPC's NAT gateway.
    #[arg(long, value_name = "KB", default_value_t = crate::domain::cost_inputs::DEFAULT_NAT_KB_PER_REQUEST)]
    pub nat_kb_per_request: f64,

    /// Stated load: uploads a day to the files bucket.
    #[arg(long, value_name = "N", default_value_t = crate::domain::cost_inputs::DEFAULT_UPLOADS_PER_DAY)]
    pub uploads_per_day: f64,

    /// Stated load: GB stored in S3 (uploads and the frontend).
    #[arg(long, value_name = "GB", default_value_t = crate::domain::cost_inputs::DEFAULT_STORED_GB)]
    pub stored_gb: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Cli {
        match Cli::try_parse_from(argv) {
            Ok(c) => c,
            Err(e) => panic!("{argv:?} does not parse: {e}"),
        }
    }

    /// Issue 28 item 5: a global option before the subcommand was an error.
    #[test]
    fn global_options_parse_before_and_after_the_subcommand() {
        for argv in [
            &["opsconsole", "--read-only", "probe", "dev"][..],
            &["opsconsole", "probe", "dev", "--read-only"][..],
            &["opsconsole", "probe", "--read-only", "dev"][..],
        ] {
            let cli = parse(argv);
            assert!(cli.global.read_only, "{argv:?}");
            match &cli.command {
                Some(Command::Probe(p)) => assert_eq!(p.env.as_deref(), Some("dev"), "{argv:?}"),
                other => panic!("{argv:?}: {other:?}"),
            }
            assert_eq!(cli.env, None, "{argv:?}");
        }
        let cli = parse(&[
            "opsconsole",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "cost",
            "dev",
            "--timeout",
            "5",
        ]);
        assert_eq!(cli.global.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            cli.global.endpoint_url.as_deref(),
            Some("http://127.0.0.1:1")
        );
        assert_eq!(cli.global.timeout, Some(5));
        assert!(matches!(cli.command, Some(Command::Cost(_))));
    }

    #[test]
    fn the_tui_env_takes_global_options_on_either_side() {
        for argv in [
            &["opsconsole", "--read-only", "staging"][..],
            &["opsconsole", "staging", "--read-only"][..],
        ] {
            let cli = parse(argv);
            assert!(cli.global.read_only, "{argv:?}");
            assert_eq!(cli.env.as_deref(), Some("staging"), "{argv:?}");
            assert!(cli.command.is_none(), "{argv:?}");
        }
        // No ENV at all: the TUI's default.
        let cli = parse(&["opsconsole", "--read-only"]);
        assert!(cli.command.is_none() && cli.env.is_none());
    }

    #[test]
    fn an_env_and_a_subcommand_together_are_refused() {
        let refused = Cli::try_parse_from(["opsconsole", "dev", "probe", "dev"])
            .map_err(|e| e.to_string())
            .and_then(|c| c.check());
        assert!(refused.is_err(), "{refused:?}");
        assert!(parse(&["opsconsole", "probe", "dev"]).check().is_ok());
    }
}
