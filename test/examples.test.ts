/**
 * The scripts in examples/ run as a user runs them: plain Node (no loader), importing 'qglass' by
 * name (the package refers to itself through its `exports`, i.e. the compiled dist/), each in a
 * scratch directory. Their printed numbers are checked for physical sense, not just for running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExtendedXyz } from '../src/io/xyz.ts';
import { ensureBuilt, REPO } from './dist.ts';

const dir = mkdtempSync(join(tmpdir(), 'qglass-examples-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
ensureBuilt();

function example(name: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [join(REPO, 'examples', name), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, `examples/${name} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  assert.ok(m, `no match for ${re} in:\n${text}`);
  return Number(m[1]);
};

test('prepare-elastic.mjs: a zero-pressure glass with positive moduli, 0 < ν < 1/2, |p/K| small', () => {
  const out = example('prepare-elastic.mjs', '10', '256', '2');
  const K = num(out, /K = ([\d.]+)/), G = num(out, /G = ([\d.]+)/), nu = num(out, /ν = ([\d.]+)/);
  assert.ok(K > 0 && G > 0 && G < K, out);
  assert.ok(Math.abs(nu - (3 * K - 2 * G) / (2 * (3 * K + G))) < 1e-3, 'ν printed inconsistently with K and G');
  assert.ok(nu > 0 && nu < 0.5, out);
  assert.ok(Math.abs(num(out, /p\/K = (\S+)/)) < 0.05, 'the zero-pressure density gives p/K near 0 even at N = 256');
  assert.match(out, /converged: true/);
  const conf = readExtendedXyz(join(dir, 'glass.xyz'));
  assert.equal(conf.species.length, 256);
  assert.equal(conf.meta.Q, 10);
});

test('modes.mjs: ascending frequencies of the glass just written, with participation ratios in (0, 1]', () => {
  const out = example('modes.mjs', 'glass.xyz', '6');
  assert.match(out, /converged: true/);
  const rows = out.trim().split('\n').slice(2).map((l) => l.trim().split(/\s+/).map(Number));
  assert.equal(rows.length, 6);
  for (let k = 0; k < rows.length; k++) {
    assert.ok(rows[k][0] > 0 && rows[k][1] > 0 && rows[k][1] <= 1, `mode ${k}: ${rows[k]}`);
    if (k > 0) assert.ok(rows[k][0] >= rows[k - 1][0], 'frequencies ascend');
  }
});

test('campaign.mjs: a tiny ensemble on worker threads from the compiled package; a second run resumes and recomputes nothing', () => {
  const first = example('campaign.mjs', 'ens');
  assert.match(first, /computed 6 samples, 0 failed/);
  for (const Q of [10, 40]) {
    const nu = num(first, new RegExp(`Q = ${Q}: ν = ([\\d.]+)`));
    assert.ok(nu > 0.3 && nu < 0.5, `ν at Q = ${Q}: ${nu}`);
  }
  const second = example('campaign.mjs', 'ens');
  assert.match(second, /computed 0 samples, 0 failed/);
  assert.equal(second.split('\n').slice(1).join('\n'), first.split('\n').slice(1).join('\n'), 'same ensemble numbers after resuming');
});
