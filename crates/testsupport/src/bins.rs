//! The workspace's binaries as the tests run them, and whether they are older than their sources.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The modification time of one file.
pub fn newest_source_mtime_of(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The newest modification time of the Rust sources and the manifest of the package in `dir`
/// (`Cargo.toml`, `src/**/*.rs`; a bounded walk).
pub fn newest_source_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = newest_source_mtime_of(&dir.join("Cargo.toml"));
    let mut stack = vec![dir.join("src")];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > 10_000 {
                return newest;
            }
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                newest = newest.max(newest_source_mtime_of(&p));
            }
        }
    }
    newest
}

/// A binary of another workspace package, built by the same `cargo test` run (`cargo test
/// --workspace` builds every binary a package's integration tests run): `NAME` in the directory
/// above the running test binary (`target/debug/deps/..`). `CARGO_BIN_EXE_*` names only the
/// binaries of the test's own package. Panics with the fix when it is missing or older than the
/// sources of `package`, in `package_dir` (relative to the checkout).
pub fn workspace_bin(package: &str, package_dir: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(name);
    let fix = format!(
        "build it first: `cargo build -p {package} --bin {name}` (`cargo test --workspace` and scripts/test-all.sh build every binary before the tests run)"
    );
    assert!(bin.is_file(), "{} is missing; {fix}", bin.display());
    let sources = crate::repo_root().join(package_dir);
    assert!(
        newest_source_mtime(&sources) <= newest_source_mtime_of(&bin),
        "{} is older than the sources in {}; {fix}",
        bin.display(),
        sources.display()
    );
    bin
}
