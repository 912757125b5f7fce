use super::*;

fn codes(j: &ConfigJudgement) -> Vec<&'static str> {
    j.findings.iter().map(|f| f.code).collect()
}

/// The documented config (infrastructure/README.md) with the endpoints' limits too.
const GOOD: &str = "\
version: 1.3.12
fileStrategy: s3
fileConfig:
  serverFileSizeLimit: 4
  avatarSizeLimit: 2
  skills:
    fileSizeLimit: 4
  endpoints:
    default:
      fileSizeLimit: 4
    agents:
      fileSizeLimit: 4
    assistants:
      fileSizeLimit: 4
    azureAssistants:
      fileSizeLimit: 4.4
    anthropic:
      disabled: true
";

#[test]
fn a_config_that_fits_lambda_gives_no_finding() {
    let j = judge(GOOD);
    assert!(j.findings.is_empty(), "{:#?}", j.findings);
    let s = j.summary.expect("parsed");
    assert_eq!(s.file_strategy, "s3");
    let l = s.largest_limit.expect("a limit");
    assert_eq!(
        (l.key.as_str(), l.mb),
        ("fileConfig.endpoints.azureAssistants.fileSizeLimit", 4.4)
    );
}

#[test]
fn missing_keys_are_librechats_defaults_local_and_512_mb() {
    let j = judge("version: 1.3.12\ncache: true\n");
    assert_eq!(
        codes(&j),
        ["files_strategy_not_s3", "file_size_limit_too_large"]
    );
    let strategy = &j.findings[0];
    assert!(
        strategy
            .summary
            .contains("fileStrategy is `local` (not set: LibreChat's default)"),
        "{}",
        strategy.summary
    );
    assert!(
        strategy.fix.contains("`fileStrategy: s3`"),
        "{}",
        strategy.fix
    );
    assert_eq!(strategy.severity, Severity::Degraded);
    let size = &j.findings[1];
    for needle in [
        "fileConfig.serverFileSizeLimit 512 MB (LibreChat's default)",
        "fileConfig.skills.fileSizeLimit 50 MB (LibreChat's default)",
        "fileConfig.endpoints.agents.fileSizeLimit 512 MB",
        "about 4.4 MB fits",
        "6 MB of request payload",
    ] {
        assert!(size.summary.contains(needle), "{needle}: {}", size.summary);
    }
    // The avatar's default (2 MB) fits: not named.
    assert!(
        !size.summary.contains("avatarSizeLimit"),
        "{}",
        size.summary
    );
    // The fix is YAML that, applied, passes.
    assert!(
        size.fix.contains("fileConfig:\n  serverFileSizeLimit: 4\n  skills:\n    fileSizeLimit: 4\n  endpoints:\n    assistants:\n      fileSizeLimit: 4\n"),
        "{}",
        size.fix
    );
    let fix_yaml = size
        .fix
        .trim_start_matches("in librechat.yaml (MB):\n")
        .trim_end_matches("\nthen upload the config object again.");
    let fixed = format!("version: 1.3.12\nfileStrategy: s3\n{fix_yaml}\n");
    assert!(judge(&fixed).findings.is_empty(), "{fixed}");
}

#[test]
fn the_documented_server_limit_alone_leaves_the_endpoints_at_512() {
    // infrastructure/README.md's block: the endpoints keep their own 512 MB.
    let j = judge(
        "version: 1\nfileStrategy: s3\nfileConfig:\n  serverFileSizeLimit: 4\n  avatarSizeLimit: 2\n",
    );
    assert_eq!(codes(&j), ["file_size_limit_too_large"]);
    let m = j.findings[0].message();
    assert!(!m.contains("serverFileSizeLimit"), "{m}");
    assert!(
        m.contains("fileConfig.endpoints.default.fileSizeLimit 512 MB"),
        "{m}"
    );
}

#[test]
fn per_endpoint_limits_in_mb_and_added_endpoints_take_the_default_endpoints() {
    let yaml = "\
fileStrategy: s3
fileConfig:
  serverFileSizeLimit: 4
  skills: {fileSizeLimit: 1}
  endpoints:
    default: {fileSizeLimit: 3}
    agents: {fileSizeLimit: 4}
    assistants: {fileSizeLimit: 4}
    azureAssistants: {fileSizeLimit: 4}
    anthropic: {fileSizeLimit: 4}
    fake: {fileLimit: 2}
    custom: {fileSizeLimit: 20}
";
    let j = judge(yaml);
    assert_eq!(codes(&j), ["file_size_limit_too_large"]);
    let s = &j.findings[0].summary;
    assert!(
        s.contains("fileConfig.endpoints.custom.fileSizeLimit 20 MB,")
            || s.contains("fileConfig.endpoints.custom.fileSizeLimit 20 MB;"),
        "{s}"
    );
    assert!(!s.contains("(LibreChat's default)"), "{s}");
    // `fake` sets no limit: the default endpoint's 3 MB, which fits.
    assert!(!s.contains(".fake."), "{s}");
    let limits = size_limits(&serde_norway::from_str(yaml).expect("yaml"));
    let fake = limits
        .iter()
        .find(|l| l.key == "fileConfig.endpoints.fake.fileSizeLimit")
        .expect("fake");
    assert_eq!((fake.mb, fake.default), (3.0, true));
    assert_eq!(
        j.findings[0].fix,
        "in librechat.yaml (MB):\nfileConfig:\n  endpoints:\n    custom:\n      fileSizeLimit: 4\nthen upload the config object again."
    );
    // Just over what fits is too large; exactly 4.4 fits.
    let over = GOOD.replace("fileSizeLimit: 4.4", "fileSizeLimit: 4.5");
    assert_eq!(codes(&judge(&over)), ["file_size_limit_too_large"]);
}

#[test]
fn other_strategies_and_per_type_overrides_are_named() {
    let j = judge("fileStrategy: firebase\n");
    assert!(
        j.findings[0]
            .summary
            .contains("fileStrategy is `firebase`,")
            || j.findings[0]
                .summary
                .contains("fileStrategy is `firebase`."),
        "{}",
        j.findings[0].summary
    );
    let mixed = GOOD.replace(
        "fileStrategy: s3\n",
        "fileStrategy: s3\nfileStrategies:\n  avatar: local\n  image: s3\n",
    );
    let j = judge(&mixed);
    assert_eq!(codes(&j), ["files_strategy_not_s3"]);
    assert!(
        j.findings[0]
            .summary
            .contains("fileStrategies.avatar is `local`"),
        "{}",
        j.findings[0].summary
    );
    assert!(!j.findings[0].summary.contains("image"));
}

#[test]
fn invalid_yaml_is_a_finding_never_a_pass() {
    for text in ["fileStrategy: [s3\n", "- a list\n", "just text"] {
        let j = judge(text);
        assert_eq!(codes(&j), ["config_invalid"], "{text}");
        assert!(j.summary.is_none());
        assert!(
            j.findings[0].summary.contains("runs on its defaults"),
            "{}",
            j.findings[0].summary
        );
    }
    let u = unreadable("s3://b/k", "AccessDenied");
    assert_eq!(u.code, "config_unreadable");
    assert!(
        u.message()
            .contains("s3://b/k could not be read: AccessDenied")
    );
    assert!(u.message().contains("Fix: "));
}

#[test]
fn access_log_lines_refused_for_size_are_counted_by_who_refused() {
    let lines = [
        r#"{"requestId":"a","status":"413","responseType":"REQUEST_TOO_LARGE","integrationStatus":"-","integrationError":"-","path":"/api/files"}"#,
        r#"{"requestId":"b","status":"500","responseType":"INTEGRATION_FAILURE","integrationStatus":"413","integrationError":"-","path":"/api/files"}"#,
        r#"{"requestId":"c","status":"502","integrationError":"RequestTooLargeException: Request must be smaller than 6291456 bytes for the InvokeFunction operation"}"#,
        r#"{"requestId":"d","status":"200","responseType":"-","integrationStatus":"200"}"#,
        r#"{"requestId":"e","status":500,"integrationStatus":502}"#,
        "START RequestId: not json",
    ];
    let r = SizeRejections::from_lines("/aws/apigw/x", "1h", lines);
    assert_eq!((r.api_gateway, r.lambda, r.lines_read), (1, 2, 6));
    assert!(
        r.example
            .as_deref()
            .unwrap_or("")
            .contains("\"requestId\":\"a\"")
    );
    let m = rejections_message(&r).expect("a finding");
    for needle in [
        "3 request(s) in the last 1h",
        "1 by API Gateway (413",
        "2 by Lambda (over 6 MB",
        "about 4.4 MB",
        "next: the file_size_limit_too_large",
        "(from /aws/apigw/x, e.g. `{",
    ] {
        assert!(m.contains(needle), "{needle}: {m}");
    }
    assert_eq!(
        rejections_message(&SizeRejections::from_lines("g", "1h", [lines[3]])),
        None
    );
    let none = SizeRejections::not_recorded("no access log");
    assert_eq!(rejections_message(&none), None);
}

#[test]
fn bucket_usage_and_summary_lines() {
    let u = BucketUsage {
        bucket: "files".into(),
        objects: 12,
        bytes: 3 * 1024 * 1024 + 100 * 1024,
        complete: true,
    };
    assert_eq!(u.line(), "12 objects, 3.1 MB");
    assert_eq!(
        BucketUsage {
            complete: false,
            objects: 10_000,
            ..u.clone()
        }
        .line(),
        "≥ 10000 objects, 3.1 MB"
    );
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(1536), "1.5 KB");
    assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GB");
    let d = FilesData {
        config_at: Some("s3://c/librechat.yaml".into()),
        config: judge(GOOD),
        bucket: Some(Ok(u)),
        rejections: SizeRejections::not_recorded("no access log"),
    };
    assert_eq!(
        d.summary(),
        "fileStrategy s3 ≤ 4.4 MB; bucket 12 objects, 3.1 MB; size rejections not recorded"
    );
}
