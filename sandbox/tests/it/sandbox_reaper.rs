//! A child of the sandbox that dies while it runs is reaped and reported (issue 25, item 4):
//! redis-server killed with SIGKILL is named, with its pid and how it died, and leaves no
//! zombie behind.

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn a_killed_child_is_reaped_and_named() {
    let _serial = crate::one_sandbox_at_a_time();
    let mut sandbox = opsconsole_sandbox::start(None)
        .await
        .unwrap_or_else(|e| panic!("the sandbox did not start: {e:#}"));
    let mut deaths = sandbox.take_deaths().expect("the deaths' receiver");
    let (_, pid) = sandbox
        .children()
        .into_iter()
        .find(|(n, _)| n == "redis-server")
        .unwrap_or_else(|| panic!("redis-server among {:?}", sandbox.children()));
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let d = tokio::time::timeout(Duration::from_secs(20), deaths.recv())
        .await
        .expect("a death reported within 20 s")
        .expect("the reaper runs");
    assert_eq!((d.name.as_str(), d.pid), ("redis-server", pid), "{d:?}");
    assert!(d.how.contains("signal: 9"), "{d:?}");
    assert!(
        d.line()
            .starts_with(&format!("redis-server (pid {pid}) died: signal: 9")),
        "{}",
        d.line()
    );
    // Reaped: the pid is gone, not a zombie.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.split_whitespace().nth(2) != Some("Z"),
        "a zombie: {stat}"
    );
    // Reported once.
    assert!(
        tokio::time::timeout(Duration::from_secs(2), deaths.recv())
            .await
            .is_err()
    );
    drop(sandbox);
}
