//! The shim's MongoDB check on the real LibreChat (issue 25, item 1): the status endpoint's
//! `database` while nx-27017 answers, and after it is killed: not ok, naming its host and port,
//! with LibreChat's own connection error quoted as evidence. Real-LibreChat tier (skipped, saying
//! why, without LibreChat; needs nx-27017, not `LIBRECHAT_MONGO_URI`, to kill the database).

use crate::support::librechat::*;
use crate::support::*;
use serde_json::{Value, json};
use std::time::Instant;

const TOKEN: &str = "diag-db-token-5c1e";

async fn status(c: &reqwest::Client, port: u16) -> Value {
    let r = invoke(
        c,
        port,
        &event(
            "GET",
            "/api/__shim/status",
            &[("x-opsconsole-token", TOKEN)],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_names_the_database_once_mongodb_is_killed() {
    let Some(tree) = tree() else { return };
    if !matches!(tree.mongo, Mongo::Nx(_)) {
        eprintln!("skipped: LIBRECHAT_MONGO_URI is set; this test kills the nx-27017 it starts");
        return;
    }
    let t0 = Instant::now();
    let mut stack = Stack::start(
        &tree,
        StackOpts {
            extra_env: vec![("SHIM_DIAGNOSTICS_TOKEN".into(), TOKEN.into())],
            ..Default::default()
        },
    );
    let c = http_client();
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let address = stack
        .mongo_uri
        .trim_start_matches("mongodb://")
        .split('/')
        .next()
        .expect("host:port")
        .to_string();
    eprintln!("LibreChat up after {:?}", t0.elapsed());
    let up = status(&c, stack.invoke_port).await;
    let db = &up["database"];
    assert_eq!(db["ok"], true, "{up:#}");
    assert_eq!(db["address"], json!(address), "{up:#}");
    assert!(db["rtt_ms"].as_f64().is_some(), "{up:#}");

    // nx-27017 killed (SIGKILL to its process group): the database is gone.
    drop(stack.nx.take());
    // A login needs the database: LibreChat tries, fails and logs why.
    let login = json!({"email": "nobody@example.com", "password": "Passw0rd!Passw0rd"});
    let r = invoke(
        &c,
        stack.invoke_port,
        &event("POST", "/api/auth/login", &[], Some(&login)),
    )
    .await;
    assert_ne!(r.status, 200, "a login without a database: {}", r.text());
    eprintln!("the login failed after {:?}", t0.elapsed());
    // LibreChat logs its own connection error when its driver notices (its next heartbeat, up
    // to ~10 s after the kill; a login can fail before that): the status is read again until
    // the evidence is there (bounded; CI once read it 0.1 s after the login, without evidence).
    // A login that fails at once on the pooled socket logs only Node's "This socket has been
    // ended by the other party" (seen in CI, then nothing for 30 s): so the user tries again, a
    // second later, as a person would; that login waits for the driver's server selection, which
    // fails naming the refused address.
    let retry = {
        let c = c.clone();
        let port = stack.invoke_port;
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            invoke(
                &c,
                port,
                &event("POST", "/api/auth/login", &[], Some(&login)),
            )
            .await
        })
    };
    let mut down = status(&c, stack.invoke_port).await;
    for _ in 0..120 {
        if down["database"]["evidence"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        down = status(&c, stack.invoke_port).await;
    }
    let db = &down["database"];
    let logs = stack.logs();
    assert_eq!(db["ok"], false, "{down:#}\n{logs}");
    assert_eq!(db["address"], json!(address), "{down:#}");
    let error = db["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&address) && error.contains("connect"),
        "{down:#}"
    );
    let evidence = db["evidence"].as_str().unwrap_or_default();
    assert!(
        evidence.contains("ECONNREFUSED") || evidence.contains("MongoServerSelectionError"),
        "LibreChat's own error as evidence: {down:#}\n{logs}"
    );
    assert!(db["evidence_age_s"].as_u64().is_some(), "{down:#}");
    retry.abort();
}
