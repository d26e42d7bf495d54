/**
 * Campaigns: completion, exact resume after SIGKILL, sharding + merge, recorded failures, detection
 * of damaged artefacts. Small samples (N = 256, Q = 10 and 240, short NVE) keep it fast; the
 * reference campaign is computed once and every other variant must reproduce its numbers exactly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCampaign, initCampaign, readCampaign, resolveDensities, type CampaignInput } from '../src/ensemble/campaign.ts';
import { Catalog } from '../src/ensemble/catalog.ts';
import { campaignStatus, loadCampaignSamples, samplesToCsv, type SampleRecord } from '../src/ensemble/export.ts';
import { mergeShards } from '../src/ensemble/merge.ts';
import { parseArtefactKinds, pruneCampaign } from '../src/ensemble/prune.ts';
import { damagedSamples } from '../src/ensemble/verify.ts';
import { runSample, sha256 } from '../src/ensemble/pipeline.ts';
import { runCampaign } from '../src/ensemble/runner.ts';
import { plannedSamples, sampleSeed } from '../src/ensemble/seeds.ts';
import { catalogFileName, parseShard, shardFromSlurm } from '../src/ensemble/shard.ts';
import { slurmScript } from '../src/ensemble/slurm.ts';
import { readExtendedXyz } from '../src/io/xyz.ts';
import { computeForces, maxForceComponent } from '../src/engine/forces.ts';
import { systemFromConfiguration } from '../src/engine/system.ts';
import { qModel } from '../src/model/q-model.ts';
import { hessianMultiply } from '../src/linalg/hessian.ts';
import { assembleHessian } from '../src/measure/hessian.ts';
import { dot } from '../src/linalg/vectors.ts';
import { readNpy } from '../src/io/npy.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), 'qglass-campaign-test-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

const BASE: CampaignInput = {
  Q: [10, 240], N: 256, samples: 2, seed: 7, density: '10:0.55,240:0.62',
  protocol: { nveTime: 0.5 }, measure: ['elastic', 'gr'], createdBy: 'test',
};

function newCampaign(name: string, overrides: Partial<CampaignInput> = {}): string {
  const dir = join(ROOT, name);
  initCampaign(dir, defineCampaign({ ...BASE, ...overrides }));
  return dir;
}

/** The record without what legitimately differs between runs: wall times and attempt counts. */
function numbers(records: SampleRecord[]): unknown[] {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k]) => !['seconds', 'timings', 'attempts'].includes(k)).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return records.map(strip);
}

function tempFiles(dir: string): string[] {
  const root = join(dir, 'samples');
  return readdirSync(root).flatMap((q) => readdirSync(join(root, q)).filter((f) => f.endsWith('.tmp')));
}

let refDir = '';
let reference: SampleRecord[] = [];

before(async () => {
  refDir = newCampaign('reference');
  await runCampaign(refDir, { workers: 2 });
  reference = loadCampaignSamples(refDir);
});

test('a small campaign runs to completion: every sample once, with its seed, numbers and a glass that is the quenched configuration', () => {
  const def = readCampaign(refDir);
  assert.equal(reference.length, 4);
  assert.deepEqual(reference.map((r) => [r.Q, r.index]), [[10, 0], [240, 0], [10, 1], [240, 1]]);
  for (const r of reference) {
    assert.equal(r.status, 'done');
    assert.equal(r.seed, sampleSeed(7, r.Q, r.index));
    assert.ok(Number.isFinite(r.K) && Number.isFinite(r.G) && Number.isFinite(r.nu) && r.shear && r.voigt?.length === 6);
    assert.equal((r.gr as { rmax: number }).rmax, def.gr.rmax);
    assert.equal(r.stages.elastic.converged, true);
    // The stored glass is the configuration the numbers describe: same energy, at a force minimum.
    const conf = readExtendedXyz(join(refDir, r.artefacts.glass!));
    const sys = systemFromConfiguration(conf, qModel(r.Q));
    computeForces(sys);
    assert.ok(Math.abs(sys.energy / 256 - r.energyPerParticle!) <= 1e-12 * Math.abs(r.energyPerParticle!), `${sys.energy / 256} vs ${r.energyPerParticle}`);
    assert.ok(maxForceComponent(sys.forces) < 1e-9);
  }
  const status = campaignStatus(refDir);
  assert.deepEqual(status.perQ.map((q) => [q.Q, q.planned, q.done, q.failed, q.running]), [[10, 2, 2, 0, 0], [240, 2, 2, 0, 0]]);
  // p/K and ν per Q: mean ± standard error of the samples' own values
  for (const q of status.perQ) {
    const v = reference.filter((r) => r.Q === q.Q).map((r) => r.pOverK!);
    const m = (v[0] + v[1]) / 2;
    assert.equal(q.elastic!.samples, 2);
    assert.ok(Math.abs(q.elastic!.pOverK[0] - m) <= 1e-15 && Math.abs(q.elastic!.pOverK[1] - Math.abs(v[0] - v[1]) / 2) <= 1e-15, JSON.stringify(q.elastic));
  }
  const csv = samplesToCsv(reference).trim().split('\n');
  assert.equal(csv.length, 5);
  const header = csv[0].split(',');
  for (const col of ['Q', 'seed', 'status', 'K', 'nu', 'shear.xy', 'gr.firstPeak.height', 'stages.elastic.converged']) assert.ok(header.includes(col), col);
  assert.equal(Number(csv[1].split(',')[header.indexOf('K')]), reference[0].K);
});

test('any sample recomputed alone gives the same glass and numbers', () => {
  const dir = newCampaign('alone');
  const def = readCampaign(dir);
  const sample = plannedSamples(def)[2];
  const outcome = runSample({ dir, definition: def, sample });
  const ref = reference[2];
  const glass = outcome.artefacts.find((a) => a.kind === 'glass')!;
  assert.equal(glass.sha256, sha256(readFileSync(join(refDir, ref.artefacts.glass!))));
  const elastic = outcome.stages.find((s) => s.stage === 'elastic')!.value as { K: number; shear: unknown };
  assert.equal(elastic.K, ref.K);
  assert.deepEqual(elastic.shear, ref.shear);
});

test('the full pipeline: the stored mode and NQLE vectors are the ones the catalog describes; a damaged one is recomputed', async () => {
  const dir = newCampaign('full', { Q: [10], density: '0.55', samples: 1, measure: ['elastic', 'modes', 'gr', 'nqle'], modes: 4, nqle: 1 });
  await runCampaign(dir, { workers: 1 });
  const [r] = loadCampaignSamples(dir);
  assert.equal(r.status, 'done', r.error);
  const modes = r.modes as { omega2: number[]; G: number; converged: boolean };
  const nqle = r.nqle as { modes: Array<{ omega2: number; converged: boolean }> };
  assert.equal(modes.G, r.G, 'sound scales from the sample\'s own shear modulus');
  const sys = systemFromConfiguration(readExtendedXyz(join(dir, r.artefacts.glass!)), qModel(10));
  computeForces(sys);
  const H = assembleHessian(sys);
  const rayleigh = (v: Float64Array) => {
    const y = new Float64Array(v.length);
    hessianMultiply(H, v, y);
    return dot(v, y) / dot(v, v);
  };
  const vectors = readNpy(join(dir, r.artefacts.modes!));
  assert.deepEqual(vectors.shape, [4, 256, 3]);
  modes.omega2.forEach((w2, k) => {
    const q = rayleigh(vectors.data.slice(k * 768, (k + 1) * 768) as Float64Array);
    assert.ok(Math.abs(q - w2) <= 1e-8 * w2, `mode ${k}: ψ·Hψ = ${q}, ω² = ${w2}`);
  });
  const nq = readNpy(join(dir, r.artefacts.nqle!));
  assert.deepEqual(nq.shape, [1, 256, 3]);
  assert.ok(nqle.modes[0].converged);
  assert.ok(Math.abs(rayleigh(nq.data as Float64Array) - nqle.modes[0].omega2) <= 1e-8 * nqle.modes[0].omega2);

  const original = sha256(readFileSync(join(dir, r.artefacts.modes!)));
  truncateSync(join(dir, r.artefacts.modes!), 200);
  const rerun = await runCampaign(dir, { workers: 1 });
  assert.match(rerun.recovery.invalidated[0]?.reason ?? '', /modes\.npy has 200 bytes/);
  assert.equal(sha256(readFileSync(join(dir, r.artefacts.modes!))), original);
  assert.deepEqual(numbers(loadCampaignSamples(dir)), numbers([r]));
});

test('killed with SIGKILL mid-run and resumed: every sample exactly once, numbers identical to an uninterrupted run', async () => {
  const dir = newCampaign('killed');
  const child = spawn(process.execPath, [join(REPO, 'bin/qglass.mjs'), 'campaign', 'run', dir, '--workers', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let ended = false;
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => { ended = true; res(signal); }));
  const catalogPath = join(dir, catalogFileName(null));
  let atKill: { done: number; running: number } | null = null;
  while (atKill === null) {
    await new Promise((res) => setTimeout(res, 50));
    if (ended) assert.fail(`the run ended before it could be killed:\n${stderr}`);
    let cat: Catalog | null = null;
    try {
      cat = Catalog.openReadonly(catalogPath);
      const samples = cat?.samples() ?? [];
      const done = samples.filter((s) => s.status === 'done').length;
      if (done >= 1) {
        child.kill('SIGKILL');
        atKill = { done, running: samples.filter((s) => s.status === 'running').length };
      }
    } catch {
      // the catalog is being created: look again
    } finally {
      cat?.close();
    }
  }
  assert.equal(await exited, 'SIGKILL');
  assert.ok(atKill.done < 4, 'the run must have been killed before it finished');
  // What the dead run left: finished samples, and the one it was computing still marked 'running'.
  const left = catalogStates(catalogPath);
  assert.ok(left.done >= atKill.done && left.done < 4);
  const interrupted = campaignStatus(dir).total;
  assert.deepEqual([interrupted.done, interrupted.running, interrupted.pending], [left.done, 0, 4 - left.done], 'status reports the dead run\'s sample as pending');

  const summary = await runCampaign(dir, { workers: 2 });
  assert.equal(summary.recovery.staleLock !== null, true, 'the dead run left its lock behind, taken over');
  assert.equal(summary.recovery.interrupted, left.running);
  assert.equal(summary.computed, 4 - left.done, 'finished samples are not recomputed');
  const records = loadCampaignSamples(dir);
  assert.equal(records.length, 4);
  assert.equal(new Set(records.map((r) => `${r.Q}/${r.index}`)).size, 4);
  assert.deepEqual(numbers(records), numbers(reference));
  assert.deepEqual(tempFiles(dir), []);
});

/** Counts of a catalog's states (read only). */
function catalogStates(path: string): { done: number; running: number } {
  const cat = Catalog.openReadonly(path)!;
  try {
    const s = cat.samples();
    return { done: s.filter((x) => x.status === 'done').length, running: s.filter((x) => x.status === 'running').length };
  } finally {
    cat.close();
  }
}

test('shards i/n run concurrently into their own catalogs; after merge their union equals the serial campaign', async () => {
  const dir = newCampaign('sharded');
  const shards = [parseShard('0/2'), parseShard('1/2')];
  await Promise.all(shards.map((shard) => runCampaign(dir, { shard, workers: 1 })));
  const keys = shards.map((shard) => {
    const cat = Catalog.openReadonly(join(dir, catalogFileName(shard)))!;
    const k = cat.samples().map((s) => `${s.Q}/${s.index}`);
    cat.close();
    return k;
  });
  assert.equal(keys[0].length + keys[1].length, 4);
  assert.equal(new Set([...keys[0], ...keys[1]]).size, 4, 'the shards are disjoint');
  assert.deepEqual(numbers(loadCampaignSamples(dir)), numbers(reference), 'readers unite unmerged shards');
  // artefacts pruned in the shards stay pruned in the merged catalog: its run recomputes nothing
  assert.equal(pruneCampaign(dir, ['glass'], { keep: 1 }).files, 2);

  const merged = mergeShards(dir);
  assert.equal(merged.imported, 4);
  assert.equal(mergeShards(dir).imported, 0, 'merging again changes nothing');
  for (const shard of shards) rmSync(join(dir, catalogFileName(shard)));
  assert.deepEqual(numbers(loadCampaignSamples(dir).map((r) => ({ ...r, artefacts: {} }))), numbers(reference.map((r) => ({ ...r, artefacts: {} }))), 'the merged catalog alone holds the campaign');
  assert.equal((await runCampaign(dir, { workers: 1 })).computed, 0);
});

test('failed samples are recorded with their reason, retried by policy, and never stop the others', async () => {
  // dt = 0.01 resolves the Q = 10 dynamics but not the stiff Q = 240 cores: those samples diverge.
  const dir = newCampaign('diverging', { samples: 1, protocol: { nveTime: 0.5, dt: 0.01 }, measure: [] });
  const first = await runCampaign(dir, { workers: 2, retries: 1 });
  assert.equal(first.computed, 1);
  const records = loadCampaignSamples(dir);
  for (const r of records) {
    if (r.Q === 10) assert.equal(r.status, 'done');
    else {
      assert.equal(r.status, 'failed');
      assert.equal(r.failedStage, 'prepare');
      assert.match(r.error!, /NVE dynamics diverged/);
      assert.equal(r.failures, 2, 'one retry');
      assert.equal(r.energyPerParticle, undefined, 'no numbers from a failed sample');
    }
  }
  const status = campaignStatus(dir);
  assert.deepEqual(status.perQ.map((q) => [q.Q, q.done, q.failed]), [[10, 1, 0], [240, 0, 1]]);
  assert.match(status.failures[0].error!, /diverged/);
  const skipped = await runCampaign(dir, { workers: 2 });
  assert.equal(skipped.skippedFailed, 1);
  assert.equal(skipped.computed + skipped.failed, 0, 'failed samples are skipped, finished ones kept');

  // An unconverged quench fails its sample too, naming what did not converge.
  const stalled = newCampaign('unconverged', { Q: [10], density: '0.55', samples: 1, protocol: { nveTime: 0.5, maxCgIterations: 5 }, measure: [] });
  await runCampaign(stalled, { workers: 1 });
  const [r] = loadCampaignSamples(stalled);
  assert.equal(r.status, 'failed');
  assert.match(r.error!, /quench stopped \(max-iterations\)/);
});

test('a truncated or corrupted artefact is detected at the next run and its sample recomputed', async () => {
  const dir = join(ROOT, 'damaged');
  cpSync(refDir, dir, { recursive: true });
  const truncated = join(dir, reference[0].artefacts.glass!);
  truncateSync(truncated, 1000);
  const flipped = join(dir, reference[2].artefacts.glass!);
  const bytes = readFileSync(flipped);
  bytes[bytes.length - 10] = bytes[bytes.length - 10] === 0x31 ? 0x32 : 0x31;
  writeFileSync(flipped, bytes);
  const summary = await runCampaign(dir, { workers: 2 });
  assert.deepEqual(summary.recovery.invalidated.map((x) => [x.Q, x.index]), [[10, 0], [10, 1]]);
  assert.match(summary.recovery.invalidated[0].reason, /bytes/);
  assert.match(summary.recovery.invalidated[1].reason, /SHA-256/);
  assert.equal(summary.computed, 2);
  const records = loadCampaignSamples(dir);
  assert.deepEqual(numbers(records), numbers(reference));
  assert.deepEqual([records[1].attempts, records[3].attempts], [1, 1], 'intact samples are not recomputed');
  assert.equal(sha256(readFileSync(truncated)), sha256(readFileSync(join(refDir, reference[0].artefacts.glass!))));
});

test('prune drops the named artefacts of finished samples: files and records go, numbers stay, and no run recomputes them', async () => {
  const dir = join(ROOT, 'pruned');
  cpSync(refDir, dir, { recursive: true });
  const dry = pruneCampaign(dir, ['glass'], { keep: 1, dryRun: true });
  assert.deepEqual([dry.files, dry.records], [2, 2]);
  assert.ok(readdirSync(join(dir, 'samples', 'Q10')).includes('00001-glass.xyz'), 'a dry run changes nothing');
  const p = pruneCampaign(dir, ['glass'], { keep: 1 });
  const bytes = reference.filter((r) => r.index >= 1).reduce((t, r) => t + readFileSync(join(refDir, r.artefacts.glass!)).length, 0);
  assert.deepEqual([p.files, p.bytes], [2, bytes]);
  for (const Q of [10, 240]) assert.deepEqual(readdirSync(join(dir, 'samples', `Q${Q}`)).sort(), ['00000-glass.xyz']);
  assert.deepEqual(damagedSamples(dir, 'full'), []);
  const summary = await runCampaign(dir, { workers: 1 });
  assert.deepEqual([summary.computed, summary.recovery.invalidated.length], [0, 0]);
  const records = loadCampaignSamples(dir);
  assert.deepEqual(numbers(records.map((r) => ({ ...r, artefacts: {} }))), numbers(reference.map((r) => ({ ...r, artefacts: {} }))));
  assert.deepEqual(records.map((r) => r.artefacts.glass !== undefined), [true, true, false, false]);
  // a pruned kind still checked where it was kept: the kept glass, damaged, is recomputed
  truncateSync(join(dir, reference[0].artefacts.glass!), 100);
  const rerun = await runCampaign(dir, { workers: 1 });
  assert.deepEqual(rerun.recovery.invalidated.map((x) => [x.Q, x.index]), [[10, 0]]);
  assert.throws(() => parseArtefactKinds(['modes', 'vectors']), /unknown artefact kind\(s\) 'vectors'/);
  assert.throws(() => pruneCampaign(dir, ['glass'], { keep: -1 }), /--keep/);
  writeFileSync(join(dir, 'catalog.sqlite.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), runId: 'other', startedAt: '' }));
  assert.throws(() => pruneCampaign(dir, ['glass']), /another run \(pid/);
});

test('bad input and misuse get clear errors', async () => {
  assert.throws(() => parseShard('2/2'), /0 ≤ i < n/);
  assert.throws(() => parseShard('x'), /i\/n/);
  assert.deepEqual(shardFromSlurm({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '10', SLURM_ARRAY_TASK_MIN: '1' }), { index: 4, count: 10 });
  assert.equal(shardFromSlurm({}), null);
  assert.throws(() => resolveDensities('10:0.55', [10, 240]), /no entry for Q = 240/);
  assert.throws(() => defineCampaign({ ...BASE, N: 250 }), /N/);
  assert.throws(() => defineCampaign({ ...BASE, Q: [5] }), /Q/);
  assert.throws(() => initCampaign(refDir, defineCampaign({ ...BASE, samples: 3 })), /different campaign/);
  assert.deepEqual(initCampaign(refDir, defineCampaign(BASE)), { created: false });

  // A campaign.json edited after its catalog was written is refused, not silently mixed.
  const dir = join(ROOT, 'edited');
  cpSync(refDir, dir, { recursive: true });
  const file = join(dir, 'campaign.json');
  const def = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...def, protocol: { ...def.protocol, ftol: 1e-9 } }));
  await assert.rejects(runCampaign(dir, { workers: 1 }), /different campaign definition/);
  writeFileSync(file, JSON.stringify({ ...def, samples: 'many' }));
  assert.throws(() => readCampaign(dir), /not a valid campaign definition[\s\S]*samples/);

  // A live run's lock keeps a second run off the catalog.
  writeFileSync(join(refDir, 'catalog.sqlite.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), runId: 'other', startedAt: '' }));
  try {
    await assert.rejects(runCampaign(refDir, { workers: 1 }), /another run \(pid/);
  } finally {
    rmSync(join(refDir, 'catalog.sqlite.lock'));
  }

  const script = slurmScript(refDir, readCampaign(refDir), { array: '0-3', cpusPerTask: 2 });
  assert.match(script, /#SBATCH --array=0-3\n/);
  assert.match(script, /SHARD="\$\(\(SLURM_ARRAY_TASK_ID - 0\)\)\/4"\n/);
  assert.match(script, /campaign run \S+ --shard "\$SHARD" --workers "\$\{SLURM_CPUS_PER_TASK:-1\}" --time-limit 24:00:00\n/);
  assert.match(slurmScript(refDir, readCampaign(refDir), { time: '2:30:00' }), /#SBATCH --time=2:30:00\n[\s\S]*--time-limit 2:30:00\n/);
  assert.throws(() => slurmScript(refDir, readCampaign(refDir), { time: '2h' }), /Slurm time/);
  assert.throws(() => slurmScript(refDir, readCampaign(refDir), { array: '0-9' }), /only 4 samples/);
  await assert.rejects(runCampaign(refDir, { timeLimit: -1 }), /time limit must be a positive/);
});

test('a time limit: no sample starts that the finished ones say would end after it; the rest stay pending for the next run', async () => {
  const dir = newCampaign('time-limit');
  // nothing finished yet, nothing to estimate from: the first sample starts; once it has finished,
  // the others are expected to take about as long and none fits in a millisecond
  const first = await runCampaign(dir, { workers: 1, timeLimit: 1e-3 });
  assert.deepEqual([first.computed, first.leftForTimeLimit], [1, 3]);
  assert.deepEqual(campaignStatus(dir).perQ.map((q) => [q.Q, q.done, q.pending]), [[10, 1, 1], [240, 0, 2]]);
  // a limit the samples fit in, with the rate the first one measured: all of them
  const rest = await runCampaign(dir, { workers: 2, timeLimit: 3600 });
  assert.deepEqual([rest.computed, rest.leftForTimeLimit], [3, 0]);
  assert.deepEqual(numbers(loadCampaignSamples(dir)), numbers(reference));
});
