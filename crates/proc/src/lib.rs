//! Process-level plumbing that the workspace's binaries (`opsconsole`, the shim's `bootstrap`,
//! `opsconsole-sandbox`) share, each written once:
//! - [`child`]: children that die with us (`PR_SET_PDEATHSIG`), in their own process group that
//!   is stopped as a whole ([`child::Proc`]);
//! - [`repo`]: the repository checkout, found at run time (flag, `OPSCONSOLE_REPO`, current
//!   directory, executable), never baked in at build time;
//! - [`tls`]: rustls' process-wide crypto provider;
//! - [`error_chain`]: an error and its sources as one line.

pub mod child;
pub mod repo;
pub mod tls;

/// An error and its sources, `Display` only (no debug dumps), joined with `: `; a source whose
/// text an earlier part already holds is skipped (SDK and HTTP errors often repeat themselves).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn error_chain_joins_sources_and_skips_repeats() {
        let e = E(
            "dispatch failure: io error",
            Some(Box::new(E(
                "io error",
                Some(Box::new(E("Connection refused (os error 111)", None))),
            ))),
        );
        assert_eq!(
            error_chain(&e),
            "dispatch failure: io error: Connection refused (os error 111)"
        );
        assert_eq!(error_chain(&E("alone", None)), "alone");
    }
}
