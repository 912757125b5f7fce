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
    // The `lambda` profile (LTO, one codegen unit, stripped): the smaller resident code.
    // Each binary by its own build (one build would unify the SDK's features into bootstrap's).
    let builds: Vec<&str> = text
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("RUN ")
                .trim_start_matches("&& ")
        })
        .filter(|l| l.starts_with("cargo build"))
        .map(|l| l.trim_end_matches('\\').trim())
        .collect();
    assert_eq!(
        builds,
        [
            "cargo build --locked --profile lambda -p shim --bin bootstrap",
            "cargo build --locked --profile lambda -p shim-init",
        ],
        "{builds:?}"
    );
    // Both binaries in one directory: `bootstrap` runs `shim-init` from beside itself.
    assert!(text.lines().any(|l| l
        == "COPY --from=build /src/target/lambda/bootstrap /src/target/lambda/shim-init /usr/local/bin/"));
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
    for needed in ["!Cargo.toml", "!Cargo.lock", "!shim/**", "!crates/**"] {
        assert!(a.lines().any(|l| l == needed), "{needed} missing");
    }
}

/// Whether `.dockerignore`'s rules admit `path` (the patterns this project uses: `**`, `!DIR/**`,
/// `!FILE`, `**/NAME`; the last matching rule wins, as in Docker).
fn admitted(rules: &[&str], path: &str) -> bool {
    let matches = |pat: &str| {
        if pat == "**" {
            true
        } else if let Some(name) = pat.strip_prefix("**/") {
            path.split('/').any(|seg| seg == name)
        } else if let Some(dir) = pat.strip_suffix("/**") {
            path.starts_with(&format!("{dir}/"))
        } else {
            path == pat
        }
    };
    let mut ok = true;
    for r in rules {
        let (negated, pat) = r.strip_prefix('!').map_or((false, *r), |p| (true, p));
        if matches(pat) {
            ok = negated;
        }
    }
    ok
}

/// The image's build stage sees the context `.dockerignore` admits, copied by the build stage's
/// `COPY` lines: in that tree, cargo must load the workspace (every member's manifest) and find
/// the `bootstrap` binary, or `docker build` fails before compiling anything (the workspace
/// gained members the image's context did not have).
#[test]
fn image_build_context_loads_the_workspace() {
    let root = crate::support::repo_root();
    let ignore =
        std::fs::read_to_string(docker_dir().join(".dockerignore")).expect(".dockerignore");
    let rules: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let files = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    let context: Vec<String> = String::from_utf8_lossy(&files.stdout)
        .split('\0')
        .filter(|p| !p.is_empty() && admitted(&rules, p))
        .map(str::to_string)
        .collect();
    assert!(context.iter().any(|p| p == "shim/src/bin/bootstrap.rs"));
    assert!(context.iter().any(|p| p == "shim/init/src/main.rs"));
    assert!(!admitted(&rules, "shim/target/debug/bootstrap"));
    assert!(!admitted(&rules, "infrastructure/README.md"));
    // The build stage's COPY lines: `COPY a b ./` (files to the workdir) or `COPY dir ./dir`.
    let dockerfile = std::fs::read_to_string(docker_dir().join("Dockerfile")).expect("Dockerfile");
    let build_stage = dockerfile
        .split("\nFROM ")
        .find(|s| s.contains(" AS build"))
        .expect("a build stage");
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    for line in build_stage.lines().filter(|l| l.starts_with("COPY ")) {
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let (dst, sources) = args.split_last().expect("COPY src.. dst");
        for s in sources {
            for f in context
                .iter()
                .filter(|p| *p == s || p.starts_with(&format!("{s}/")))
            {
                let to = if dst.ends_with('/') || *dst == "." || *dst == "./" {
                    src.join(f)
                } else {
                    src.join(dst.trim_start_matches("./"))
                        .join(f.strip_prefix(&format!("{s}/")).unwrap_or(f))
                };
                std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
                std::fs::copy(root.join(f), &to).expect("copy");
            }
        }
    }
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--locked",
            "--offline",
            "--no-deps",
            "--format-version",
            "1",
        ])
        .current_dir(&src)
        .output()
        .expect("cargo metadata");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo cannot load the workspace in the image's build context:\n{stderr}"
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let bootstrap = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == "shim")
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .find(|t| t["name"] == "bootstrap")
        .expect("the shim's bootstrap target");
    let path = bootstrap["src_path"].as_str().unwrap_or_default();
    assert!(
        std::path::Path::new(path).is_file(),
        "{path} is not in the context"
    );
}
