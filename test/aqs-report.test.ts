/**
 * Shear to yield in the ensemble: the aqs campaign settings, the per-Q summary of synthetic aqs
 * records with known means, and Figure 6 drawn from them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticCampaign } from './fixtures/synthetic-campaign.ts';
import { analyzeEnsemble, type AqsInput, type SampleInput } from '../src/analysis/ensemble.ts';
import { DEFAULT_AQS, defineCampaign } from '../src/ensemble/campaign.ts';
import { aqsPathCsv, parseAqsPathCsv } from '../src/measure/aqs.ts';
import { formatEstimate } from '../src/report/number-format.ts';
import { writeReport } from '../src/report/report.ts';
import { createRandom } from '../src/util/random.ts';

const BASE = { Q: [10, 240], N: 256, samples: 2, seed: 1, density: 'zero-pressure', createdBy: 'test' };

test('campaign: aqs is opt-in and carries its strain settings; bad settings are refused', () => {
  assert.equal(defineCampaign({ ...BASE, measure: ['elastic'] }).aqs, undefined);
  const def = defineCampaign({ ...BASE, measure: ['elastic', 'nqle', 'aqs'], aqsMaxStrain: 0.05 });
  assert.deepEqual(def.aqs, { plane: 'xy', maxStrain: 0.05, step: DEFAULT_AQS.step });
  assert.throws(() => defineCampaign({ ...BASE, measure: ['aqs'], aqsStep: -1e-4 }), /aqs/);
  assert.throws(() => defineCampaign({ ...BASE, measure: ['aqs'], aqsMaxStrain: 0.01, aqsStep: 0.02 }), /step exceeds/);
});

test('the path CSV reads back the γ and σ_αβ columns exactly', () => {
  const path = [0, 1e-4, 2e-4].map((g, k) => ({ gamma: g, stress: [-1, -1, -1, 0.1 * k, 0.2 * k, 0.3 * k + 1e-17], energyPerParticle: -3, pressure: 1, maxForce: 1e-11 }));
  const text = aqsPathCsv({ path });
  assert.deepEqual(parseAqsPathCsv(text, 'xy'), { gamma: [0, 1e-4, 2e-4], sigma: path.map((p) => p.stress[5]) });
  assert.deepEqual(parseAqsPathCsv(text, 'yz').sigma, path.map((p) => p.stress[3]));
});

/** Synthetic aqs records: σ = G₀·γ up to a yield strain, then flat, with known scalars per Q. */
function withAqs(samples: SampleInput[]): SampleInput[] {
  const rng = createRandom(3);
  return samples.map((s) => {
    const brittle = s.Q >= 100;
    const G0 = 10;
    const gamma = Array.from({ length: 101 }, (_, k) => k * 1e-3);
    const sigma = gamma.map((g) => G0 * Math.min(g, 0.05) * (brittle && g > 0.05 ? 0.8 : 1));
    const aqs: AqsInput = {
      G0, sigmaMax: 0.5, flowStress: brittle ? 0.4 : 0.5, overshootRatio: brittle ? 1.25 : 1,
      localisationIndex: brittle ? 0.9 : 0.3 + 0.01 * rng.normal(), localisationShuffled: 0.02,
      events: [{ stressDrop: brittle ? 0.1 : 0.01, energyDrop: 1 }, { stressDrop: 0.02, energyDrop: 0.1 }],
      firstEventNqleOverlap: [brittle ? 0.2 : 0.7, 0.1], firstEventNqleDistance: [brittle ? 4 : 1, 6], curve: { gamma, sigma },
      approach: { distance: [1e-3, 1e-4, 1e-5], lambdaMin: [1e-3, 1e-4, 1e-5].map((d) => 0.3 * Math.sqrt(d)), exponent: brittle ? 0.5 : 0.45 },
    };
    return { ...s, aqs, stageSeconds: { prepare: 1 + s.index, aqs: brittle ? 30 : 10 } };
  });
}

test('ensemble summary and Figure 6 of synthetic aqs records', async () => {
  const samples = withAqs(syntheticCampaign({ Qs: [10, 240], samples: 4 }));
  const summary = analyzeEnsemble(samples, { bootstrap: { replicates: 50 } });
  const [soft, stiff] = summary.perQ.map((q) => q.aqs!);
  assert.equal(soft.samples, 4);
  assert.ok(Math.abs(stiff.overshootRatio.value - 1.25) < 1e-12 && Math.abs(soft.overshootRatio.value - 1) < 1e-12);
  assert.ok(Math.abs(stiff.sigmaMaxOverG.value - 0.05) < 1e-12 && Math.abs(stiff.flowStressOverG.value - 0.04) < 1e-12);
  assert.ok(Math.abs(soft.meanEventSize.value - 0.0015) < 1e-12 && soft.eventSizes.length === 8);
  assert.ok(Math.abs(stiff.approachExponent.value - 0.5) < 1e-12 && Math.abs(soft.approachExponent.value - 0.45) < 1e-12 && stiff.approachExample!.distance.length === 3);
  assert.ok(Math.abs(soft.firstEventDistance.value - 1) < 1e-12 && Math.abs(stiff.firstEventDistance.value - 4) < 1e-12);
  assert.ok(Math.abs(soft.firstEventOverlap.value - 0.7) < 1e-12 && Math.abs(stiff.firstEventBestOverlap.value - 0.2) < 1e-12);
  // the mean curve: a peak of 0.05 over a flow at 0.04 (stiff; the flow average starts on the drop
  // at γ = 0.05, which lifts it by less than 1 %), no peak (soft)
  assert.ok(Math.abs(stiff.meanCurveOvershoot.value - 1.25) < 0.01 && Math.abs(soft.meanCurveOvershoot.value - 1) < 1e-9, `${stiff.meanCurveOvershoot.value}, ${soft.meanCurveOvershoot.value}`);
  // steady flow has no rise over its range; a stress still rising there, σ = G₀·γ, gives
  // (⅞ − ⅝)/(¾) = ⅓ (less a grid step's worth)
  assert.ok(Math.abs(soft.flowRise.value) < 1e-12, `${soft.flowRise.value}`);
  const ramp = analyzeEnsemble(samples.map((x) => ({ ...x, aqs: { ...x.aqs!, curve: { gamma: x.aqs!.curve!.gamma, sigma: x.aqs!.curve!.gamma.map((g) => 10 * g) } } })), { bootstrap: { replicates: 20 } });
  assert.ok(Math.abs(ramp.perQ[0].aqs!.flowRise.value - 1 / 3) < 0.01, `${ramp.perQ[0].aqs!.flowRise.value}`);
  assert.ok(Math.abs(stiff.localisationIndex.value - 0.9) < 1e-12 && Math.abs(soft.localisationShuffled.value - 0.02) < 1e-12);
  assert.ok(Math.abs(stiff.curve!.sigmaOverG[100] - 0.04) < 1e-12 && stiff.curve!.gamma.length === 101);
  // cost per sample: indices 0..3 give prepare 1..4 s
  const cost = summary.perQ[1].cost!;
  assert.deepEqual(cost.stages, [{ stage: 'prepare', mean: 2.5, max: 4 }, { stage: 'aqs', mean: 30, max: 30 }]);
  assert.deepEqual(cost.total, { mean: 32.5, max: 34 });

  const out = mkdtempSync(join(tmpdir(), 'qglass-fig6-'));
  try {
    const r = await writeReport({ samples, parameters: null, source: 'fixture' }, { outDir: out, bootstrap: { replicates: 50 }, png: false });
    assert.equal(r.figures.find((f) => f.name === 'fig6')?.status, 'drawn');
    const svg = readFileSync(join(out, 'fig6.svg'), 'utf8');
    for (const t of ['shear strain γ', 'σ/G₀', 'σ_max/σ_flow', 'homogeneous flow', 'approach to the first event', 'slope ½', 'stress jump |Δσ|/G₀', 'overlap |û·π̂| of the first event']) assert.ok(svg.includes(t), `fig6.svg lacks '${t}'`);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.ok(html.includes('Shear to yield (athermal quasistatic shear)') && html.includes('<th>σ_max/σ_flow per sample</th>'));
    assert.ok(html.includes('<h3>Cost per sample</h3>') && html.includes('<th>whole sample</th>'));
    // the same tables in Markdown, a row per Q with the page's numbers (a cell's | escaped)
    const md = readFileSync(join(out, 'tables.md'), 'utf8');
    const row = md.slice(md.indexOf('## Shear to yield')).split('\n').find((l) => l.startsWith('| 240 | '));
    assert.ok(md.includes('## Shear to yield (athermal quasistatic shear)') && md.includes('| mean \\|Δσ\\|/G₀ |') && md.includes('## Cost per sample'), md.slice(0, 400));
    assert.ok(row?.includes(`| ${formatEstimate(stiff.sigmaMaxOverG)} | ${formatEstimate(stiff.flowStressOverG)} |`), row);
    const csv = readFileSync(join(out, 'fig6.csv'), 'utf8');
    assert.ok(/^table,/.test(csv) && csv.includes('eventSizes') && csv.includes('overlap'));
    // shear to yield is opt-in: a campaign without it has no Figure 6 and no note about it
    const plain = await writeReport({ samples: syntheticCampaign({ Qs: [10], samples: 3 }), parameters: null, source: 'fixture' }, { outDir: join(out, 'plain'), bootstrap: { replicates: 20 }, png: false });
    assert.equal(plain.figures.find((f) => f.name === 'fig6'), undefined);
    assert.ok(plain.summary.perQ.every((q) => q.aqs === null && !q.missing.some((m) => /aqs|yield/.test(m))));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
