//! The files findings (issue 30): the config object's judgement ([`crate::domain::files`]) and
//! the uploads the access log shows refused for size.

use crate::domain::files::{FilesData, rejections_message};

use super::{Finding, Severity};

/// `files_strategy_not_s3`, `file_size_limit_too_large`, `config_invalid`,
/// `config_unreadable` (each with its fix), then `upload_too_large`.
pub(super) fn findings(d: &FilesData) -> Vec<Finding> {
    let mut out: Vec<Finding> = d
        .config
        .findings
        .iter()
        .map(|f| super::finding("files", f.code, f.severity, f.message()))
        .collect();
    if let Some(m) = rejections_message(&d.rejections) {
        out.push(super::finding(
            "files",
            "upload_too_large",
            Severity::Degraded,
            m,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{T, codes};
    use super::super::{ProbeResults, Severity, findings};
    use crate::domain::files::{FilesData, SizeRejections, judge, unreadable};

    #[test]
    fn files_findings_carry_the_judges_fix_and_the_rejections() {
        let with = |d: FilesData| ProbeResults {
            files: Some(Ok(d)),
            ..ProbeResults::default()
        };
        let defaults = FilesData {
            config: judge("version: 1.3.12\n"),
            ..FilesData::default()
        };
        let r = with(defaults.clone());
        assert_eq!(
            codes(&r),
            ["files_strategy_not_s3", "file_size_limit_too_large"]
        );
        let f = findings(&r, &T);
        assert_eq!(f[0].check, "files");
        assert_eq!(f[0].severity, Severity::Degraded);
        assert!(
            f[0].message.contains("Fix: set `fileStrategy: s3`"),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message.contains("serverFileSizeLimit: 4"),
            "{}",
            f[1].message
        );
        let mut unread = FilesData::default();
        unread
            .config
            .findings
            .push(unreadable("s3://c/k", "AccessDenied"));
        assert_eq!(codes(&with(unread)), ["config_unreadable"]);
        let line = r#"{"status":"413","responseType":"REQUEST_TOO_LARGE"}"#;
        let refused = FilesData {
            rejections: SizeRejections::from_lines("/apigw", "1h", [line]),
            ..FilesData::default()
        };
        assert_eq!(codes(&with(refused)), ["upload_too_large"]);
        let silent = FilesData {
            rejections: SizeRejections::not_recorded("no access log"),
            ..FilesData::default()
        };
        assert!(codes(&with(silent)).is_empty());
    }
}
