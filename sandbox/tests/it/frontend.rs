//! The frontend as the Terraform deploys it (issue 24, item 1): a small built client uploaded
//! by the frontend module's own upload.sh into the sandbox's frontend bucket (moto), then
//! served by the CloudFront stand-in with the distribution's behaviours as the frontend module
//! declares them: the SPA fallback of the default behaviour (spa.js), `/api/*` to the function,
//! compression on the default behaviour only, the upload's cache headers and content types,
//! S3's 403 for a missing object, 304 on a matching ETag, GET/HEAD only.

use std::io::Read as _;
use std::path::Path;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG};

const AE: &str = "gzip, deflate, br";

fn write_dist(dir: &Path) -> (String, String) {
    let js: String = (0..200)
        .map(|i| format!("export const value{i} = \"a chunk of the app, line {i}\";\n"))
        .collect();
    let mut html = String::from(
        "<!DOCTYPE html><html><head><title>LibreChat</title>\
         <script type=\"module\" src=\"./assets/app.Ab12Cd.js\"></script>\
         <link rel=\"manifest\" href=\"./manifest.webmanifest\"></head><body><div id=\"root\"></div>",
    );
    html.push_str(&"<!-- padding so the page is over CloudFront's 1,000 bytes -->\n".repeat(30));
    html.push_str("</body></html>\n");
    std::fs::create_dir_all(dir.join("assets")).expect("mkdir");
    std::fs::write(dir.join("index.html"), &html).expect("index.html");
    std::fs::write(dir.join("assets/app.Ab12Cd.js"), &js).expect("app js");
    std::fs::write(dir.join("assets/font.Zz99.woff2"), [7u8; 3000]).expect("font");
    std::fs::write(dir.join("manifest.webmanifest"), "{\"name\":\"LibreChat\"}").expect("manifest");
    (html, js)
}

fn gunzip(b: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(b)
        .read_to_string(&mut s)
        .expect("gzip body");
    s
}

fn unbrotli(b: &[u8]) -> String {
    let mut s = String::new();
    brotli::Decompressor::new(b, 4096)
        .read_to_string(&mut s)
        .expect("brotli body");
    s
}

fn header(r: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn the_cloudfront_stand_in_serves_the_uploaded_client_with_the_terraform_behaviours() {
    let _serial = crate::one_sandbox_at_a_time();
    let sandbox = opsconsole_sandbox::start(None)
        .await
        .unwrap_or_else(|e| panic!("sandbox did not start: {e:#}"));
    let site = sandbox.info.site_url.clone();
    // reqwest without its decompression features: the bytes as they travel.
    let c = reqwest::Client::new();

    // Before any upload: the placeholder the seed put in the bucket.
    let r = c.get(format!("{site}/")).send().await.expect("GET /");
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("LibreChat (sandbox)")
    );

    let dist = tempfile::tempdir().expect("dist");
    let (html, js) = write_dist(dist.path());
    let root = opsconsole_testsupport::repo_root();
    opsconsole_sandbox::frontend::upload(
        &root,
        dist.path(),
        &sandbox.info.frontend_bucket,
        &sandbox.info.moto_url,
        opsconsole_sandbox::REGION,
        &dist.path().join("upload.log"),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));

    // The default root and SPA routes: index.html, not cached, compressed (br preferred).
    for path in ["/", "/c/new", "/login", "/c/abc/"] {
        let r = c
            .get(format!("{site}{path}"))
            .header(ACCEPT_ENCODING, AE)
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, CACHE_CONTROL), "no-cache", "{path}");
        assert!(header(&r, CONTENT_TYPE).starts_with("text/html"), "{path}");
        assert_eq!(header(&r, CONTENT_ENCODING), "br", "{path}");
        let body = r.bytes().await.expect("body");
        assert!(body.len() < html.len(), "{path}: compressed");
        assert_eq!(unbrotli(&body), html, "{path}");
    }

    // A hashed asset: immutable for a year, JavaScript, gzip for a gzip-only viewer.
    let asset = format!("{site}/assets/app.Ab12Cd.js");
    let r = c
        .get(&asset)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("GET asset");
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert!(
        header(&r, CONTENT_TYPE).contains("javascript"),
        "{:?}",
        r.headers()
    );
    assert_eq!(header(&r, CONTENT_ENCODING), "gzip");
    let etag = header(&r, ETAG);
    assert!(!etag.is_empty(), "an ETag");
    assert_eq!(gunzip(&r.bytes().await.expect("body")), js);
    // Without Accept-Encoding: as stored.
    let r = c.get(&asset).send().await.expect("GET asset");
    assert_eq!(header(&r, CONTENT_ENCODING), "");
    assert_eq!(r.text().await.expect("body"), js);
    // A repeat visit's revalidation.
    let r = c
        .get(&asset)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("conditional GET");
    assert_eq!(r.status(), 304);
    assert!(r.bytes().await.expect("body").is_empty());
    // Not compressible (a font), and the manifest's type from the upload script.
    let r = c
        .get(format!("{site}/assets/font.Zz99.woff2"))
        .header(ACCEPT_ENCODING, AE)
        .send()
        .await
        .expect("GET font");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, CONTENT_ENCODING), "");
    assert_eq!(r.bytes().await.expect("body").len(), 3000);
    let r = c
        .get(format!("{site}/manifest.webmanifest"))
        .send()
        .await
        .expect("GET manifest");
    assert_eq!(header(&r, CONTENT_TYPE), "application/manifest+json");

    // A missing file is S3's 403 behind an origin access control, not the SPA's index.html.
    let r = c
        .get(format!("{site}/assets/missing.Xx.js"))
        .send()
        .await
        .expect("GET missing");
    assert_eq!(r.status(), 403);
    assert!(r.text().await.expect("body").contains("AccessDenied"));
    // The default behaviour allows GET and HEAD only.
    let r = c.post(format!("{site}/")).send().await.expect("POST /");
    assert_eq!(r.status(), 403);
    let r = c.head(format!("{site}/")).send().await.expect("HEAD /");
    assert_eq!(r.status(), 200);

    // /api/* goes to the function (through the local Lambda and the shim), uncompressed.
    let r = c
        .get(format!("{site}/api/health"))
        .header(ACCEPT_ENCODING, AE)
        .send()
        .await
        .expect("GET /api/health");
    assert_eq!(r.status(), 200);
    assert!(
        header(&r, reqwest::header::VIA).contains("API Gateway"),
        "{:?}",
        r.headers()
    );
    assert_ne!(header(&r, CONTENT_ENCODING), "br");
    drop(sandbox);
}
