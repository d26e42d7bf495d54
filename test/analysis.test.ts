import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean, bootstrap, bootstrapMany, mean, std, fitPrefactor } from '../src/analysis/statistics.ts';
import { analyzeSpectrum, dosHistogram, fitCumulative, omega5Range, waveScales, xiOverA0 } from '../src/analysis/dos.ts';
import { analyzeDisorder, chi } from '../src/analysis/disorder.ts';
import { analyzeEnsemble } from '../src/analysis/ensemble.ts';
import { createRandom } from '../src/util/random.ts';
import { syntheticCampaign, syntheticModes, syntheticNu, syntheticAgOmega0_5 } from './fixtures/synthetic-campaign.ts';

test('bootstrap: 95% intervals of a normal mean cover the true mean about 95% of the time', () => {
  const rng = createRandom(11);
  const trials = 300;
  const n = 40;
  let covered = 0;
  let errorRatio = 0;
  for (let t = 0; t < trials; t++) {
    const xs = Array.from({ length: n }, () => 3 + 2 * rng.normal());
    const e = bootstrapMean(xs, { replicates: 400, seed: t + 1 });
    if (e.ciLow <= 3 && 3 <= e.ciHigh) covered++;
    errorRatio += e.error / (2 / Math.sqrt(n)) / trials;
    assert.ok(e.ciLow < e.value && e.value < e.ciHigh);
  }
  // Percentile intervals undercover slightly at n = 40; the binomial spread of 300 trials is ±1.3%.
  assert.ok(covered / trials > 0.89 && covered / trials < 0.99, `coverage ${covered / trials}`);
  assert.ok(Math.abs(errorRatio - 1) < 0.05, `bootstrap error / (σ/√n) = ${errorRatio}`);
});

test('bootstrap: the error of a ratio of means (as k₋/f₋) matches its spread over repeated ensembles', () => {
  const rng = createRandom(5);
  const values: number[] = [];
  const errors: number[] = [];
  for (let t = 0; t < 200; t++) {
    const a = Array.from({ length: 30 }, () => 1 + 0.4 * rng.normal());
    const b = a.map((x) => 2 * x + 0.5 + 0.5 * rng.normal());
    const ratio = (idx: Int32Array) => mean(Array.from(idx, (i) => a[i])) / mean(Array.from(idx, (i) => b[i]));
    values.push(ratio(Int32Array.from(a.keys())));
    errors.push(bootstrap(a.length, ratio, { replicates: 300, seed: t + 1 }).error);
  }
  const r = mean(errors) / std(values);
  assert.ok(r > 0.85 && r < 1.15, `mean bootstrap error / true spread = ${r}`);
});

test('bootstrap: the same seed gives the same errors; bad options are refused', () => {
  const xs = [1, 4, 2, 8, 5, 7];
  assert.deepEqual(bootstrapMean(xs, { seed: 3 }), bootstrapMean(xs, { seed: 3 }));
  assert.throws(() => bootstrapMean(xs, { replicates: -1 }), /replicates/);
  assert.throws(() => bootstrapMean(xs, { level: 1.5 }), /level/);
  assert.ok(Number.isNaN(bootstrapMean([2]).error), 'one sample has no bootstrap error');
  // no samples: an estimate that says so (not undefined), and still a check of the options
  const none = bootstrapMean([]);
  assert.ok(Number.isNaN(none.value) && Number.isNaN(none.error) && none.n === 0, JSON.stringify(none));
  assert.throws(() => bootstrapMean([], { level: 2 }), /level/);
  assert.throws(() => bootstrapMany(0, () => [1, 2]), /at least one sample/);
});

test('guide prefactor: recovers c of y = c·x^-1/2 from noisy data on log axes', () => {
  const rng = createRandom(2);
  const x = [10, 20, 40, 80, 160, 240];
  const y = x.map((q) => 0.9 * q ** -0.5 * (1 + 0.01 * rng.normal()));
  const c = fitPrefactor(x, y, (q) => q ** -0.5, y.map((v) => 0.01 * v));
  assert.ok(Math.abs(c / 0.9 - 1) < 0.01, `c = ${c}`);
});

test('A_g: the cumulative fit recovers a known ω⁴ prefactor within its bootstrap error, without bias', () => {
  // N = 500, ρ = 0.6, G = 1: ω₁ = 0.86; about 6 QLMs per sample below ω₁, phonons above.
  const N = 500;
  const density = 0.6;
  const G = 1;
  const { omega1, omega0 } = waveScales(G, density, N);
  const A = 30 / (N * omega1 ** 5);
  const z: number[] = [];
  for (let e = 0; e < 16; e++) {
    const rng = createRandom(100 + e);
    const samples = Array.from({ length: 60 }, () => ({ G, density, N, omega: syntheticModes(rng, N, A, omega1) }));
    const s = analyzeSpectrum(samples, { omega5Level: 0, bootstrap: { replicates: 200, seed: e + 1 } });
    assert.equal(s.cutoff.value, omega1);
    assert.ok(Math.abs(s.AgOmega0_5.value / (s.Ag.value * omega0 ** 5) - 1) < 1e-12);
    assert.ok(Math.abs(s.xiOverA0.value - xiOverA0(s.AgOmega0_5.value)) < 1e-12);
    z.push((s.Ag.value - A) / s.Ag.error);
  }
  const rms = Math.sqrt(mean(z.map((v) => v * v)));
  assert.ok(z.every((v) => Math.abs(v) < 3.5), `z-scores ${z.map((v) => v.toFixed(2))}`);
  assert.ok(Math.abs(mean(z)) < 0.75, `bias: mean z = ${mean(z)}`);
  assert.ok(rms > 0.5 && rms < 1.6, `error calibration: rms z = ${rms}`);
});

test('A_g: per degree of freedom is one third of per particle; ξ_g/a₀ changes by 3^(1/5)', () => {
  const rng = createRandom(9);
  const { omega1 } = waveScales(1, 0.6, 500);
  const samples = Array.from({ length: 30 }, () => ({ G: 1, density: 0.6, N: 500, omega: syntheticModes(rng, 500, 30 / (500 * omega1 ** 5), omega1) }));
  const perParticle = analyzeSpectrum(samples, { bootstrap: { replicates: 50 } });
  const perDof = analyzeSpectrum(samples, { normalization: 'dof', bootstrap: { replicates: 50 } });
  assert.ok(Math.abs(perParticle.Ag.value / perDof.Ag.value - 3) < 1e-12);
  assert.ok(Math.abs(perParticle.xiOverA0.value / perDof.xiOverA0.value - 3 ** 0.2) < 1e-12);
});

test('A_g: the fit stops where the computed modes stop being complete', () => {
  // Each sample returns only its 3 lowest modes: above the highest of them the count is incomplete.
  const rng = createRandom(4);
  const { omega1 } = waveScales(1, 0.6, 500);
  const samples = Array.from({ length: 20 }, () => ({ G: 1, density: 0.6, N: 500, omega: syntheticModes(rng, 500, 30 / (500 * omega1 ** 5), omega1).slice(0, 3) }));
  const s = analyzeSpectrum(samples, { omega5Level: 0, bootstrap: { replicates: 20 } });
  const limit = Math.min(...samples.map((x) => Math.max(...x.omega)));
  assert.equal(s.completeBelow, limit);
  assert.equal(s.cutoff.value, Math.min(limit, omega1));
  assert.equal(fitCumulative(new Float64Array([1, 2]), 1, 1, 0.5).count, 0);
});

test('A_g: the fit range ends where the count stops following ω⁵ (a broadened band below ω₁)', () => {
  const N = 500;
  const { omega1 } = waveScales(1, 0.6, N);
  const A = 30 / (N * omega1 ** 5);
  const rng = createRandom(21);
  // ω⁴ modes (6 per sample), plus 12 per sample spread uniformly over [0.6, 1)·ω₁ (a band leaking below ω₁)
  const samples = Array.from({ length: 40 }, () => {
    const w = syntheticModes(rng, N, A, omega1);
    for (let k = 0; k < 12; k++) w.push(omega1 * (0.6 + 0.4 * rng.uniform()));
    return { G: 1, density: 0.6, N, omega: w.sort((a, b) => a - b) };
  });
  const full = analyzeSpectrum(samples, { omega5Level: 0, bootstrap: { replicates: 100 } });
  const ranged = analyzeSpectrum(samples, { bootstrap: { replicates: 100 } });
  assert.equal(ranged.omega5Consistent, true);
  assert.ok(ranged.cutoff.value < 0.75 * omega1, `cutoff ${ranged.cutoff.value / omega1} ω₁`);
  assert.ok(Math.abs(ranged.Ag.value - A) < 3 * ranged.Ag.error, `A_g ${ranged.Ag.value} ± ${ranged.Ag.error} vs ${A}`);
  assert.ok(Math.abs(full.Ag.value - A) > 3 * full.Ag.error, 'the full-range fit is biased by the band');

  // pure ω⁴ data: the whole range is kept (at the 5% level: in most ensembles) and β is consistent with 5
  let kept = 0;
  for (let e = 0; e < 20; e++) {
    const r = createRandom(300 + e);
    const pooled = Float64Array.from(Array.from({ length: 40 }, () => syntheticModes(r, N, A, omega1)).flat());
    const range = omega5Range(pooled, omega1);
    assert.ok(range.consistent && Math.abs(range.exponent - 5) <= 3 * range.exponentError, `β = ${range.exponent} ± ${range.exponentError}`);
    if (range.cutoff === omega1) kept++;
  }
  assert.ok(kept >= 15, `full range kept in ${kept}/20 pure ω⁴ ensembles`);
});

test('D(ω) histogram: contiguous bins of at least 3 modes holding every mode, drawn where an ω⁴ law matches them', () => {
  const N = 500;
  const { omega1 } = waveScales(1, 0.6, N);
  const A = 30 / (N * omega1 ** 5);
  const rng = createRandom(8);
  const M = 200;
  const pooled = Array.from({ length: M }, () => syntheticModes(rng, N, A, omega1, 0)).flat();
  const bins = dosHistogram(pooled, M, N, omega1);
  assert.equal(bins.reduce((s, b) => s + b.count, 0), pooled.filter((w) => w <= omega1).length);
  for (let k = 0; k < bins.length; k++) {
    assert.ok(bins[k].count >= 3, `bin ${k} holds ${bins[k].count} modes`);
    assert.ok(bins[k].low < bins[k].center && bins[k].center < bins[k].high);
    if (k > 0) assert.equal(bins[k].low, bins[k - 1].high);
  }
  // every bin, the sparse lowest one included, agrees with A·ω⁴ at its drawn position
  for (const b of bins) {
    const expected = A * b.center ** 4;
    assert.ok(Math.abs(b.D - expected) < 3 * b.error + 0.3 * expected, `D(${b.center}) = ${b.D} ± ${b.error}, A·ω⁴ = ${expected}`);
  }
});

test('ω scales: ω₁/ω₀ = 2π/N^(1/3) and c_s = sqrt(G/ρ)', () => {
  const s = waveScales(2.5, 0.7, 2048);
  assert.ok(Math.abs(s.omega1 / s.omega0 - (2 * Math.PI) / 2048 ** (1 / 3)) < 1e-12);
  assert.ok(Math.abs(s.cs ** 2 * 0.7 - 2.5) < 1e-12);
  assert.ok(Math.abs(s.L ** 3 * 0.7 - 2048) < 1e-9);
});

test('χ: both conventions recover sqrt(N)·σ/μ of synthetic moduli; averaging independent planes divides by √3', () => {
  const rng = createRandom(3);
  const N = 1000;
  const mu = 10;
  const sigma = 0.5;
  const shear = Array.from({ length: 800 }, () => ({ xy: mu + sigma * rng.normal(), xz: mu + sigma * rng.normal(), yz: mu + sigma * rng.normal() }));
  const d = analyzeDisorder(N, shear, { replicates: 300 });
  const expected = (Math.sqrt(N) * sigma) / mu;
  assert.ok(Math.abs(d.pooledPlanes.value - expected) < 3 * d.pooledPlanes.error, `pooled ${d.pooledPlanes.value} ± ${d.pooledPlanes.error} vs ${expected}`);
  assert.ok(Math.abs(d.planeAverage.value - expected / Math.sqrt(3)) < 3 * d.planeAverage.error);
  // relative error of a std from 2400 (correlated by sample) values: ~1.5–3%
  assert.ok(d.pooledPlanes.error / d.pooledPlanes.value > 0.01 && d.pooledPlanes.error / d.pooledPlanes.value < 0.05);
  assert.ok(Math.abs(chi(4, [1, 3]) - (2 * Math.SQRT2) / 2) < 1e-12);
});

test('χ: planes that move together (one modulus per sample) give equal conventions', () => {
  const rng = createRandom(8);
  const shear = Array.from({ length: 200 }, () => {
    const g = 5 + rng.normal();
    return { xy: g, xz: g, yz: g };
  });
  const d = analyzeDisorder(100, shear, { replicates: 50 });
  // Pooling triplicates changes only the n − 1 divisor: ratio sqrt(3(M − 1)/(3M − 1)).
  const ratio = d.pooledPlanes.value / d.planeAverage.value;
  assert.ok(Math.abs(ratio - Math.sqrt(597 / 599)) < 1e-12, `ratio ${ratio}`);
});

test('ensemble: per-Q means recover the synthetic ν and A_g·ω₀⁵; failed samples are counted', () => {
  const samples = syntheticCampaign({ Qs: [10, 240], samples: 40, failed: 2 });
  const e = analyzeEnsemble(samples, { bootstrap: { replicates: 200 } });
  assert.deepEqual(e.perQ.map((q) => q.Q), [10, 240]);
  for (const q of e.perQ) {
    assert.equal(q.counts.done, 40);
    assert.equal(q.counts.failed, 2);
    assert.match(q.failures[0], /CG did not converge/);
    const nu = q.elastic!.nu;
    // planes scatter by 10%, so ν scatters around its value at the mean moduli; 4σ allows for that shift
    assert.ok(Math.abs(nu.value - syntheticNu(q.Q)) < 4 * nu.error + 2e-3, `Q ${q.Q}: ν ${nu.value} ± ${nu.error}`);
    const s = q.spectrum!;
    assert.ok(Math.abs(s.AgOmega0_5.value - syntheticAgOmega0_5(q.Q)) < 3.5 * s.AgOmega0_5.error, `Q ${q.Q}: A_g ω₀⁵ ${s.AgOmega0_5.value} ± ${s.AgOmega0_5.error}`);
    assert.ok(q.structure!.rOverA0.length > 10 && q.structure!.firstPeakHeight.value > 2);
    assert.ok(q.nqle!.kMinusOverFMinus.value > 0);
    assert.deepEqual(q.missing, []);
  }
});

test('ensemble: missing measurements are named, not fatal', () => {
  const samples = syntheticCampaign({ Qs: [20], samples: 5, measure: { modes: false, gr: false, nqle: false } });
  const q = analyzeEnsemble(samples, { bootstrap: { replicates: 20 } }).perQ[0];
  assert.ok(q.elastic && q.disorder);
  assert.equal(q.spectrum, null);
  assert.equal(q.structure, null);
  assert.equal(q.nqle, null);
  assert.ok(q.missing.some((m) => /modes/.test(m)) && q.missing.some((m) => /g\(r\)/.test(m)) && q.missing.some((m) => /NQLE/.test(m)));
  const none = analyzeEnsemble([{ Q: 40, N: 500, index: 0, density: 0.6, status: 'failed', error: 'boom' }]).perQ[0];
  assert.equal(none.elastic, null);
  assert.ok(none.missing.includes('no finished samples'));
});
