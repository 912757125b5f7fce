//! The init step in its own process (src/init_step.rs, `shim-init` from the package shim/init):
//! `bootstrap` carries no AWS SDK and no HTTP/2, and every way the step can fail ends in `init_failed` naming the step, with LibreChat
//! never started and nothing left running. The step's success path (config from S3, secrets
//! from SSM in moto) is `coldstart::config_secrets_and_diagnostics_from_real_peers`.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

/// Legacy-mangled symbol fragments of the AWS SDK crates (length-prefixed crate names, and
/// generic instances such as `drop_in_place<aws_sdk_ssm::...>`), counted in a binary's bytes.
fn sdk_symbols(bin: &str) -> usize {
    let bytes = std::fs::read(bin).expect("read binary");
    let count = |needle: &[u8]| bytes.windows(needle.len()).filter(|w| *w == needle).count();
    [
        &b"11aws_sdk_ssm"[..],
        b"10aws_sdk_s3",
        b"10aws_config",
        b"$LT$aws_sdk",
    ]
    .iter()
    .map(|n| count(n))
    .sum()
}

#[test]
fn bootstrap_links_no_aws_sdk_and_shim_init_does() {
    // The control: the same count finds the SDK where it is linked (the test builds are not
    // stripped; a stripped build would make both zero and this assertion says so).
    let init = sdk_symbols(&init_bin().display().to_string());
    assert!(
        init > 100,
        "shim-init: only {init} SDK symbols (stripped binary?)"
    );
    let boot = sdk_symbols(env!("CARGO_BIN_EXE_bootstrap"));
    assert_eq!(boot, 0, "bootstrap links AWS SDK code ({boot} symbols)");
}

/// The crates of a package's normal (not dev) dependency graph, as `cargo tree` resolves it for
/// a build of that package alone.
fn dependency_graph(package: &str) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "--locked", "-p", package, "-e", "normal"])
        .args(["--prefix", "none", "--format", "{p}"])
        .current_dir(repo_root())
        .output()
        .expect("cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn bootstraps_build_has_no_aws_sdk_and_no_http2() {
    // What the image's `cargo build -p shim --bin bootstrap` compiles: neither the SDK nor the
    // HTTP/2 it would unify into hyper (shim/README.md, "Memory"). The control: shim-init's
    // graph has both, so the names are right.
    let unwanted = [
        "aws-config",
        "aws-sdk-s3",
        "aws-sdk-ssm",
        "aws-smithy-runtime",
        "h2",
    ];
    let init = dependency_graph("shim-init");
    for name in unwanted {
        assert!(init.iter().any(|c| c == name), "shim-init without {name}");
    }
    let boot = dependency_graph("shim");
    assert!(boot.iter().any(|c| c == "hyper"), "{boot:?}");
    let found: Vec<&str> = unwanted
        .into_iter()
        .filter(|name| boot.iter().any(|c| c == name))
        .collect();
    assert!(found.is_empty(), "bootstrap's build compiles {found:?}");
}

struct Failed {
    status: u16,
    detail: String,
    log: String,
    exit: Option<i32>,
    child_started: bool,
}

/// Start `bootstrap` with `SHIM_INIT_BIN` = `init_bin` and a config location (so the step
/// runs), invoke once, run `before_exit` and wait for the environment to be recycled.
async fn with_init_bin(
    dir: &Path,
    init_bin: &Path,
    extra: &[(&str, &str)],
    before_exit: impl FnOnce(),
) -> Failed {
    let (_cl, invoke_port) = cargo_lambda(dir);
    let marker = dir.join("librechat-started");
    let mut e: Vec<(String, String)> = vec![
        (
            "SHIM_CHILD_CMD".into(),
            format!("touch {}; sleep 30", marker.display()),
        ),
        ("SHIM_UPSTREAM_PORT".into(), free_port().to_string()),
        ("CONFIG_S3_BUCKET".into(), "bucket".into()),
        ("CONFIG_S3_KEY".into(), "librechat.yaml".into()),
        ("SHIM_INIT_BIN".into(), init_bin.display().to_string()),
    ];
    e.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut boot = bootstrap(invoke_port, &e, dir, "bootstrap");
    let r = invoke(&http_client(), invoke_port, &v1_event("GET", "/api/health")).await;
    let v = r.json();
    assert_eq!(v["error"], "init_failed", "{}", r.text());
    before_exit();
    let exit = boot.wait_exit(Duration::from_secs(10));
    Failed {
        status: r.status,
        detail: v["detail"].as_str().unwrap_or_default().to_string(),
        log: boot.output(),
        exit,
        child_started: marker.exists(),
    }
}

fn script(dir: &Path, body: &str) -> std::path::PathBuf {
    let p = dir.join("fake-shim-init");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

fn assert_failed_cleanly(f: &Failed, detail_has: &str) {
    assert_eq!(f.status, 503, "{}", f.log);
    assert!(
        f.detail.starts_with("init step: ") && f.detail.contains(detail_has),
        "{}",
        f.detail
    );
    assert!(!f.child_started, "LibreChat was started: {}", f.log);
    assert_eq!(f.exit, Some(70), "{}", f.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_init_binary_fails_init_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-shim-init");
    let f = with_init_bin(dir.path(), &missing, &[], || ()).await;
    assert_failed_cleanly(&f, "starting ");
    assert!(f.detail.contains("no-such-shim-init"), "{}", f.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_or_babbling_init_step_fails_init() {
    let dir = tempfile::tempdir().expect("tempdir");
    let crash = script(dir.path(), "echo 'panicked at somewhere' >&2; exit 3");
    let f = with_init_bin(dir.path(), &crash, &[], || ()).await;
    assert_failed_cleanly(&f, "exited with exit status: 3 without a result");

    let dir = tempfile::tempdir().expect("tempdir");
    let babble = script(
        dir.path(),
        r#"echo '{"secrets": {"Ok": {"JWT_SECRET": "v4lue"}}'"#,
    );
    let f = with_init_bin(dir.path(), &babble, &[], || ()).await;
    assert_failed_cleanly(&f, "wrote no valid result");
    assert!(
        !f.detail.contains("v4lue") && !f.log.contains("v4lue"),
        "{}",
        f.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_init_step_is_killed_at_its_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("init.pid");
    let hang = script(
        dir.path(),
        &format!("echo $$ > {}; exec sleep 60", pid_file.display()),
    );
    // Killed by the timeout itself, not only when `bootstrap` exits (the child also dies with
    // its parent): looked at while `bootstrap` still waits to recycle the environment.
    let not_running = || {
        let pid = std::fs::read_to_string(&pid_file).expect("the step ran");
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
        // Gone, or a zombie waiting for its reaper.
        stat.as_ref().map_or(true, |s| {
            s.rsplit(')')
                .next()
                .is_some_and(|t| t.trim_start().starts_with('Z'))
        })
    };
    let f = with_init_bin(
        dir.path(),
        &hang,
        &[
            ("SHIM_INIT_STEP_TIMEOUT_MS", "700"),
            ("SHIM_RECYCLE_DELAY_MS", "5000"),
        ],
        || {
            let gone = (0..100).any(|_| {
                std::thread::sleep(Duration::from_millis(20));
                not_running()
            });
            assert!(gone, "the hung init step still runs after its timeout");
        },
    )
    .await;
    assert_failed_cleanly(&f, "did not finish within 700 ms");
    assert!(not_running());
}
