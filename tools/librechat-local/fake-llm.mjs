// A fake OpenAI-compatible model server (Node >= 20, no dependencies) that LibreChat talks to in
// the real-LibreChat tests and in `opsconsole-sandbox --librechat`: its stream's chunks are
// spaced in time, so that a buffering hop anywhere between it and the client shows.
// See README.md beside this file.
import http from 'node:http';
import fs from 'node:fs';
import { createHash } from 'node:crypto';

const env = process.env;
const HOST = '127.0.0.1';
const PORT = Number(env.FAKE_LLM_PORT ?? 0);
const KEY = env.FAKE_LLM_API_KEY || '';
const MODEL = env.FAKE_LLM_MODEL || 'fake-model';
const DEFAULT_CHUNKS = Number(env.FAKE_LLM_CHUNKS || 10);
const DEFAULT_DELAY_MS = Number(env.FAKE_LLM_DELAY_MS || 200);

const log = (o) => console.log(JSON.stringify({ ts: new Date().toISOString(), ...o }));

function json(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// `[fake chunks=N delay_ms=D die_after=K pause_after=K pause_ms=P fail_status=S]` in the last
// user message; else the defaults.
function knobs(body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const last = [...msgs].reverse().find((m) => m?.role === 'user');
  const content = Array.isArray(last?.content)
    ? last.content.map((p) => (typeof p === 'string' ? p : p?.text ?? '')).join(' ')
    : String(last?.content ?? '');
  const directive = /\[fake\s+([^\]]*)\]/i.exec(content)?.[1] ?? '';
  const num = (name) => {
    const m = new RegExp(`${name}\\s*=\\s*(\\d+)`, 'i').exec(directive);
    return m ? Number(m[1]) : undefined;
  };
  return {
    chunks: Math.min(num('chunks') ?? DEFAULT_CHUNKS, 10000),
    delay: Math.min(num('delay_ms') ?? DEFAULT_DELAY_MS, 600000),
    dieAfter: num('die_after'),
    // `pause_after=K pause_ms=P`: the model stalls P ms after its K-th content chunk.
    pauseAfter: num('pause_after'),
    pauseMs: Math.min(num('pause_ms') ?? 0, 600000),
    // `fail_status=S`: the model answers HTTP S (400-599) with OpenAI's error body, no stream.
    failStatus: num('fail_status'),
  };
}

// The last user message's parts other than text (`image_url`, `file`, ...): what LibreChat
// attached to the request, each with its media type, decoded size and SHA-256 when it is a data
// URL, so that a test can tell the uploaded file reached the model.
function attachments(body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const last = [...msgs].reverse().find((m) => m?.role === 'user');
  const parts = Array.isArray(last?.content) ? last.content : [];
  return parts
    .filter((p) => p && typeof p === 'object' && p.type !== 'text')
    .map((p) => {
      const url = String(p.image_url?.url ?? p.file?.file_data ?? '');
      const m = /^data:([^;,]*)(?:;[^,]*)?;base64,(.*)$/s.exec(url);
      if (!m) return { type: p.type, url: url.slice(0, 200) };
      const bytes = Buffer.from(m[2], 'base64');
      return { type: p.type, media_type: m[1], bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    });
}

function completions(req, res, body) {
  const found = attachments(body);
  if (found.length) log({ msg: 'attachments', attachments: found });
  const { chunks, delay, dieAfter, pauseAfter, pauseMs, failStatus } = knobs(body);
  if (failStatus !== undefined && failStatus >= 400 && failStatus <= 599) {
    log({ msg: 'failing on request', status: failStatus });
    return json(res, failStatus, {
      error: { message: `The fake model failed on request (HTTP ${failStatus})`, type: 'server_error', code: null },
    });
  }
  const id = `chatcmpl-fake-${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body.model || MODEL;
  const pieces = Array.from({ length: chunks }, (_, i) => `Chunk ${i + 1} of ${chunks}. `);
  if (!body.stream) {
    return json(res, 200, {
      id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: chunks, total_tokens: chunks + 1 },
    });
  }
  req.socket.setNoDelay(true);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const base = { id, object: 'chat.completion.chunk', created, model };
  const send = (o) => res.write(`data: ${JSON.stringify(o)}\n\n`);
  send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  let i = 0;
  let timer = null;
  const step = () => {
    if (dieAfter !== undefined && i >= dieAfter) {
      // The model's connection dies mid-stream: no finish chunk, no [DONE].
      log({ msg: 'dying mid-stream', after_chunks: i });
      res.socket?.destroy();
      return;
    }
    if (i < chunks) {
      send({ ...base, choices: [{ index: 0, delta: { content: pieces[i] }, finish_reason: null }] });
      // The send time of every content chunk (epoch ms), for a BUFFERED verdict with send times.
      log({ msg: 'chunk', seq: i + 1, total: chunks, sent_at_ms: performance.timeOrigin + performance.now() });
      i += 1;
      timer = setTimeout(step, (i < chunks ? delay : 0) + (i === pauseAfter ? pauseMs : 0));
      return;
    }
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if (body.stream_options?.include_usage) {
      send({ ...base, choices: [], usage: { prompt_tokens: 1, completion_tokens: chunks, total_tokens: chunks + 1 } });
    }
    res.end('data: [DONE]\n\n');
  };
  res.on('close', () => timer && clearTimeout(timer));
  timer = setTimeout(step, delay);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://fake');
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    log({ method: req.method, path: url.pathname });
    if (url.pathname === '/health') return json(res, 200, { ok: true });
    if (KEY && req.headers.authorization !== `Bearer ${KEY}`) {
      return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    }
    if (req.method === 'GET' && url.pathname.endsWith('/models')) {
      return json(res, 200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 0, owned_by: 'fake' }] });
    }
    if (req.method === 'POST' && url.pathname.endsWith('/chat/completions')) {
      let body;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
      } catch {
        return json(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });
      }
      return completions(req, res, body);
    }
    json(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
  });
});

server.listen(PORT, HOST, () => {
  const port = server.address().port;
  if (env.FAKE_LLM_PORT_FILE) fs.writeFileSync(env.FAKE_LLM_PORT_FILE, String(port));
  log({ msg: `fake-llm listening on ${HOST}:${port}` });
});
const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
