//! The `:` command line: parsing and Tab completion (pure).

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CmdLine {
    DeployImage {
        image: Option<String>,
    },
    Apply,
    Invalidate {
        paths: Vec<String>,
    },
    Probe,
    /// `:bundle [FILE]`: the support bundle (`opsconsole bundle`).
    Bundle {
        out: Option<String>,
    },
    Refresh {
        source: Option<String>,
    },
    Env(String),
    /// `:cost`: the cost view (as `$`).
    Cost,
    Help,
    Quit,
}

/// The commands offered by completion, in the order shown.
pub(crate) const COMMANDS: [&str; 10] = [
    "deploy image",
    "apply",
    "invalidate /*",
    "probe",
    "bundle",
    "refresh",
    "cost",
    "env ",
    "help",
    "quit",
];

pub(crate) fn parse(line: &str) -> Result<CmdLine, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [] => Err("empty command (try :help)".into()),
        ["deploy", "image"] => Ok(CmdLine::DeployImage { image: None }),
        ["deploy", "image", uri] => Ok(CmdLine::DeployImage {
            image: Some((*uri).to_string()),
        }),
        ["deploy", ..] => Err("usage: :deploy image [IMAGE_URI]".into()),
        ["apply"] => Ok(CmdLine::Apply),
        ["invalidate", paths @ ..] => Ok(CmdLine::Invalidate {
            paths: paths.iter().map(|p| (*p).to_string()).collect(),
        }),
        ["probe"] => Ok(CmdLine::Probe),
        ["bundle"] => Ok(CmdLine::Bundle { out: None }),
        ["bundle", file] => Ok(CmdLine::Bundle {
            out: Some((*file).to_string()),
        }),
        ["bundle", ..] => Err("usage: :bundle [FILE]".into()),
        ["refresh"] => Ok(CmdLine::Refresh { source: None }),
        ["refresh", s] => Ok(CmdLine::Refresh {
            source: Some((*s).to_string()),
        }),
        ["env", name] => Ok(CmdLine::Env((*name).to_string())),
        ["env", ..] => Err("usage: :env NAME".into()),
        ["cost"] => Ok(CmdLine::Cost),
        ["help"] | ["h"] => Ok(CmdLine::Help),
        ["quit"] | ["q"] | ["q!"] => Ok(CmdLine::Quit),
        [other, ..] => Err(format!("unknown command :{other} (Tab lists them)")),
    }
}

/// Candidates for `input`: every command (and `env NAME` for the known environments) that
/// starts with it.
pub(crate) fn candidates(input: &str, envs: &[String]) -> Vec<String> {
    let all = COMMANDS
        .iter()
        .filter(|c| **c != "env ")
        .map(|c| c.to_string())
        .chain(envs.iter().map(|e| format!("env {e}")));
    let trimmed = input.trim_start();
    all.filter(|c| c.starts_with(trimmed)).collect()
}

/// Tab: the input completed to the longest common prefix of its candidates.
pub(crate) fn complete(input: &str, envs: &[String]) -> String {
    let cands = candidates(input, envs);
    match cands.as_slice() {
        [] => input.to_string(),
        [one] => one.clone(),
        many => {
            let first = &many[0];
            let mut len = first.len();
            for c in &many[1..] {
                len = len.min(
                    first
                        .char_indices()
                        .zip(c.chars())
                        .take_while(|((_, a), b)| a == b)
                        .count(),
                );
            }
            let prefix: String = first.chars().take(len).collect();
            if prefix.len() > input.trim_start().len() {
                prefix
            } else {
                input.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse("deploy image"),
            Ok(CmdLine::DeployImage { image: None })
        );
        assert_eq!(
            parse(" deploy image 1.dkr/x:1 "),
            Ok(CmdLine::DeployImage {
                image: Some("1.dkr/x:1".into())
            })
        );
        assert_eq!(
            parse("invalidate /a /b"),
            Ok(CmdLine::Invalidate {
                paths: vec!["/a".into(), "/b".into()]
            })
        );
        assert_eq!(
            parse("invalidate"),
            Ok(CmdLine::Invalidate { paths: vec![] })
        );
        assert_eq!(parse("env prod"), Ok(CmdLine::Env("prod".into())));
        assert_eq!(parse("q"), Ok(CmdLine::Quit));
        assert_eq!(parse("bundle"), Ok(CmdLine::Bundle { out: None }));
        assert_eq!(
            parse("bundle /tmp/b.tar.gz"),
            Ok(CmdLine::Bundle {
                out: Some("/tmp/b.tar.gz".into())
            })
        );
        assert!(parse("bundle a b").unwrap_err().contains(":bundle [FILE]"));
        assert!(parse("deploy").is_err());
        assert!(parse("explode").unwrap_err().contains("explode"));
        assert!(parse("").is_err());
    }

    #[test]
    fn completes() {
        let envs = vec!["dev".to_string(), "prod".to_string()];
        assert_eq!(complete("dep", &envs), "deploy image");
        assert_eq!(complete("inv", &envs), "invalidate /*");
        assert_eq!(complete("p", &envs), "probe");
        assert_eq!(complete("b", &envs), "bundle");
        assert_eq!(complete("en", &envs), "env ");
        assert_eq!(complete("env p", &envs), "env prod");
        assert_eq!(complete("zzz", &envs), "zzz");
        assert_eq!(complete("co", &envs), "cost");
        assert_eq!(candidates("", &envs).len(), 11);
    }
}
