//! The container definition: hadolint-clean, pinned LibreChat base, the shim as entry point.
//! (No Docker engine here: the image is linted, not built.)

use std::process::Command;

fn docker_dir() -> std::path::PathBuf {
    crate::support::repo_root().join("infrastructure/terraform/modules/backend/docker")
}

#[test]
fn dockerfile_passes_hadolint() {
    let out = Command::new(crate::support::tool("hadolint"))
        .arg("--no-color")
        .arg(docker_dir().join("Dockerfile"))
        .output()
        .expect("run hadolint");
    assert!(
        out.status.success(),
        "hadolint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn dockerfile_builds_the_shim_onto_the_pinned_librechat_image() {
    let text = std::fs::read_to_string(docker_dir().join("Dockerfile")).expect("Dockerfile");
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(froms[0].contains(" AS build"));
    assert_eq!(
        froms[1], "FROM ghcr.io/danny-avila/librechat-api:${LIBRECHAT_VERSION}",
        "FR-006 base image"
    );
    // Pinned in one place: the ARG's default, which the real-LibreChat tier compares with the
    // version it ran.
    assert_eq!(crate::support::dockerfile_librechat_version(), "v0.8.6");
    assert!(text.contains("-p shim --bin bootstrap"));
    assert!(
        text.contains("COPY --from=build /src/target/release/bootstrap /usr/local/bin/bootstrap")
    );
    assert!(
        text.lines()
            .any(|l| l == "ENTRYPOINT [\"/usr/local/bin/bootstrap\"]")
    );
    // Everything LibreChat writes goes under /tmp, the only writable path on Lambda.
    for var in [
        "CONFIG_PATH=/tmp/",
        "LIBRECHAT_LOG_DIR=/tmp/",
        "HOME=/tmp",
        "LOG_TO_FILE=false",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(var)),
            "{var} not set in the image"
        );
    }
}

#[test]
fn dockerfile_env_is_read_as_the_image_sets_it() {
    // The real-LibreChat tier runs LibreChat with this environment (Lambda's filesystem test).
    let env = crate::support::dockerfile_env();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("SHIM_CHILD_CMD"), Some("node api/server/index.js"));
    assert_eq!(get("LOG_TO_FILE"), Some("false"));
    assert_eq!(get("HOME"), Some("/tmp"));
    assert_eq!(get("CONFIG_PATH"), Some("/tmp/librechat.yaml"));
}

#[test]
fn dockerignore_files_agree_and_admit_the_build_inputs() {
    let a = std::fs::read_to_string(docker_dir().join(".dockerignore")).expect(".dockerignore");
    let b = std::fs::read_to_string(docker_dir().join("Dockerfile.dockerignore"))
        .expect("Dockerfile.dockerignore");
    assert_eq!(
        a, b,
        "keep .dockerignore and Dockerfile.dockerignore identical"
    );
    for needed in ["!Cargo.toml", "!Cargo.lock", "!shim/src/**", "!console/**"] {
        assert!(a.lines().any(|l| l == needed), "{needed} missing");
    }
}
