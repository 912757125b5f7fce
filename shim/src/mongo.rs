//! MongoDB reachability from inside the VPC, for `/api/__shim/status` (issue 25): a TCP connect
//! (and TLS when the URI asks for it) to each host of LibreChat's `MONGO_URI`, then one `ping`
//! command in an `OP_MSG`, bounded. `ping` needs no authentication, so the check says whether
//! the database answers, not whether LibreChat's credentials are right. The URI's user and
//! password are never kept, printed or sent.
//!
//! The wire protocol part is a fixed 48-byte request and a reader for the top level of the
//! reply's BSON document (`ok`, `errmsg`): the `mongodb` driver would add a DNS resolver, a
//! BSON library and a connection pool to the Lambda image for one command.

use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// MongoDB's default port.
pub const DEFAULT_PORT: u16 = 27017;
/// `OP_MSG`'s opcode.
const OP_MSG: i32 = 2013;
/// A reply larger than this is not a `ping` answer.
const MAX_REPLY: usize = 1 << 20;

/// Where the check goes: the hosts of `MONGO_URI`, TLS or not. No credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MongoTarget {
    /// `(host, port)` in the URI's order (a replica set lists several).
    pub hosts: Vec<(String, u16)>,
    pub tls: bool,
    /// `tlsCAFile`: the PEM bundle to verify the server against instead of Mozilla's roots.
    pub ca_file: Option<String>,
    /// `tlsAllowInvalidCertificates` / `tlsInsecure`: connect without verifying (as LibreChat).
    pub insecure: bool,
}

impl MongoTarget {
    /// `host:port, ...` for messages.
    pub fn label(&self) -> String {
        self.hosts
            .iter()
            .map(|(h, p)| host_port(h, *p))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn host_port(h: &str, p: u16) -> String {
    if h.contains(':') {
        format!("[{h}]:{p}")
    } else {
        format!("{h}:{p}")
    }
}

/// Why the URI cannot be checked (the message never holds the URI's credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("MONGO_URI is not set")]
    Unset,
    /// `mongodb+srv://`: the hosts come from a DNS SRV record, which the shim does not resolve.
    #[error(
        "MONGO_URI is mongodb+srv://{0}: its hosts come from a DNS SRV record, which the shim does not resolve (not checked)"
    )]
    Srv(String),
    #[error("MONGO_URI is not a MongoDB URI: {0}")]
    Invalid(String),
}

/// Parses a `mongodb://[user:pass@]host[:port][,host[:port]...][/db][?options]` URI.
pub fn parse_uri(uri: Option<&str>) -> Result<MongoTarget, UriError> {
    let uri = uri
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or(UriError::Unset)?;
    let (srv, rest) = if let Some(r) = uri.strip_prefix("mongodb+srv://") {
        (true, r)
    } else if let Some(r) = uri.strip_prefix("mongodb://") {
        (false, r)
    } else {
        return Err(UriError::Invalid(
            "it starts with neither mongodb:// nor mongodb+srv://".into(),
        ));
    };
    // The authority ends at the first '/' or '?' after the credentials (a password may hold
    // neither unescaped, but may hold '@' only escaped: the last '@' ends the credentials).
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let hosts_part = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if srv {
        return Err(UriError::Srv(hosts_part.to_string()));
    }
    let mut hosts = Vec::new();
    for h in hosts_part.split(',').map(str::trim) {
        if h.is_empty() {
            return Err(UriError::Invalid("an empty host in the host list".into()));
        }
        let (host, port) = if let Some(v6) = h.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| UriError::Invalid(format!("host {h}: no closing ]")))?;
            (host, after.strip_prefix(':'))
        } else {
            match h.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (h, None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| UriError::Invalid(format!("host {host}: port {p} is not a number")))?,
            None => DEFAULT_PORT,
        };
        if host.is_empty() {
            return Err(UriError::Invalid("a host without a name".into()));
        }
        hosts.push((host.to_string(), port));
    }
    let mut t = MongoTarget {
        hosts,
        tls: false,
        ca_file: None,
        insecure: false,
    };
    if let Some((_, query)) = tail.split_once('?') {
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
            let yes = v.eq_ignore_ascii_case("true");
            match k.to_ascii_lowercase().as_str() {
                "tls" | "ssl" => t.tls = yes,
                "tlscafile" => t.ca_file = Some(v.into_owned()),
                "tlsallowinvalidcertificates" | "tlsinsecure" => t.insecure = yes,
                _ => {}
            }
        }
    }
    Ok(t)
}

/// The parts of a `MONGO_URI` that must never be printed: the URI itself, its `user:password`
/// and its password (escaped and unescaped), longest first.
pub fn credentials(uri: Option<&str>) -> Vec<String> {
    let Some(uri) = uri.map(str::trim).filter(|u| !u.is_empty()) else {
        return Vec::new();
    };
    let mut out = vec![uri.to_string()];
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    if let Some((userinfo, _)) = rest[..end].rsplit_once('@') {
        out.push(userinfo.to_string());
        if let Some((_, pw)) = userinfo.split_once(':')
            && !pw.is_empty()
        {
            out.push(pw.to_string());
            let plain = percent_encoding::percent_decode_str(pw).decode_utf8_lossy();
            out.push(plain.into_owned());
        }
    }
    out.retain(|s| s.len() >= 3);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

/// `line` with each of `secrets` replaced by `***`, cut to 400 characters.
pub fn scrub(line: &str, secrets: &[String]) -> String {
    let mut out = line.to_string();
    for s in secrets {
        out = out.replace(s.as_str(), "***");
    }
    if out.chars().count() > 400 {
        out = out.chars().take(400).collect::<String>() + "...";
    }
    out
}

/// The answer of one host.
#[derive(Debug, Clone, PartialEq)]
pub struct Pinged {
    /// `host:port` that answered.
    pub address: String,
    /// Connect, TLS and the `ping` round trip, in ms.
    pub rtt_ms: f64,
}

/// Why the check failed: every host's reason, `host:port: reason; ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreachable {
    /// The first host's `host:port` (the one named in the finding).
    pub address: String,
    pub error: String,
}

/// `ping` on every host concurrently, each bounded by `timeout`: the first host that answered
/// `ok: 1`, or every host's reason.
pub async fn ping(target: &MongoTarget, timeout: Duration) -> Result<Pinged, Unreachable> {
    let tls = if target.tls {
        match tls_connector(target) {
            Ok(c) => Some(c),
            Err(e) => {
                return Err(Unreachable {
                    address: target.label(),
                    error: e,
                });
            }
        }
    } else {
        None
    };
    let checks = target.hosts.iter().map(|(h, p)| {
        let tls = tls.clone();
        async move {
            let address = host_port(h, *p);
            let start = Instant::now();
            let r = tokio::time::timeout(timeout, ping_one(h, *p, tls.as_ref())).await;
            let r = match r {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
            };
            (address, r.map(|()| start.elapsed().as_secs_f64() * 1000.0))
        }
    });
    let results = futures::future::join_all(checks).await;
    if let Some((address, Ok(rtt_ms))) = results.iter().find(|(_, r)| r.is_ok()) {
        return Ok(Pinged {
            address: address.clone(),
            rtt_ms: *rtt_ms,
        });
    }
    let error = results
        .iter()
        .filter_map(|(a, r)| r.as_ref().err().map(|e| format!("{a}: {e}")))
        .collect::<Vec<_>>()
        .join("; ");
    Err(Unreachable {
        address: target
            .hosts
            .first()
            .map_or_else(String::new, |(h, p)| host_port(h, *p)),
        error,
    })
}

async fn ping_one(
    host: &str,
    port: u16,
    tls: Option<&tokio_rustls::TlsConnector>,
) -> Result<(), String> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    match tls {
        None => exchange(tcp).await,
        Some(c) => {
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
                .map_err(|e| format!("TLS server name {host}: {e}"))?;
            let stream = c
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS handshake: {e}"))?;
            exchange(stream).await
        }
    }
}

/// Sends `{ping: 1, $db: "admin"}` and reads the reply's `ok`.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) -> Result<(), String> {
    s.write_all(&ping_message(1))
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut header = [0u8; 16];
    s.read_exact(&mut header)
        .await
        .map_err(|e| format!("no reply ({e})"))?;
    let len = le_i32(&header, 0).unwrap_or(0);
    let len = usize::try_from(len).unwrap_or(0);
    if !(21..=MAX_REPLY).contains(&len) {
        return Err(format!("not a MongoDB reply (message length {len})"));
    }
    let mut body = vec![0u8; len - 16];
    s.read_exact(&mut body)
        .await
        .map_err(|e| format!("reply cut short ({e})"))?;
    if le_i32(&header, 12) != Some(OP_MSG) {
        return Err(format!(
            "not an OP_MSG reply (opcode {})",
            le_i32(&header, 12).unwrap_or(0)
        ));
    }
    // flagBits (4), then a kind-0 section: one BSON document.
    if body.get(4) != Some(&0) {
        return Err("the reply has no body section".into());
    }
    let reply = read_reply(body.get(5..).unwrap_or_default())?;
    if reply.ok {
        Ok(())
    } else {
        Err(format!(
            "the server answered ping with ok: 0 ({})",
            reply.errmsg.as_deref().unwrap_or("no errmsg")
        ))
    }
}

/// The `OP_MSG` of `{ping: 1, $db: "admin"}`.
pub(crate) fn ping_message(request_id: i32) -> Vec<u8> {
    let mut doc = Vec::new();
    doc.push(0x10); // int32
    doc.extend_from_slice(b"ping\0");
    doc.extend_from_slice(&1i32.to_le_bytes());
    doc.push(0x02); // string
    doc.extend_from_slice(b"$db\0");
    doc.extend_from_slice(&6i32.to_le_bytes());
    doc.extend_from_slice(b"admin\0");
    doc.push(0);
    let doc_len = i32::try_from(doc.len() + 4).unwrap_or(0);
    let mut msg = Vec::new();
    let total = i32::try_from(16 + 4 + 1 + doc.len() + 4).unwrap_or(0);
    msg.extend_from_slice(&total.to_le_bytes());
    msg.extend_from_slice(&request_id.to_le_bytes());
    msg.extend_from_slice(&0i32.to_le_bytes());
    msg.extend_from_slice(&OP_MSG.to_le_bytes());
    msg.extend_from_slice(&0u32.to_le_bytes()); // flagBits
    msg.push(0); // section kind 0: the body
    msg.extend_from_slice(&doc_len.to_le_bytes());
    msg.extend_from_slice(&doc);
    msg
}

fn le_i32(b: &[u8], at: usize) -> Option<i32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(i32::from_le_bytes(s))
}

/// What the reply's document says.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Reply {
    pub ok: bool,
    pub errmsg: Option<String>,
}

/// The top level of a BSON document: `ok` (double, int32, int64 or bool) and `errmsg`.
pub(crate) fn read_reply(doc: &[u8]) -> Result<Reply, String> {
    let bad = |why: &str| format!("the reply is not a BSON document ({why})");
    let len = le_i32(doc, 0)
        .and_then(|l| usize::try_from(l).ok())
        .ok_or_else(|| bad("no length"))?;
    let doc = doc
        .get(..len)
        .ok_or_else(|| bad("shorter than its length"))?;
    let mut reply = Reply::default();
    let mut at = 4;
    loop {
        let kind = *doc.get(at).ok_or_else(|| bad("no terminator"))?;
        if kind == 0 {
            return Ok(reply);
        }
        let name_end = doc
            .get(at + 1..)
            .and_then(|r| r.iter().position(|&b| b == 0))
            .ok_or_else(|| bad("a name without its end"))?;
        let name = doc.get(at + 1..at + 1 + name_end).unwrap_or_default();
        let v = at + 2 + name_end;
        let i32_at = |o: usize| le_i32(doc, o).and_then(|l| usize::try_from(l).ok());
        let size = match kind {
            0x01 | 0x09 | 0x11 | 0x12 => 8,
            0x02 | 0x0D | 0x0E => 4 + i32_at(v).ok_or_else(|| bad("a string without length"))?,
            0x03 | 0x04 | 0x0F => i32_at(v).ok_or_else(|| bad("a document without length"))?,
            0x05 => 5 + i32_at(v).ok_or_else(|| bad("binary without length"))?,
            0x06 | 0x0A | 0x7F | 0xFF => 0,
            0x07 => 12,
            0x08 => 1,
            0x10 => 4,
            0x13 => 16,
            0x0B => {
                let r = doc.get(v..).ok_or_else(|| bad("a cut regex"))?;
                let a = r
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or_else(|| bad("a cut regex"))?;
                let b = r
                    .get(a + 1..)
                    .and_then(|r| r.iter().position(|&b| b == 0))
                    .ok_or_else(|| bad("a cut regex"))?;
                a + b + 2
            }
            0x0C => 4 + i32_at(v).ok_or_else(|| bad("a cut DBPointer"))? + 12,
            k => return Err(bad(&format!("unknown element type 0x{k:02x}"))),
        };
        let value = doc
            .get(v..v + size)
            .ok_or_else(|| bad("an element past its end"))?;
        match (name, kind) {
            (b"ok", 0x01) => {
                let b: [u8; 8] = value.try_into().map_err(|_| bad("ok"))?;
                reply.ok = f64::from_le_bytes(b) == 1.0;
            }
            (b"ok", 0x10) => reply.ok = le_i32(value, 0) == Some(1),
            (b"ok", 0x12) => {
                let b: [u8; 8] = value.try_into().map_err(|_| bad("ok"))?;
                reply.ok = i64::from_le_bytes(b) == 1;
            }
            (b"ok", 0x08) => reply.ok = value == [1],
            (b"errmsg", 0x02) => {
                let text = value
                    .get(4..value.len().saturating_sub(1))
                    .unwrap_or_default();
                reply.errmsg = Some(String::from_utf8_lossy(text).into_owned());
            }
            _ => {}
        }
        at = v + size;
    }
}

/// rustls with Mozilla's roots, or only the PEM certificates of `tlsCAFile`.
fn tls_connector(t: &MongoTarget) -> Result<tokio_rustls::TlsConnector, String> {
    use tokio_rustls::rustls;
    opsconsole_proc::tls::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    match &t.ca_file {
        Some(path) => {
            let pem =
                std::fs::read_to_string(path).map_err(|e| format!("tlsCAFile {path}: {e}"))?;
            let certs = pem_certificates(&pem);
            if certs.is_empty() {
                return Err(format!("tlsCAFile {path}: no PEM certificate in it"));
            }
            for c in certs {
                roots
                    .add(c.into())
                    .map_err(|e| format!("tlsCAFile {path}: {e}"))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut config = config;
    if t.insecure {
        config
            .dangerous()
            .set_certificate_verifier(std::sync::Arc::new(NoVerify));
    }
    Ok(tokio_rustls::TlsConnector::from(std::sync::Arc::new(
        config,
    )))
}

/// The DER of each `CERTIFICATE` block of a PEM text.
pub(crate) fn pem_certificates(pem: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut b64: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        if line == "-----BEGIN CERTIFICATE-----" {
            b64 = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            if let Some(text) = b64.take()
                && let Ok(der) = base64::engine::general_purpose::STANDARD.decode(text)
            {
                out.push(der);
            }
        } else if let Some(text) = b64.as_mut() {
            text.push_str(line);
        }
    }
    out
}

/// `tlsAllowInvalidCertificates=true`: what LibreChat's driver does then (reachability only).
#[derive(Debug)]
struct NoVerify;

impl tokio_rustls::rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        _: &[tokio_rustls::rustls::pki_types::CertificateDer<'_>],
        _: &tokio_rustls::rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: tokio_rustls::rustls::pki_types::UnixTime,
    ) -> Result<tokio_rustls::rustls::client::danger::ServerCertVerified, tokio_rustls::rustls::Error>
    {
        Ok(tokio_rustls::rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        _: &tokio_rustls::rustls::DigitallySignedStruct,
    ) -> Result<
        tokio_rustls::rustls::client::danger::HandshakeSignatureValid,
        tokio_rustls::rustls::Error,
    > {
        Ok(tokio_rustls::rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        _: &tokio_rustls::rustls::DigitallySignedStruct,
    ) -> Result<
        tokio_rustls::rustls::client::danger::HandshakeSignatureValid,
        tokio_rustls::rustls::Error,
    > {
        Ok(tokio_rustls::rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<tokio_rustls::rustls::SignatureScheme> {
        tokio_rustls::rustls::crypto::CryptoProvider::get_default()
            .map(|p| p.signature_verification_algorithms.supported_schemes())
            .unwrap_or_default()
    }
}

/// Whether a LibreChat log line is the database-connection failure signature towards `target`:
/// `ECONNREFUSED`/`ETIMEDOUT`/`ENOTFOUND`/`EHOSTUNREACH` naming one of its hosts, or a
/// `MongoServerSelectionError` / `MongoNetworkError` / `MongoNetworkTimeoutError`.
pub fn is_failure_signature(line: &str, target: &MongoTarget) -> bool {
    if [
        "MongoServerSelectionError",
        "MongoNetworkError",
        "MongoNetworkTimeoutError",
    ]
    .iter()
    .any(|s| line.contains(s))
    {
        return true;
    }
    ["ECONNREFUSED", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"]
        .iter()
        .any(|s| line.contains(s))
        && target.hosts.iter().any(|(h, p)| {
            line.contains(&host_port(h, *p))
                || (line.contains(h.as_str()) && line.contains(&format!(":{p}")))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(uri: &str) -> MongoTarget {
        parse_uri(Some(uri)).expect("parses")
    }

    #[test]
    fn uri_hosts_ports_and_tls_without_credentials() {
        let m = t("mongodb://admin:p%40ss@db.internal:27018/LibreChat?retryWrites=true");
        assert_eq!(m.hosts, vec![("db.internal".to_string(), 27018)]);
        assert!(!m.tls);
        assert!(!format!("{m:?}").contains("p%40ss"));
        let m = t(
            "mongodb://u:pw@a.example,b.example:27019,[::1]:27020/db?tls=true&tlsCAFile=%2Fopt%2Fglobal-bundle.pem",
        );
        assert_eq!(
            m.hosts,
            vec![
                ("a.example".to_string(), 27017),
                ("b.example".to_string(), 27019),
                ("::1".to_string(), 27020)
            ]
        );
        assert!(m.tls);
        assert_eq!(m.ca_file.as_deref(), Some("/opt/global-bundle.pem"));
        assert_eq!(m.label(), "a.example:27017,b.example:27019,[::1]:27020");
        assert!(t("mongodb://h/?ssl=true&tlsAllowInvalidCertificates=true").insecure);
        assert_eq!(parse_uri(None), Err(UriError::Unset));
        assert_eq!(parse_uri(Some("  ")), Err(UriError::Unset));
        let srv = parse_uri(Some("mongodb+srv://u:secretpw@cluster0.example.net/db"));
        assert_eq!(srv, Err(UriError::Srv("cluster0.example.net".into())));
        assert!(
            !srv.err()
                .map(|e| e.to_string())
                .unwrap_or_default()
                .contains("secretpw")
        );
        for bad in [
            "http://h:1",
            "mongodb://h:notaport",
            "mongodb://",
            "mongodb://a,,b",
        ] {
            let e = parse_uri(Some(bad));
            assert!(matches!(e, Err(UriError::Invalid(_))), "{bad}: {e:?}");
        }
    }

    #[test]
    fn the_ping_message_is_a_well_formed_op_msg() {
        let m = ping_message(7);
        assert_eq!(le_i32(&m, 0), Some(m.len() as i32));
        assert_eq!(le_i32(&m, 4), Some(7));
        assert_eq!(le_i32(&m, 12), Some(OP_MSG));
        // The body document reads back: it has no `ok`, and it ends where the message ends.
        let doc = &m[21..];
        assert_eq!(le_i32(doc, 0), Some(doc.len() as i32));
        assert_eq!(read_reply(doc), Ok(Reply::default()));
    }

    fn doc(elements: &[u8]) -> Vec<u8> {
        let mut d = ((elements.len() + 5) as i32).to_le_bytes().to_vec();
        d.extend_from_slice(elements);
        d.push(0);
        d
    }

    #[test]
    fn reply_ok_in_every_number_type_and_errmsg() {
        let mut e = vec![0x03];
        e.extend_from_slice(b"topologyVersion\0");
        e.extend_from_slice(&doc(&[0x08, b'x', 0, 1]));
        e.push(0x01);
        e.extend_from_slice(b"ok\0");
        e.extend_from_slice(&1.0f64.to_le_bytes());
        assert_eq!(read_reply(&doc(&e)).map(|r| r.ok), Ok(true));
        let mut e = vec![0x10];
        e.extend_from_slice(b"ok\0");
        e.extend_from_slice(&0i32.to_le_bytes());
        e.push(0x02);
        e.extend_from_slice(b"errmsg\0");
        e.extend_from_slice(&5i32.to_le_bytes());
        e.extend_from_slice(b"nope\0");
        assert_eq!(
            read_reply(&doc(&e)),
            Ok(Reply {
                ok: false,
                errmsg: Some("nope".into())
            })
        );
        assert!(read_reply(&[1, 2]).is_err());
        assert!(read_reply(&doc(&[0x42, b'x', 0])).is_err());
    }

    #[test]
    fn failure_signature_names_the_host_or_the_driver_error() {
        let m = t("mongodb://127.0.0.1:41234/LibreChat");
        assert!(is_failure_signature(
            "2026-12-07 error: connect ECONNREFUSED 127.0.0.1:41234",
            &m
        ));
        assert!(is_failure_signature(
            "MongoServerSelectionError: connection timed out",
            &m
        ));
        assert!(!is_failure_signature(
            "connect ECONNREFUSED 127.0.0.1:6379",
            &m
        ));
        assert!(!is_failure_signature("Server listening on 3080", &m));
    }

    #[test]
    fn credentials_are_scrubbed_from_lines() {
        let uri = "mongodb://admin:p%40ss-Xy9@db:27017/LibreChat";
        let c = credentials(Some(uri));
        let line = format!("MongoServerSelectionError: {uri} p@ss-Xy9 p%40ss-Xy9 at db:27017");
        let s = scrub(&line, &c);
        assert!(!s.contains("p@ss-Xy9") && !s.contains("p%40ss-Xy9"), "{s}");
        assert!(s.contains("db:27017"), "{s}");
        assert!(
            credentials(Some("mongodb://db:27017/x"))
                .iter()
                .all(|c| c.contains("db:27017"))
        );
        assert!(credentials(None).is_empty());
        assert_eq!(scrub(&"x".repeat(500), &[]).len(), 403);
    }

    #[test]
    fn pem_blocks_decode() {
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_certificates(pem), vec![vec![0, 1, 2, 3]]);
        assert!(pem_certificates("no pem").is_empty());
    }

    #[tokio::test]
    async fn refused_and_silent_hosts_are_named_without_the_password() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let closed = l.local_addr().expect("addr").port();
        drop(l);
        // A listener that accepts and never answers: the bound, not a hang.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let silent_port = silent.local_addr().expect("addr").port();
        let keep = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        let m = t(&format!(
            "mongodb://admin:s3cretpw@127.0.0.1:{closed},127.0.0.1:{silent_port}/db"
        ));
        let r = ping(&m, Duration::from_millis(300)).await;
        let e = r.expect_err("nothing answers");
        assert_eq!(e.address, format!("127.0.0.1:{closed}"));
        assert!(
            e.error.contains(&format!("127.0.0.1:{closed}: connect:")),
            "{e:?}"
        );
        assert!(
            e.error
                .contains(&format!("127.0.0.1:{silent_port}: no answer within 300 ms")),
            "{e:?}"
        );
        assert!(!e.error.contains("s3cretpw"));
        keep.abort();
    }

    #[tokio::test]
    async fn a_server_that_answers_ok_is_reachable() {
        // A loopback peer that reads the request and answers `{ok: 1.0}` in an OP_MSG.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = l.local_addr().expect("addr").port();
        let srv = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.expect("accept");
            let mut req = vec![0u8; ping_message(1).len()];
            s.read_exact(&mut req).await.expect("request");
            let mut e = vec![0x01];
            e.extend_from_slice(b"ok\0");
            e.extend_from_slice(&1.0f64.to_le_bytes());
            let body = doc(&e);
            let mut msg = ((16 + 5 + body.len()) as i32).to_le_bytes().to_vec();
            msg.extend_from_slice(&[0; 8]);
            msg.extend_from_slice(&OP_MSG.to_le_bytes());
            msg.extend_from_slice(&[0; 5]);
            msg.extend_from_slice(&body);
            s.write_all(&msg).await.expect("reply");
            req
        });
        let m = t(&format!("mongodb://127.0.0.1:{port}"));
        let r = ping(&m, Duration::from_secs(5)).await.expect("reachable");
        assert_eq!(r.address, format!("127.0.0.1:{port}"));
        let req = srv.await.expect("server");
        assert_eq!(req, ping_message(1));
    }
}
