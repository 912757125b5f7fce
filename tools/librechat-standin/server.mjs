// Dependency-free stand-in for the LibreChat API (Node >= 20). See README.md beside this file.
//
// Two kinds of routes:
// - imitations of the real LibreChat v0.8.6 (/health, /livez, /readyz, /api/config, the
//   OpenAI-compatible agents chat, the /api 404, the SPA fallback, compression of responses
//   when the client accepts it): a test sends the same requests to this and to the real server
//   and compares them (shim/tests: standin agreement);
// - instruments that LibreChat does not have, under /api/__standin/ (a timed SSE stream, an echo).
import http from 'node:http';
import zlib from 'node:zlib';

const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number(process.env.PORT || 3080);
const BOOT_DELAY_MS = Number(process.env.STANDIN_BOOT_DELAY_MS || 0);
const READY_DELAY_MS = Number(process.env.STANDIN_READY_DELAY_MS || 0);
const HEALTH_STATUS = Number(process.env.STANDIN_HEALTH_STATUS || 200);
const API_KEY = process.env.STANDIN_API_KEY || '';
let listeningAt = null;

const log = (obj) => console.log(JSON.stringify({ ts: new Date().toISOString(), ...obj }));

// Express's res.send(string) / res.json(obj) headers, as LibreChat answers.
function text(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
function json(res, status, obj) {
  text(res, status, JSON.stringify(obj), 'application/json; charset=utf-8');
}

function intParam(url, name, dflt, max) {
  const v = url.searchParams.get(name);
  if (v === null || v === '' || !/^\d+$/.test(v)) return dflt;
  return Math.min(Number(v), max);
}

// LibreChat's `compression` middleware: with an acceptable Accept-Encoding it compresses every
// response, event streams included, and flushes only at the end (the cause of buffered SSE).
function encoder(req) {
  const ae = String(req.headers['accept-encoding'] || '');
  if (/\bbr\b/.test(ae)) return ['br', zlib.createBrotliCompress()];
  if (/\bgzip\b/.test(ae)) return ['gzip', zlib.createGzip()];
  return [null, null];
}

function startStream(req, res, headers) {
  const [encoding, z] = encoder(req);
  if (encoding) {
    res.writeHead(200, { ...headers, 'content-encoding': encoding, vary: 'Accept-Encoding' });
    z.pipe(res);
    return { write: (s) => z.write(s), end: () => z.end(), destroy: () => res.socket?.destroy() };
  }
  res.writeHead(200, headers);
  res.flushHeaders();
  return { write: (s) => res.write(s), end: () => res.end(), destroy: () => res.socket?.destroy() };
}

// Instrument: events spaced `interval_ms` apart, each with the server's send time.
function timedSse(req, res, url) {
  const events = intParam(url, 'events', 5, 100000);
  const interval = intParam(url, 'interval_ms', 100, 600000);
  const failAfter = url.searchParams.has('fail_after') ? intParam(url, 'fail_after', 0, 100000) : null;
  const out = startStream(req, res, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  let seq = 0;
  let timer = null;
  const start = performance.now();
  const tick = () => {
    seq += 1;
    if (failAfter !== null && seq > failAfter) {
      out.destroy(); // drop the connection mid-stream, without a terminating chunk
      return;
    }
    const data = { seq, sent_at_ms: performance.timeOrigin + performance.now(), text: `token ${seq}` };
    out.write(`event: message\ndata: ${JSON.stringify(data)}\n\n`);
    if (seq >= events) {
      out.write(`event: done\ndata: ${JSON.stringify({ total: events })}\n\n`);
      out.end();
      return;
    }
    // Scheduled against the start time so spacing does not drift.
    timer = setTimeout(tick, Math.max(0, start + seq * interval - performance.now()));
  };
  res.on('close', () => timer && clearTimeout(timer));
  tick();
}

// Imitation: POST /api/agents/v1/chat/completions (LibreChat's OpenAI-compatible agents API).
// Chunk count and spacing from the fake model's directive `[fake chunks=N delay_ms=D]` (and
// `pause_after=K pause_ms=P`: a pause after the K-th content chunk) in the
// last user message (default 10 x 200 ms), as the real server relays them from that model.
function agentsChat(req, res, body) {
  const auth = String(req.headers.authorization || '');
  const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  if (!key) {
    json(res, 401, {
      error: {
        message: 'Missing or invalid Authorization header. Expected: Bearer <api_key>',
        type: 'invalid_request_error',
        code: 'missing_api_key',
      },
    });
    return;
  }
  if ((API_KEY && key !== API_KEY) || (!API_KEY && !key.startsWith('sk-'))) {
    json(res, 401, { error: { message: 'Invalid API key', type: 'invalid_request_error', code: 'invalid_api_key' } });
    return;
  }
  let parsed;
  try {
    parsed = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    json(res, 400, { error: { message: 'Invalid JSON body', type: 'invalid_request_error' } });
    return;
  }
  const msgs = Array.isArray(parsed.messages) ? parsed.messages : [];
  const last = [...msgs].reverse().find((m) => m?.role === 'user');
  const directive = /\[fake\s+([^\]]*)\]/i.exec(String(last?.content ?? ''))?.[1] ?? '';
  const num = (name, dflt) => Number(new RegExp(`${name}\\s*=\\s*(\\d+)`, 'i').exec(directive)?.[1] ?? dflt);
  const chunks = Math.min(num('chunks', 10), 10000);
  const delay = Math.min(num('delay_ms', 200), 600000);
  // `pause_after=K pause_ms=P`: the model pauses P ms after its K-th content chunk.
  const pauseAfter = num('pause_after', -1);
  const pauseMs = Math.min(num('pause_ms', 0), 600000);
  const id = `chatcmpl-standin-${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = String(parsed.model || 'agent_standin');
  const pieces = Array.from({ length: chunks }, (_, i) => `Chunk ${i + 1} of ${chunks}. `);
  if (!parsed.stream) {
    json(res, 200, {
      id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }],
    });
    return;
  }
  const out = startStream(req, res, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const base = { id, object: 'chat.completion.chunk', created, model };
  const send = (o) => out.write(`data: ${JSON.stringify(o)}\n\n`);
  send({ ...base, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
  let i = 0;
  let timer = null;
  const step = () => {
    if (i < chunks) {
      send({ ...base, choices: [{ index: 0, delta: { content: pieces[i] }, finish_reason: null }] });
      i += 1;
      timer = setTimeout(step, (i < chunks ? delay : 0) + (i === pauseAfter ? pauseMs : 0));
      return;
    }
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    out.write('data: [DONE]\n\n');
    out.end();
  };
  res.on('close', () => timer && clearTimeout(timer));
  timer = setTimeout(step, delay);
}

const ready = () => listeningAt !== null && performance.now() - listeningAt >= READY_DELAY_MS;

function handler(req, res) {
  const url = new URL(req.url, 'http://standin');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    log({ method: req.method, path: url.pathname, bytes: body.length });
    const p = url.pathname;
    if (req.method === 'GET' && p === '/health') {
      text(res, HEALTH_STATUS, HEALTH_STATUS === 200 ? 'OK' : 'NOT OK');
      return;
    }
    if (req.method === 'GET' && p === '/livez') return text(res, 200, 'OK');
    if (req.method === 'GET' && p === '/readyz') {
      return ready() && HEALTH_STATUS === 200 ? text(res, 200, 'OK') : text(res, 503, 'NOT_READY');
    }
    if (p === '/api/__standin/echo') {
      json(res, 200, {
        method: req.method,
        path: p,
        query: url.search.startsWith('?') ? url.search.slice(1) : url.search,
        headers: req.rawHeaders.reduce((acc, v, i, a) => (i % 2 === 0 ? [...acc, [v.toLowerCase(), a[i + 1]]] : acc), []),
        body_base64: body.toString('base64'),
      });
      return;
    }
    if (p === '/api/__standin/sse') return timedSse(req, res, url);
    if (req.method === 'GET' && p === '/api/config') {
      return json(res, 200, {
        appTitle: 'LibreChat', serverDomain: `http://${HOST}:${PORT}`, emailLoginEnabled: true,
        registrationEnabled: true, socialLogins: [], socialLoginEnabled: false, standin: true,
      });
    }
    if (req.method === 'POST' && p === '/api/agents/v1/chat/completions') return agentsChat(req, res, body);
    if (p === '/api' || p.startsWith('/api/')) return json(res, 404, { message: 'Endpoint not found' });
    text(res, 200, '<!doctype html><title>LibreChat stand-in</title>');
  });
}

setTimeout(() => {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  server.listen(PORT, HOST, () => {
    listeningAt = performance.now();
    log({ msg: `standin listening on ${HOST}:${PORT}` });
  });
  const stop = (sig) => {
    log({ msg: `standin stopping on ${sig}` });
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}, BOOT_DELAY_MS);
