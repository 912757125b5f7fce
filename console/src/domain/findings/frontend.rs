//! The frontend check's findings (issue 24 item 4): each names what is broken, the likely cause
//! and the next step.

use crate::domain::frontend::{FrontendData, FrontendProblem};

use super::{Finding, Severity};

/// At most this many paths are named in one message (the count says how many more).
const NAMED: usize = 3;

fn named(items: &[String]) -> String {
    let mut s = items
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > NAMED {
        s.push_str(&format!(" and {} more", items.len() - NAMED));
    }
    s
}

/// `frontend_failed` (the page itself), `frontend_asset_missing` (assets that answer an
/// error or nothing), `frontend_asset_wrong_type` (failing for scripts and stylesheets, which
/// browsers refuse; degraded for the rest), `frontend_index_cached` (degraded).
pub(super) fn findings(d: &FrontendData) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut wrong_breaking = Vec::new();
    let mut wrong_other = Vec::new();
    for p in &d.problems {
        match p {
            FrontendProblem::IndexStatus { status } => out.push(super::finding(
                "frontend",
                "frontend_failed",
                Severity::Failing,
                format!(
                    "{} answered {status}, not the app's index.html: nobody can open the app. \
                     Likely cause: index.html is missing from the frontend bucket, or CloudFront \
                     cannot read the bucket (origin access control, bucket policy); next: `aws s3 \
                     ls s3://<frontend bucket>/index.html` and the distribution's origin",
                    d.url
                ),
            )),
            FrontendProblem::IndexNotHtml { content_type } => out.push(super::finding(
                "frontend",
                "frontend_failed",
                Severity::Failing,
                format!(
                    "{} answered 200 with {content_type:?}, not HTML: the browser shows no app. \
                     Likely cause: index.html uploaded without its content type, or an error \
                     document served in its place; next: re-run the frontend upload (the \
                     frontend module's upload.sh sets text/html)",
                    d.url
                ),
            )),
            FrontendProblem::IndexCacheable { cache_control } => out.push(super::finding(
                "frontend",
                "frontend_index_cached",
                Severity::Degraded,
                format!(
                    "index.html is served with Cache-Control {cache_control:?}: browsers and \
                     CloudFront may keep an old index.html that names assets a new deploy \
                     replaced. Next: upload it with `no-cache` as the frontend module's upload.sh \
                     does, then invalidate /index.html"
                ),
            )),
            FrontendProblem::AssetMissing { path, status } => {
                missing.push(format!("{path} ({status})"))
            }
            FrontendProblem::AssetUnreachable { path, error } => {
                missing.push(format!("{path} ({error})"))
            }
            FrontendProblem::AssetWrongType {
                path,
                got,
                want,
                breaks_app,
            } => {
                let item = format!("{path} ({got}, not {want})");
                if *breaks_app {
                    wrong_breaking.push(item);
                } else {
                    wrong_other.push(item);
                }
            }
        }
    }
    if !missing.is_empty() {
        out.push(super::finding(
            "frontend",
            "frontend_asset_missing",
            Severity::Failing,
            format!(
                "{} of the {} assets index.html references cannot be fetched: {}. Likely cause: \
                 a partial upload, or an old index.html still cached after a deploy replaced \
                 its hashed assets; next: re-run the frontend upload and invalidate \
                 /index.html on the distribution",
                missing.len(),
                d.assets.len(),
                named(&missing)
            ),
        ));
    }
    if !wrong_breaking.is_empty() {
        out.push(super::finding(
            "frontend",
            "frontend_asset_wrong_type",
            Severity::Failing,
            format!(
                "scripts or stylesheets served with the wrong content type, which browsers \
                 refuse: {}. Next: re-run the frontend upload (it sets each file's type) or fix \
                 the object's Content-Type in the bucket",
                named(&wrong_breaking)
            ),
        ));
    }
    if !wrong_other.is_empty() {
        out.push(super::finding(
            "frontend",
            "frontend_asset_wrong_type",
            Severity::Degraded,
            format!(
                "assets served with an unexpected content type: {}. Next: re-run the frontend \
                 upload or fix the object's Content-Type in the bucket",
                named(&wrong_other)
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::frontend::{AssetObs, PageObs, judge};

    fn data(status: u16, cc: &str, assets: Vec<(&str, Option<u16>, &str)>) -> FrontendData {
        judge(
            &PageObs {
                url: "https://chat.example.com/".into(),
                status,
                content_type: Some("text/html".into()),
                cache_control: Some(cc.into()),
                body: String::new(),
                latency_ms: 1.0,
            },
            assets
                .into_iter()
                .map(|(p, s, ct)| AssetObs {
                    path: p.into(),
                    status: s,
                    content_type: Some(ct.into()),
                    error: s.is_none().then(|| "timed out".into()),
                })
                .collect(),
        )
    }

    #[test]
    fn missing_assets_are_one_failing_finding_naming_them() {
        let d = data(
            200,
            "no-cache",
            vec![
                ("/a.js", Some(404), "application/xml"),
                ("/b.js", Some(403), "application/xml"),
                ("/c.js", None, ""),
                ("/d.js", Some(404), "application/xml"),
                ("/e.js", Some(200), "text/javascript"),
            ],
        );
        let f = findings(&d);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code, "frontend_asset_missing");
        assert_eq!(f[0].severity, Severity::Failing);
        assert!(
            f[0].message.starts_with(
                "4 of the 5 assets index.html references cannot be fetched: /a.js (404), /b.js (403), /c.js (timed out) and 1 more."
            ),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_wrong_type_fails_for_scripts_and_degrades_for_icons() {
        let d = data(
            200,
            "max-age=600",
            vec![
                ("/a.js", Some(200), "text/plain"),
                ("/i.png", Some(200), "text/plain"),
            ],
        );
        let f = findings(&d);
        let codes: Vec<(&str, Severity)> =
            f.iter().map(|x| (x.code.as_str(), x.severity)).collect();
        assert_eq!(
            codes,
            [
                ("frontend_index_cached", Severity::Degraded),
                ("frontend_asset_wrong_type", Severity::Failing),
                ("frontend_asset_wrong_type", Severity::Degraded),
            ]
        );
        assert!(f[1].message.contains("/a.js (text/plain, not javascript)"));
    }

    #[test]
    fn a_healthy_frontend_has_no_finding_and_an_error_page_one() {
        assert!(
            findings(&data(
                200,
                "no-cache",
                vec![("/a.js", Some(200), "text/javascript")]
            ))
            .is_empty()
        );
        let f = findings(&data(403, "", vec![]));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "frontend_failed");
        assert!(f[0].message.contains("answered 403"), "{}", f[0].message);
    }
}
