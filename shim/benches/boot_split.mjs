#!/usr/bin/env node
// Benchmark (not a test): the real LibreChat's boot, spawn to ready, split into phases, at a
// Lambda function's CPU share, for several ways of starting it (levers), interleaved in one run.
// Issue 26, item 1 and 2.
//
//   LIBRECHAT_DIR=/path/librechat-v0.8.6 LIBRECHAT_NX=/path/nx-27017 \
//   BOOT_VARIANTS=./shim/benches/boot_variants.json BOOT_ROUNDS=3 BOOT_SHARES=1024,2048 \
//     node shim/benches/boot_split.mjs
//
// Once: nx-27017 (a fresh data dir, seeded by one uncounted warm-up boot), redis-server (the
// image runs with USE_REDIS=true). Then BOOT_ROUNDS rounds; in each round, for each share and each
// variant (the variants' order rotates from round to round), one boot:
//   - LibreChat (`<node> <entry>` in the variant's cwd) is spawned as uid/gid 65534 (setpriv; the
//     tree is root's, so read-only to it, as in the image on Lambda), HOME=/tmp, with
//     tools/librechat-local/librechat.env and the Dockerfile's LibreChat settings;
//   - with a CPU share: into a fresh cgroup v1 cpu directory (/sys/fs/cgroup/cpu/
//     opsconsole-bootsplit-PID-N, cfs_period_us 100000, cfs_quota_us = 100000 * MB / 1769, the
//     local Lambda's formula, crates/locallambda/src/isolation.rs) before exec; where that is not
//     writable, the share is reported as not measured ("whole machine" still runs);
//   - `GET /readyz` every 10 ms until 200: spawn to ready, as the shim's readiness sees it;
//   - tools/librechat-local/boot-phases.cjs (--require) records the phases from the Node process
//     start: process start (spawn to Node's user code), module loading (to mongoose.connect),
//     database connection, seeding/config (to index.html read), listen, post-listen init (to
//     the readiness log line);
//   - CPU time of the process (utime+stime, /proc) at ready and peak RSS (VmHWM).
// Prints min / median / max per cell and the load average at start and end; BOOT_JSON=FILE
// writes every sample; BOOT_LOG_DIR=DIR keeps each boot's output, lines prefixed with the time
// since spawn.
//
// A variant (BOOT_VARIANTS, a JSON array; default: the system node as is):
//   {"name": "node22+cache", "node": "/abs/node", "cwd": "/abs/tree", "entry": "api/server/index.js",
//    "node_options": "--max-semi-space-size=16", "args": ["--single-threaded"],
//    "env": {"NODE_COMPILE_CACHE": "/abs/cache"}}
// (`args` go on node's command line before the entry: V8 flags NODE_OPTIONS does not take;
// `@FRESH@` in an env value is a new directory per boot, as Lambda's /tmp.)
// `cwd` defaults to LIBRECHAT_DIR, `entry` to api/server/index.js, `node` to `node` on PATH;
// `${VAR}` is taken from the environment. shim/benches/boot_levers.json: the levers of issue 26.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const lcDir = process.env.LIBRECHAT_DIR;
const nxBin = process.env.LIBRECHAT_NX;
if (!lcDir || !nxBin) {
  console.error('boot_split: set LIBRECHAT_DIR and LIBRECHAT_NX (eval "$(scripts/librechat-tier.sh)")');
  process.exit(2);
}
const rounds = Number(process.env.BOOT_ROUNDS || 3);
const shares = (process.env.BOOT_SHARES || '1024,2048')
  .split(',')
  .filter(Boolean)
  .map((s) => (s === 'none' ? null : Number(s)));
if (!shares.includes(null) && process.env.BOOT_WHOLE !== '0') shares.push(null);
// `${VAR}` in a variant's strings is replaced by the environment's VAR (paths differ by machine).
const expand = (x) =>
  typeof x === 'string'
    ? x.replace(/\$\{(\w+)\}/g, (_, k) => {
        if (process.env[k] === undefined) throw new Error(`boot_split: \${${k}} is not set`);
        return process.env[k];
      })
    : Array.isArray(x)
      ? x.map(expand)
      : x && typeof x === 'object'
        ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, expand(v)]))
        : x;
const variants = process.env.BOOT_VARIANTS
  ? expand(JSON.parse(fs.readFileSync(process.env.BOOT_VARIANTS, 'utf8')))
  : [{ name: 'system node' }];
const phasesHook = path.join(repo, 'tools/librechat-local/boot-phases.cjs');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'boot-split-'));
fs.chmodSync(work, 0o777);
const cgRoot = '/sys/fs/cgroup/cpu';
let cgSeq = 0;

function freePort() {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitPort(port, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        res(true);
      });
      c.on('error', () => res(false));
    });
    if (ok) return true;
    await sleep(20);
  }
  return false;
}
function get(port, p) {
  return new Promise((res) => {
    const r = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (resp) => {
      resp.resume();
      resp.on('end', () => res(resp.statusCode));
    });
    r.on('error', () => res(0));
    r.setTimeout(2000, () => {
      r.destroy();
      res(0);
    });
  });
}
function envFile(file) {
  const out = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#') || !t.includes('=')) continue;
    const i = t.indexOf('=');
    out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}
function cpuQuotaUs(mb) {
  return Math.ceil((100000 * mb) / 1769);
}
function makeCgroup(mb) {
  if (mb === null) return null;
  const d = path.join(cgRoot, `opsconsole-bootsplit-${process.pid}-${cgSeq++}`);
  try {
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'cpu.cfs_period_us'), '100000');
    fs.writeFileSync(path.join(d, 'cpu.cfs_quota_us'), String(cpuQuotaUs(mb)));
    cgroups.add(d);
    return d;
  } catch (e) {
    return { error: e.message };
  }
}
function procCpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    const tick = 100; // USER_HZ on Linux
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / tick;
  } catch {
    return NaN;
  }
}
function procHwmMb(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// --- the shared services ---
const procs = [];
const cgroups = new Set();
function cleanup() {
  for (const p of procs) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {}
  }
  for (const d of cgroups) {
    try {
      fs.rmdirSync(d);
    } catch {}
  }
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const nxPort = await freePort();
fs.mkdirSync(path.join(work, 'nx'));
procs.push(
  spawn(nxBin, ['--host', '127.0.0.1', '-p', String(nxPort), '--data-dir', path.join(work, 'nx'),
    '--log-file', path.join(work, 'nx.log'), '--pid-file', path.join(work, 'nx.pid')],
  { detached: true, stdio: 'ignore' }),
);
const redisPort = await freePort();
procs.push(
  spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no'],
    { detached: true, stdio: 'ignore' }),
);
if (!(await waitPort(nxPort, 30000)) || !(await waitPort(redisPort, 20000))) {
  console.error('boot_split: nx-27017 or redis-server did not start');
  process.exit(1);
}
const config = path.join(work, 'librechat.yaml');
fs.copyFileSync(path.join(repo, 'tools/librechat-local/librechat.yaml'), config);
fs.chmodSync(config, 0o644);
const baseEnv = {
  PATH: process.env.PATH,
  // the Dockerfile's LibreChat settings
  NODE_ENV: 'production',
  LOG_TO_FILE: 'false',
  HOME: '/tmp',
  LIBRECHAT_LOG_DIR: path.join(work, 'logs'),
  CONFIG_PATH: config,
  ...envFile(path.join(repo, 'tools/librechat-local/librechat.env')),
  MONGO_URI: `mongodb://127.0.0.1:${nxPort}/LibreChat`,
  USE_REDIS: 'true',
  REDIS_URI: `redis://127.0.0.1:${redisPort}`,
  HOST: '127.0.0.1',
  FAKE_LLM_BASE_URL: 'http://127.0.0.1:9/v1',
  FAKE_LLM_API_KEY: 'sk-fake',
  TMPDIR: work,
};

async function boot(v, mb) {
  if (leaderMode === 'none') dropLeader();
  const port = await freePort();
  const phasesFile = path.join(work, `phases-${port}.jsonl`);
  const cg = makeCgroup(mb);
  if (cg && typeof cg === 'object') return { error: `cgroup: ${cg.error}` };
  // `@FRESH@` in a variant's env: a new directory for this boot (Lambda's /tmp is per environment).
  const fresh = path.join(work, `fresh-${port}`);
  const venv = Object.fromEntries(Object.entries(v.env || {}).map(([k, x]) => [k, x.replaceAll('@FRESH@', fresh)]));
  const env = {
    ...baseEnv,
    ...venv,
    PORT: String(port),
    DOMAIN_CLIENT: `http://127.0.0.1:${port}`,
    DOMAIN_SERVER: `http://127.0.0.1:${port}`,
    BOOT_PHASES_FILE: phasesFile,
    NODE_OPTIONS: [v.node_options || '', `--require ${phasesHook}`].join(' ').trim(),
  };
  const node = v.node || 'node';
  const entry = v.entry || 'api/server/index.js';
  const cwd = v.cwd || lcDir;
  // Into the cgroup before exec (the shell's pid is the node's after exec), then drop to 65534.
  const script = `${cg ? `echo $$ > ${cg}/cgroup.procs && ` : ''}exec setpriv --reuid=65534 --regid=65534 --clear-groups "$0" "$@"`;
  const t0 = process.hrtime.bigint();
  const child = spawn('/bin/sh', ['-c', script, node, ...(v.args || []), entry], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(child);
  let tail = '';
  const logFile = process.env.BOOT_LOG_DIR
    ? path.join(process.env.BOOT_LOG_DIR, `${v.name.replace(/[^\w.+-]/g, '_')}-${mb ?? 'whole'}-${port}.log`)
    : null;
  const keep = (d) => {
    tail = (tail + d.toString()).slice(-4000);
    if (logFile) {
      const ms = (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0);
      fs.appendFileSync(logFile, d.toString().replace(/^(?=.)/gm, `+${ms} ms `));
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  let readyMs = null;
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline && !exited) {
    if ((await get(port, '/readyz')) === 200) {
      readyMs = Number(process.hrtime.bigint() - t0) / 1e6;
      break;
    }
    await sleep(10);
  }
  const cpuMs = procCpuMs(child.pid);
  const hwm = procHwmMb(child.pid);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
  await new Promise((r) => (exited ? r() : child.once('exit', r)));
  procs.splice(procs.indexOf(child), 1);
  if (cg) {
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(cg);
        cgroups.delete(cg);
        break;
      } catch {
        await sleep(20);
      }
    }
  }
  if (readyMs === null) return { error: `not ready: ${tail.slice(-800)}` };
  const marks = {};
  for (const l of fs.readFileSync(phasesFile, 'utf8').split('\n').filter(Boolean)) {
    const m = JSON.parse(l);
    marks[m.mark] = m.ms;
  }
  return { ready_ms: readyMs, cpu_ms: cpuMs, hwm_mb: hwm, marks };
}

function split(s) {
  const m = s.marks;
  const d = (a, b) => (m[a] !== undefined && m[b] !== undefined ? m[b] - m[a] : NaN);
  return {
    'spawn->ready': s.ready_ms,
    'process start': m.preload ?? NaN,
    'module loading': d('preload', 'mongo_connect'),
    'db connect': d('mongo_connect', 'mongo_connected'),
    'seed+config': d('mongo_connected', 'index_html_read'),
    listen: d('index_html_read', 'listening'),
    'post-listen': d('listening', 'ready'),
    'cpu at ready': s.cpu_ms,
    'peak RSS MB': s.hwm_mb,
  };
}

// LibreChat elects a leader through Redis (USE_REDIS=true) at boot; its post-listen init waits
// for it: with a live leader (another environment), a follower waits MCP_INIT_FOLLOWER_RETRY_MS
// (3 s) before it sees the registry initialized; with none, a random 0-2 s before it elects
// itself. BOOT_LEADER=live (default) keeps one LibreChat (whole machine, the first variant)
// running as the leader for the whole run; BOOT_LEADER=none deletes the leader key before each
// boot (a SIGKILLed boot keeps its 25 s lease otherwise).
const leaderMode = process.env.BOOT_LEADER || 'live';
function dropLeader() {
  const keys = spawnSync('redis-cli', ['-p', String(redisPort), '--scan', '--pattern', '*LeadingServerUUID'], { encoding: 'utf8' })
    .stdout.split('\n').filter(Boolean);
  for (const k of keys) spawnSync('redis-cli', ['-p', String(redisPort), 'DEL', k]);
}
let leader = null;
if (leaderMode === 'live') {
  const port = await freePort();
  leader = spawn(variants[0].node || 'node', [variants[0].entry || 'api/server/index.js'], {
    cwd: variants[0].cwd || lcDir,
    env: { ...baseEnv, ...(variants[0].env || {}), PORT: String(port), DOMAIN_CLIENT: `http://127.0.0.1:${port}`, DOMAIN_SERVER: `http://127.0.0.1:${port}` },
    detached: true,
    stdio: 'ignore',
  });
  procs.push(leader);
  const end = Date.now() + 120000;
  while (Date.now() < end && (await get(port, '/readyz')) !== 200) await sleep(50);
}

// --- the run ---
const cgOk = (() => {
  const c = makeCgroup(1024);
  if (c && typeof c === 'string') {
    fs.rmdirSync(c);
    return true;
  }
  return false;
})();
const loadStart = loadavg();
console.log(`boot_split: ${variants.length} variants x ${shares.length} shares x ${rounds} rounds; leader ${leaderMode}; cgroup cpu ${cgOk ? 'writable' : 'NOT writable: shares not applied'}; load ${loadStart}`);
// Warm-up (uncounted): seeds the database, fills the page cache for every variant.
for (const v of variants) {
  const w = await boot(v, null);
  console.log(`warm-up ${v.name}: ${w.error ? w.error : `${w.ready_ms.toFixed(0)} ms`}`);
}
const samples = [];
for (let r = 0; r < rounds; r++) {
  for (const mb of shares) {
    if (mb !== null && !cgOk) continue;
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length];
      const s = await boot(v, mb);
      const share = mb === null ? 'whole machine' : `${mb} MB`;
      samples.push({ variant: v.name, share, round: r, load: loadavg(), ...s });
      console.log(`round ${r} ${share} ${v.name}: ${s.error ? s.error : `ready ${s.ready_ms.toFixed(0)} ms, cpu ${s.cpu_ms.toFixed(0)} ms`} (load ${loadavg()})`);
    }
  }
}
const loadEnd = loadavg();
if (process.env.BOOT_JSON) fs.writeFileSync(process.env.BOOT_JSON, JSON.stringify(samples, null, 1));

const q = (xs) => {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return '-';
  const med = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return `${v[0].toFixed(0)} / ${med.toFixed(0)} / ${v[v.length - 1].toFixed(0)}`;
};
console.log(`\nmin / median / max (ms; RSS MB), ${rounds} boots per cell, leader ${leaderMode}, load ${loadStart} -> ${loadEnd}, node ${process.version} driving`);
for (const mb of shares) {
  const share = mb === null ? 'whole machine' : `${mb} MB`;
  const cell = samples.filter((s) => s.share === share);
  if (!cell.length) {
    console.log(`\n${share}: not measured (cgroup cpu not writable)`);
    continue;
  }
  console.log(`\n${share} (CPU quota ${mb === null ? '-' : cpuQuotaUs(mb) + ' us / 100 ms'})`);
  const cols = ['spawn->ready', 'process start', 'module loading', 'db connect', 'seed+config', 'listen', 'post-listen', 'cpu at ready', 'peak RSS MB'];
  console.log(['variant'.padEnd(24), ...cols.map((c) => c.padStart(20))].join(''));
  for (const v of variants) {
    const ok = cell.filter((s) => s.variant === v.name && !s.error);
    const failed = cell.filter((s) => s.variant === v.name && s.error).length;
    const rows = ok.map(split);
    console.log([
      `${v.name}${failed ? ` (${failed} failed)` : ''}`.padEnd(24),
      ...cols.map((c) => q(rows.map((r) => r[c])).padStart(20)),
    ].join(''));
  }
}
cleanup();
fs.rmSync(work, { recursive: true, force: true });
