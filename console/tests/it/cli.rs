//! The command line outside of the probe: where the sandbox went, and a binary installed away
//! from any checkout (it must not find the machine that built it).

use std::process::Command;

#[test]
fn opsconsole_sandbox_says_where_the_sandbox_went() {
    let out = Command::new(env!("CARGO_BIN_EXE_opsconsole"))
        .args(["sandbox", "--fault", "alarm"])
        .output()
        .expect("run opsconsole");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("cargo run -p opsconsole-sandbox"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// A copy of the binary outside the checkout, run from outside it, without `OPSCONSOLE_REPO`:
/// nothing leads to a checkout, so the outputs must come from `--outputs` (the error says so).
/// A binary that remembered where it was built would find the checkout regardless.
#[test]
fn an_installed_binary_outside_the_checkout_finds_no_checkout_and_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("bin")).expect("mkdir");
    let bin = dir.path().join("bin/opsconsole");
    std::fs::copy(env!("CARGO_BIN_EXE_opsconsole"), &bin).expect("copy the binary");
    let out = Command::new(&bin)
        .args(["probe", "dev", "--json"])
        .current_dir(dir.path())
        .env_remove("OPSCONSOLE_REPO")
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .expect("run the copy");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("pass --outputs FILE"), "{all}");
    assert!(all.contains("cannot find the opsconsole checkout"), "{all}");
    // Pointed at a directory that is no checkout, it says which one.
    let out = Command::new(&bin)
        .args(["probe", "dev", "--json", "--repo"])
        .arg(dir.path())
        .current_dir(dir.path())
        .env_remove("OPSCONSOLE_REPO")
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .expect("run the copy");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains("not an opsconsole checkout")
            && all.contains(&dir.path().display().to_string()),
        "{all}"
    );
}
