// Runs the CloudFront Function (spa.js) under node: SPA routes get /index.html, files do not.
// Run: node infrastructure/terraform/modules/frontend/tests/spa_test.js
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const code = fs.readFileSync(path.join(__dirname, '..', 'spa.js'), 'utf8');
const handler = new Function(`${code}\nreturn handler;`)();
const rewrite = (uri) => handler({ request: { uri, method: 'GET', headers: {} } }).uri;

const cases = [
  ['/', '/index.html'],
  ['/c/new', '/index.html'],
  ['/chat/123', '/index.html'],
  ['/login', '/index.html'],
  ['/c/abc/', '/index.html'],
  ['/index.html', '/index.html'],
  ['/assets/index-3f2a1b.js', '/assets/index-3f2a1b.js'],
  ['/assets/vendor.css', '/assets/vendor.css'],
  ['/manifest.webmanifest', '/manifest.webmanifest'],
  ['/fonts/Inter.woff2', '/fonts/Inter.woff2'],
];
for (const [uri, want] of cases) {
  assert.equal(rewrite(uri), want, `rewrite(${uri})`);
}
console.log(`spa.js: ${cases.length} cases pass`);
