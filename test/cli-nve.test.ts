import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeStepFor } from '../src/engine/dynamics.ts';
import { systemToConfiguration } from '../src/engine/system.ts';
import { readExtendedXyz, writeExtendedXyz } from '../src/io/xyz.ts';
import { smallGlass } from './fixtures.ts';

const bin = new URL('../bin/qglass.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'qglass-nve-'));
const glass = join(dir, 'glass.xyz');
writeExtendedXyz(glass, systemToConfiguration(smallGlass(10, 256, 2).system, { Q: 10 }));

function qglass(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('nve --json reports the run (fields, dt from the prepare rule, the kernel set), is reproducible from its seed, and writes the final state', () => {
  const out = join(dir, 'after.xyz');
  const args = ['nve', glass, '--temperature', '0.8', '--steps', '300', '--seed', '5', '--json'];
  const a = qglass([...args, '--out', out]);
  assert.equal(a.code, 0, a.stderr);
  const r = JSON.parse(a.stdout.trim());
  for (const key of ['N', 'steps', 'dt', 'atomStepsPerSecond', 'energyDrift', 'finalTemperature', 'neighborBuilds', 'cellSearches', 'kernels']) assert.ok(key in r, `missing ${key}`);
  assert.equal(r.N, 256);
  assert.equal(r.steps, 300);
  assert.equal(r.dt, timeStepFor(10, 0.8));
  assert.equal(r.kernels, process.env.QGLASS_KERNELS === 'js' ? 'js' : 'wasm', 'the kernel set that ran (npm test builds the WebAssembly kernels first)');
  assert.ok(r.atomStepsPerSecond > 0 && r.neighborBuilds >= 1 && r.cellSearches >= 1 && r.cellSearches <= r.neighborBuilds);
  assert.ok(r.energyDrift < 2e-3 * 0.8, `drift ${r.energyDrift}`);
  // a glass heated to T = 0.8 shares its kinetic energy with the potential: T falls, but stays of that order
  assert.ok(r.finalTemperature > 0.2 && r.finalTemperature < 0.8, `final T ${r.finalTemperature}`);
  assert.equal(readExtendedXyz(out).species.length, 256);
  const b = JSON.parse(qglass(args).stdout.trim());
  assert.equal(b.finalTemperature, r.finalTemperature);
  assert.equal(b.energyDrift, r.energyDrift);
});

test('nve energy error shrinks like dt² (velocity Verlet is second order)', () => {
  const dt = 0.004;
  const run = (h: number, steps: number) => JSON.parse(qglass(['nve', glass, '--dt', String(h), '--steps', String(steps), '--json']).stdout.trim());
  const coarse = run(dt, 250), fine = run(dt / 2, 500);
  const ratio = coarse.energyDrift / fine.energyDrift;
  assert.ok(ratio > 2.5 && ratio < 6, `drift ${coarse.energyDrift} at dt = ${dt}, ${fine.energyDrift} at dt/2: ratio ${ratio}`);
});

test('nve refuses bad input before running: exit code 2 and a message naming the problem', () => {
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['nve', glass, '--steps', '0'], /--steps must be ≥ 1/],
    [['nve', glass, '--steps', '100000000'], /pass --force/],
    [['nve', glass, '--temperature', '-1'], /--temperature must be > 0/],
    [['nve', join(dir, 'missing.xyz')], /no such file/],
    [['nve', glass, '--out', (mkdirSync(join(dir, 'sub'), { recursive: true }), join(dir, 'sub'))], /not a regular file/],
    [['nve', glass, '--steps', '10'], /QGLASS_KERNELS must be "js" or "wasm"; got "gpu"/, { QGLASS_KERNELS: 'gpu' }],
  ];
  for (const [args, message, env] of cases) {
    const r = qglass(args, env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
