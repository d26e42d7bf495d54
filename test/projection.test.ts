import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paperCampaign } from '../src/cli/commands/paper.ts';
import { defineCampaign, initCampaign, type CampaignDefinition } from '../src/ensemble/campaign.ts';
import { calibrationFor, formatHours, projectCampaign } from '../src/ensemble/projection.ts';
import { plannedSamples } from '../src/ensemble/seeds.ts';
import { FIXED_EVALUATIONS } from '../src/ensemble/shard.ts';

const bin = new URL('../bin/qglass.mjs', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'qglass-projection-'));

/** Work of one sample written out from the protocol: N × (NVE steps nveTime/dt, dt = min(dtMax, dtFactor/(Q√T₀)), + the fixed allowance). */
function sampleWork(def: CampaignDefinition, Q: number): number {
  const { dtMax, dtFactor, t0, nveTime } = def.protocol!;
  return def.N * (Math.round(nveTime / Math.min(dtMax, dtFactor / (Q * Math.sqrt(t0)))) + FIXED_EVALUATIONS);
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b), `${what}: ${a} vs ${b}`);

test('paper --full projection: every sample at the calibrated rate of N = 10976, summed over Q, spread over the workers', () => {
  const { definition: def } = paperCampaign('full');
  const samples = plannedSamples(def).map((p) => ({ Q: p.Q, status: 'pending', seconds: null }));
  const p = projectCampaign(def, samples, 3);
  const rate = calibrationFor(def.N);
  assert.equal(rate.N, 10976);
  const expected = def.Q.reduce((t, Q) => t + def.samples * sampleWork(def, Q), 0) * rate.secondsPerWork / 3600;
  assert.equal(p.samples, 6 * 1000);
  assert.equal(p.done, 0);
  close(p.coreHours, expected, 'core-hours');
  close(p.wallHours, expected / 3, 'wall hours');
  // the quick scale uses its own calibration
  assert.equal(calibrationFor(paperCampaign('quick').definition.N).N, 500);
});

test('a resumed campaign is projected at the rate of its own finished samples; failed ones are not counted', () => {
  const def = defineCampaign({ Q: [10, 240], N: 500, samples: 3, seed: 1, density: 'zero-pressure', createdBy: 'test' });
  const samples = [
    { Q: 10, status: 'done', seconds: 40 },
    { Q: 240, status: 'done', seconds: 500 },
    { Q: 10, status: 'failed', seconds: 3 },
    { Q: 240, status: 'running', seconds: null },
    { Q: 10, status: 'pending', seconds: null },
    { Q: 240, status: 'pending', seconds: null },
  ];
  const p = projectCampaign(def, samples, 8);
  const rate = (40 + 500) / (sampleWork(def, 10) + sampleWork(def, 240));
  close(p.secondsPerWork, rate, 'seconds per work');
  close(p.coreHours, (rate * (sampleWork(def, 10) + 2 * sampleWork(def, 240))) / 3600, 'core-hours');
  assert.equal(p.samples, 3);
  assert.equal(p.done, 2);
  close(p.wallHours, p.coreHours / 3, 'wall hours on min(workers, samples)');
  assert.match(p.rateSource, /2 finished sample/);
  assert.throws(() => projectCampaign(def, samples, 0), /workers must be an integer ≥ 1/);
});

function qglass(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('paper --full --dry-run prints the projection and computes nothing: no directory, exit 0', () => {
  const dir = join(root, 'full');
  const r = qglass('paper', '--full', '--dry-run', '--dir', dir, '--workers', '4');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const { definition: def } = paperCampaign('full');
  const expected = def.Q.reduce((t, Q) => t + def.samples * sampleWork(def, Q), 0) * calibrationFor(def.N).secondsPerWork / 3600;
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`^projected cost: 6000 sample\\(s\\) to compute, ${formatHours(expected)} core-hours, about ${formatHours(expected / 4)} h wall on 4 worker thread\\(s\\)`));
  assert.equal(existsSync(dir), false, '--dry-run created the campaign directory');
});

test('paper --dry-run on a directory holding another campaign is refused', () => {
  const dir = join(root, 'other');
  initCampaign(dir, defineCampaign({ Q: [10], N: 256, samples: 1, seed: 1, density: 'zero-pressure', createdBy: 'test' }));
  const r = qglass('paper', '--quick', '--dry-run', '--dir', dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /already holds a different campaign/);
});

test('paper --quick prints the projection before the first sample starts', async () => {
  const dir = join(root, 'quick');
  const child = spawn(process.execPath, [bin, 'paper', '--quick', '--dir', dir, '--workers', '1', '--no-report'], { env: { ...process.env, CI: '1' } });
  let stderr = '';
  const exited = new Promise<void>((res) => child.on('close', () => res()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`no 'computing' line within 120 s:\n${stderr}`)); }, 120_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // the run announces itself before its workers take their first sample: stop it there
      if (/^computing \d+ sample/m.test(stderr)) { clearTimeout(timer); child.kill('SIGKILL'); res(); }
    });
    child.on('close', () => { clearTimeout(timer); res(); });
  });
  await exited;
  const lines = stderr.split('\n');
  const projection = lines.findIndex((l) => /^projected cost: 120 sample\(s\) to compute, /.test(l));
  const computing = lines.findIndex((l) => /^computing \d+ sample/.test(l));
  assert.ok(projection >= 0, `no projection line:\n${stderr}`);
  assert.ok(computing > projection, `the projection must come before the run starts:\n${stderr}`);
  assert.ok(!lines.some((l) => /^\[\s*\d+\/\d+\]/.test(l)), 'no sample had finished');
  assert.ok(readdirSync(dir).includes('campaign.json'));
});
