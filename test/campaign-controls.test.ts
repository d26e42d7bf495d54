/**
 * Campaigns over the controls: a harmonic campaign at two target pressures (N = 64, 2 samples each)
 * records the law, Z and the rattlers with every sample and measures the packings without their
 * rattlers; a sample recomputed alone from its seed is identical; exports name the law and the
 * point; options of the wrong axis are refused before anything is computed; and a report over a
 * tiny q-model campaign and the harmonic one draws Figure 7 with both systems, its numbers the
 * means of the catalogs' records.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artefactPath, controlValues, defineCampaign, initCampaign, readCampaign, type CampaignInput } from '../src/ensemble/campaign.ts';
import { Catalog } from '../src/ensemble/catalog.ts';
import { campaignStatus, exportedRecords, loadCampaignSamples, samplesToCsv, type SampleRecord } from '../src/ensemble/export.ts';
import { runSample, sha256 } from '../src/ensemble/pipeline.ts';
import { runCampaign } from '../src/ensemble/runner.ts';
import { plannedSamples, sampleSeed } from '../src/ensemble/seeds.ts';
import { shardSamples } from '../src/ensemble/shard.ts';
import { readExtendedXyz } from '../src/io/xyz.ts';
import { readNpy } from '../src/io/npy.ts';
import { systemFromConfiguration, virialPressure } from '../src/engine/system.ts';
import { computeForces } from '../src/engine/forces.ts';
import { lawFromMetadata } from '../src/model/laws.ts';
import { findRattlers } from '../src/measure/rattlers.ts';
import { reportFromCampaigns } from '../src/report/report.ts';
import { powerLawExponent, type Estimate } from '../src/analysis/statistics.ts';
import { formatEstimate } from '../src/report/number-format.ts';
import { controlCampaigns } from '../src/cli/commands/paper.ts';
import { ZERO_PRESSURE_TABLE } from '../src/model/zero-pressure-table.ts';

const ROOT = mkdtempSync(join(tmpdir(), 'qglass-controls-campaign-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

const HARMONIC: CampaignInput = {
  model: 'harmonic', pressure: [1e-2, 3e-3], N: 64, samples: 2, seed: 5,
  measure: ['elastic', 'gr', 'nqle'], nqle: 1, createdBy: 'test',
};
const harmonicDir = join(ROOT, 'harmonic');
const qDir = join(ROOT, 'q-model');
let records: SampleRecord[] = [];

before(async () => {
  initCampaign(harmonicDir, defineCampaign(HARMONIC));
  initCampaign(qDir, defineCampaign({
    Q: [10, 40], N: 256, samples: 1, seed: 5, density: '0.55', protocol: { nveTime: 0.5 },
    measure: ['elastic', 'modes', 'gr', 'nqle'], modes: 6, nqle: 1, createdBy: 'test',
  }));
  await runCampaign(harmonicDir, { workers: 2 });
  await runCampaign(qDir, { workers: 2 });
  records = loadCampaignSamples(harmonicDir);
});

test('a harmonic campaign: the law, the target pressure, Z and the rattlers recorded with every sample; measurements without rattlers', () => {
  const def = readCampaign(harmonicDir);
  assert.deepEqual(def.law, { model: 'harmonic', parameters: { alpha: 2 } });
  assert.deepEqual(controlValues(def), [1e-2, 3e-3]);
  assert.ok(!('Q' in JSON.parse(readFileSync(join(harmonicDir, 'campaign.json'), 'utf8'))), 'campaign.json names pressures, not Q');
  assert.deepEqual(records.map((r) => [r.model, r.Q, r.index, r.status]), [
    ['harmonic', 1e-2, 0, 'done'], ['harmonic', 3e-3, 0, 'done'], ['harmonic', 1e-2, 1, 'done'], ['harmonic', 3e-3, 1, 'done'],
  ]);
  const cat = Catalog.openReadonly(join(harmonicDir, 'catalog.sqlite'))!;
  try {
    for (const r of records) {
      assert.equal(r.seed, sampleSeed(5, r.Q, r.index, 'pressure'));
      const prepare = cat.stages(r.Q, r.index).find((s) => s.stage === 'prepare')!.value as Record<string, number | string>;
      assert.equal(prepare.model, 'harmonic');
      assert.equal(prepare.alpha, 2);
      assert.equal(prepare.targetPressure, r.Q);
      assert.ok(Math.abs((prepare.pressure as number) / r.Q - 1) <= 1e-3, `p = ${prepare.pressure} at target ${r.Q}`);
      // the glass artefact: the packing at its pressure, its law in the metadata, its rattlers as recorded
      assert.match(r.artefacts.glass!, new RegExp(`^samples/p${r.Q}/0000${r.index}-glass\\.xyz$`));
      const conf = readExtendedXyz(join(harmonicDir, r.artefacts.glass!));
      const sys = systemFromConfiguration(conf, lawFromMetadata(conf.meta));
      computeForces(sys);
      assert.equal(sys.model.name, 'harmonic');
      assert.ok(Math.abs(virialPressure(sys) / r.Q - 1) <= 1e-3);
      const rattlers = findRattlers(sys);
      assert.equal(r.rattlers, rattlers.rattlers);
      assert.equal(r.rattlerFraction, rattlers.rattlers / 64);
      assert.ok(Math.abs(r.Z! - rattlers.Z) < 1e-12 && r.Z! > 6, `Z = ${r.Z}`);
      // the mechanical measurements saw the packing without its rattlers; g(r) the whole packing
      assert.equal(r.stages.elastic.rattlers, rattlers.rattlers);
      assert.equal(readNpy(join(harmonicDir, r.artefacts.nqle!)).shape[1], 64 - rattlers.rattlers);
      assert.equal(r.gr!.N, 64);
      assert.ok(Number.isFinite(r.GOverK) && Number.isFinite(r.pOverK) && r.pOverK! > 0);
    }
  } finally {
    cat.close();
  }
  assert.ok(records.some((r) => r.rattlers! > 0), 'near jamming some packing holds rattlers');
  const status = campaignStatus(harmonicDir);
  assert.equal(status.axis, 'pressure');
  assert.deepEqual(status.perQ.map((q) => [q.Q, q.planned, q.done]), [[1e-2, 2, 2], [3e-3, 2, 2]]);
  const shards = [0, 1, 2].flatMap((index) => shardSamples(def, { index, count: 3 }).map((s) => s.ordinal)).sort((a, b) => a - b);
  assert.deepEqual(shards, plannedSamples(def).map((s) => s.ordinal), 'the shards of a pressure campaign cover it once');
});

test('a packing sample recomputed alone from its seed is the same packing with the same numbers', () => {
  const def = readCampaign(harmonicDir);
  const sample = plannedSamples(def)[3];
  const dir = join(ROOT, 'alone');
  const outcome = runSample({ dir, definition: def, sample });
  const glass = outcome.artefacts.find((a) => a.kind === 'glass')!;
  assert.equal(glass.sha256, sha256(readFileSync(join(harmonicDir, artefactPath(def, sample.Q, sample.index, 'glass')))));
  const rec = records.find((r) => r.Q === sample.Q && r.index === sample.index)!;
  const elastic = outcome.stages.find((s) => s.stage === 'elastic')!.value as { G: number; K: number };
  assert.equal(elastic.G, rec.G);
  assert.equal(elastic.K, rec.K);
});

test('exports name the law and the point: model and targetPressure columns (the measured pressure stays pressure)', () => {
  const [header, ...rows] = samplesToCsv(exportedRecords(records, 'pressure')).trim().split('\n').map((l) => l.split(','));
  for (const col of ['model', 'targetPressure', 'pressure', 'Z', 'rattlers', 'rattlerFraction', 'packingFraction']) assert.ok(header.includes(col), col);
  assert.ok(!header.includes('Q'));
  const at = (name: string) => header.indexOf(name);
  assert.deepEqual(rows.map((r) => [r[at('model')], Number(r[at('targetPressure')])]), records.map((r) => ['harmonic', r.Q]));
});

test('options of the wrong axis, non-positive pressures and unknown laws are refused before anything is computed', () => {
  const bad: Array<[Partial<CampaignInput>, RegExp]> = [
    [{ pressure: [1e-2], Q: [10] }, /--q is a parameter of the Q-models/],
    [{ model: 'q-model', pressure: [1e-3], Q: [10], N: 256 }, /--pressure is for soft-sphere campaigns/],
    [{ pressure: [1e-2, 0] }, /--pressure 0.*pressure must be in \(0, 1\]/],
    [{ pressure: [-1e-3] }, /pressure must be in \(0, 1\]/],
    [{ density: '0.6' }, /--density: harmonic packings are prepared at a target pressure/],
    [{ protocol: { nveTime: 1 } }, /do not apply to harmonic packings/],
    [{ N: 127 }, /N must be an even integer/],
    [{ model: 'lj' }, /unknown pair law 'lj'/],
    [{ model: 'repulsive-q', pressure: undefined, Q: [10], N: 256, density: 'zero-pressure' }, /repulsive-q glasses take q-model-zero-pressure/],
  ];
  for (const [change, message] of bad) assert.throws(() => defineCampaign({ ...HARMONIC, ...change }), message, JSON.stringify(change));
  const r = spawnSync(process.execPath, [new URL('../bin/qglass.mjs', import.meta.url).pathname, 'campaign', 'init', join(ROOT, 'bad'), '--model', 'harmonic', '--q', '10', '--n', '128', '--samples', '1'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--q is a parameter of the Q-models/);
  assert.ok(!existsSync(join(ROOT, 'bad')), 'nothing is written');
  // repulsive-q by default at the Q-model's zero-pressure densities
  const rq = defineCampaign({ model: 'repulsive-q', Q: [10, 240], N: 256, samples: 1, seed: 1, createdBy: 'test' });
  assert.deepEqual(rq.density?.perQ.map((d) => d.mode), ['q-model-zero-pressure', 'q-model-zero-pressure']);
});

test('a report over a q-model and a harmonic campaign draws Figure 7 with both systems; its numbers are the catalogs\' means', async () => {
  const out = join(ROOT, 'report');
  const r = await reportFromCampaigns([qDir, harmonicDir], { outDir: out, bootstrap: { replicates: 50 }, png: false });
  assert.deepEqual(r.figures.find((f) => f.name === 'fig7')?.status, 'drawn');
  assert.equal(r.figures.find((f) => f.name === 'fig2')?.status, 'drawn', 'figures 1–6 from the q-model campaign');
  const svg = readFileSync(join(out, 'fig7.svg'), 'utf8');
  for (const t of ['(a) G/K versus p/K', '(b) G/K versus Q', '(c) first g_LL peak versus G/K', '(e) NQLE anatomy versus G/K', 'p/K', 'stiffness Q', 'harmonic', 'q-model']) {
    assert.ok(svg.includes(t), `fig7.svg lacks '${t}'`);
  }
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    controls: Array<{ model: string; axis: string; perPoint: Array<{ Q: number; elastic: { GOverK: { value: number }; pOverK: { value: number }; contacts: { Z: Estimate } | null }; structure: { firstPeakHeight: { value: number } }; nqle: { kMinusOverFMinus: { value: number } } }> }>;
  };
  assert.deepEqual(summary.controls.map((c) => [c.model, c.axis]), [['q-model', 'Q'], ['harmonic', 'pressure']]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const tables = readFileSync(join(out, 'tables.md'), 'utf8').split('\n');
  const csv = readFileSync(join(out, 'fig7.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const col = (name: string) => csv[0].indexOf(name);
  for (const [c, dir] of [[summary.controls[0], qDir], [summary.controls[1], harmonicDir]] as const) {
    const recs = loadCampaignSamples(dir).filter((x) => x.status === 'done');
    for (const p of c.perPoint) {
      const at = recs.filter((x) => x.Q === p.Q);
      const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b), `${c.model} ${p.Q} ${what}: ${a} vs ${b}`);
      close(p.elastic.GOverK.value, mean(at.map((x) => x.GOverK!)), 'G/K');
      close(p.elastic.pOverK.value, mean(at.map((x) => x.pOverK!)), 'p/K');
      if (c.model === 'harmonic') {
        close(p.elastic.contacts!.Z.value, mean(at.map((x) => x.Z!)), 'Z');
        // tables.md lists every point of every system with its Z
        const row = tables.find((l) => l.startsWith(`| harmonic | p = ${p.Q} |`));
        assert.ok(row && row.split(' | ')[6] === formatEstimate(p.elastic.contacts!.Z), `tables.md row of harmonic at ${p.Q}: ${row}`);
      } else assert.equal(p.elastic.contacts, null, 'glasses record no contacts');
      close(p.structure.firstPeakHeight.value, mean(at.map((x) => x.gr!.firstPeak!.height)), 'g_LL peak');
      const softest = at.map((x) => x.nqle!.modes.filter((m) => m.converged).sort((a, b) => a.omega2 - b.omega2)[0]);
      close(p.nqle.kMinusOverFMinus.value, mean(softest.map((m) => m.kMinus)) / mean(softest.map((m) => m.fMinus)), 'k₋/f₋');
      // the figure's table holds the same numbers, one row per system and point
      const row = csv.find((l) => l[col('table')] === 'points' && l[col('model')] === c.model && Number(l[col('point')]) === p.Q);
      assert.ok(row, `fig7.csv row for ${c.model} at ${p.Q}`);
      close(Number(row[col('GOverK')]), p.elastic.GOverK.value, 'fig7.csv G/K');
    }
  }
  // the analogy's exponents are fitted to the same per-point means
  const fits = (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { unjamming: Array<{ claim: string; model: string; x: string; range: string; exponent: number }> }).unjamming;
  const [hp, qp] = [summary.controls[1].perPoint, summary.controls[0].perPoint];
  const gkFit = fits.find((f) => f.claim === 'i' && f.model === 'harmonic');
  assert.ok(gkFit, 'harmonic G/K versus p/K fitted');
  assert.ok(Math.abs(gkFit.exponent - powerLawExponent(hp.map((p) => p.elastic.pOverK.value), hp.map((p) => p.elastic.GOverK.value))) < 1e-12);
  const qFit = fits.find((f) => f.claim === 'i' && f.model === 'q-model' && f.x === 'Q' && f.range === 'all');
  assert.ok(qFit && Math.abs(qFit.exponent - powerLawExponent(qp.map((p) => p.Q), qp.map((p) => p.elastic.GOverK.value))) < 1e-12);
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /The unjamming analogy in exponents/);
  // soft spheres have no negative pair stiffness: k₋ = 0 in every harmonic NQLE
  assert.ok(summary.controls[1].perPoint.every((p) => p.nqle.kMinusOverFMinus.value === 0));
  const one = await reportFromCampaigns([harmonicDir], { outDir: join(ROOT, 'report-h'), bootstrap: { replicates: 50 }, png: false });
  assert.deepEqual(one.figures.map((f) => f.name), ['fig7'], 'a soft-sphere campaign alone: Figure 7 only');
  await assert.rejects(reportFromCampaigns([qDir, harmonicDir], { bootstrap: { replicates: 50 } }), /needs its own directory: give it with --out/);
});

test('paper --controls: the q-model to Q = 1000 (at table densities where the table has the Q, else relaxed to p = 0), repulsive-q at the six Q, harmonic packings from 1e-1 to 1e-4', () => {
  const set = controlCampaigns(256, 4, 9);
  const inTable = (Q: number) => ZERO_PRESSURE_TABLE.some((e) => e.Q === Q);
  const beyond = [480, 1000].filter((Q) => !inTable(Q));
  assert.deepEqual(set.map((c) => c.name), ['q-model', ...(beyond.length > 0 ? ['q-model-high'] : []), 'repulsive-q', 'harmonic']);
  const byName = (name: string) => set.find((c) => c.name === name)!.definition;
  const [q, rep, harm] = [byName('q-model'), byName('repulsive-q'), byName('harmonic')];
  assert.deepEqual(q.Q, [10, 20, 40, 80, 160, 240, 480, 1000].filter(inTable));
  assert.deepEqual(rep.Q, [10, 20, 40, 80, 160, 240]);
  assert.equal(q.protocol?.relaxPressureTol, 0, 'table densities: no relaxation');
  assert.deepEqual(q.density?.perQ.map((d) => d.density), q.Q.map((Q) => ZERO_PRESSURE_TABLE.find((e) => e.Q === Q)!.density));
  if (beyond.length > 0) {
    const high = byName('q-model-high');
    assert.deepEqual(high.Q, beyond);
    assert.ok(high.protocol!.relaxPressureTol > 0, 'no table entry: each glass relaxed to p = 0');
  }
  const p = controlValues(harm);
  assert.ok(p.length >= 5 && Math.max(...p) >= 1e-1 && Math.min(...p) <= 1e-4);
  assert.ok(set.every((c) => c.definition.seed === 9 && c.definition.N === 256 && c.definition.samples === 4));
  const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'qglass.mjs'), 'paper', '--quick', '--seed', '3', '--dry-run'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--seed set up the --controls set/);
});
