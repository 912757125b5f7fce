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
    assert_eq!(
        froms,
        [
            "FROM rust:1.95-alpine AS build",
            // Node 22 for the same libc (musl) as LibreChat's node:20-alpine image (issue 26).
            "FROM node:${NODE_VERSION}-alpine AS node",
            "FROM ghcr.io/danny-avila/librechat-api:${LIBRECHAT_VERSION} AS compile-cache",
            "FROM ghcr.io/danny-avila/librechat-api:${LIBRECHAT_VERSION}",
        ],
        "FR-006 base image last"
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
    assert_eq!(
        get("SHIM_CHILD_CMD"),
        Some("librechat-start api/server/index.js")
    );
    // Issue 26: Node's cache directory under /tmp (the only writable path), the image's filled
    // cache beside LibreChat, and no 3 s wait for another environment's MCP registry.
    assert_eq!(get("NODE_COMPILE_CACHE"), Some("/tmp/node-compile-cache"));
    assert_eq!(
        get("LIBRECHAT_COMPILE_CACHE_SRC"),
        Some("/app/.node-compile-cache")
    );
    assert_eq!(get("MCP_INIT_FOLLOWER_RETRY_MS"), Some("100"));
    // No V8 flag in NODE_OPTIONS: V8's flags are part of the cache's key (it would be missed).
    assert_eq!(get("NODE_OPTIONS"), None);
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

/// Issue 26: the Dockerfile's `compile-cache` stage fills the cache with the image's Node on the
/// image's own /app, with the hook the tests fill theirs with, and the last stage takes that Node,
/// that cache and the start command.
#[test]
fn dockerfile_fills_the_compile_cache_and_ships_node_22_with_it() {
    let text = std::fs::read_to_string(docker_dir().join("Dockerfile")).expect("Dockerfile");
    let stages: Vec<&str> = text.split("\nFROM ").collect();
    let cache = stages
        .iter()
        .find(|s| {
            s.lines()
                .next()
                .is_some_and(|l| l.ends_with(" AS compile-cache"))
        })
        .expect("a compile-cache stage");
    let joined = cache.replace("\\\n", " ");
    assert!(
        cache
            .lines()
            .any(|l| l == "COPY --from=node /usr/local/bin/node /usr/local/bin/node"),
        "{cache}"
    );
    assert!(
        cache
            .lines()
            .any(|l| l == "COPY shim/image/compile-cache-fill.cjs /opt/compile-cache-fill.cjs"),
        "{cache}"
    );
    let run = joined
        .lines()
        .find(|l| l.starts_with("RUN "))
        .expect("the fill's RUN");
    for part in [
        "NODE_COMPILE_CACHE=/tmp/node-compile-cache",
        "node --require /opt/compile-cache-fill.cjs api/server/index.js",
        "chmod -R a+rX,a-w /tmp/node-compile-cache",
    ] {
        assert!(run.contains(part), "{part} not in {run}");
    }
    assert!(!run.contains("NODE_OPTIONS"), "{run}");
    let last = stages.last().expect("a last stage");
    for line in [
        "COPY --from=node /usr/local/bin/node /usr/local/bin/node",
        "COPY --from=compile-cache /tmp/node-compile-cache /app/.node-compile-cache",
        "COPY shim/image/librechat-start.sh /usr/local/bin/librechat-start",
    ] {
        assert!(
            last.lines().any(|l| l == line),
            "{line} not in the last stage"
        );
    }
    // The files it copies are in the build context.
    let ignore =
        std::fs::read_to_string(docker_dir().join(".dockerignore")).expect(".dockerignore");
    let rules: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for f in [
        "shim/image/compile-cache-fill.cjs",
        "shim/image/librechat-start.sh",
    ] {
        assert!(admitted(&rules, f), "{f} not in the build context");
        assert!(crate::support::repo_root().join(f).is_file(), "{f} missing");
    }
    // The version the tests run (support/image.rs) is pinned here.
    assert_eq!(
        crate::support::image::dockerfile_node_version()
            .split('.')
            .next(),
        Some("22")
    );
}

/// `librechat-start` links each of the image's cache directories (named by Node after the uid
/// that filled them) into NODE_COMPILE_CACHE under the uid that runs it, then runs node.
#[test]
fn librechat_start_links_the_image_cache_for_the_running_uid() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("image-cache");
    let tag = "v22.23.5-x64-9ac5647c";
    std::fs::create_dir_all(src.join(format!("{tag}-1000"))).expect("mkdir");
    let cache = tmp.path().join("tmp/node-compile-cache");
    let out = Command::new(crate::support::repo_root().join("shim/image/librechat-start.sh"))
        .args(["a", "b c"])
        .env("LIBRECHAT_NODE", "echo")
        .env("LIBRECHAT_COMPILE_CACHE_SRC", &src)
        .env("NODE_COMPILE_CACHE", &cache)
        .output()
        .expect("run librechat-start");
    assert!(out.status.success(), "{out:?}");
    // node gets the arguments as they were.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a b c\n");
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let link = cache.join(format!("{tag}-{uid}"));
    assert_eq!(
        std::fs::read_link(&link).expect("the cache link"),
        src.join(format!("{tag}-1000"))
    );
    // Without the image's cache, node runs all the same (Node 20, a local run).
    let out = Command::new(crate::support::repo_root().join("shim/image/librechat-start.sh"))
        .arg("x")
        .env("LIBRECHAT_NODE", "echo")
        .env("LIBRECHAT_COMPILE_CACHE_SRC", tmp.path().join("none"))
        .env("NODE_COMPILE_CACHE", &cache)
        .output()
        .expect("run librechat-start");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "x\n");
}
