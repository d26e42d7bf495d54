import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../bin/qglass.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'qglass-cli-'));

function qglass(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('prepare --json prints one JSON object with the contract fields and writes a glass that energy reads back', () => {
  const out = join(dir, 'g.xyz');
  const r = qglass('prepare', '--q', '40', '--n', '256', '--seed', '3', '--density', '0.6', '--nve-time', '0.5', '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'stdout holds only the JSON object');
  const s = JSON.parse(lines[0]);
  for (const key of ['Q', 'N', 'density', 'densityMode', 'seed', 'energyPerParticle', 'pressure', 'maxForce', 'converged',
    'minimizerIterations', 'forceEvaluations', 'mdSteps', 'dt', 'energyDrift', 'timings']) assert.ok(key in s, `missing ${key}`);
  assert.equal(s.converged, true);
  assert.ok(s.maxForce < 1e-10);
  assert.equal(s.densityMode, 'explicit');
  for (const stage of ['overlap', 'nve', 'quench']) assert.ok(s.timings[stage] >= 0);
  const e = qglass('energy', out, '--json');
  assert.equal(e.code, 0, e.stderr);
  const en = JSON.parse(e.stdout);
  assert.equal(en.Q, 40);
  assert.equal(en.N, 256);
  // the file round-trips exactly, so energy and max force are those of the quenched glass
  assert.ok(Math.abs(en.energyPerParticle - s.energyPerParticle) < 1e-13 * Math.abs(s.energyPerParticle));
  assert.ok(en.maxForce < 1e-10);
  assert.match(readFileSync(out, 'utf8').split('\n')[1], /Q=40/);
});

test('bad input gets a clear error and exit code 2', () => {
  const cases: [string[], RegExp][] = [
    [['prepare', '--q', '40', '--n', '1000'], /N must be 4·k³.*Nearest valid N: 864/],
    [['prepare', '--q', '6', '--n', '256'], /Q must be a finite number > 6/],
    [['prepare', '--q', '40', '--n', '256', '--density', '-0.5'], /density must be a positive number/],
    [['prepare', '--q', '40', '--n', '256', '--density', 'dense'], /--density must be zero-pressure, paper or a number/],
    [['prepare', '--q', '30', '--n', '256'], /no zero-pressure density is tabulated for Q = 30; run `qglass calibrate --q 30/],
    [['prepare', '--q', 'abc', '--n', '256'], /--q must be a number/],
    [['energy', join(dir, 'missing.xyz')], /cannot read .*missing\.xyz.*no such file/],
  ];
  for (const [args, pattern] of cases) {
    const r = qglass(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace for input errors');
  }
  const bad = join(dir, 'bad.xyz');
  writeFileSync(bad, '3\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\nS 0 0 0\n');
  const r = qglass('energy', bad, '--q', '40');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.xyz/);
  const unknown = qglass('prepare', '--q', '40', '--n', '256', '--frobnicate');
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown option '--frobnicate'/);
});

test('prepare --model harmonic --pressure writes a packing whose law the measurements read from the file; rattlers are excluded', () => {
  const out = join(dir, 'packing.xyz');
  const r = qglass('prepare', '--model', 'harmonic', '--pressure', '1e-2', '--n', '128', '--seed', '5', '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.model, 'harmonic');
  assert.ok(Math.abs(s.pressure / 1e-2 - 1) <= 1e-3 && s.converged);
  const e = qglass('measure', 'elastic', out, '--json');
  assert.equal(e.code, 0, e.stderr);
  const m = JSON.parse(e.stdout);
  assert.equal(m.model, 'harmonic');
  assert.equal(m.rattlers, s.rattlers);
  assert.equal(m.N, 128 - s.rattlers);
  assert.ok(Math.abs(m.Z - s.Z) < 1e-12 && m.Z > 6);
  for (const [args, message] of [
    [['--model', 'harmonic', '--n', '128'], /pass --pressure/],
    [['--model', 'harmonic', '--pressure', '1e-3', '--q', '40', '--n', '128'], /--q is a parameter of the Q-models/],
    [['--model', 'repulsive-q', '--q', '40', '--n', '256'], /pass --density as a number/],
    [['--model', 'lj', '--n', '256'], /unknown pair law 'lj'/],
    [['--q', '40', '--n', '256', '--pressure', '1e-3'], /--pressure is for soft-sphere packings/],
  ] as const) {
    const bad = qglass('prepare', ...args, '--out', join(dir, 'bad.xyz'));
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, message);
  }
});

test('a reader that closes the pipe early (| true) is not an error: the command finishes its work and exits 0', () => {
  const campaign = join(dir, 'piped-campaign');
  const script = `"${process.execPath}" "${bin}" campaign init "${campaign}" --q 10 --n 256 --samples 2 | true; exit "\${PIPESTATUS[0]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|Error/);
  assert.ok(existsSync(join(campaign, 'campaign.json')), 'the campaign was written');
});
