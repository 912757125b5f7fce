// Dependency-free stand-in for the LibreChat API (Node >= 20). See README.md beside this file.
import http from 'node:http';

const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number(process.env.PORT || 3080);
const BOOT_DELAY_MS = Number(process.env.STANDIN_BOOT_DELAY_MS || 0);
const HEALTH_STATUS = Number(process.env.STANDIN_HEALTH_STATUS || 200);

const SSE_ROUTES = [/^\/api\/ask\//, /^\/api\/chat\//, /^\/api\/agents\/chat\//];

function json(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function intParam(url, name, dflt, max) {
  const v = url.searchParams.get(name);
  if (v === null || v === '' || !/^\d+$/.test(v)) return dflt;
  return Math.min(Number(v), max);
}

function sse(req, res, url) {
  const events = intParam(url, 'events', 5, 100000);
  const interval = intParam(url, 'interval_ms', 100, 600000);
  const failAfter = url.searchParams.has('fail_after') ? intParam(url, 'fail_after', 0, 100000) : null;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  let seq = 0;
  let timer = null;
  const start = performance.now();
  const tick = () => {
    seq += 1;
    if (failAfter !== null && seq > failAfter) {
      // Drop the connection mid-stream, without a terminating chunk.
      res.socket?.destroy();
      return;
    }
    const data = { seq, sent_at_ms: performance.timeOrigin + performance.now(), text: `token ${seq}` };
    res.write(`event: message\ndata: ${JSON.stringify(data)}\n\n`);
    if (seq >= events) {
      res.write(`event: done\ndata: ${JSON.stringify({ total: events })}\n\n`);
      res.end();
      return;
    }
    // Schedule against the start time so spacing does not drift.
    timer = setTimeout(tick, Math.max(0, start + seq * interval - performance.now()));
  };
  res.on('close', () => timer && clearTimeout(timer));
  tick();
}

function handler(req, res) {
  const url = new URL(req.url, 'http://standin');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    console.log(JSON.stringify({ ts: new Date().toISOString(), method: req.method, path: url.pathname, bytes: body.length }));
    if (req.method === 'GET' && url.pathname === '/api/health') {
      res.writeHead(HEALTH_STATUS, { 'content-type': 'text/plain' });
      res.end(HEALTH_STATUS === 200 ? 'OK' : 'NOT READY');
      return;
    }
    if (req.method === 'POST' && SSE_ROUTES.some((r) => r.test(url.pathname))) {
      sse(req, res, url);
      return;
    }
    if (url.pathname === '/api/echo') {
      json(res, 200, {
        method: req.method,
        path: url.pathname,
        query: url.search.startsWith('?') ? url.search.slice(1) : url.search,
        headers: req.rawHeaders.reduce((acc, v, i, a) => (i % 2 === 0 ? [...acc, [v.toLowerCase(), a[i + 1]]] : acc), []),
        body_base64: body.toString('base64'),
      });
      return;
    }
    json(res, 404, { error: 'not_found', path: url.pathname });
  });
}

setTimeout(() => {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  server.listen(PORT, HOST, () => console.log(JSON.stringify({ ts: new Date().toISOString(), msg: `standin listening on ${HOST}:${PORT}` })));
  const stop = (sig) => {
    console.log(JSON.stringify({ ts: new Date().toISOString(), msg: `standin stopping on ${sig}` }));
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}, BOOT_DELAY_MS);
