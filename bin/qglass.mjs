#!/usr/bin/env node
// Entry point. Runs the compiled CLI in dist/ (written by `npm run build`, which `npm ci` runs).
// In a source checkout, if dist/ is missing or older than any file under src/, the sources run
// instead through tsx's loader (slower to start, never stale).
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const entry = new URL('dist/cli/main.js', root);
const stamp = new URL('dist/.build-stamp', root);
const srcDir = new URL('src/', root);

/** Whether anything under dir (a file, or a directory whose entries changed) is newer than t. */
function newerThan(dir, t) {
  if (statSync(dir).mtimeMs > t) return true;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.isDirectory() ? `${e.name}/` : e.name, dir);
    if (e.isDirectory() ? newerThan(p, t) : statSync(p).mtimeMs > t) return true;
  }
  return false;
}

// An installed package has dist/ and no src/; a checkout has both, and dist/ counts only when the
// build that wrote it finished (its stamp) after the last change under src/.
const compiled = existsSync(entry) && (!existsSync(srcDir) || (existsSync(stamp) && !newerThan(srcDir, statSync(stamp).mtimeMs)));
if (compiled) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
