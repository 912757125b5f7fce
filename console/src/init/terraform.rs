//! `opsconsole init`'s Terraform: `init`, `plan -json -out`, on confirmation `apply -json` of that
//! plan with progress on stderr (parsed by [`super::progress`]), then the probe's first verdict.
//! A failure names the resource and the error; Terraform's state stays what it applied, so a
//! re-run continues (init recognises its own variables on a deployed environment).

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::progress::{Failure, Progress, Update};
use super::{EXIT_FAILED, EXIT_OK, InitDocument, confirm};
use crate::cli::{GlobalOpts, InitArgs};

const PLAN_FILE: &str = "opsconsole-init.tfplan";

fn terraform(dir: &Path) -> Command {
    let mut c = Command::new("terraform");
    c.current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

/// Runs `cmd`, feeding each stdout line to `on_line`; returns success and stderr's last lines.
async fn run_lines(
    mut cmd: Command,
    mut on_line: impl FnMut(&str),
) -> Result<(bool, String), String> {
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run terraform: {e}"))?;
    let stderr = child.stderr.take();
    let err_task = tokio::spawn(async move {
        let mut tail: Vec<String> = Vec::new();
        if let Some(e) = stderr {
            let mut lines = BufReader::new(e).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                tail.push(l);
                if tail.len() > 20 {
                    tail.remove(0);
                }
            }
        }
        tail.join("\n")
    });
    if let Some(out) = child.stdout.take() {
        let mut lines = BufReader::new(out).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            on_line(&l);
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| format!("waiting for terraform: {e}"))?;
    let err = err_task.await.unwrap_or_default();
    Ok((status.success(), err))
}

fn say(line: &str) {
    eprintln!("opsconsole: init: {line}");
}

fn show(p: &Progress, u: &Update) {
    match u {
        Update::Started { resource, action } => {
            say(&format!("[{}/{}] {action} {resource}...", p.done, p.total))
        }
        Update::Completed { resource, action } => say(&format!(
            "[{}/{}] {action} {resource}: done",
            p.done, p.total
        )),
        Update::Errored { resource } => {
            say(&format!("[{}/{}] {resource}: FAILED", p.done, p.total))
        }
        Update::Error(f) => say(&format!(
            "error: {}{}",
            f.resource
                .as_deref()
                .map(|r| format!("{r}: "))
                .unwrap_or_default(),
            f.error
        )),
        Update::Summary(_) => {}
    }
}

fn failed(mut doc: InitDocument, what: &str, failures: &[Failure], stderr: &str) -> InitDocument {
    let first = failures
        .first()
        .map(|f| {
            format!(
                "{}{}",
                f.resource
                    .as_deref()
                    .map(|r| format!("{r}: "))
                    .unwrap_or_default(),
                f.error
            )
        })
        .unwrap_or_else(|| stderr.lines().last().unwrap_or("no message").to_string());
    doc.error = Some(format!("{what} failed: {first}"));
    let env = doc.env.clone();
    doc.end("failed", EXIT_FAILED, format!("fix the cause named above, then re-run `opsconsole init {env}`: it continues from Terraform's state"))
}

pub async fn deploy(
    global: &GlobalOpts,
    a: &InitArgs,
    dir: &Path,
    mut doc: InitDocument,
) -> InitDocument {
    // terraform init
    let mut init = terraform(dir);
    init.args(["init", "-input=false", "-no-color"]);
    if dir.join("backend.hcl").is_file() {
        init.arg("-backend-config=backend.hcl");
    }
    say("terraform init");
    match run_lines(init, |_| {}).await {
        Ok((true, _)) => {}
        Ok((false, err)) => return failed(doc, "terraform init", &[], &err),
        Err(e) => return failed(doc, "terraform init", &[], &e),
    }
    // plan
    say("terraform plan");
    let mut plan = Progress::default();
    let mut cmd = terraform(dir);
    cmd.args([
        "plan",
        "-json",
        "-input=false",
        &format!("-out={PLAN_FILE}"),
    ]);
    let r = run_lines(cmd, |l| {
        if let Some(u) = plan.feed(l) {
            show(&plan, &u);
        }
    })
    .await;
    plan.finish();
    doc.plan = plan.summary;
    match r {
        Ok((true, _)) => {}
        Ok((false, err)) => return failed(doc, "terraform plan", &plan.failures, &err),
        Err(e) => return failed(doc, "terraform plan", &[], &e),
    }
    let s = plan.summary.unwrap_or_default();
    say(&format!(
        "plan: {} to add, {} to change, {} to destroy",
        s.add, s.change, s.remove
    ));
    if !confirm(a, &format!("apply this plan to `{}`?", doc.env)) {
        let _ = std::fs::remove_file(dir.join(PLAN_FILE));
        return doc.end(
            "planned",
            EXIT_OK,
            "not applied (not confirmed): re-run with --yes to apply",
        );
    }
    // apply, with progress
    let mut p = Progress::with_total(plan.total);
    let mut cmd = terraform(dir);
    cmd.args(["apply", "-json", "-input=false", PLAN_FILE]);
    let r = run_lines(cmd, |l| {
        if let Some(u) = p.feed(l) {
            show(&p, &u);
        }
    })
    .await;
    p.finish();
    let _ = std::fs::remove_file(dir.join(PLAN_FILE));
    let ok = matches!(r, Ok((true, _))) && p.failures.is_empty();
    let err = match &r {
        Ok((_, e)) => e.clone(),
        Err(e) => e.clone(),
    };
    let failures = p.failures.clone();
    doc.apply = Some(p);
    if !ok {
        return failed(doc, "terraform apply", &failures, &err);
    }
    say("applied; probing");
    verdict(global, a, dir, doc).await
}

/// The probe on what was applied (its outputs from `terraform output -json` in `dir`).
async fn verdict(
    global: &GlobalOpts,
    a: &InitArgs,
    dir: &Path,
    mut doc: InitDocument,
) -> InitDocument {
    let outputs = match crate::outputs::from_terraform(dir).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return failed(
                doc,
                "reading the outputs",
                &[],
                "terraform output -json is empty",
            );
        }
        Err(e) => return failed(doc, "reading the outputs", &[], &e.to_string()),
    };
    let settings = match crate::config::ConfigFile::load(global.config.as_deref()) {
        Ok((file, _)) => file.resolve(&doc.env, global),
        Err(e) => return failed(doc, "reading the config file", &[], &e.to_string()),
    };
    let opts = crate::aws::AwsOptions {
        profile: settings.profile.clone(),
        region: Some(outputs.region.clone()),
        endpoint_url: settings.endpoint_url.clone(),
        max_attempts: None,
        static_credentials: None,
        operation_timeout: Some(settings.timeout),
    };
    let clients = crate::aws::AwsClients::load(&opts).await;
    let window = crate::domain::window::Window::covering(settings.lambda_window_minutes);
    let ctx =
        crate::context::Context::from_parts(&doc.env, global, settings, outputs, clients).await;
    let sources = crate::probe::parse_only(&a.probe_only).unwrap_or_default();
    let probe = crate::probe::probe_document(Arc::new(ctx), &sources, window).await;
    let status = probe.get("status").cloned().unwrap_or_default();
    let healthy = status.as_str() == Some("healthy");
    doc.verdict = Some(serde_json::json!({
        "status": status,
        "exit_code": probe.get("exit_code").cloned().unwrap_or_default(),
        "findings": probe.get("findings").cloned().unwrap_or_default(),
    }));
    if healthy {
        let env = doc.env.clone();
        doc.end(
            "applied",
            EXIT_OK,
            format!("deployed and healthy: `opsconsole {env}` opens the console"),
        )
    } else {
        let env = doc.env.clone();
        doc.end("applied", EXIT_FAILED, format!("deployed, but the first verdict is not healthy: see the findings, `opsconsole probe {env}` re-checks"))
    }
}
