//! The execution role's credentials for LibreChat, in a form its S3 client uses whole.
//!
//! Lambda gives the function its role's **temporary** credentials as `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`. LibreChat v0.8.6's S3 client
//! (`packages/api/src/cdn/s3.ts`, `initializeS3`) passes `{accessKeyId, secretAccessKey}` to the
//! SDK when both variables are set and leaves the session token out, so with `fileStrategy: s3`
//! every upload and download is refused by S3 (403 `InvalidAccessKeyId`). With neither variable
//! set it uses the SDK's default chain, which reads a shared credentials file, token included.
//!
//! So, when the shim runs with temporary credentials (all three variables set, and no secret of
//! the function's overrides them), LibreChat gets no key variables but `AWS_SHARED_CREDENTIALS_FILE`
//! naming a file (mode 0600, in the environment's /tmp) whose `[default]` profile holds the three
//! values, written once at init (a rotation of an environment's credentials while it lives, if
//! Lambda does one, is not handled: not seen here). `SHIM_CHILD_AWS_CREDENTIALS=env` keeps the
//! variables as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const KEY: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET: &str = "AWS_SECRET_ACCESS_KEY";
pub const TOKEN: &str = "AWS_SESSION_TOKEN";
pub const FILE_ENV: &str = "AWS_SHARED_CREDENTIALS_FILE";
/// `env` keeps LibreChat's credential variables as Lambda set them (LibreChat then drops the token).
pub const MODE_ENV: &str = "SHIM_CHILD_AWS_CREDENTIALS";

/// Temporary credentials (key id, secret, session token).
#[derive(Clone, PartialEq, Eq)]
pub struct RoleCredentials {
    pub key: String,
    pub secret: String,
    pub token: String,
}

impl std::fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoleCredentials { .. }")
    }
}

/// The role's temporary credentials from the shim's environment (`get`), unless `secrets` (the
/// function's own, given to LibreChat) set a key of their own or `SHIM_CHILD_AWS_CREDENTIALS=env`.
pub fn role_credentials(
    get: impl Fn(&str) -> Option<String>,
    secrets: &BTreeMap<String, String>,
) -> Option<RoleCredentials> {
    if get(MODE_ENV).is_some_and(|m| m.trim() == "env") || secrets.contains_key(KEY) {
        return None;
    }
    let non_empty = |k: &str| get(k).filter(|v| !v.is_empty());
    Some(RoleCredentials {
        key: non_empty(KEY)?,
        secret: non_empty(SECRET)?,
        token: non_empty(TOKEN)?,
    })
}

/// The shared credentials file's text.
pub fn file_text(c: &RoleCredentials) -> String {
    format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
        c.key, c.secret, c.token
    )
}

/// Writes the file (0600) into `dir`; its path.
pub fn write_file(c: &RoleCredentials, dir: &Path) -> std::io::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join("librechat-aws-credentials");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    f.write_all(file_text(c).as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda(k: &str) -> Option<String> {
        match k {
            KEY => Some("ASIAEXAMPLE".into()),
            SECRET => Some("s3cr3t".into()),
            TOKEN => Some("tok".into()),
            _ => None,
        }
    }

    #[test]
    fn temporary_credentials_go_to_a_file_with_the_token() {
        let c = role_credentials(lambda, &BTreeMap::new()).expect("temporary credentials");
        let text = file_text(&c);
        assert!(text.starts_with("[default]\n"), "{text}");
        assert!(text.contains("aws_session_token = tok\n"), "{text}");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write_file(&c, dir.path()).expect("write");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(p).expect("read"), text);
    }

    #[test]
    fn long_term_keys_own_secrets_or_the_setting_keep_the_variables() {
        let no_token = |k: &str| (k != TOKEN).then(|| lambda(k)).flatten();
        assert_eq!(role_credentials(no_token, &BTreeMap::new()), None);
        let own: BTreeMap<String, String> = [(KEY.to_string(), "AKIAOWN".to_string())].into();
        assert_eq!(role_credentials(lambda, &own), None);
        let env_mode = |k: &str| {
            if k == MODE_ENV {
                Some("env".into())
            } else {
                lambda(k)
            }
        };
        assert_eq!(role_credentials(env_mode, &BTreeMap::new()), None);
    }
}
