//! Work LibreChat goes on doing after it answered a request, which the environment must not be
//! frozen under (shim/README.md, "LibreChat's work after the response").
//!
//! Lambda freezes an environment's whole process tree as soon as the runtime asks for the next
//! event. LibreChat's web UI starts a chat with `POST /api/agents/chat/{endpoint}`, which answers
//! at once `{"streamId","conversationId","status":"started"}` and generates afterwards; the
//! browser reads the stream with a GET that another environment may serve (from Redis). If the
//! POST's environment is frozen, that GET gets nothing. So the shim notes each chat a response
//! started ([`started_chat`]) and, before it asks for the next event, waits until LibreChat says
//! the chat is over (`GET /api/agents/chat/status/{conversationId}` with the user's own
//! `Authorization` and `User-Agent`: `{"active": false}` once the job is complete or gone) and,
//! for a new conversation, until its title is saved (`GET /api/convos/{conversationId}`: a title
//! other than LibreChat's placeholder), each bounded (the invocation's deadline, `SHIM_PENDING_
//! WAIT_MS`, `SHIM_TITLE_WAIT_MS`). Nothing waits when nothing is pending.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use serde_json::Value;

/// LibreChat's `Constants.NO_PARENT`: the parent of a conversation's first message.
pub(crate) const NO_PARENT: &str = "00000000-0000-0000-0000-000000000000";
/// The title LibreChat shows until one is generated.
pub(crate) const PLACEHOLDER_TITLE: &str = "New Chat";

/// What a request that may start a resumable chat tells about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRequest {
    /// A new conversation's first message: LibreChat generates a title after the reply (when
    /// titles are on for the endpoint).
    pub title_expected: bool,
}

/// `POST /api/agents/chat/{endpoint}` (not `abort`, `stream`, `status`, `active`): the web UI's
/// chat start. `body` is the request's JSON.
pub fn chat_request(method: &http::Method, path: &str, body: &[u8]) -> Option<ChatRequest> {
    if method != http::Method::POST {
        return None;
    }
    let rest = path.split('?').next()?.strip_prefix("/api/agents/chat/")?;
    if rest.is_empty() || rest.contains('/') || matches!(rest, "abort" | "active") {
        return None;
    }
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let new_convo = match v.get("conversationId") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty() || s == "new",
        _ => false,
    };
    let first = v.get("parentMessageId").and_then(Value::as_str) == Some(NO_PARENT);
    let temporary = v.get("isTemporary").and_then(Value::as_bool) == Some(true);
    Some(ChatRequest {
        title_expected: new_convo && first && !temporary,
    })
}

/// The conversation a chat-start response says was started (`status: "started"`).
pub fn started_chat(status: u16, body: &[u8]) -> Option<String> {
    if status != 200 {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    if v.get("status").and_then(Value::as_str) != Some("started") {
        return None;
    }
    v.get("conversationId")
        .or_else(|| v.get("streamId"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 200 && !s.contains(['/', '?', '#']))
        .map(str::to_string)
}

/// `GET /api/agents/chat/status/{id}`'s answer: still generating?
pub fn chat_active(body: &[u8]) -> Option<bool> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("active").and_then(Value::as_bool)
}

/// `GET /api/convos/{id}`'s answer: has the conversation its generated title?
pub fn has_title(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("title").and_then(Value::as_str).map(str::to_string))
        .is_some_and(|t| !t.is_empty() && t != PLACEHOLDER_TITLE)
}

/// A chat LibreChat is generating after its response.
#[derive(Debug, Clone)]
pub struct Job {
    pub conversation_id: String,
    pub authorization: HeaderValue,
    pub user_agent: Option<HeaderValue>,
    pub title_expected: bool,
    pub since: Instant,
}

/// The chats started in this environment and not yet seen finished.
#[derive(Debug, Default)]
pub struct Pending {
    jobs: Mutex<Vec<Job>>,
}

impl Pending {
    pub fn add(&self, job: Job) {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(job);
    }

    pub fn take_all(&self) -> Vec<Job> {
        std::mem::take(&mut *self.jobs.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn is_empty(&self) -> bool {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }
}

/// How one job's wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The chat ended (and its title came, when one was expected).
    Done,
    /// The chat ended; its title did not come within the title wait.
    NoTitle,
    /// The wait's bound came first.
    Bound,
    /// LibreChat did not answer the status request usefully (down, 401, 403): nothing to wait for.
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::NoTitle => "no_title",
            Outcome::Bound => "bound",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Asks LibreChat (the shim's own client) a GET with the user's headers: (status, body).
pub trait Ask {
    fn get(
        &self,
        path: String,
        job: &Job,
    ) -> impl std::future::Future<Output = Option<(u16, Bytes)>> + Send;
}

/// The wait's settings.
#[derive(Debug, Clone, Copy)]
pub struct WaitPolicy {
    pub poll: Duration,
    pub title_wait: Duration,
}

/// Waits for `job`: until its chat is inactive, then (a title expected) until the title is saved
/// or `title_wait` passed; everything bounded by `until`.
pub async fn wait_for<A: Ask>(
    ask: &A,
    job: &Job,
    policy: WaitPolicy,
    until: tokio::time::Instant,
) -> Outcome {
    let status = format!("/api/agents/chat/status/{}", job.conversation_id);
    loop {
        if tokio::time::Instant::now() >= until {
            return Outcome::Bound;
        }
        match ask.get(status.clone(), job).await {
            Some((200, body)) => match chat_active(&body) {
                Some(true) => {}
                Some(false) => break,
                None => return Outcome::Unknown,
            },
            _ => return Outcome::Unknown,
        }
        tokio::time::sleep_until((tokio::time::Instant::now() + policy.poll).min(until)).await;
    }
    if !job.title_expected || policy.title_wait.is_zero() {
        return Outcome::Done;
    }
    let title_until = until.min(tokio::time::Instant::now() + policy.title_wait);
    let convo = format!("/api/convos/{}", job.conversation_id);
    loop {
        if let Some((200, body)) = ask.get(convo.clone(), job).await
            && has_title(&body)
        {
            return Outcome::Done;
        }
        if tokio::time::Instant::now() >= title_until {
            return if title_until < until {
                Outcome::NoTitle
            } else {
                Outcome::Bound
            };
        }
        tokio::time::sleep_until((tokio::time::Instant::now() + policy.poll).min(title_until))
            .await;
    }
}

impl crate::app::App {
    /// Notes the chat a chat-start response started (the response's `status` and first bytes).
    pub(crate) fn note_chat(
        &self,
        status: u16,
        body: &[u8],
        chat: ChatRequest,
        authorization: HeaderValue,
        user_agent: Option<HeaderValue>,
    ) {
        if self.settings.pending_wait.is_zero() {
            return;
        }
        if let Some(conversation_id) = started_chat(status, body) {
            tracing::info!(
                conversation_id,
                title_expected = chat.title_expected,
                "LibreChat goes on generating after its response: the environment waits for it before the next event"
            );
            self.pending.add(Job {
                conversation_id,
                authorization,
                user_agent,
                title_expected: chat.title_expected,
                since: Instant::now(),
            });
        }
    }

    /// Before the next event is asked for: waits for the chats this environment's LibreChat is
    /// still generating (and their titles), bounded by the invocation's deadline (less the
    /// margin) and `SHIM_PENDING_WAIT_MS`. Returns at once when nothing is pending.
    pub async fn settle_pending(self: std::sync::Arc<Self>, deadline_ms: u64) {
        if self.pending.is_empty() {
            return;
        }
        let started = tokio::time::Instant::now();
        let until = crate::app::deadline_instant(deadline_ms, self.settings.deadline_margin)
            .min(started + self.settings.pending_wait);
        let policy = WaitPolicy {
            poll: self.settings.pending_poll,
            title_wait: self.settings.title_wait,
        };
        let jobs = self.pending.take_all();
        let waits = jobs
            .iter()
            .map(|j| wait_for(self.as_ref(), j, policy, until));
        let outcomes = futures::future::join_all(waits).await;
        let wait_ms = started.elapsed().as_secs_f64() * 1000.0;
        // The worst outcome names the wait.
        let outcome = [
            Outcome::Bound,
            Outcome::Unknown,
            Outcome::NoTitle,
            Outcome::Done,
        ]
        .into_iter()
        .find(|o| outcomes.contains(o))
        .unwrap_or(Outcome::Done);
        let chats: Vec<&str> = jobs.iter().map(|j| j.conversation_id.as_str()).collect();
        tracing::info!(
            wait_ms,
            chats = ?chats,
            outcome = outcome.as_str(),
            "waited for LibreChat's work after the response before asking for the next event"
        );
        crate::emf::pending_wait(wait_ms, jobs.len(), outcome.as_str());
    }
}

impl Ask for crate::app::App {
    async fn get(&self, path: String, job: &Job) -> Option<(u16, Bytes)> {
        use http_body_util::BodyExt;
        let mut b = http::Request::get(format!("{}{path}", self.settings.upstream_base()))
            .header(http::header::AUTHORIZATION, job.authorization.clone());
        if let Some(ua) = &job.user_agent {
            b = b.header(http::header::USER_AGENT, ua.clone());
        }
        let req = b.body(http_body_util::Full::new(Bytes::new())).ok()?;
        let resp = tokio::time::timeout(Duration::from_secs(5), self.client.request(req))
            .await
            .ok()?
            .ok()?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.ok()?.to_bytes();
        Some((status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn the_web_uis_chat_start_is_recognised() {
        let body = br#"{"text":"hi","endpoint":"agents","agent_id":"a","conversationId":null,"parentMessageId":"00000000-0000-0000-0000-000000000000"}"#;
        assert_eq!(
            chat_request(&Method::POST, "/api/agents/chat/agents", body),
            Some(ChatRequest {
                title_expected: true
            })
        );
        let follow_up = br#"{"conversationId":"c1","parentMessageId":"m1"}"#;
        assert_eq!(
            chat_request(&Method::POST, "/api/agents/chat/agents", follow_up),
            Some(ChatRequest {
                title_expected: false
            })
        );
        let temp =
            br#"{"parentMessageId":"00000000-0000-0000-0000-000000000000","isTemporary":true}"#;
        assert_eq!(
            chat_request(&Method::POST, "/api/agents/chat/agents", temp).map(|c| c.title_expected),
            Some(false)
        );
        for (m, p) in [
            (Method::POST, "/api/agents/chat/abort"),
            (Method::GET, "/api/agents/chat/agents"),
            (Method::GET, "/api/agents/chat/stream/c1"),
            (Method::GET, "/api/agents/chat/status/c1"),
            (Method::POST, "/api/agents/v1/chat/completions"),
            (Method::POST, "/api/agents/chat/"),
        ] {
            assert_eq!(chat_request(&m, p, body), None, "{m} {p}");
        }
    }

    #[test]
    fn only_a_started_answer_is_a_pending_chat() {
        assert_eq!(
            started_chat(
                200,
                br#"{"streamId":"c1","conversationId":"c1","status":"started"}"#
            ),
            Some("c1".into())
        );
        assert_eq!(
            started_chat(429, br#"{"status":"started","conversationId":"c"}"#),
            None
        );
        assert_eq!(started_chat(200, br#"{"error":"x"}"#), None);
        assert_eq!(started_chat(200, b"event: error\ndata: {}\n\n"), None);
        assert_eq!(
            started_chat(200, br#"{"conversationId":"../x","status":"started"}"#),
            None
        );
    }

    #[test]
    fn status_and_title_answers() {
        assert_eq!(
            chat_active(br#"{"active":true,"status":"running"}"#),
            Some(true)
        );
        assert_eq!(chat_active(br#"{"active":false}"#), Some(false));
        assert_eq!(chat_active(b"<html>"), None);
        assert!(has_title(br#"{"title":"Greeting"}"#));
        assert!(!has_title(br#"{"title":"New Chat"}"#));
        assert!(!has_title(br#"{"title":null}"#));
        assert!(!has_title(b"{}"));
    }

    /// A LibreChat that is active for `active` polls, then has a title after `title` more.
    struct Scripted {
        polls: std::sync::atomic::AtomicU32,
        active: u32,
        title_after: Option<u32>,
        status: u16,
    }

    impl Ask for Scripted {
        async fn get(&self, path: String, _job: &Job) -> Option<(u16, Bytes)> {
            let n = self.polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if path.contains("/status/") {
                let active = n < self.active;
                return Some((self.status, Bytes::from(format!("{{\"active\":{active}}}"))));
            }
            let titled = self.title_after.is_some_and(|t| n >= self.active + t);
            let title = if titled { "Hello" } else { PLACEHOLDER_TITLE };
            Some((200, Bytes::from(format!("{{\"title\":\"{title}\"}}"))))
        }
    }

    fn job(title_expected: bool) -> Job {
        Job {
            conversation_id: "c1".into(),
            authorization: HeaderValue::from_static("Bearer t"),
            user_agent: None,
            title_expected,
            since: Instant::now(),
        }
    }

    fn scripted(active: u32, title_after: Option<u32>, status: u16) -> Scripted {
        Scripted {
            polls: Default::default(),
            active,
            title_after,
            status,
        }
    }

    const POLICY: WaitPolicy = WaitPolicy {
        poll: Duration::from_millis(100),
        title_wait: Duration::from_secs(5),
    };

    #[tokio::test(start_paused = true)]
    async fn waits_for_the_chat_then_its_title() {
        let far = tokio::time::Instant::now() + Duration::from_secs(60);
        let s = scripted(3, Some(2), 200);
        assert_eq!(wait_for(&s, &job(true), POLICY, far).await, Outcome::Done);
        // 4 status polls (3 active), then 2 of the conversation (titled from the 6th poll on).
        assert_eq!(s.polls.load(std::sync::atomic::Ordering::SeqCst), 4 + 2);
        let s = scripted(3, None, 200);
        assert_eq!(wait_for(&s, &job(false), POLICY, far).await, Outcome::Done);
        assert_eq!(s.polls.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn every_wait_is_bounded() {
        let start = tokio::time::Instant::now();
        let s = scripted(u32::MAX, None, 200);
        let until = start + Duration::from_secs(2);
        assert_eq!(
            wait_for(&s, &job(true), POLICY, until).await,
            Outcome::Bound
        );
        assert!(tokio::time::Instant::now() <= until + POLICY.poll);
        let s = scripted(1, None, 200);
        let far = tokio::time::Instant::now() + Duration::from_secs(60);
        assert_eq!(
            wait_for(&s, &job(true), POLICY, far).await,
            Outcome::NoTitle
        );
        let s = scripted(1, None, 401);
        assert_eq!(
            wait_for(&s, &job(true), POLICY, far).await,
            Outcome::Unknown
        );
    }
}
