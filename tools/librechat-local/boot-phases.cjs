// Boot-phase marks for LibreChat's API server (a measuring aid for benchmarks, not for the image).
//
//   NODE_OPTIONS="--require /path/to/boot-phases.cjs" BOOT_PHASES_FILE=/tmp/phases.jsonl \
//     node api/server/index.js
//
// Appends one JSON line per mark to BOOT_PHASES_FILE: {"mark":..., "ms":<since process start>,
// "epoch_ms":...}. `ms` is `performance.now()`, whose origin is the start of the Node process.
// The marks follow api/server/index.js (v0.8.6) in order:
//   preload           Node's own bootstrap is done, user code starts
//   mongo_connect     mongoose.connect() called: the server's modules are loaded (startServer runs)
//   mongo_connected   the connection is open
//   index_html_read   client/dist/index.html read: seeding, app config and startup checks are done
//   listen            app.listen() called: middleware and routes are set up
//   listening         the port accepts connections
//   ready             'Server readiness checks passing.' logged: /readyz answers 200 from now
// Nothing is changed in LibreChat's behaviour; the hooks only record times.
'use strict';

const fs = require('fs');
const Module = require('module');
const http = require('http');
const { performance } = require('perf_hooks');

const file = process.env.BOOT_PHASES_FILE;
const seen = new Set();

function mark(name) {
  if (!file || seen.has(name)) {
    return;
  }
  seen.add(name);
  const ms = performance.now();
  const line = JSON.stringify({ mark: name, ms, epoch_ms: performance.timeOrigin + ms, pid: process.pid });
  try {
    fs.appendFileSync(file, line + '\n');
  } catch (_) {
    // a measuring aid: never break the server
  }
}

mark('preload');

// mongoose: wrap connect() of every copy that gets loaded.
const origLoad = Module._load;
const wrapped = new WeakSet();
Module._load = function (request, parent, isMain) {
  const mod = origLoad.apply(this, arguments);
  if (request === 'mongoose' && mod && typeof mod.connect === 'function' && !wrapped.has(mod)) {
    wrapped.add(mod);
    const connect = mod.connect;
    mod.connect = function () {
      mark('mongo_connect');
      const p = connect.apply(this, arguments);
      if (p && typeof p.then === 'function') {
        p.then(() => mark('mongo_connected'), () => {});
      }
      return p;
    };
  }
  return mod;
};

const readFileSync = fs.readFileSync;
fs.readFileSync = function (p) {
  const r = readFileSync.apply(this, arguments);
  if (typeof p === 'string' && p.endsWith('index.html') && seen.has('mongo_connected')) {
    mark('index_html_read');
  }
  return r;
};

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function () {
  mark('listen');
  this.once('listening', () => mark('listening'));
  return listen.apply(this, arguments);
};

// LibreChat's logger writes to stdout; the readiness line marks the end of post-listen init.
const write = process.stdout.write;
process.stdout.write = function (chunk) {
  if (!seen.has('ready') && String(chunk).includes('Server readiness checks passing')) {
    mark('ready');
  }
  return write.apply(this, arguments);
};
