//! `opsconsole init ENV` (issue 28): from an account with the prerequisites to a first verdict.
//! Says whether ENV is deployed before touching anything, checks every prerequisite
//! ([`checks`], pure, over what [`aws`] read), writes `terraform.tfvars.json` and `backend.hcl`
//! ([`tfvars`]), shows the monthly cost (`domain::cost`), then `terraform plan`, `apply` with
//! progress ([`progress`], [`terraform`]) and the probe. Nothing is written when a check fails.

pub mod aws;
pub mod checks;
pub mod facts;
pub mod progress;
pub mod terraform;
pub mod tfvars;
pub mod wizard;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::aws::{AwsOptions, load_sdk_config};
use crate::cli::{GlobalOpts, InitArgs};
use crate::config::ConfigFile;
use checks::{Check, ConfigObject, Facts, Request, Status};

pub const SCHEMA_VERSION: u32 = 1;
const EXIT_OK: u8 = 0;
const EXIT_BLOCKED: u8 = 1;
const EXIT_FAILED: u8 = 2;
const EXIT_USAGE: u8 = 3;

/// A file init writes (or would write).
#[derive(Debug, Clone, Serialize)]
pub struct FileOut {
    pub path: String,
    pub written: bool,
    /// It already held exactly this.
    pub unchanged: bool,
}

/// The whole answer (`--json` prints it; docs/contracts.md section 8).
#[derive(Debug, Serialize)]
pub struct InitDocument {
    pub schema_version: u32,
    pub env: String,
    pub generated_at: String,
    pub dir: String,
    pub region: String,
    pub account: Option<String>,
    pub caller: Option<String>,
    /// `blocked`, `checked`, `written`, `planned`, `applied`, `failed`, `error`.
    pub status: &'static str,
    pub checks: Vec<Check>,
    /// The variables chosen (ids and ARNs; no secret values).
    pub tfvars: Option<Map<String, Value>>,
    pub tfvars_file: Option<FileOut>,
    pub backend_file: Option<FileOut>,
    pub cost: Option<crate::domain::cost::Estimate>,
    pub plan: Option<progress::Summary>,
    pub apply: Option<progress::Progress>,
    /// The probe's verdict after the apply: `{status, exit_code, findings}`.
    pub verdict: Option<Value>,
    pub error: Option<String>,
    pub next: String,
    pub exit_code: u8,
}

impl InitDocument {
    fn new(env: &str, dir: &Path, region: &str) -> InitDocument {
        InitDocument {
            schema_version: SCHEMA_VERSION,
            env: env.to_string(),
            generated_at: crate::probe::now_rfc3339(),
            dir: dir.display().to_string(),
            region: region.to_string(),
            account: None,
            caller: None,
            status: "error",
            checks: vec![],
            tfvars: None,
            tfvars_file: None,
            backend_file: None,
            cost: None,
            plan: None,
            apply: None,
            verdict: None,
            error: None,
            next: String::new(),
            exit_code: EXIT_USAGE,
        }
    }
    fn end(mut self, status: &'static str, code: u8, next: impl Into<String>) -> InitDocument {
        self.status = status;
        self.exit_code = code;
        self.next = next.into();
        self
    }
}

/// Managed resource instances in a Terraform state document.
pub fn count_state_resources(text: &str) -> usize {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return 0;
    };
    v.get("resources")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter(|r| r.get("mode").and_then(Value::as_str) == Some("managed"))
                .map(|r| {
                    r.get("instances")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                })
                .sum()
        })
        .unwrap_or(0)
}

/// `key = "value"` attributes of an HCL file of attributes (backend.hcl).
pub fn hcl_attr(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The request: the starting variables, then the flags.
pub fn request(
    env: &str,
    region: &str,
    base: &Map<String, Value>,
    a: &InitArgs,
) -> Result<Request, String> {
    let s = |k: &str| base.get(k).and_then(Value::as_str).map(str::to_string);
    let map = |k: &str| -> std::collections::BTreeMap<String, String> {
        base.get(k)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut r = Request {
        env: env.to_string(),
        region: region.to_string(),
        domain: a.domain.clone().or_else(|| s("custom_domain")),
        vpc: a.vpc.clone(),
        subnets: a.subnets.clone(),
        certificate: a.certificate.clone(),
        zone: a.zone.clone(),
        security_groups: map("security_group_ids"),
        config_bucket: a.config_bucket.clone().or_else(|| s("config_s3_bucket")),
        config_key: a.config_key.clone().or_else(|| s("config_s3_key")),
        secrets: map("ssm_secrets"),
    };
    for kv in &a.security_groups {
        let (k, v) = tfvars::parse_kv(kv).map_err(|e| format!("--security-group: {e}"))?;
        r.security_groups.insert(k, v);
    }
    for kv in &a.secrets {
        let (k, v) = tfvars::parse_kv(kv).map_err(|e| format!("--secret: {e}"))?;
        r.secrets.insert(k, v);
    }
    Ok(r)
}

struct Setup {
    env: String,
    dir: PathBuf,
    base: Map<String, Value>,
    sets: Vec<(String, Value)>,
    region: String,
    opts: AwsOptions,
    state: Option<(String, String, Option<String>)>,
}

fn setup(global: &GlobalOpts, a: &InitArgs) -> Result<Setup, String> {
    let env = a.env.clone();
    if env.is_empty() || env.contains('/') || env.contains("..") {
        return Err(format!("invalid environment name `{env}`"));
    }
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => opsconsole_proc::repo::find(global.repo.as_deref())
            .map_err(|e| format!("{e} (or pass --dir DIR)"))?
            .join("infrastructure/terraform/environments")
            .join(&env),
    };
    if !dir.is_dir() {
        return Err(format!(
            "{} does not exist: create the environment's directory first (e.g. copy environments/dev's *.tf files into it), or pass --dir",
            dir.display()
        ));
    }
    let from = a.from.clone().or_else(|| {
        let p = dir.join("terraform.tfvars.json");
        p.is_file().then_some(p)
    });
    let base = match &from {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))?;
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(format!("{} is not a JSON object", p.display())),
                Err(e) => return Err(format!("{} does not parse: {e}", p.display())),
            }
        }
        None => Map::new(),
    };
    crate::probe::parse_only(&a.probe_only).map_err(|e| format!("--probe-only: {e}"))?;
    let mut sets = Vec::new();
    for kv in &a.sets {
        let (k, v) = tfvars::parse_kv(kv).map_err(|e| format!("--set: {e}"))?;
        sets.push((k, tfvars::set_value(&v)));
    }
    let (file, _) = ConfigFile::load(global.config.as_deref()).map_err(|e| e.to_string())?;
    let settings = file.resolve(&env, global);
    let region = global
        .region
        .clone()
        .or_else(|| {
            base.get("region")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| settings.region.clone())
        .ok_or("no region: pass --region (the deployment's region)")?;
    let opts = AwsOptions {
        profile: settings.profile.clone(),
        region: Some(region.clone()),
        endpoint_url: settings.endpoint_url.clone(),
        max_attempts: Some(2),
        static_credentials: None,
        operation_timeout: Some(settings.timeout),
    };
    // The state's location: --state-bucket, else backend.hcl, else the backend block.
    let key = format!("librechat-lambda/{env}/terraform.tfstate");
    let state = if let Some(b) = &a.state_bucket {
        Some((b.clone(), key, None))
    } else if let Ok(text) = std::fs::read_to_string(dir.join("backend.hcl")) {
        hcl_attr(&text, "bucket").map(|b| {
            (
                b,
                hcl_attr(&text, "key").unwrap_or(key),
                hcl_attr(&text, "region"),
            )
        })
    } else {
        crate::outputs::find_s3_backend(&dir).map(|b| (b.bucket, b.key, b.region))
    };
    Ok(Setup {
        env,
        dir,
        base,
        sets,
        region,
        opts,
        state,
    })
}

async fn gather(s: &Setup, req: &Request) -> Facts {
    let sdk = load_sdk_config(&s.opts).await;
    let identity = aws::identity(&sdk).await;
    let Ok(id) = &identity else {
        return Facts {
            identity,
            deployed: vec![],
            resume: false,
            vpcs: Err("not read".into()),
            subnets: Err("not read".into()),
            route_tables: Err("not read".into()),
            security_groups: Err("not read".into()),
            certificates: Err("not read".into()),
            zones: Err("not read".into()),
            parameters: Err("not read".into()),
            config: ConfigObject::NotAsked,
            permissions: checks::Permissions::NotChecked("no credentials".into()),
        };
    };
    let s3 = crate::aws::AwsClients::from_sdk(sdk.clone(), None).s3;
    let names: Vec<String> = req
        .secrets
        .values()
        .map(|r| checks::parameter_name(r))
        .collect();
    let config = async {
        match (&req.config_bucket, &req.config_key) {
            (Some(b), Some(k)) => aws::config_object(&s3, b, k).await,
            _ => ConfigObject::NotAsked,
        }
    };
    let (network, certificates, zones, parameters, config, permissions, deployed) = futures::join!(
        aws::network(&sdk),
        aws::certificates(&sdk),
        aws::zones(&sdk),
        aws::parameters(&sdk, &names),
        config,
        aws::permissions(&sdk, &id.arn),
        deployed(s, &sdk),
    );
    Facts {
        identity,
        deployed,
        resume: false,
        vpcs: network.vpcs,
        subnets: network.subnets,
        route_tables: network.route_tables,
        security_groups: network.security_groups,
        certificates,
        zones,
        parameters,
        config,
        permissions,
    }
}

/// Evidence that the environment exists: its state (local or S3) with resources, resources
/// tagged with its name. A read that failed is evidence of nothing, and said so on stderr.
async fn deployed(s: &Setup, sdk: &aws_config::SdkConfig) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(text) = std::fs::read_to_string(s.dir.join("terraform.tfstate")) {
        let n = count_state_resources(&text);
        if n > 0 {
            out.push(format!(
                "{}/terraform.tfstate: {n} resources",
                s.dir.display()
            ));
        }
    }
    if let Some((bucket, key, region)) = &s.state {
        let mut o = s.opts.clone();
        if region.is_some() {
            o.region.clone_from(region);
        }
        let s3 = crate::aws::AwsClients::from_sdk(load_sdk_config(&o).await, None).s3;
        match aws::state_resources(&s3, bucket, key).await {
            Ok(Some(n)) if n > 0 => out.push(format!("s3://{bucket}/{key}: {n} resources")),
            Ok(_) => {}
            Err(e) => eprintln!("opsconsole: init: the state could not be read ({e})"),
        }
    }
    let mut regions = vec![s.region.clone()];
    if s.region != aws::CERT_REGION {
        regions.push(aws::CERT_REGION.to_string());
    }
    for r in regions {
        match aws::tagged(sdk, &r, &s.env).await {
            Ok(arns) => out.extend(
                arns.into_iter()
                    .map(|a| format!("tagged Environment={}: {a}", s.env)),
            ),
            Err(e) => eprintln!("opsconsole: init: tagged resources could not be listed ({e})"),
        }
    }
    out
}

/// Resume (a deployed environment whose variables are exactly what init would write is a
/// re-run after a failed apply: it continues), then every check.
fn judge(
    s: &Setup,
    req: &Request,
    facts: &mut Facts,
    on_disk: Option<&str>,
) -> (Vec<Check>, Option<checks::Choices>) {
    facts.resume = false;
    if !facts.deployed.is_empty() {
        let deployed = std::mem::take(&mut facts.deployed);
        let (_, choices) = checks::evaluate(req, facts);
        facts.resume = choices.is_some_and(|c| {
            let text = tfvars::to_text(&tfvars::render(&s.base, &s.env, &c, &s.sets));
            on_disk == Some(text.as_str())
        });
        facts.deployed = deployed;
    }
    checks::evaluate(req, facts)
}

/// The wizard screen: on a terminal, unless a script's flags say otherwise.
fn wizard_wanted(a: &InitArgs) -> bool {
    !(a.json || a.yes || a.check)
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
}

/// The monthly estimate of the modules' defaults in `region` at the default load, without the
/// canary when the variables turn it off (`enable_canary = false`).
pub fn estimate(
    region: &str,
    vars: Option<&Map<String, Value>>,
) -> Option<crate::domain::cost::Estimate> {
    let table = crate::domain::prices::PriceTable::builtin().ok()?;
    let mut dep = crate::domain::cost_inputs::module_defaults(region);
    if vars
        .and_then(|v| v.get("enable_canary"))
        .and_then(Value::as_bool)
        == Some(false)
    {
        dep.canary = None;
    }
    crate::domain::cost::estimate(&dep, &crate::domain::cost_inputs::default_load(), &table)
}

/// Asks on the terminal; `--yes` answers yes, no terminal answers no.
fn confirm(a: &InitArgs, question: &str) -> bool {
    if a.yes {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}

pub async fn run(global: &GlobalOpts, a: &InitArgs) -> ExitCode {
    let doc = document(global, a).await;
    emit(&doc, a.json);
    ExitCode::from(doc.exit_code)
}

/// Runs init and returns its document (the caller prints it).
pub async fn document(global: &GlobalOpts, a: &InitArgs) -> InitDocument {
    let s = match setup(global, a) {
        Ok(s) => s,
        Err(e) => {
            let mut d = InitDocument::new(&a.env, a.dir.as_deref().unwrap_or(Path::new("")), "");
            d.error = Some(e.clone());
            return d.end(
                "error",
                EXIT_USAGE,
                "fix the command line (see --help), then re-run; nothing was written",
            );
        }
    };
    let mut doc = InitDocument::new(&s.env, &s.dir, &s.region);
    let req = match request(&s.env, &s.region, &s.base, a) {
        Ok(r) => r,
        Err(e) => {
            doc.error = Some(e);
            return doc.end(
                "error",
                EXIT_USAGE,
                "fix the command line (see --help), then re-run; nothing was written",
            );
        }
    };
    let mut facts = gather(&s, &req).await;
    if let Ok(id) = &facts.identity {
        doc.account = Some(id.account.clone());
        doc.caller = Some(id.arn.clone());
    }
    let tfvars_path = s.dir.join("terraform.tfvars.json");
    let on_disk = std::fs::read_to_string(&tfvars_path).ok();
    let mut req = req;
    let mut wizard_said: Option<wizard::Outcome> = None;
    if wizard_wanted(a) && facts.identity.is_ok() {
        let (checks, _) = judge(&s, &req, &mut facts, on_disk.as_deref());
        let cost = estimate(&s.region, None)
            .map(|e| format!("about {:.0} USD/month", e.total_usd))
            .unwrap_or_default();
        let w = wizard::Wizard {
            req: req.clone(),
            checks,
            sel: 0,
            cand: None,
            title: format!(
                "opsconsole init {} · {} · account {}",
                s.env,
                s.region,
                doc.account.clone().unwrap_or_default()
            ),
            cost,
            msg: String::new(),
        };
        let mut j = |r: &Request| judge(&s, r, &mut facts, on_disk.as_deref()).0;
        match wizard::run(w, &mut j) {
            Ok((o, w)) => {
                req = w.req;
                wizard_said = Some(o);
            }
            Err(e) => eprintln!("opsconsole: init: no wizard screen ({e}): line mode"),
        }
    }
    let (checks, choices) = judge(&s, &req, &mut facts, on_disk.as_deref());
    doc.checks = checks;
    doc.cost = estimate(&s.region, None);
    let Some(choices) = choices else {
        let failed: Vec<&str> = doc
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.id)
            .collect();
        return doc.end(
            "blocked",
            EXIT_BLOCKED,
            format!(
                "fix what failed ({}: each says how), then re-run; nothing was written",
                failed.join(", ")
            ),
        );
    };
    let vars = tfvars::render(&s.base, &s.env, &choices, &s.sets);
    let text = tfvars::to_text(&vars);
    doc.cost = estimate(&s.region, Some(&vars));
    doc.tfvars = Some(vars);
    let unchanged = on_disk.as_deref() == Some(text.as_str());
    let mut tf_out = FileOut {
        path: tfvars_path.display().to_string(),
        written: false,
        unchanged,
    };
    let backend = a
        .state_bucket
        .as_ref()
        .map(|b| tfvars::backend_hcl(b, &s.region, a.lock_table.as_deref(), &s.env));
    let backend_path = s.dir.join("backend.hcl");
    if on_disk.is_some() && !unchanged && !a.force && !facts.resume {
        doc.tfvars_file = Some(tf_out);
        return doc.end("blocked", EXIT_BLOCKED, format!("{} exists with other values: --force replaces it (the old one is kept as terraform.tfvars.json.bak); nothing was written", tfvars_path.display()));
    }
    if wizard_said == Some(wizard::Outcome::Quit) {
        doc.tfvars_file = Some(tf_out);
        return doc.end("checked", EXIT_OK, "quit in the wizard: nothing written");
    }
    if a.check {
        doc.tfvars_file = Some(tf_out);
        return doc.end("checked", EXIT_OK, format!("every check passed; run `opsconsole init {}` without --check to write the variables and deploy", s.env));
    }
    if !unchanged || backend.is_some() {
        if wizard_said.is_none()
            && !confirm(
                a,
                &format!(
                    "write {}{}?",
                    tfvars_path.display(),
                    if backend.is_some() {
                        " and backend.hcl"
                    } else {
                        ""
                    }
                ),
            )
        {
            doc.tfvars_file = Some(tf_out);
            return doc.end(
                "checked",
                EXIT_OK,
                "nothing written (not confirmed): re-run with --yes to write without asking",
            );
        }
        if let Err(e) = write_files(
            &tfvars_path,
            &text,
            on_disk.is_some() && !unchanged,
            backend.as_deref(),
            &backend_path,
        ) {
            doc.error = Some(e);
            doc.tfvars_file = Some(tf_out);
            return doc.end(
                "error",
                EXIT_FAILED,
                "check the directory's permissions, then re-run",
            );
        }
        tf_out.written = !unchanged;
        if backend.is_some() {
            doc.backend_file = Some(FileOut {
                path: backend_path.display().to_string(),
                written: true,
                unchanged: false,
            });
        }
    }
    doc.tfvars_file = Some(tf_out);
    if a.no_apply {
        return doc.end(
            "written",
            EXIT_OK,
            format!(
                "terraform init, plan and apply in {} (or re-run without --no-apply)",
                s.dir.display()
            ),
        );
    }
    terraform::deploy(global, a, &s.dir, doc).await
}

/// Writes the tfvars (keeping a differing old one as `.bak`) and the backend settings.
fn write_files(
    path: &Path,
    text: &str,
    backup: bool,
    backend: Option<&str>,
    backend_path: &Path,
) -> Result<(), String> {
    if backup {
        let bak = path.with_extension("json.bak");
        std::fs::copy(path, &bak).map_err(|e| format!("keeping {}: {e}", bak.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("writing {}: {e}", path.display()))?;
    if let Some(b) = backend {
        std::fs::write(backend_path, b)
            .map_err(|e| format!("writing {}: {e}", backend_path.display()))?;
    }
    Ok(())
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "ok  ",
        Status::Warn => "warn",
        Status::Fail => "FAIL",
        Status::Skipped => "skip",
    }
}

/// The human report.
pub fn human(d: &InitDocument) -> String {
    let mut o = format!("opsconsole init {}  ({}, {})\n", d.env, d.region, d.dir);
    if let (Some(acct), Some(caller)) = (&d.account, &d.caller) {
        o.push_str(&format!("account {acct} as {caller}\n"));
    }
    for c in &d.checks {
        o.push_str(&format!("{} {:<15} {}\n", mark(c.status), c.id, c.summary));
        for cand in &c.candidates {
            o.push_str(&format!(
                "       {} {} {}\n",
                if cand.chosen { "*" } else { "-" },
                cand.id,
                cand.detail
            ));
        }
        if c.status != Status::Pass
            && let Some(f) = &c.fix
        {
            o.push_str(&format!("       fix: {f}\n"));
        }
    }
    if let Some(e) = &d.cost {
        o.push_str(&format!("\nmonthly estimate at the default load (module defaults, prices as of {}): {:.2} USD\n", e.prices_as_of, e.total_usd));
        o.push_str(&crate::domain::cost_inputs::table_text(e));
    }
    if let Some(f) = &d.tfvars_file {
        let what = if f.written {
            "written"
        } else if f.unchanged {
            "unchanged"
        } else {
            "not written"
        };
        o.push_str(&format!("\n{}: {what}\n", f.path));
    }
    if let Some(p) = &d.plan {
        o.push_str(&format!(
            "plan: {} to add, {} to change, {} to destroy\n",
            p.add, p.change, p.remove
        ));
    }
    if let Some(a) = &d.apply {
        o.push_str(&format!("apply: {}/{} done\n", a.done, a.total));
        for f in &a.failures {
            o.push_str(&format!(
                "  FAILED {}: {}\n",
                f.resource.as_deref().unwrap_or("-"),
                f.error
            ));
        }
    }
    if let Some(v) = &d.verdict {
        o.push_str(&format!(
            "verdict: {}\n",
            v.get("status").and_then(Value::as_str).unwrap_or("?")
        ));
    }
    if let Some(e) = &d.error {
        o.push_str(&format!("error: {e}\n"));
    }
    o.push_str(&format!("{}: {}\n", d.status, d.next));
    o
}

fn emit(d: &InitDocument, json: bool) {
    let text = if json {
        format!("{}\n", serde_json::to_string_pretty(d).unwrap_or_default())
    } else {
        human(d)
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("opsconsole: cannot write to stdout: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_resources_are_managed_instances() {
        let state = r#"{"resources":[
            {"mode":"managed","type":"aws_s3_bucket","instances":[{},{}]},
            {"mode":"data","type":"aws_caller_identity","instances":[{}]},
            {"mode":"managed","type":"aws_iam_role","instances":[]}]}"#;
        assert_eq!(count_state_resources(state), 2);
        assert_eq!(count_state_resources(r#"{"resources":[]}"#), 0);
        assert_eq!(count_state_resources("not json"), 0);
    }

    fn args(argv: &[&str]) -> InitArgs {
        use clap::Parser;
        let mut all = vec!["opsconsole", "init", "dev"];
        all.extend_from_slice(argv);
        match crate::cli::Cli::parse_from(all).command {
            Some(crate::cli::Command::Init(a)) => *a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_win_over_the_starting_variables() {
        let base = serde_json::json!({
            "custom_domain": "old.example.com", "config_s3_bucket": "b", "config_s3_key": "k",
            "ssm_secrets": {"JWT_SECRET": "/a/jwt"}, "security_group_ids": {"shared": "sg-old"}
        });
        let base = base.as_object().cloned().unwrap_or_default();
        let r = request(
            "dev",
            "eu-west-1",
            &base,
            &args(&[
                "--domain",
                "new.example.com",
                "--secret",
                "MONGO_URI=/a/mongo",
                "--security-group",
                "shared=sg-new",
                "--subnets",
                "s1,s2",
            ]),
        )
        .unwrap();
        assert_eq!(r.domain.as_deref(), Some("new.example.com"));
        assert_eq!(
            (r.config_bucket.as_deref(), r.config_key.as_deref()),
            (Some("b"), Some("k"))
        );
        assert_eq!(r.secrets.len(), 2);
        assert_eq!(
            r.security_groups.get("shared").map(String::as_str),
            Some("sg-new")
        );
        assert_eq!(r.subnets, vec!["s1", "s2"]);
        assert!(request("dev", "r", &base, &args(&["--secret", "novalue"])).is_err());
    }

    #[test]
    fn the_estimate_leaves_out_a_canary_turned_off() {
        let on = estimate("eu-west-1", None)
            .map(|e| e.total_usd)
            .unwrap_or_default();
        let vars = serde_json::json!({"enable_canary": false});
        let off = estimate("eu-west-1", vars.as_object())
            .map(|e| e.total_usd)
            .unwrap_or_default();
        assert!(on > 0.0 && off > 0.0 && off < on, "{on} {off}");
    }

    #[test]
    fn backend_hcl_attributes() {
        let t = "bucket = \"b\"\nkey    = \"k/x\"\nregion = \"eu-west-1\"\n";
        assert_eq!(hcl_attr(t, "key").as_deref(), Some("k/x"));
        assert_eq!(hcl_attr(t, "dynamodb_table"), None);
    }
}
