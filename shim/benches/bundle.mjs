// Issue 26, a lever measured and NOT kept (shim/README.md "Cold start (issue 26)": the bundle
// boots slower and takes more memory): LibreChat's API server as one esbuild bundle, so that
// Node resolves and reads one file instead of ~7,300. For boot_split.mjs's `bundle` variant:
//
//   NODE_PATH=DIR_WITH_ESBUILD/node_modules node shim/benches/bundle.mjs LIBRECHAT_TREE OUT_DIR
//
// (esbuild 0.25 from npm). OUT_DIR becomes a tree
// that mirrors LIBRECHAT_TREE with symlinks (so that paths LibreChat computes from its cwd still
// resolve) and holds api/server/bundle.js. Each bundled file keeps its own `__dirname`,
// `__filename` and `import.meta.url` (the original file's), so that code reading files beside
// itself (email templates, the plugin manifest, .proto and .wasm files) finds them. Native
// addons and the packages that load them, and what upstream installs outside the root's
// node_modules, stay external (required at run time from the tree).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [tree, out] = process.argv.slice(2).map((p) => p && path.resolve(p));
if (!tree || !out) {
  console.error('usage: node bundle.mjs LIBRECHAT_TREE OUT_DIR');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const esbuild = require('esbuild');

// The mirror: every entry of the tree as a symlink, except the directories the bundle goes into.
function mirror(src, dst, keep) {
  fs.mkdirSync(dst, { recursive: true });
  for (const name of fs.readdirSync(src)) {
    const rel = keep.find((k) => k === name || k.startsWith(name + '/'));
    if (rel) {
      mirror(path.join(src, name), path.join(dst, name), keep.filter((k) => k.startsWith(name + '/')).map((k) => k.slice(name.length + 1)));
    } else {
      fs.symlinkSync(path.join(src, name), path.join(dst, name));
    }
  }
}
fs.rmSync(out, { recursive: true, force: true });
mirror(tree, out, ['api/server']);

const keepPaths = {
  name: 'keep-paths',
  setup(build) {
    build.onLoad({ filter: /\.(c|m)?js$/ }, async (args) => {
      let text = await fs.promises.readFile(args.path, 'utf8');
      const uses = /__dirname|__filename|import\.meta\.url/.test(text);
      if (!uses) {
        return undefined;
      }
      const dir = JSON.stringify(path.dirname(args.path));
      const file = JSON.stringify(args.path);
      text = text.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href));
      // A shebang must stay first.
      const shebang = text.startsWith('#!') ? text.slice(0, text.indexOf('\n') + 1) : '';
      const body = shebang ? text.slice(shebang.length) : text;
      // Not where the file declares them itself (ESM code often does, from import.meta.url).
      const own = (n) => new RegExp(`\\b(const|let|var|function)\\s+${n}\\b`).test(body);
      const decl =
        (own('__dirname') ? '' : `var __dirname = ${dir}; `) +
        (own('__filename') ? '' : `var __filename = ${file};`) +
        '\n';
      return {
        contents: shebang + decl + body,
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

const result = await esbuild.build({
  entryPoints: [path.join(tree, 'api/server/index.js')],
  absWorkingDir: tree,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  outfile: path.join(out, 'api/server/bundle.js'),
  alias: { '~': path.join(tree, 'api') },
  external: ['*.node', 'sharp', '@napi-rs/canvas', 'xlsx'],
  keepNames: true,
  minifyWhitespace: process.env.BUNDLE_MINIFY === '1',
  minifySyntax: process.env.BUNDLE_MINIFY === '1',
  logLevel: 'error',
  metafile: true,
  plugins: [keepPaths],
});
const inputs = Object.keys(result.metafile.inputs).length;
const size = fs.statSync(path.join(out, 'api/server/bundle.js')).size;
console.log(`bundle: ${inputs} files into api/server/bundle.js (${(size / 1e6).toFixed(1)} MB) in ${out}`);
