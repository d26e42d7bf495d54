/**
 * The package as a user gets it: `npm pack` of the current dist/ (built here if stale, so its
 * `prepare` build is skipped), the tarball unpacked into a scratch project's node_modules/qglass,
 * and code there importing 'qglass' by name in plain Node (no loader) and type-checking against
 * its declarations.
 *
 * The tarball is unpacked, not `npm install`ed: an offline install needs every dependency's registry
 * metadata in the npm cache, which a machine that got its node_modules by `npm ci` from the lock
 * file does not have (and better-sqlite3 would compile again, about a minute). The scratch project
 * gets the repository's installed dependencies as symlinks at node_modules/<name>, the flat layout
 * npm would create, so everything else — what the tarball holds, `exports`, module resolution, the
 * bin script without src/ beside it — is what an installed copy sees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, REPO } from './dist.ts';

const scratch = mkdtempSync(join(tmpdir(), 'qglass-package-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

/** A child environment without the tsx loader this test runs under. */
const plainEnv = { ...process.env, NODE_OPTIONS: '', CI: '1' };

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: plainEnv, ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return String(r.stdout);
}

interface PackedFile { path: string }
let files: string[] = [];

test('npm pack: the tarball holds the compiled package, docs and examples, and no sources, tests or benches', () => {
  ensureBuilt();
  const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], { cwd: REPO });
  const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: PackedFile[] }[];
  files = info[0].files.map((f) => f.path);
  for (const f of ['package.json', 'LICENSE', 'README.md', 'bin/qglass.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/ensemble/worker.mjs', 'dist/util/kernel-worker.mjs', 'build/kernels.wasm', 'build/viewer.js', 'docs/methods.md', 'docs/cli.md', 'docs/api.md']) {
    assert.ok(files.includes(f), `tarball lacks ${f}`);
  }
  assert.ok(files.some((f) => f.startsWith('examples/')), 'tarball has no examples');
  const stray = files.filter((f) => /^(src|test|bench|scripts|\.ci)\//.test(f) || f.startsWith('tsconfig'));
  assert.deepEqual(stray, [], 'tarball carries files users do not need');

  const pkg = join(scratch, 'project', 'node_modules', 'qglass');
  mkdirSync(pkg, { recursive: true });
  run('tar', ['xzf', join(scratch, info[0].filename), '-C', pkg, '--strip-components=1']);
  for (const dep of readdirSync(join(REPO, 'node_modules'))) {
    if (dep.startsWith('.')) continue;
    symlinkSync(join(REPO, 'node_modules', dep), join(scratch, 'project', 'node_modules', dep));
  }
  writeFileSync(join(scratch, 'project', 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
});

test('import from "qglass" in plain Node: prepare + elastic give the numbers of the CLI, bit for bit', () => {
  const dir = join(scratch, 'project');
  writeFileSync(join(dir, 'api.mjs'), `
    import { DEFAULT_PREPARE, prepareGlass, measureElastic, resolveDensity, systemToConfiguration, writeExtendedXyz,
             readExtendedXyz, systemFromConfiguration, qModel, VERSION } from 'qglass';
    const Q = 10;
    const { density } = resolveDensity('zero-pressure', Q);
    const r = prepareGlass({ ...DEFAULT_PREPARE, Q, N: 256, density, seed: 3 });
    writeExtendedXyz('api.xyz', systemToConfiguration(r.system, { Q }));
    // The CLI measures the file it reads back, so measure that too.
    const system = systemFromConfiguration(readExtendedXyz('api.xyz'), qModel(Q));
    const e = measureElastic(system);
    const direct = measureElastic(r.system);
    console.log(JSON.stringify({ version: VERSION, energy: r.system.energy, K: e.K, G: e.G, nu: e.nu, converged: e.converged, directK: direct.K, directG: direct.G }));
  `);
  const api = JSON.parse(run(process.execPath, ['api.mjs'], { cwd: dir }));
  assert.equal(api.converged, true);

  const bin = join(dir, 'node_modules', 'qglass', 'bin', 'qglass.mjs');
  const prep = JSON.parse(run(process.execPath, [bin, 'prepare', '--q', '10', '--n', '256', '--seed', '3', '--out', 'cli.xyz', '--json'], { cwd: dir }));
  const cli = JSON.parse(run(process.execPath, [bin, 'measure', 'elastic', 'cli.xyz', '--json'], { cwd: dir }));
  assert.equal(run(process.execPath, [bin, '--version'], { cwd: dir }).trim(), api.version);

  assert.equal(prep.energyPerParticle * 256, api.energy);
  assert.equal(cli.K, api.K);
  assert.equal(cli.G, api.G);
  assert.equal(cli.nu, api.nu);
  // In memory (before the file's spatial re-sort) only the summation order differs.
  assert.ok(Math.abs(api.directK - api.K) <= 1e-9 * api.K, `K ${api.directK} vs ${api.K}`);
  assert.ok(Math.abs(api.directG - api.G) <= 1e-9 * api.G, `G ${api.directG} vs ${api.G}`);
});

test('TypeScript users type-check against the declarations in dist/', () => {
  const dir = join(scratch, 'project');
  writeFileSync(join(dir, 'check.ts'), `
    import { DEFAULT_PREPARE, prepareGlass, measureElastic, type ElasticResult, type PrepareOptions } from 'qglass';
    const opts: PrepareOptions = { ...DEFAULT_PREPARE, Q: 240, N: 256, density: 0.65, seed: 1 };
    const e: ElasticResult = measureElastic(prepareGlass(opts).system);
    const nu: number = e.nu;
    // @ts-expect-error: the declarations know K is a number
    const wrong: string = e.K;
    export { nu, wrong };
  `);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'] },
    files: ['check.ts'],
  }));
  run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir });
});
