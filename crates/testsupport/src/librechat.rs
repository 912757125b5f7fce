//! What running the real LibreChat needs from this repository, shared by the shim's
//! real-LibreChat tests and `opsconsole-sandbox --librechat`: the image's environment (the
//! Dockerfile's `ENV` lines, the one place it is set) and tools/librechat-local's
//! `librechat.env`.

use std::path::{Path, PathBuf};

/// The image's Dockerfile in a checkout.
pub fn dockerfile(root: &Path) -> PathBuf {
    root.join("infrastructure/terraform/modules/backend/docker/Dockerfile")
}

/// tools/librechat-local in a checkout (the fake model, LibreChat's config and environment).
pub fn local_dir(root: &Path) -> PathBuf {
    root.join("tools/librechat-local")
}

/// The `ENV` settings of a Dockerfile's text, as (name, value) pairs in order: `KEY=value` or
/// `KEY="value with spaces"`, several per line, continued lines joined.
pub fn parse_dockerfile_env(text: &str) -> Vec<(String, String)> {
    let joined = text.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let Some(rest) = line.trim().strip_prefix("ENV ") else {
            continue;
        };
        let mut chars = rest.chars().peekable();
        while chars.peek().is_some() {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                value = chars.by_ref().take_while(|c| *c != '"').collect();
            } else {
                while let Some(c) = chars.peek().copied() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            if !key.trim().is_empty() {
                out.push((key.trim().to_string(), value));
            }
        }
    }
    out
}

/// `KEY=value` lines (blank lines and `#` comments skipped), as in `librechat.env`.
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The image's start command for LibreChat (`SHIM_CHILD_CMD`) for a run outside the image: a
/// leading `librechat-start` (on the image's `PATH`, issue 26) becomes the checkout's
/// `shim/image/librechat-start.sh`, which runs the `node` on `PATH` (and uses a compile cache only
/// where `LIBRECHAT_COMPILE_CACHE_SRC` names one); anything else is kept.
pub fn local_child_cmd(root: &Path, cmd: &str) -> String {
    match cmd.strip_prefix("librechat-start") {
        Some(rest) if rest.is_empty() || rest.starts_with(' ') => format!(
            "{}{rest}",
            root.join("shim/image/librechat-start.sh").display()
        ),
        _ => cmd.to_string(),
    }
}

/// The image's environment from the checkout's Dockerfile.
pub fn dockerfile_env(root: &Path) -> std::io::Result<Vec<(String, String)>> {
    Ok(parse_dockerfile_env(&std::fs::read_to_string(dockerfile(
        root,
    ))?))
}

/// tools/librechat-local/librechat.env of the checkout.
pub fn librechat_env(root: &Path) -> std::io::Result<Vec<(String, String)>> {
    Ok(parse_env_file(&std::fs::read_to_string(
        local_dir(root).join("librechat.env"),
    )?))
}

/// The names in `librechat.env` that reach LibreChat through SSM (`SHIM_SSM_SECRETS`), as in a
/// deployment (MONGO_URI is set per run).
pub const SECRETS: &[&str] = &[
    "CREDS_KEY",
    "CREDS_IV",
    "JWT_SECRET",
    "JWT_REFRESH_SECRET",
    "MONGO_URI",
];

/// Set to `1` (scripts/librechat-tier.sh does) to make the real-LibreChat tests fail, not skip,
/// without a LibreChat tree.
pub const REQUIRE_ENV: &str = "OPSCONSOLE_REQUIRE_LIBRECHAT";

/// The LibreChat tree the real-LibreChat tests run: `LIBRECHAT_DIR`, else
/// `.tools/librechat/librechat-v*` (what scripts/librechat-tier.sh sets up). `None` = skipped (the
/// reason on stderr), unless [`REQUIRE_ENV`]`=1`, which panics with the reason.
pub fn tree_or_skip() -> Option<PathBuf> {
    let dir = std::env::var_os("LIBRECHAT_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let tools = crate::repo_root().join(".tools/librechat");
            std::fs::read_dir(tools).ok().and_then(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.join("api/server/index.js").is_file())
            })
        });
    match dir {
        Some(d) if d.join("node_modules").is_dir() => Some(d),
        _ => {
            let why = "real LibreChat not available: set LIBRECHAT_DIR to a LibreChat tree with \
                       node_modules (scripts/librechat-tier.sh sets one up in .tools/librechat)";
            assert!(
                std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
                "{REQUIRE_ENV}=1 but {why}"
            );
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// The database the real-LibreChat tests give LibreChat: `LIBRECHAT_NX` (nx-27017, which the
/// sandbox starts) and `LIBRECHAT_MONGO_URI` (a running MongoDB instead).
pub fn database_env() -> (Option<PathBuf>, Option<String>) {
    (
        std::env::var_os("LIBRECHAT_NX").map(PathBuf::from),
        std::env::var("LIBRECHAT_MONGO_URI").ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_with_quotes_and_continuations() {
        let text =
            "FROM x\nENV A=1 \\\n    B=\"two words\" \\\n    C=/tmp\nRUN echo ENV D=4\nENV E=5\n";
        assert_eq!(
            parse_dockerfile_env(text),
            [
                ("A".to_string(), "1".to_string()),
                ("B".into(), "two words".into()),
                ("C".into(), "/tmp".into()),
                ("E".into(), "5".into()),
            ]
        );
        assert_eq!(
            parse_env_file("# c\nX = 1\n\nY=a=b\n"),
            [
                ("X".to_string(), "1".to_string()),
                ("Y".into(), "a=b".into())
            ]
        );
    }

    #[test]
    fn the_repositorys_dockerfile_sets_the_child_command() {
        let root = crate::repo_root();
        let env = dockerfile_env(&root).unwrap();
        assert!(
            env.iter()
                .any(|(k, v)| k == "SHIM_CHILD_CMD" && v == "librechat-start api/server/index.js"),
            "{env:?}"
        );
    }

    #[test]
    fn the_image_start_command_maps_to_the_checkouts_script() {
        let root = Path::new("/r");
        assert_eq!(
            local_child_cmd(root, "librechat-start api/server/index.js"),
            "/r/shim/image/librechat-start.sh api/server/index.js"
        );
        assert_eq!(
            local_child_cmd(root, "node api/server/index.js"),
            "node api/server/index.js"
        );
        assert_eq!(
            local_child_cmd(root, "librechat-starter x"),
            "librechat-starter x"
        );
    }
}
