/**
 * The shear-to-yield campaign kept in data/aqs-n2048 (the samples behind the AQS table of
 * docs/aqs.md, with the bulky artefacts pruned): intact, what its definition says, its stored curves
 * consistent with the numbers the catalog holds, and resumable without recomputing what it has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCampaign } from '../src/ensemble/campaign.ts';
import { Catalog } from '../src/ensemble/catalog.ts';
import { loadCampaignSamples } from '../src/ensemble/export.ts';
import { damagedSamples } from '../src/ensemble/verify.ts';
import { AQS_DEFAULTS, parseAqsPathCsv } from '../src/measure/aqs.ts';
import { ZERO_PRESSURE_TABLE } from '../src/model/zero-pressure-table.ts';

const DIR = fileURLToPath(new URL('../data/aqs-n2048', import.meta.url));

test('data/aqs-n2048: the definition, every finished sample intact (SHA-256), pruned kinds recorded', () => {
  const def = readCampaign(DIR);
  assert.deepEqual([def.Q, def.N, def.samples, def.seed, def.measure], [[10, 40, 240], 2048, 16, 2028, ['elastic', 'modes', 'gr', 'nqle', 'aqs']]);
  assert.deepEqual(def.aqs, { plane: 'xy', maxStrain: 0.15, step: 2e-4 });
  assert.deepEqual(damagedSamples(DIR, 'full'), []);
  const cat = Catalog.openReadonly(join(DIR, 'catalog.sqlite'))!;
  try {
    assert.deepEqual([...cat.prunedKinds()].sort(), ['aqs-d2min', 'aqs-first-event', 'glass', 'modes', 'nqle']);
  } finally {
    cat.close();
  }
});

test('data/aqs-n2048: each stored path ends at the campaign strain and gives back the flow stress and σ_max its record states', () => {
  const done = loadCampaignSamples(DIR).filter((r) => r.status === 'done');
  assert.ok(done.length >= 3, `${done.length} finished samples`);
  for (const r of done) {
    const a = (r as Record<string, unknown>).aqs as { flowStress: number; sigmaMax: number; converged: boolean; events: unknown[] };
    const what = `Q = ${r.Q} #${r.index}`;
    assert.equal(a.converged, true, what);
    const { gamma, sigma } = parseAqsPathCsv(readFileSync(join(DIR, r.artefacts['aqs-path']!), 'utf8'), 'xy');
    const end = gamma[gamma.length - 1];
    assert.ok(Math.abs(end - 0.15) < 1e-12, `${what}: path ends at γ = ${end}`);
    const flow = sigma.filter((_, k) => gamma[k] >= (1 - AQS_DEFAULTS.flowFraction) * end);
    const mean = flow.reduce((t, x) => t + x, 0) / flow.length;
    assert.ok(Math.abs(mean - a.flowStress) <= 1e-12 * Math.abs(a.flowStress), `${what}: σ_flow ${mean} from the path, ${a.flowStress} recorded`);
    assert.equal(Math.max(...sigma), a.sigmaMax, what);
    const events = readFileSync(join(DIR, r.artefacts['aqs-events']!), 'utf8').trim().split('\n').length - 1;
    assert.equal(events, a.events.length, what);
  }
});

test('data/zp-q480-q1000-s2034: the zero-pressure table entries at Q = 480 and 1000 are these fresh samples\' mean ± standard error of p/K at the entry\'s density', () => {
  const dir = fileURLToPath(new URL('../data/zp-q480-q1000-s2034', import.meta.url));
  const def = readCampaign(dir);
  assert.deepEqual([def.Q, def.N, def.seed, def.measure], [[480, 1000], 2048, 2034, ['elastic']]);
  const done = loadCampaignSamples(dir).filter((r) => r.status === 'done');
  for (const Q of [480, 1000]) {
    const entry = ZERO_PRESSURE_TABLE.find((e) => e.Q === Q)!;
    const at = done.filter((r) => r.Q === Q);
    const v = at.map((r) => r.pOverK!);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const se = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1) / v.length);
    assert.ok(at.every((r) => r.density === entry.density), `Q = ${Q}: prepared at the entry's density`);
    assert.equal(at.length, entry.samples, `Q = ${Q}`);
    // the entry states them to two significant digits of 1e-4
    assert.ok(Math.abs(m - entry.pOverK) <= 0.005e-4 && Math.abs(se - entry.pOverKError) <= 0.005e-4, `Q = ${Q}: ${m} ± ${se} against ${entry.pOverK} ± ${entry.pOverKError}`);
  }
});
