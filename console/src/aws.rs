//! The ONE place AWS clients come from: an `aws-config` loader honouring profile, region and an
//! endpoint override (the sandbox and the tests point it at moto), plus per-region clients
//! (CloudFront's alarms live in us-east-1) and the classification of SDK errors into
//! [`ErrorKind`] with the fix an operator should apply.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::model::{CollectorError, ErrorKind};

/// How to build the SDK configuration. Flags and the config file are resolved before this.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    /// The deployment's home region (Lambda, Redis, logs...).
    pub region: Option<String>,
    /// One endpoint for every client (moto in tests and the sandbox).
    pub endpoint_url: Option<String>,
    /// Total attempts per call (1 = no retry). Default: the SDK's standard (3).
    pub max_attempts: Option<u32>,
    /// Fixed credentials (tests and the sandbox); otherwise the default provider chain.
    pub static_credentials: Option<(String, String)>,
    /// Per-operation time budget.
    pub operation_timeout: Option<Duration>,
}

/// Loads the shared SDK configuration.
pub async fn load_sdk_config(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(n) = opts.max_attempts {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(n.max(1)));
    }
    if let Some(t) = opts.operation_timeout {
        loader = loader.timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(t)
                .connect_timeout(Duration::from_secs(5).min(t))
                .build(),
        );
    }
    if let Some((key, secret)) = &opts.static_credentials {
        loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
            key.clone(),
            secret.clone(),
            None,
            None,
            "opsconsole-static",
        ));
    }
    loader.load().await
}

/// Every client the data layer uses, for the deployment's home region; per-region CloudWatch
/// clients on demand.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub sdk: SdkConfig,
    pub profile: Option<String>,
    pub sts: aws_sdk_sts::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub s3: aws_sdk_s3::Client,
    pub ssm: aws_sdk_ssm::Client,
}

impl AwsClients {
    pub async fn load(opts: &AwsOptions) -> AwsClients {
        let sdk = load_sdk_config(opts).await;
        AwsClients::from_sdk(sdk, opts.profile.clone())
    }

    pub fn from_sdk(sdk: SdkConfig, profile: Option<String>) -> AwsClients {
        let path_style = sdk.endpoint_url().is_some();
        let s3_conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(path_style)
            .build();
        AwsClients {
            sts: aws_sdk_sts::Client::new(&sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            elasticache: aws_sdk_elasticache::Client::new(&sdk),
            cloudfront: aws_sdk_cloudfront::Client::new(&sdk),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            ssm: aws_sdk_ssm::Client::new(&sdk),
            sdk,
            profile,
        }
    }

    /// The home region, if one is configured.
    pub fn region(&self) -> Option<String> {
        self.sdk.region().map(|r| r.to_string())
    }

    /// A CloudWatch client for `region` (same credentials, endpoint and retry settings).
    pub fn cloudwatch_in(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        if self.region().as_deref() == Some(region) {
            return self.cloudwatch.clone();
        }
        let conf = aws_sdk_cloudwatch::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }
}

impl AwsClients {
    /// A client of the AWS Price List Query API (its endpoint region, us-east-1, unless an
    /// endpoint override points elsewhere).
    pub fn pricing(&self) -> aws_sdk_pricing::Client {
        let conf = aws_sdk_pricing::config::Builder::from(&self.sdk)
            .region(Region::new(crate::domain::pricelist::PRICING_REGION))
            .build();
        aws_sdk_pricing::Client::from_conf(conf)
    }

    /// A Cost Explorer client (its endpoint is in us-east-1).
    pub fn cost_explorer(&self) -> aws_sdk_costexplorer::Client {
        let conf = aws_sdk_costexplorer::config::Builder::from(&self.sdk)
            .region(Region::new("us-east-1"))
            .build();
        aws_sdk_costexplorer::Client::from_conf(conf)
    }
}

/// The fix for a credentials problem in environment `env`.
pub(crate) fn login_fix(env: &str, profile: Option<&str>) -> String {
    match profile {
        Some(p) => format!("run `task login:{env}` (or `aws sso login --profile {p}`)"),
        None => format!("run `task login:{env}` or set AWS_PROFILE"),
    }
}

/// Classifies an SDK error: what kind, a one-line message, and the fix.
pub(crate) fn classify<E, R>(
    err: &SdkError<E, R>,
    what: &str,
    env: &str,
    profile: Option<&str>,
) -> CollectorError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    let detail = opsconsole_proc::error_chain(err);
    let (kind, fix) = match err {
        SdkError::TimeoutError(_) => (ErrorKind::Timeout, None),
        SdkError::DispatchFailure(d) => {
            if d.is_timeout() {
                (ErrorKind::Timeout, None)
            } else if d.is_io() {
                (
                    ErrorKind::Unreachable,
                    Some("check the network / the endpoint (is the sandbox running?)".to_string()),
                )
            } else {
                classify_text(&detail, env, profile)
            }
        }
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let status = err.raw_response().map(|r| r.status_code()).unwrap_or(0);
            // Some protocols leave the code unparsed (moto's query-protocol auth errors): look
            // for a known code in the body then.
            let body = err
                .raw_response()
                .and_then(|r| r.body_text())
                .unwrap_or_default();
            let sniffed = xml_code(&body).or_else(|| {
                KNOWN_CODES
                    .iter()
                    .find(|c| body.contains(*c))
                    .map(|c| c.to_string())
            });
            let code = err
                .code()
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .or(sniffed)
                .unwrap_or_default();
            classify_code(&code, status, &detail, env, profile)
        }
        _ => classify_text(&detail, env, profile),
    };
    let message = format!("{what}: {}", one_line(&detail));
    CollectorError { kind, message, fix }
}

/// The `<Code>...</Code>` of an XML error body.
fn xml_code(body: &str) -> Option<String> {
    let (_, rest) = body.split_once("<Code>")?;
    let (code, _) = rest.split_once("</Code>")?;
    Some(code.trim().to_string())
}

/// Error codes recognised in a response body when the SDK did not parse one.
const KNOWN_CODES: [&str; 8] = [
    "ExpiredToken",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "Throttling",
    "TooManyRequestsException",
    "RequestExpired",
];

/// Access to a raw response's HTTP status and body, for [`classify`].
pub trait HasStatus {
    fn status_code(&self) -> u16;
    fn body_text(&self) -> Option<String> {
        None
    }
}

impl HasStatus for aws_sdk_sts::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
    fn body_text(&self) -> Option<String> {
        self.body()
            .bytes()
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(4096)]).to_string())
    }
}

/// Why an SDK call failed, as the part of a sentence after "failed": the HTTP status and who
/// answered it, the service's own code and message, or the transport's cause, e.g.
/// `HTTP 500 with an empty body from http://127.0.0.1:5000`. Never a debug dump, never the
/// SDK's "service error: unhandled error" layering. `endpoint` names who was asked (the
/// endpoint override, else the service and region).
pub(crate) fn failure_cause<E, R>(err: &SdkError<E, R>, endpoint: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    match err {
        SdkError::TimeoutError(_) => format!("no answer from {endpoint} in time"),
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            format!("no answer from {endpoint} in time")
        }
        SdkError::DispatchFailure(_) => {
            let chain = opsconsole_proc::error_chain(err);
            let cause = chain
                .rsplit(": ")
                .next()
                .filter(|c| !c.is_empty())
                .unwrap_or("the connection failed");
            format!("could not reach {endpoint}: {}", one_line(cause))
        }
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let status = err.raw_response().map(|r| r.status_code());
            let body = err
                .raw_response()
                .and_then(|r| r.body_text())
                .unwrap_or_default();
            let code = err.code().filter(|c| !c.is_empty());
            let http = status.map_or_else(|| "an error".to_string(), |s| format!("HTTP {s}"));
            match (code, err.message().filter(|m| !m.is_empty())) {
                (Some(c), Some(m)) => format!("{http} from {endpoint}: {c}: {}", one_line(m)),
                (Some(c), None) => format!("{http} from {endpoint}: {c}"),
                _ if body.trim().is_empty() => {
                    format!("{http} with an empty body from {endpoint}")
                }
                _ => {
                    let lower = body.trim_start().to_ascii_lowercase();
                    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
                        format!("{http} with an HTML error page from {endpoint}")
                    } else {
                        let cut: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
                        let cut: String = cut.chars().take(120).collect();
                        format!("{http} from {endpoint}: {cut}")
                    }
                }
            }
        }
        _ => one_line(&opsconsole_proc::error_chain(err)),
    }
}

/// Who a client of `sdk` asks: the endpoint override, else `service` in the region.
pub(crate) fn endpoint_label(sdk: &SdkConfig, service: &str) -> String {
    match (sdk.endpoint_url(), sdk.region()) {
        (Some(url), _) => url.to_string(),
        (None, Some(r)) => format!("{service} in {r}"),
        (None, None) => service.to_string(),
    }
}

fn one_line(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() > 400 {
        let cut: String = s.chars().take(400).collect();
        format!("{cut}... (cut at 400 chars)")
    } else {
        s
    }
}

fn classify_text(detail: &str, env: &str, profile: Option<&str>) -> (ErrorKind, Option<String>) {
    let d = detail.to_ascii_lowercase();
    if d.contains("expired") || d.contains("sso session") || d.contains("token has expired") {
        (ErrorKind::ExpiredCredentials, Some(login_fix(env, profile)))
    } else if d.contains("credential") {
        (ErrorKind::NoCredentials, Some(login_fix(env, profile)))
    } else if d.contains("region") && (d.contains("missing") || d.contains("no region")) {
        (
            ErrorKind::Config,
            Some("set --region, the outputs' region or AWS_REGION".to_string()),
        )
    } else if d.contains("dns") || d.contains("connect") || d.contains("connection") {
        (ErrorKind::Unreachable, None)
    } else {
        (ErrorKind::Other, None)
    }
}

fn classify_code(
    code: &str,
    status: u16,
    detail: &str,
    env: &str,
    profile: Option<&str>,
) -> (ErrorKind, Option<String>) {
    match code {
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            (ErrorKind::ExpiredCredentials, Some(login_fix(env, profile)))
        }
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "MissingAuthenticationToken" => (ErrorKind::NoCredentials, Some(login_fix(env, profile))),
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthorizationError" => (
            ErrorKind::AccessDenied,
            Some(format!(
                "the role of profile {} lacks this permission; use the operator role",
                profile.unwrap_or("(default)")
            )),
        ),
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => (ErrorKind::Throttled, Some("retrying with backoff".into())),
        c if c.contains("NotFound") || c.starts_with("NoSuch") => (
            ErrorKind::NotFound,
            Some("check the Terraform outputs against the account and region".into()),
        ),
        _ if status == 403 => (ErrorKind::AccessDenied, None),
        _ if status == 404 => (ErrorKind::NotFound, None),
        _ if status == 429 => (ErrorKind::Throttled, None),
        _ if status >= 500 || status == 0 => {
            let (k, f) = classify_text(detail, env, profile);
            if k == ErrorKind::Other {
                (
                    ErrorKind::ServiceUnavailable,
                    Some(
                        "the service answered with an error; is it offered in this region?".into(),
                    ),
                )
            } else {
                (k, f)
            }
        }
        _ => (ErrorKind::Other, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds_with_fixes() {
        let (k, f) = classify_code("ExpiredTokenException", 400, "", "dev", None);
        assert_eq!(k, ErrorKind::ExpiredCredentials);
        assert!(f.unwrap_or_default().contains("task login:dev"));
        assert_eq!(
            classify_code("AccessDenied", 403, "", "dev", None).0,
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify_code("Throttling", 400, "", "dev", None).0,
            ErrorKind::Throttled
        );
        assert_eq!(
            classify_code("ResourceNotFoundException", 404, "", "dev", None).0,
            ErrorKind::NotFound
        );
        assert_eq!(
            classify_code("", 500, "boom", "dev", None).0,
            ErrorKind::ServiceUnavailable
        );
        assert_eq!(
            classify_text(
                "no providers in chain provided credentials",
                "prod",
                Some("p")
            )
            .0,
            ErrorKind::NoCredentials
        );
    }
}
