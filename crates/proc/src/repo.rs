//! The repository checkout (the directory holding `scripts/bootstrap.sh`), found at run time.
//!
//! The operator's `opsconsole` needs it only for what lives in the repository (the Terraform
//! environments, the Lambda image's Dockerfile); the sandbox and the tests for the tools in
//! `.tools/` and the sources they build. Nothing is baked in at build time: a release binary
//! carries no path of the machine that built it.

use std::path::{Path, PathBuf};

/// The file that marks the repository root.
pub const MARKER: &str = "scripts/bootstrap.sh";
/// Environment variable naming the checkout explicitly.
pub const ENV: &str = "OPSCONSOLE_REPO";

/// Why the checkout was not found: what was tried, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    #[error(
        "{from} names {}, which is not an opsconsole checkout (no {MARKER} in it)",
        path.display()
    )]
    NotACheckout { from: &'static str, path: PathBuf },
    #[error(
        "cannot find the opsconsole checkout (a directory with {MARKER}) above the current directory or the executable; run from inside the checkout, pass --repo DIR or set {ENV}"
    )]
    NotFound,
}

fn is_root(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
}

fn find_up(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| is_root(d))
        .map(Path::to_path_buf)
}

/// The checkout: `explicit` (a `--repo` flag), else `$OPSCONSOLE_REPO`, else the first
/// ancestor of the current directory, else of the executable, that holds [`MARKER`]. An
/// explicit directory that is not a checkout is an error, not skipped.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf, RepoError> {
    let env = std::env::var_os(ENV).filter(|v| !v.is_empty());
    find_from(
        explicit,
        env.as_deref().map(Path::new),
        std::env::current_dir().ok().as_deref(),
        std::env::current_exe().ok().as_deref(),
    )
}

/// [`find`] with its inputs spelled out (pure but for the file-system checks).
pub fn find_from(
    explicit: Option<&Path>,
    env: Option<&Path>,
    cwd: Option<&Path>,
    exe: Option<&Path>,
) -> Result<PathBuf, RepoError> {
    for (from, dir) in [("--repo", explicit), (ENV, env)] {
        if let Some(dir) = dir {
            return if is_root(dir) {
                Ok(dir.to_path_buf())
            } else {
                Err(RepoError::NotACheckout {
                    from,
                    path: dir.to_path_buf(),
                })
            };
        }
    }
    cwd.and_then(find_up)
        .or_else(|| exe.and_then(find_up))
        .ok_or(RepoError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("scripts")).expect("mkdir");
        std::fs::write(d.path().join(MARKER), "#!/bin/sh\n").expect("marker");
        std::fs::create_dir_all(d.path().join("console/src")).expect("mkdir");
        d
    }

    #[test]
    fn explicit_then_env_then_cwd_then_exe() {
        let (a, b) = (checkout(), checkout());
        let other = tempfile::tempdir().expect("tempdir");
        let sub = a.path().join("console/src");
        let exe = b.path().join("target/debug/opsconsole");
        assert_eq!(
            find_from(Some(b.path()), Some(a.path()), Some(&sub), None),
            Ok(b.path().to_path_buf())
        );
        assert_eq!(
            find_from(None, Some(b.path()), Some(&sub), None),
            Ok(b.path().to_path_buf())
        );
        assert_eq!(
            find_from(None, None, Some(&sub), Some(&exe)),
            Ok(a.path().to_path_buf())
        );
        assert_eq!(
            find_from(None, None, Some(other.path()), Some(&exe)),
            Ok(b.path().to_path_buf())
        );
    }

    #[test]
    fn an_explicit_directory_that_is_no_checkout_is_an_error_naming_it() {
        let a = checkout();
        let other = tempfile::tempdir().expect("tempdir");
        let e =
            find_from(Some(other.path()), None, Some(a.path()), None).expect_err("not a checkout");
        assert!(
            e.to_string().contains("--repo") && e.to_string().contains(MARKER),
            "{e}"
        );
        let e =
            find_from(None, Some(other.path()), Some(a.path()), None).expect_err("not a checkout");
        assert!(e.to_string().contains(ENV), "{e}");
    }

    #[test]
    fn nothing_found_says_how_to_fix_it() {
        let other = tempfile::tempdir().expect("tempdir");
        let e =
            find_from(None, None, Some(other.path()), Some(other.path())).expect_err("not found");
        assert_eq!(e, RepoError::NotFound);
        assert!(e.to_string().contains("--repo DIR"), "{e}");
    }
}
