#!/usr/bin/env node
// Entry point. Runs the compiled CLI in dist/ (written by `npm run build`, which `npm ci` runs).
// In a source checkout whose dist/ is missing or older than src/, the sources run instead through
// tsx's loader (about a second slower to start, never stale).
import { compiledIsCurrent } from './compiled.mjs';

if (compiledIsCurrent(new URL('../', import.meta.url))) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
