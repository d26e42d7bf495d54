#!/usr/bin/env node
/**
 * Compiles src/ into dist/: JavaScript and declaration files by the pinned TypeScript compiler
 * (tsconfig.build.json rewrites `.ts` import paths to `.js`), then every file under src/ that is not
 * TypeScript (the worker bootstrap, compiled kernels) copied to the same place under dist/.
 * `npm run build` runs the kernel build (`build:kernels`, when defined) before this script, so
 * kernels written into src/ are copied along. Runs from `prepare`, so `npm ci` leaves a ready dist/.
 * The tree is built beside dist/ and swapped in by renames, so a CLI started during a rebuild (the
 * test suite builds while it runs) sees the old tree, the new one, or none (then bin/qglass.mjs runs
 * the sources), never a half-written one. dist/.build-stamp records when the build finished:
 * bin/qglass.mjs compares it against src/ to never run stale compiled code in a checkout.
 * The report's 3-D viewer (src/report/viewer/, a browser module outside the Node build) is bundled
 * with three.js by esbuild into build/viewer.js, which `qglass report` inlines into the page.
 */
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const final = join(root, 'dist');
const dist = join(root, `.dist-build-${process.pid}`);
const old = join(root, `.dist-old-${process.pid}`);

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write(`build: tsc failed (exit ${r.status ?? r.signal})\n`);
  process.exit(r.status || 1);
}

// The viewer bundle, written whole (temporary file, rename) like the kernels it sits beside.
const viewerSrc = join(src, 'report', 'viewer');
const viewer = join(root, 'build', 'viewer.js');
try {
  const out = await build({
    entryPoints: [join(viewerSrc, 'main.ts')], bundle: true, write: false, format: 'iife', platform: 'browser',
    target: 'es2020', minify: true, logLevel: 'warning',
  });
  const text = out.outputFiles[0].text;
  // the page inlines it in a <script> element, which this sequence would end
  if (/<\/script/i.test(text)) throw new Error('the viewer bundle contains "</script"');
  mkdirSync(dirname(viewer), { recursive: true });
  writeFileSync(`${viewer}.${process.pid}.tmp`, text);
  renameSync(`${viewer}.${process.pid}.tmp`, viewer);
} catch (err) {
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write(`build: bundling the report viewer failed: ${err.message}\n`);
  process.exit(1);
}

// tsc rewrites `.ts` import paths in the JavaScript only; declaration files get the same rewrite here
// so that TypeScript users resolve them without `allowImportingTsExtensions`.
const relativeTs = /((?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g;
(function rewriteDeclarations(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) rewriteDeclarations(p);
    else if (e.name.endsWith('.d.ts')) writeFileSync(p, readFileSync(p, 'utf8').replace(relativeTs, '$1.js$2'));
  }
})(dist);

let copied = 0;
(function copyAssets(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, e.name);
    if (from === viewerSrc) continue; // bundled above, not part of the Node package
    if (e.isDirectory()) copyAssets(from);
    else if (!e.name.endsWith('.ts')) {
      const to = join(dist, relative(src, from));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
      copied++;
    }
  }
})(src);

writeFileSync(join(dist, '.build-stamp'), `${new Date().toISOString()}\n`);
// Another build may swap its tree in between the two renames: then move that one aside too.
for (let attempt = 0; ; attempt++) {
  try { renameSync(final, `${old}-${attempt}`); } catch (err) { if (err.code !== 'ENOENT') throw err; }
  try { renameSync(dist, final); break; } catch (err) { if (!['ENOTEMPTY', 'EEXIST'].includes(err.code) || attempt > 10) throw err; }
}
for (const e of readdirSync(root)) if (e.startsWith(`.dist-old-${process.pid}`)) rmSync(join(root, e), { recursive: true, force: true });
process.stderr.write(`build: dist/ written (${copied} non-TypeScript file${copied === 1 ? '' : 's'} copied)\n`);
