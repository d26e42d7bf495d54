import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePairCorrelations, firstPeak, pairCorrelation, type PairCorrelation } from '../src/measure/pair-correlation.ts';
import { cubicBox, boxVolume } from '../src/space/box.ts';
import { fccPositions } from '../src/space/lattice.ts';
import { randomSpecies } from '../src/engine/prepare.ts';
import { createRandom } from '../src/util/random.ts';
import { smallGlass } from './fixtures.ts';

function uniformConfiguration(n: number, length: number, seed: number) {
  const rng = createRandom(seed);
  const positions = new Float64Array(3 * n);
  for (let k = 0; k < positions.length; k++) positions[k] = rng.uniform() * length;
  return { box: cubicBox(length), positions, species: randomSpecies(n, rng) };
}

test('g(r) of uniform random configurations is 1 within its Poisson error, for all three partials', () => {
  const n = 500, length = 9, samples = 8, bin = 0.05, rmax = 3.5;
  const results: PairCorrelation[] = [];
  for (let s = 0; s < samples; s++) {
    const c = uniformConfiguration(n, length, 100 + s);
    results.push(pairCorrelation(c.box, c.positions, c.species, { binWidth: bin, rmax }));
  }
  const avg = averagePairCorrelations(results);
  assert.equal(avg.samples, samples);
  const a0 = Math.cbrt(boxVolume(cubicBox(length)) / n);
  for (const [name, g, count, pairs] of [
    ['LL', avg.gLL, avg.counts.LL, 0.5 * avg.nL * (avg.nL - 1)],
    ['SL', avg.gSL, avg.counts.SL, avg.nS * avg.nL],
    ['SS', avg.gSS, avg.counts.SS, 0.5 * avg.nS * (avg.nS - 1)],
  ] as const) {
    // counts against the ideal-gas expectation: χ²/dof ≈ 1 over bins with ≥ 20 expected pairs
    let chi2 = 0, dof = 0, observed = 0, expected = 0;
    for (let k = 0; k < g.length; k++) {
      const shell = (4 * Math.PI / 3) * ((k + 1) ** 3 - k ** 3) * (bin * a0) ** 3;
      const e = samples * pairs * shell / length ** 3;
      if (e < 20) continue;
      chi2 += (count[k] - e) ** 2 / e;
      dof++;
      observed += count[k];
      expected += e;
      // the normalised g of the average is the count ratio
      assert.ok(Math.abs(g[k] - count[k] / e) < 1e-12 * Math.max(1, g[k]), `${name} bin ${k}: g is not count/expected`);
    }
    assert.ok(dof > 40, `${name}: too few bins tested (${dof})`);
    assert.ok(Math.abs(chi2 / dof - 1) < 5 * Math.sqrt(2 / dof), `${name}: χ²/dof = ${chi2 / dof} over ${dof} bins`);
    // pooled over all tested bins, g = 1 within 4 standard errors
    const pooled = observed / expected;
    assert.ok(Math.abs(pooled - 1) < 4 / Math.sqrt(expected), `${name}: pooled g = ${pooled} (σ = ${1 / Math.sqrt(expected)})`);
  }
});

test('g(r) of an FCC crystal has its peaks at the lattice shells √(n/2)·a with the FCC coordination numbers', () => {
  const k = 5, n = 4 * k ** 3, length = 10, a = length / k;
  const positions = fccPositions(k, length);
  const species = randomSpecies(n, createRandom(3));
  const bin = 0.01, rmax = 3.9;
  const res = pairCorrelation(cubicBox(length), positions, species, { binWidth: bin, rmax });
  const a0 = res.a0;
  assert.ok(Math.abs(a0 - length / Math.cbrt(n)) < 1e-12);
  // FCC shells: r² = (a²/2)·m, m = 1, 2, … (m = 14 is the first absent one), with these multiplicities
  const coordination = [12, 6, 24, 12, 24, 8, 48, 6, 36, 24, 24, 24];
  const shells = coordination.map((_, m) => Math.sqrt((m + 1) / 2) * a / a0);
  assert.ok(shells[shells.length - 1] < rmax && Math.sqrt(13 / 2) * a / a0 > rmax);
  const total = new Float64Array(res.r.length);
  for (let b = 0; b < total.length; b++) total[b] = res.counts.LL[b] + res.counts.SL[b] + res.counts.SS[b];
  // every populated bin holds a shell, and each shell holds N·Z/2 pairs
  const perShell = new Float64Array(shells.length);
  for (let b = 0; b < total.length; b++) {
    if (total[b] === 0) continue;
    const m = shells.findIndex((s) => s >= b * bin - 1e-9 && s <= (b + 1) * bin + 1e-9);
    assert.ok(m >= 0, `pairs found at r/a₀ = ${res.r[b]}, which is no FCC shell`);
    perShell[m] += total[b];
  }
  for (let m = 0; m < shells.length; m++) assert.equal(perShell[m], (n * coordination[m]) / 2, `shell ${m + 1} at r/a₀ = ${shells[m]}`);
  assert.ok(Math.abs((res.firstPeak?.position ?? NaN) - shells[0]) <= bin, `first g_LL peak at ${res.firstPeak?.position}, shell at ${shells[0]}`);
});

test('first-peak fit recovers a Gaussian peak narrower than a bin, where the highest bin underestimates it', () => {
  const bin = 0.0025, nb = 800, H = 50, mu = 1.2327, sigma = 0.6 * bin;
  const r = new Float64Array(nb), g = new Float64Array(nb), counts = new Float64Array(nb);
  for (let k = 0; k < nb; k++) {
    r[k] = (k + 0.5) * bin;
    // exact bin average of H·exp(−(x−μ)²/2σ²) by Simpson's rule on 2000 intervals
    const m = 2000, h = bin / m;
    let sum = 0;
    for (let q = 0; q <= m; q++) {
      const x = k * bin + q * h;
      sum += (q === 0 || q === m ? 1 : q % 2 ? 4 : 2) * Math.exp(-((x - mu) ** 2) / (2 * sigma * sigma));
    }
    g[k] = (H * sum * h) / 3 / bin;
    counts[k] = g[k] * 1e4;
  }
  const p = firstPeak(r, g, counts, 0.005);
  assert.equal(p.method, 'binned-gaussian');
  assert.ok(Math.abs(p.height / H - 1) < 1e-6, `height ${p.height} vs ${H}`);
  assert.ok(Math.abs(p.position - mu) < 1e-8, `position ${p.position} vs ${mu}`);
  assert.ok(Math.abs(p.width / sigma - 1) < 1e-6, `width ${p.width} vs ${sigma}`);
  assert.ok(Math.max(...g) < 0.75 * H, 'the test peak must be one the highest bin misjudges');
  // a resolved peak (σ = 1.3 bins, as the first g_LL peak of an N = 2048 glass at Q = 240 in bins of
  // 0.0025 a₀) with Poisson noise on ~3000 pairs: the fit stays within a few percent
  const sigma2 = 1.3 * bin;
  for (let k = 0; k < nb; k++) {
    const m = 2000, h = bin / m;
    let sum = 0;
    for (let q = 0; q <= m; q++) {
      const x = k * bin + q * h;
      sum += (q === 0 || q === m ? 1 : q % 2 ? 4 : 2) * Math.exp(-((x - mu) ** 2) / (2 * sigma2 * sigma2));
    }
    g[k] = (H * sum * h) / 3 / bin;
  }
  const rng = createRandom(9);
  const noisy = new Float64Array(nb), noisyCounts = new Float64Array(nb);
  const scale = 3000 / g.reduce((a, b) => a + b, 0);
  for (let k = 0; k < nb; k++) {
    const lambda = g[k] * scale;
    let n = 0;
    if (lambda > 50) n = Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal())); // normal limit
    else if (lambda > 0) { // Poisson by inversion
      let prob = Math.exp(-lambda), cdf = prob;
      const u = rng.uniform();
      while (u > cdf) { n++; prob *= lambda / n; cdf += prob; }
    }
    noisyCounts[k] = n;
    noisy[k] = n / scale;
  }
  const q = firstPeak(r, noisy, noisyCounts, 0.005);
  assert.ok(Math.abs(q.height / H - 1) < 0.08, `noisy height ${q.height}`);
  assert.ok(Math.abs(q.position - mu) < 0.2 * sigma2, `noisy position ${q.position}`);
});

test('g(r) of a glass: g → 1 at large r; the first peak does not depend on the output bins; averaging identical samples returns the sample', () => {
  const sys = smallGlass(40, 500).system;
  const fine = pairCorrelation(sys.box, sys.positions, sys.species, { binWidth: 0.01, rmax: 3.5 });
  const coarse = pairCorrelation(sys.box, sys.positions, sys.species, { binWidth: 0.02, rmax: 3.5 });
  const p = fine.firstPeak!;
  assert.equal(p.method, 'binned-gaussian');
  assert.ok(p.position > 1.1 && p.position < 1.4, `peak at ${p.position}`);
  assert.ok(p.height > 4, `a quenched glass has a sharp first peak; got ${p.height}`);
  assert.deepEqual(coarse.firstPeak, p);
  let tail = 0, cnt = 0;
  for (let b = 0; b < fine.r.length; b++) if (fine.r[b] > 2.5) { tail += fine.gSL[b]; cnt++; }
  assert.ok(Math.abs(tail / cnt - 1) < 0.05, `mean g_SL beyond 2.5 a₀ = ${tail / cnt}`);
  const avg = averagePairCorrelations([fine, fine, fine]);
  assert.equal(avg.samples, 3);
  // the mean of identical curves differs from each by round-off, which the iterative peak fit turns into ~1e-9
  assert.ok(Math.abs(avg.firstPeak!.height - p.height) < 1e-7 * p.height);
  assert.throws(() => averagePairCorrelations([fine, coarse]), /different binning/);
});

test('g(r) rejects an rmax beyond half the box and bad bin widths with clear messages', () => {
  const c = uniformConfiguration(256, 7, 1);
  assert.throws(() => pairCorrelation(c.box, c.positions, c.species, { rmax: 5 }), /rmax = 5 a₀ must be below half the box/);
  assert.throws(() => pairCorrelation(c.box, c.positions, c.species, { binWidth: 0 }), /bin width must be a positive number/);
});
