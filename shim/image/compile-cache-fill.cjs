// Image build only (issue 26): fills Node's module compile cache with the code LibreChat's API
// server loads at boot, then exits. Run in the image build as
//
//   NODE_COMPILE_CACHE=/app/.node-compile-cache node --require /path/compile-cache-fill.cjs \
//     api/server/index.js
//
// with a MongoDB URI that is not answered (there is no database at build time): LibreChat loads
// its modules, calls mongoose.connect(), and this hook then writes the cache
// (module.flushCompileCache()) and exits 0. What LibreChat loads only after the connection
// (seeding, routes' lazy requires, post-listen init) is not in the cache;
// shim/README.md ("Cold start (issue 26)") has the figure. COMPILE_CACHE_FILL_UNTIL=ready waits
// for LibreChat's readiness log line instead (needs a database; used to measure that difference).
// Exits 3 when the Node has no compile cache (< 22.1) or NODE_COMPILE_CACHE is not set, 4 when
// LibreChat exits before the point is reached, 5 after COMPILE_CACHE_FILL_TIMEOUT_MS (120 s).
'use strict';

const Module = require('module');

const until = process.env.COMPILE_CACHE_FILL_UNTIL || 'connect';
const status = typeof Module.getCompileCacheDir === 'function' ? Module.getCompileCacheDir() : undefined;
if (typeof Module.flushCompileCache !== 'function' || !status) {
  process.stderr.write(
    `compile-cache-fill: no module compile cache on Node ${process.version} or NODE_COMPILE_CACHE not set\n`,
  );
  process.exit(3);
}

let done = false;
function finish(why) {
  if (done) {
    return;
  }
  done = true;
  Module.flushCompileCache();
  process.stderr.write(`compile-cache-fill: ${why}; cache written to ${Module.getCompileCacheDir()}\n`);
  process.exit(0);
}

if (until === 'connect') {
  const origLoad = Module._load;
  Module._load = function (request) {
    const mod = origLoad.apply(this, arguments);
    if (request === 'mongoose' && mod && typeof mod.connect === 'function' && !mod.__fillWrapped) {
      mod.__fillWrapped = true;
      const connect = mod.connect;
      mod.connect = function () {
        // The connection attempt's own modules are loaded synchronously by the call.
        const p = connect.apply(this, arguments);
        if (p && typeof p.catch === 'function') {
          p.catch(() => {});
        }
        setImmediate(() => finish('mongoose.connect() called'));
        return p;
      };
    }
    return mod;
  };
} else {
  const write = process.stdout.write;
  process.stdout.write = function (chunk) {
    if (String(chunk).includes('Server readiness checks passing')) {
      setImmediate(() => finish('LibreChat ready'));
    }
    return write.apply(this, arguments);
  };
}

process.on('exit', (code) => {
  if (!done) {
    process.stderr.write(`compile-cache-fill: LibreChat exited (${code}) before '${until}'\n`);
    process.exitCode = 4;
  }
});
setTimeout(() => {
  process.stderr.write(`compile-cache-fill: timed out waiting for '${until}'\n`);
  process.exit(5);
}, Number(process.env.COMPILE_CACHE_FILL_TIMEOUT_MS || 120000)).unref();
