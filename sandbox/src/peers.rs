//! The real LibreChat's peers (`--librechat`): the MongoDB-wire server, the fake model, and
//! the `librechat.yaml` the function reads from S3.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use opsconsole_proc::child::Proc;

use crate::tools::{free_port, wait_for_port};
use crate::{last_lines, librechat, reaper, seed};

/// What `--librechat` started before the rest.
pub(crate) struct LibreChatPeers {
    pub(crate) mongo_uri: String,
    pub(crate) mongo: String,
    pub(crate) llm_port: u16,
    pub(crate) fake_model: String,
}

/// `--librechat`: the MongoDB (nx-27017, or a check that `--mongo-uri` answers) and the fake
/// model, each a child in `peers`.
pub(crate) async fn start_librechat_peers(
    root: &Path,
    dir: &Path,
    logs: &Path,
    spec: &librechat::LibreChatSpec,
    node: &Path,
    peers: &mut Vec<reaper::Watched>,
) -> anyhow::Result<LibreChatPeers> {
    let (mongo_uri, mongo) = match &spec.mongo {
        librechat::Mongo::Uri(uri) => {
            if let Some((host, port)) = librechat::mongo_host_port(uri) {
                let c = tokio::time::timeout(
                    Duration::from_secs(5),
                    tokio::net::TcpStream::connect((host.as_str(), port)),
                )
                .await;
                let err = match c {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(_) => Some("no answer within 5 s".into()),
                };
                if let Some(e) = err {
                    bail!(
                        "MongoDB at {uri} is not reachable ({host}:{port}: {e})\n  fix: start that MongoDB or fix --mongo-uri, or leave --mongo-uri out to let the sandbox start nx-27017"
                    );
                }
            }
            (uri.clone(), format!("{uri} (--mongo-uri)"))
        }
        librechat::Mongo::Nx(bin) => {
            eprintln!("opsconsole-sandbox: starting nx-27017 (MongoDB wire protocol on SQLite)");
            let port = free_port()?;
            let data = dir.join("nx-data");
            std::fs::create_dir_all(&data)
                .with_context(|| format!("creating {}", data.display()))?;
            let log = logs.join("nx-27017.log");
            let mut cmd = Command::new(bin);
            cmd.args(["--host", "127.0.0.1", "-p", &port.to_string(), "--data-dir"])
                .arg(&data)
                .arg("--log-file")
                .arg(&log)
                // Its default pid file is global: a second instance would refuse to start.
                .arg("--pid-file")
                .arg(dir.join("nx-27017.pid"))
                .current_dir(dir);
            let mut p = Proc::spawn("nx-27017", cmd, &logs.join("nx-27017.out"))?;
            if let Err(e) = wait_for_port(&mut p, port, Duration::from_secs(30)).await {
                let last = last_lines(&logs.join("nx-27017.out"), 5).join("\n    ");
                bail!(
                    "{e:#}\n  its last lines:\n    {last}\n  fix: check {} (a working nx-27017: ../shared/librechat/setup.sh), or pass --mongo-uri",
                    bin.display()
                );
            }
            let desc = format!(
                "nx-27017 pid {} on 127.0.0.1:{port} (data {}, log {})",
                p.pid(),
                data.display(),
                log.display()
            );
            peers.push(reaper::Watched {
                proc: p,
                log: logs.join("nx-27017.out"),
                reported: false,
            });
            (format!("mongodb://127.0.0.1:{port}/LibreChat"), desc)
        }
    };
    eprintln!("opsconsole-sandbox: starting the fake model (tools/librechat-local/fake-llm.mjs)");
    let port_file = dir.join("fake-llm.port");
    let mut cmd = Command::new(node);
    cmd.arg(opsconsole_testsupport::librechat::local_dir(root).join("fake-llm.mjs"))
        .env("FAKE_LLM_PORT", "0")
        .env("FAKE_LLM_PORT_FILE", &port_file)
        .env("FAKE_LLM_API_KEY", FAKE_LLM_KEY)
        .current_dir(dir);
    let log = logs.join("fake-llm.log");
    let mut p = Proc::spawn("fake-llm", cmd, &log)?;
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let llm_port: u16 = loop {
        if let Some(port) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break port;
        }
        if let Some(st) = p.exited() {
            bail!(
                "the fake model exited at start ({st}); see {}",
                log.display()
            );
        }
        if std::time::Instant::now() >= until {
            bail!(
                "the fake model wrote no port within 20 s; see {}",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let fake_model = format!(
        "http://127.0.0.1:{llm_port}/v1 (fake-llm.mjs pid {}, log {})",
        p.pid(),
        log.display()
    );
    peers.push(reaper::Watched {
        proc: p,
        log: log.clone(),
        reported: false,
    });
    Ok(LibreChatPeers {
        mongo_uri,
        mongo,
        llm_port,
        fake_model,
    })
}

/// The fake model's API key (LibreChat's config passes it; a throw-away value).
pub(crate) const FAKE_LLM_KEY: &str = "sk-fake-llm-not-a-secret";

/// tools/librechat-local/librechat.yaml as the sandbox uploads it: titles on when asked, and
/// files in the files bucket with size limits that fit Lambda (issue 30; the function gets
/// AWS_BUCKET_NAME).
pub(crate) fn librechat_yaml(root: &Path, titles: bool) -> anyhow::Result<String> {
    let yaml_path = opsconsole_testsupport::librechat::local_dir(root).join("librechat.yaml");
    let mut yaml = std::fs::read_to_string(&yaml_path)
        .with_context(|| format!("reading {}", yaml_path.display()))?;
    if titles {
        if !yaml.contains("titleConvo: false") {
            bail!(
                "{} has no `titleConvo: false` to turn titles on with",
                yaml_path.display()
            );
        }
        yaml = yaml.replace("titleConvo: false", "titleConvo: true");
    }
    if yaml.contains("fileStrategy") || yaml.contains("fileConfig") {
        bail!(
            "{} sets fileStrategy / fileConfig itself: the sandbox adds them",
            yaml_path.display()
        );
    }
    yaml.push_str(crate::seed::s3::FILES_FIT_LAMBDA);
    Ok(yaml)
}

/// `--librechat`: LibreChat's own config (tools/librechat-local/librechat.yaml) in the config
/// bucket and its secrets (librechat.env's, and the MongoDB URI) in SSM, over what [`seed`] put.
pub(crate) async fn seed_librechat_config(
    sdk: &aws_config::SdkConfig,
    names: &seed::Names,
    root: &Path,
    mongo_uri: &str,
    titles: bool,
) -> anyhow::Result<Vec<(String, String)>> {
    use opsconsole_testsupport::librechat as lc;
    let yaml = librechat_yaml(root, titles)?.into_bytes();
    aws_sdk_s3::Client::new(sdk)
        .put_object()
        .bucket(&names.config_bucket)
        .key(&names.config_key)
        .body(aws_sdk_s3::primitives::ByteStream::from(yaml))
        .send()
        .await
        .context("S3 PutObject librechat.yaml (LibreChat's config)")?;
    let mut plain =
        lc::librechat_env(root).context("reading tools/librechat-local/librechat.env")?;
    let ssm = aws_sdk_ssm::Client::new(sdk);
    for (name, param) in names.secret_parameters() {
        let value = if name == "MONGO_URI" {
            mongo_uri.to_string()
        } else {
            plain
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .with_context(|| format!("{name} is not in tools/librechat-local/librechat.env"))?
        };
        ssm.put_parameter()
            .name(&param)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| format!("SSM PutParameter {param}"))?;
    }
    plain.retain(|(k, _)| !lc::SECRETS.contains(&k.as_str()));
    Ok(plain)
}
