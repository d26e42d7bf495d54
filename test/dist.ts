/**
 * Tests that run the package as users do (plain Node importing 'qglass', the tarball) need dist/ to
 * match src/. `npm test` builds first (pretest); a test file run alone builds here when dist/ is stale.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compiledIsCurrent } from '../bin/compiled.mjs';

export const REPO_URL = new URL('../', import.meta.url);
export const REPO = fileURLToPath(REPO_URL);

export function ensureBuilt(): void {
  if (compiledIsCurrent(REPO_URL)) return;
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('scripts/build.mjs', REPO_URL))], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stderr}`);
}
